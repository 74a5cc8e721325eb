"""ICAT investigations and datasets -> document and dataset records, incrementally.

One run:
1. log in (`client.IcatClient`), read `/icat/properties` (maxEntities);
2. reconcile id sets (`reconcile.IdBuckets`) when due: on a full pass, and every
   `reconcile_every` completed passes; vanished ids become tombstones. With them, the child
   relations (`children.ChildDigests`): a group of parents that lost a child row (a deleted
   parameter, a removed investigation user) is fetched again in this run's pass;
3. a **pass** over investigations, then datasets. A full pass (the first, after a mapping
   change, every `full_every` passes) pages every entity by id keyset. An incremental pass
   collects the ids whose row or a related row (parameters, users, techniques, samples,
   datafiles, ...: `queries.Kind.watch`) has `modTime >= since`, those whose release date
   passed since the last pass and those of stale child groups, then fetches them by id, in id
   order, page by page. Removed rows that child reconciliation does not cover (datafiles, hence
   file counts; instruments, funding, publications) show at the next full pass: `full_every`
   (default 7) bounds how long they can stay;
4. log out.

Each page is one unit: its Upserts (a malformed entity is a `Failure` naming its ICAT id, the
rest of the page is stored), then a `Mark("harvest", ...)` with the pass's progress (kind, last
id). A run that stops (server down, crash) leaves the checkpoint at its last durable page; the
next run resumes that same pass after that id, with the same `since`, so nothing is skipped,
and content hashes make re-harvested records `unchanged`, so nothing is duplicated.

`since` of the next pass is the **high-water mark** taken when this pass started: the largest
`modTime` ICAT held then (over every watched entity type), minus `overlap`. A row changed
during the pass has a later `modTime` and is seen again by the next pass. `>=`, the overlap
(transactions commit after they stamp modTime; clocks of clustered servers drift) and
re-harvesting unchanged records cost a few Unchanged records, never a missed change.

Checkpoint: `harvest` = {"mapping", "since", "released_to", "passes", "pass": {...} | None},
the reconciliation buckets `ids:<kind>:<n>` and child digests `kids:<kind>:<n>`; a few hundred
bytes per 10,000 ICAT ids.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping

import requests

from mappings.icat import (MAPPING_VERSION, IcatContext, MalformedEntity, dataset_to_record,
                           icat_time, investigation_to_record, record_id)
from mappings.record import Record, iso, parse_iso

from ..events import Event, Failure, Mark, Upsert
from . import queries as q
from .client import Credentials, IcatClient
from .children import ChildDigests
from .prefetch import prefetch
from .errors import IcatError, ValidationError
from .reconcile import EmptySource, IdBuckets

log = logging.getLogger("harvesters.icat")

KEY = "harvest"
MAX_IDS_PER_SEARCH = 10_000
FULL_EVERY = 7
_MAPPERS: dict[str, Callable[[dict, IcatContext], Record]] = {
    "Investigation": investigation_to_record, "Dataset": dataset_to_record}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class IcatHarvester:
    """Harvests one ICAT server at `url` (without `/icat`) as source `name`.

    Mapping options (`facility_name`, `facility_ror`, `license`, `embargo_days`) are those of
    `mappings.icat.IcatContext`. `credentials` default to anonymous access. `page_size` is the
    number of entities per search (halved while ICAT answers VALIDATION, i.e. maxEntities is
    exceeded by the INCLUDEd rows). `prefetch` pages are fetched ahead by a background thread
    while the current one is processed (0: none). `full_every` (default FULL_EVERY) re-reads
    every entity every N completed passes; 0 never does, so removed rows outside the child
    reconciliation (datafiles and file counts, instruments, funding, publications) would stay
    forever: logged as a warning. ValueError on a bad option.
    """

    def __init__(self, name: str, url: str, *, credentials: Credentials | None = None,
                 facility_name: str | None = None, facility_ror: str | None = None,
                 license: str | None = "CC-BY-4.0", embargo_days: int | None = None,
                 page_size: int = 200, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5, reconcile_every: int = 1, full_every: int = FULL_EVERY,
                 prefetch: int = 2,
                 overlap: timedelta = timedelta(minutes=5),
                 clock: Callable[[], datetime] = _utcnow,
                 http: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url {url!r} is not an http(s) URL")
        if page_size < 1 or reconcile_every < 1 or full_every < 0 or overlap < timedelta(0):
            raise ValueError("page_size and reconcile_every must be >= 1, full_every and "
                             "overlap >= 0")
        self.name, self.url = name, url.rstrip("/")
        self.page_size, self.reconcile_every, self.full_every = page_size, reconcile_every, full_every
        self.overlap, self._clock, self.prefetch = overlap, clock, max(0, prefetch)
        self._client = partial(IcatClient, self.url, credentials or Credentials(),
                               timeout=timeout, retries=retries, backoff=backoff, http=http,
                               sleep=sleep)
        self._context = partial(IcatContext, source=name, icat_url=self.url,
                                facility_name=facility_name, facility_ror=facility_ror,
                                license=license, embargo_days=embargo_days)
        self._context(harvested_at=datetime(2000, 1, 1, tzinfo=timezone.utc))  # check options
        self._client()  # check options (no I/O)
        if full_every == 0:
            log.warning("ICAT %s: full_every = 0: entities are never re-read in full, so rows "
                        "removed from them outside child reconciliation (datafiles and file "
                        "counts, instruments, funding, publications) stay in the records", name)

    def __repr__(self) -> str:
        return f"IcatHarvester({self.name!r}, {self.url!r})"

    def client(self) -> IcatClient:
        """A new client for this server (not logged in)."""
        return self._client()

    def harvest(self, checkpoint: Mapping[str, Any]) -> Iterator[Event]:
        """Events of one run (see the module doc). Raises IcatError when ICAT cannot be used
        (IcatUnavailable after the retries), EmptySource when ICAT lists nothing although
        records were harvested before."""
        client = self.client()
        try:
            yield from _Run(self, client, checkpoint).events()
        finally:
            client.close()


class _Run:
    """The state of one harvest run."""

    def __init__(self, h: IcatHarvester, client: IcatClient, checkpoint: Mapping[str, Any]):
        self.h, self.client, self.name = h, client, h.name
        self.now = h._clock()
        self.ctx = h._context(harvested_at=self.now)
        self.page_sizes = {k.entity: h.page_size for k in q.KINDS}
        self.buckets = {k.record_kind: IdBuckets(h.name, k.record_kind, checkpoint)
                        for k in q.KINDS}
        self.children = {k.entity: ChildDigests(k, checkpoint) for k in q.KINDS}
        self.resumed_at: tuple[int, int] | None = None  # (kind index, after) of a resumed pass
        state = checkpoint.get(KEY)
        self.state: dict[str, Any] = state if isinstance(state, dict) else {}

    # -- the run -----------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        self.client.properties()
        self.max_ids = min(self.client.max_entities or MAX_IDS_PER_SEARCH, MAX_IDS_PER_SEARCH)
        passes = int(self.state.get("passes") or 0)
        current = self._resume() or self._new_pass(passes)
        if current["full"] or passes % self.h.reconcile_every == 0:
            for kind in q.KINDS:
                yield from self._reconcile(kind)
            for kind in q.KINDS:
                if current["full"]:
                    self.children[kind.entity].full_pass()  # digests from the pass itself
                else:
                    self._list_children(kind)
        start = [k.entity for k in q.KINDS].index(current["kind"])
        for n, kind in enumerate(q.KINDS[start:]):
            if n:
                current = {**current, "kind": kind.entity, "after": 0}
            yield from self._pass(kind, current)
        for n, kind in enumerate(q.KINDS):
            yield from self.children[kind.entity].marks(partial(self._covered, n))
        hw = parse_iso(current["hw"])
        yield Mark(KEY, {"mapping": MAPPING_VERSION,
                         "since": iso(hw - self.h.overlap) if hw else None,
                         "released_to": current["released_to"], "passes": passes + 1,
                         "pass": None})

    def _resume(self) -> dict[str, Any] | None:
        current = self.state.get("pass")
        if not isinstance(current, dict) or self.state.get("mapping") != MAPPING_VERSION:
            return None
        log.info("ICAT %s: resuming the pass at %s id > %s", self.name, current.get("kind"),
                 current.get("after"))
        entities = [k.entity for k in q.KINDS]
        if current.get("kind") in entities:
            self.resumed_at = (entities.index(current["kind"]), int(current.get("after") or 0))
        return current

    def _covered(self, kind_index: int, lo: int, hi: int) -> bool:
        """Whether this run's pass went over the ids [lo, hi] of the kind_index-th kind (a
        resumed pass did not go over the kinds and ids it had done before)."""
        if self.resumed_at is None:
            return True
        at, after = self.resumed_at
        return kind_index > at or (kind_index == at and lo > after)

    def _new_pass(self, passes: int) -> dict[str, Any]:
        full = (self.state.get("mapping") != MAPPING_VERSION or not self.state.get("since")
                or bool(self.h.full_every and passes and passes % self.h.full_every == 0))
        hw = self._high_water()
        return {"full": full, "since": None if full else self.state["since"], "hw": iso(hw),
                "released_from": None if full else self.state.get("released_to"),
                "released_to": iso(self.now), "kind": q.KINDS[0].entity, "after": 0}

    def _high_water(self) -> datetime | None:
        """The latest modTime over every watched entity type: no later than the server's
        clock now, so every later change has modTime >= it."""
        stamps = []
        for entity in dict.fromkeys(t for k in q.KINDS for t in k.types):
            rows = self.client.search(q.max_mod_time(entity))
            if rows and rows[0] is not None:
                stamps.append(icat_time(rows[0], f"MAX({entity}.modTime)"))
        return max(stamps) if stamps else None

    # -- reconciliation ----------------------------------------------------------------------
    def _reconcile(self, kind: q.Kind) -> Iterator[Event]:
        buckets = self.buckets[kind.record_kind]
        try:
            yield from buckets.reconcile(self._ids(partial(q.live_ids, kind)))
        except EmptySource as exc:
            raise EmptySource(f"ICAT {self.h.url}: {exc}") from None

    def _list_children(self, kind: q.Kind) -> None:
        """List the [parent, child] id pairs of every child relation of `kind`."""
        def triples() -> Iterator[tuple[int, int, int]]:
            for n, join in enumerate(kind.children):
                after = (0, 0)
                while True:
                    rows = self.client.search(q.child_pairs(kind, join, after, self.max_ids))
                    pairs = [(r[0], r[1]) for r in rows if isinstance(r, list) and len(r) == 2
                             and all(isinstance(x, int) and not isinstance(x, bool) for x in r)]
                    for parent, child in pairs:
                        yield n, parent, child
                    if len(rows) < self.max_ids or not pairs:
                        break
                    after = pairs[-1]
        self.children[kind.entity].list(triples())

    def _ids(self, query: Callable[[int, int], str], after: int = 0) -> Iterator[int]:
        """Every id a keyset id query gives, ascending, one search per `max_ids`."""
        while True:
            rows = self.client.search(query(after, self.max_ids))
            ids = [r for r in rows if isinstance(r, int) and not isinstance(r, bool)]
            yield from ids
            if len(rows) < self.max_ids or not ids:
                return
            after = ids[-1]

    # -- passes ------------------------------------------------------------------------------
    def _pass(self, kind: q.Kind, current: dict[str, Any]) -> Iterator[Event]:
        """One unit per page, each closed by the pass's progress."""
        pages = (self._keyset_pages(kind, int(current["after"])) if current["full"]
                 else self._changed_pages(kind, current))
        for rows, last in prefetch(pages, self.h.prefetch) if self.h.prefetch else pages:
            yield from self._unit(kind, rows)
            current["after"] = last
            yield Mark(KEY, {**self.state, "mapping": MAPPING_VERSION, "pass": dict(current)})

    def _keyset_pages(self, kind: q.Kind, after: int) -> Iterator[tuple[list[dict], int]]:
        while True:
            rows, asked = self._search_entities(kind, lambda n: q.page(kind, after, n))
            ids = _ids_of(rows)
            if ids:
                after = ids[-1]
                yield rows, after
            if len(rows) < asked or not ids:
                return

    def _changed_pages(self, kind: q.Kind, current: dict[str, Any]
                       ) -> Iterator[tuple[list[dict], int]]:
        ids = self._changed_ids(kind, current)
        log.info("ICAT %s: %d %s changed or released since %s", self.name, len(ids),
                 kind.entity, current["since"])
        while ids:
            rows, asked = self._search_entities(kind, lambda n: q.by_ids(kind, ids[:n]))
            if rows:
                yield rows, ids[min(asked, len(ids)) - 1]
            ids = ids[asked:]

    def _changed_ids(self, kind: q.Kind, current: dict[str, Any]) -> list[int]:
        since, after = parse_iso(current["since"]), int(current["after"])
        found: set[int] = set()
        for join in kind.watch:
            found.update(self._ids(partial(q.changed_ids, kind, join, since), after))
        if self.children[kind.entity].listed is not None:  # groups that lost a child
            for lo, hi in self.children[kind.entity].stale():
                found.update(self._ids(partial(q.ids_between, kind, lo, hi), after))
        if kind is q.DATASET and self.children["Investigation"].listed is not None:
            for lo, hi in self.children["Investigation"].stale():  # they carry its people
                found.update(self._ids(partial(q.datasets_of_investigations, lo, hi), after))
        start, end = parse_iso(current.get("released_from")), parse_iso(current["released_to"])
        if start is not None and end is not None:
            found.update(self._ids(partial(q.released_ids, kind, start - self.h.overlap, end),
                                   after))
        return sorted(found)

    def _search_entities(self, kind: q.Kind, query: Callable[[int], str]
                         ) -> tuple[list[dict], int]:
        """(entities, page size asked): the page size halves while ICAT answers VALIDATION
        (more than maxEntities rows, INCLUDEd ones counted)."""
        while True:
            size = self.page_sizes[kind.entity]
            try:
                rows = self.client.search(query(size))
                return [_unwrap(row, kind.entity) for row in rows], size
            except ValidationError as exc:
                if size == 1:
                    raise
                self.page_sizes[kind.entity] = max(1, size // 2)
                log.warning("ICAT %s: %s; %s page size now %d", self.name, exc, kind.entity,
                            self.page_sizes[kind.entity])

    def _unit(self, kind: q.Kind, rows: list[dict]) -> Iterator[Event]:
        mapper, stored = _MAPPERS[kind.entity], []
        for entity in rows:
            try:
                record = mapper(entity, self.ctx)
            except MalformedEntity as exc:
                icat_id = entity.get("id") if isinstance(entity, dict) else None
                yield Failure(record_id(self.name, kind.record_kind, icat_id)
                              if isinstance(icat_id, int) else f"ICAT {kind.entity}",
                              f"ICAT {exc}")
                continue
            stored.append(entity["id"])
            self.children[kind.entity].stored_entity(entity["id"], entity)
            yield Upsert(record)
        yield from self.buckets[kind.record_kind].touched(stored)


def _ids_of(rows: list[Any]) -> list[int]:
    return [r["id"] for r in rows if isinstance(r, dict) and isinstance(r.get("id"), int)]


def _unwrap(row: Any, entity: str) -> dict:
    """`{"Dataset": {...}}` -> `{...}` (a row of another shape is passed on as it is, for the
    mapping to report)."""
    if isinstance(row, dict) and len(row) == 1 and entity in row:
        return row[entity]
    return row


__all__ = ["IcatHarvester", "IcatError", "KEY"]
