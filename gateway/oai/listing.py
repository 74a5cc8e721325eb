"""The items of an OAI-PMH list: two ordered streams merged by (datestamp, id).

Live records come from the search index (`SearchIndex.stamps`: public at `now`, keyset on
the public datestamp and id), each checked once more against the record store, which has
the last word. Deleted headers come from the record store (`Store.oai_deletions`):
tombstones that the access policy lets us announce (and those of records withdrawn
before their deletion), and records withdrawn under a new embargo, for as long as that
embargo lasts, each shown with its last public version. One (datestamp, id) keyset
continues both.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Iterator

from mappings.access import Visibility, visibility
from mappings.record import Record

from ..context import Gateway
from .sets import Selection


@dataclass(frozen=True)
class Item:
    stamp: datetime
    id: str
    record: Record
    deleted: bool

    @property
    def key(self) -> tuple[datetime, str]:
        return self.stamp, self.id


@dataclass(frozen=True)
class Bounds:
    date_from: datetime | None
    until: datetime | None  # inclusive; frozen on the first page of a list


def items(gw: Gateway, now: datetime, bounds: Bounds, selection: Selection,
          after: tuple[datetime, str] | None, chunk: int) -> Iterator[Item]:
    """Every item of the list after `after`, in (datestamp, id) order, read `chunk` at a
    time from each stream as it is consumed."""
    return heapq.merge(_live(gw, now, bounds, selection.filters or {}, after, chunk),
                       _deleted(gw, now, bounds, selection, after, chunk),
                       key=lambda item: item.key)


def first_live(gw: Gateway, now: datetime) -> Item | None:
    """The earliest public record (Identify's sample: one GetRecord can show in full)."""
    return next(_live(gw, now, Bounds(None, now), {}, None, 1), None)


def page(gw: Gateway, now: datetime, bounds: Bounds, selection: Selection,
         after: tuple[datetime, str] | None, size: int) -> tuple[list[Item], bool]:
    """At most `size` items after `after`, and whether more follow (one item is read
    ahead, so a list whose length is a multiple of `size` never ends on an empty page)."""
    found = list(islice(items(gw, now, bounds, selection, after, size + 1), size + 1))
    return found[:size], len(found) > size


def count(gw: Gateway, now: datetime, bounds: Bounds, selection: Selection) -> int:
    """The length of the whole list (completeListSize): live records counted by the
    index, deleted headers by the record store; one by one only for a set whose members
    the store cannot match (the parent sets `facility` and `technique`, a technique)."""
    live = gw.index.count_stamps(now, date_from=bounds.date_from, date_to=bounds.until,
                                 filters=selection.filters or {})
    if selection.fields is not None:
        return live + gw.store.count_oai_deletions(
            now, date_from=bounds.date_from, date_to=bounds.until, match=selection.fields)
    return live + sum(1 for _ in _deleted(gw, now, bounds, selection, None, 1000))


def _live(gw: Gateway, now: datetime, bounds: Bounds, filters: dict[str, tuple[str, ...]],
          after: tuple[datetime, str] | None, chunk: int) -> Iterator[Item]:
    while True:
        stamps = gw.index.stamps(now, date_from=bounds.date_from, date_to=bounds.until,
                                 after=after, size=chunk, filters=filters)
        records = gw.store.get_many([rid for _, rid in stamps])
        for stamp, rid in stamps:
            record = records.get(rid)
            if record is not None and visibility(record, now) is Visibility.PUBLIC:
                yield Item(stamp, rid, record, False)
        if len(stamps) < chunk:
            return
        after = stamps[-1]


def _deleted(gw: Gateway, now: datetime, bounds: Bounds, selection: Selection,
             after: tuple[datetime, str] | None, chunk: int) -> Iterator[Item]:
    """The deleted headers, each with the record its header shows (its last public
    version: never sets of a version under embargo)."""
    while True:
        rows = gw.store.oai_deletions(now, after=after, date_from=bounds.date_from,
                                      date_to=bounds.until, match=selection.fields,
                                      limit=chunk)
        for stamp, rid, record in rows:
            if selection.member(record):
                yield Item(stamp, rid, record, True)
        if len(rows) < chunk:
            return
        after = rows[-1][0], rows[-1][1]
