"""Deletion detection for ICAT, where deletes leave no trace: id-set reconciliation.

The checkpoint does not hold every harvested id. It holds one small entry per **bucket**, a
fixed range of BUCKET ICAT ids (`ids:<kind>:<n>` covers ids n*BUCKET .. (n+1)*BUCKET-1):
`{"n": count, "h": digest, "lo": min id, "hi": max id}` of the ids ICAT listed there at the
last reconciliation, plus `"dirty": true` once a record was stored in the bucket that the
last listing did not include (created after it).

Invariant: the live records of a clean bucket are a subset of its last listing. So when a new
listing of a bucket has the same count and digest and the bucket is clean, nothing in it was
deleted; otherwise every id in [lo, hi] that the new listing lacks gets a `Delete` (the store
ignores ids it never stored) and the bucket takes the new listing. A bucket is one unit: its
Deletes and its new entry commit together. Listing ids costs one id-only search per
`max_entities` ids.
"""
from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from typing import Any, Iterable, Iterator, Mapping

from harvesters.events import Delete, Event, Mark
from mappings.icat import record_id

BUCKET = 10_000


class EmptySource(RuntimeError):
    """The listing is empty although records were harvested before."""


def _digest(ids: list[int]) -> str:
    return hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:20]


class IdBuckets:
    """The reconciliation state of one record kind of one source."""

    def __init__(self, source: str, kind: str, checkpoint: Mapping[str, Any]):
        self.source, self.kind = source, kind
        self.prefix = f"ids:{kind}:"
        self.states: dict[int, dict[str, Any]] = {}
        for key, value in checkpoint.items():
            if key.startswith(self.prefix) and isinstance(value, dict):
                try:
                    self.states[int(key[len(self.prefix):])] = value
                except ValueError:
                    continue
        self.listed: array | None = None  # sorted ids of this run's listing, if any

    def key(self, bucket: int) -> str:
        return f"{self.prefix}{bucket}"

    def harvested(self) -> int:
        return sum(s.get("n", 0) for s in self.states.values() if isinstance(s.get("n"), int))

    def reconcile(self, live: Iterable[int]) -> Iterator[Event]:
        """Compare the listing `live` (ascending ids) bucket by bucket; Deletes and Marks.
        EmptySource, before any event, when the listing is empty but buckets are not."""
        self.listed = array("q")
        known = sorted(self.states)
        current: int | None = None
        ids: list[int] = []
        for icat_id in live:
            bucket = icat_id // BUCKET
            if bucket != current:
                if current is not None:
                    yield from self._finish(current, ids)
                while known and known[0] < bucket:
                    gone = known.pop(0)
                    if gone != current:
                        yield from self._finish(gone, [])
                if known and known[0] == bucket:
                    known.pop(0)
                current, ids = bucket, []
            ids.append(icat_id)
            self.listed.append(icat_id)
        if current is None and self.harvested():
            raise EmptySource(f"ICAT lists no {self.kind} although {self.harvested()} were "
                              "harvested before: refusing to delete them all (wrong account "
                              "or authorization rules?)")
        if current is not None:
            yield from self._finish(current, ids)
        for gone in known:
            if gone != current:
                yield from self._finish(gone, [])

    def _finish(self, bucket: int, ids: list[int]) -> Iterator[Event]:
        old = self.states.get(bucket)
        new = {"n": len(ids), "h": _digest(ids), "lo": ids[0], "hi": ids[-1]} if ids else None
        if old is not None and (old.get("dirty") or new is None
                                or (old.get("n"), old.get("h")) != (new["n"], new["h"])):
            live = set(ids)
            lo = old.get("lo", bucket * BUCKET)
            hi = old.get("hi", (bucket + 1) * BUCKET - 1)
            yield from (Delete(record_id(self.source, self.kind, i))
                        for i in range(lo, hi + 1) if i not in live)
        if new != old:
            if new is None:
                self.states.pop(bucket, None)
            else:
                self.states[bucket] = new
            yield Mark(self.key(bucket), new)

    def touched(self, ids: Iterable[int]) -> Iterator[Mark]:
        """Marks for the buckets of stored ids that this run's listing does not hold
        (every id when there was no listing this run)."""
        changed: dict[int, dict[str, Any]] = {}
        for icat_id in ids:
            if self._was_listed(icat_id):
                continue
            bucket = icat_id // BUCKET
            state = changed.get(bucket) or dict(self.states.get(bucket) or {"n": 0, "h": ""})
            lo, hi = state.get("lo", icat_id), state.get("hi", icat_id)
            new = {**state, "lo": min(lo, icat_id), "hi": max(hi, icat_id), "dirty": True}
            if new != self.states.get(bucket):
                changed[bucket] = new
        for bucket, state in sorted(changed.items()):
            self.states[bucket] = state
            yield Mark(self.key(bucket), state)

    def _was_listed(self, icat_id: int) -> bool:
        listed = self.listed
        if not listed:
            return False
        i = bisect_left(listed, icat_id)
        return i < len(listed) and listed[i] == icat_id


__all__ = ["BUCKET", "EmptySource", "IdBuckets"]
