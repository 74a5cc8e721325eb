"""The search index port: derived from the record store, rebuildable at any time.

Every backend implements `SearchIndex` and passes one contract suite
(`tests/test_index_contract.py`). The index holds every live record, embargoed ones
included, and filters by release date at query time with the `now` it is given: no job
has to run when an embargo ends. Deleted records (tombstones) are not in the index: OAI-PMH
takes its deleted headers from the record store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Mapping, Protocol

from mappings.record import Record
from mappings.rights import OPEN

FILTER_FIELDS = ("facility", "instrument", "technique", "kind", "year", "licence", "access")
FACET_FIELDS = FILTER_FIELDS
SORTS = ("relevance", "date", "-date", "title", "-title")
# the `access` facet: the access right the output formats state (mappings.rights), with its
# COAR label. Only visible records are searched, so today only `open` (docs/api.md)
ACCESS_VALUES = {OPEN.state.value: OPEN.coar_label}


class QueryError(ValueError):
    """A query the index cannot answer as asked (bad cursor, unknown field or sort).
    `parameter` names the offending part of the query when one is to blame."""

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class IndexUnavailable(RuntimeError):
    """The index cannot answer or take writes now (server down, timed out, overloaded,
    refused). The record store is unaffected: the index catches up once it is back."""


class IncompatibleServer(IndexUnavailable):
    """The index server is of a version this gateway cannot use; it will not be tried."""


class IndexOutdated(IndexUnavailable):
    """The live index was built by another version of the index schema than this code's:
    it cannot be used until `fairgate reindex` builds a current one."""


class IndexAhead(IndexUnavailable):
    """The index has applied changes the record store does not have (the store was restored
    from a backup or recreated): catching up would silently skip records. The index must be
    rebuilt from the store (`fairgate reindex`)."""

    def __init__(self, index_seq: int, store_seq: int):
        super().__init__(
            f"the search index is ahead of the record store (index at change {index_seq}, "
            f"store at {store_seq}): the store was restored or recreated; run "
            "`fairgate reindex` to rebuild the index from it")
        self.index_seq, self.store_seq = index_seq, store_seq


@dataclass(frozen=True)
class ParameterRange:
    """Records with a numeric parameter `name` whose value lies in [low, high] (inclusive;
    None: unbounded), or whose `<name>_min`..`<name>_max` pair overlaps it. `unit` is the
    SI unit the bounds are in: they compare with the parameter's SI value, and only
    parameters convertible to that unit match. Without `unit`, the bounds compare with
    the value as recorded, whatever its unit."""
    name: str
    low: float | None = None
    high: float | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise QueryError("a parameter range needs a parameter name", "param")
        bounds = [b for b in (self.low, self.high) if b is not None]
        if not bounds or not all(math.isfinite(b) for b in bounds):
            raise QueryError(f"parameter {self.name!r}: give finite bounds", "param")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise QueryError(f"parameter {self.name!r}: the lower bound is above the upper",
                             "param")

    @property
    def span_names(self) -> tuple[str, str]:
        """The names of a range-valued parameter's ends (`sample_temperature_min`, ...)."""
        return f"{self.name}_min", f"{self.name}_max"


@dataclass(frozen=True)
class Query:
    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parameters: tuple[ParameterRange, ...] = ()  # AND-ed
    date_from: date | None = None  # on the collection start date (else creation date)
    date_to: date | None = None    # inclusive
    facets: tuple[str, ...] = ()
    sort: str = "relevance"  # without text, "relevance" means "-date"
    size: int = 20
    cursor: str | None = None

    def __post_init__(self) -> None:
        bad = [f for f in (*self.filters, *self.facets) if f not in FILTER_FIELDS]
        if bad:
            raise QueryError(f"unknown field(s): {', '.join(bad)}", "facets")
        if self.sort not in SORTS:
            raise QueryError(f"unknown sort {self.sort!r}; one of {', '.join(SORTS)}", "sort")
        if not 0 <= self.size <= 1000:
            raise QueryError("size must be between 0 and 1000", "size")

    @property
    def effective_sort(self) -> str:
        return "-date" if self.sort == "relevance" and not self.text.strip() else self.sort


@dataclass(frozen=True)
class Hit:
    id: str
    score: float | None = None  # relevance (higher is better), only for text queries


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label: str | None = None


@dataclass(frozen=True)
class Result:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None


class SearchIndex(Protocol):
    def apply(self, changes: Iterable[tuple[int, Record]]) -> int:
        """Index live records, drop deleted ones; remember the highest seq. Returns count.
        A record the backend refuses (a document it cannot index, not an outage) is logged
        with its id and reason, kept out of search and counted in `rejected()`; the seq
        still moves past it, so one bad record never blocks the others."""

    def last_seq(self) -> int: ...

    def rejected(self) -> int:
        """Records currently kept out of the index because the backend refused them (0 for
        a backend that never refuses). A later version of the record that is accepted, its
        deletion or a rebuild clears it."""

    def search(self, query: Query, now: datetime) -> Result: ...

    def stamps(self, now: datetime, *, date_from: datetime | None = None,
               date_to: datetime | None = None, after: tuple[datetime, str] | None = None,
               size: int = 100, filters: Mapping[str, tuple[str, ...]] | None = None,
               ) -> list[tuple[datetime, str]]:
        """OAI-PMH iteration: (public datestamp, id) of the live records public at `now`,
        ascending by (public datestamp, id), at most `size`. The public datestamp is
        max(datestamp, release_date) (`mappings.access.public_datestamp` for a record that
        is public at `now`). `date_from`/`date_to` bound it inclusively, at second
        precision, in UTC (a date-only OAI `until` is the last second of that day);
        `after` continues strictly after the (datestamp, id) of the last item of the
        previous page (keyset paging, never an offset). `filters` as in `Query.filters`
        (OAI sets). Deleted records are not here: OAI-PMH takes deleted headers from
        the record store."""

    def count_stamps(self, now: datetime, *, date_from: datetime | None = None,
                     date_to: datetime | None = None,
                     filters: Mapping[str, tuple[str, ...]] | None = None) -> int:
        """How many items `stamps` lists with these bounds in all (OAI-PMH
        completeListSize)."""

    def count(self) -> int:
        """Documents held, embargoed ones included."""

    def clear(self) -> None: ...

    def close(self) -> None: ...


class ChangeSource(Protocol):
    def changes_since(self, seq: int, limit: int = 1000) -> list[tuple[int, Record]]: ...


class SeqSource(ChangeSource, Protocol):
    def last_seq(self) -> int: ...


def catch_up(store: SeqSource, index: SearchIndex, *, batch: int = 1000) -> int:
    """Feed the index every record change it has not seen (outbox). Returns how many
    changes were applied (refused documents included: see `SearchIndex.rejected`).

    Raises `IndexAhead` if the index claims changes the store does not have. If another
    writer moved the index past a batch while it was being applied, the changes that
    writer applied are replayed once more: a stale write of ours (an older version of a
    record it had deleted, whose tombstone the server may have forgotten) is corrected
    by the store's current version."""
    done, seq, stalled = 0, index.last_seq(), 0
    if seq > (store_seq := store.last_seq()):
        raise IndexAhead(seq, store_seq)
    while changes := store.changes_since(seq, batch):
        done += index.apply(changes)
        top, before, seq = changes[-1][0], seq, index.last_seq()
        if seq > top:  # another writer got further meanwhile: re-assert what it applied
            replay = changes[0][0] - 1
            while again := [c for c in store.changes_since(replay, batch) if c[0] <= seq]:
                index.apply(again)
                replay = again[-1][0]
        # seq < top: the batch went to an index that is no longer the live one (a rebuild
        # swapped it meanwhile) or the server lost it; go on from what the index holds
        stalled = stalled + 1 if seq <= before else 0
        if stalled >= 3:
            raise IndexUnavailable(f"the search index does not keep the changes it "
                                   f"acknowledges (still at change {seq})")
    return done


def rebuild(store: ChangeSource, index: SearchIndex, *, batch: int = 1000) -> int:
    """Rebuild the index from the store; returns the changes replayed. A backend with a
    `rebuild` method builds a new index aside and swaps it in (no downtime); the others
    are cleared and replayed (searches see a partial index meanwhile)."""
    build = getattr(index, "rebuild", None)
    if build is not None:
        return build(store, batch=batch)
    index.clear()
    return catch_up(store, index, batch=batch)
