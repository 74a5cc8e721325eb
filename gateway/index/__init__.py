"""The search index port: derived from the record store, rebuildable at any time.

Every backend implements `SearchIndex` and passes one contract suite
(`tests/test_index_contract.py`). The index holds every live record, embargoed ones
included, and filters by release date at query time with the `now` it is given: no job
has to run when an embargo ends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Mapping, Protocol

from mappings.record import Record

FILTER_FIELDS = ("facility", "instrument", "technique", "kind", "year")
FACET_FIELDS = FILTER_FIELDS
SORTS = ("relevance", "date", "-date", "title")


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


@dataclass(frozen=True)
class Query:
    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
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
        """Index live records, drop deleted ones; remember the highest seq. Returns count."""

    def last_seq(self) -> int: ...

    def search(self, query: Query, now: datetime) -> Result: ...

    def count(self) -> int:
        """Documents held, embargoed ones included."""

    def clear(self) -> None: ...

    def close(self) -> None: ...


class ChangeSource(Protocol):
    def changes_since(self, seq: int, limit: int = 1000) -> list[tuple[int, Record]]: ...


def catch_up(store: ChangeSource, index: SearchIndex, *, batch: int = 1000) -> int:
    """Feed the index every record change it has not seen (outbox). Returns how many."""
    done = 0
    while changes := store.changes_since(index.last_seq(), batch):
        done += index.apply(changes)
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
