"""Removed child rows, which ICAT's modTime cannot show: child reconciliation.

A deleted DatasetParameter or InvestigationUser leaves no row behind, and the parent's `modTime`
does not move, so no `modTime >= since` search can find the parent. On each reconciliation the
harvester lists, for every child relation of `queries.Kind.children` (investigation users,
keywords, parameters and samples of investigations; parameters, technique links and the sample
of datasets), the `[parent id, child id]` pairs (one id-only search per `maxEntities` pairs),
and keeps in the checkpoint one digest per **group** of GROUP consecutive parent ids: a digest
of the child ids of every parent in the group, as last listed. A group whose listing no longer
has its digest lost or gained a child; its parents are fetched again in this run's pass (and,
for investigations, their datasets, which carry the investigation's people). A new child also
moves its own modTime, so only removals depend on this.

A full pass needs no listing: the digests are taken from the entities it stores (their
INCLUDEd children), which are exactly what the records hold.

Invariant: the records of the parents of a group hold the children its digest covers. A parent
stored during a pass with other children than this run's listing gave it (changed in between,
or no listing this run) makes its group **dirty** (digest ""), which never matches: the group
is fetched again at the next reconciliation. Digests are written at the end of a run, after
the pass that fetched the stale groups; groups the run did not get to fetch (a resumed pass
that had passed them) keep their old digest (or become dirty), so they are fetched next time.

Checkpoint: `kids:<kind>:<n>` = {"<group>": digest} for the groups of ICAT ids n*BUCKET ..
(n+1)*BUCKET-1 that have children; about 20 bytes per group, written only when they change.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping

from harvesters.events import Mark

from . import queries as q
from .reconcile import BUCKET

GROUP = 1000          # parent ids per digest
_MASK = (1 << 64) - 1
# the INCLUDEd relation that holds the children of each `Kind.children` JOIN, in that order
_RELATIONS = {"Investigation": ("investigationUsers", "keywords", "parameters", "samples"),
              "Dataset": ("parameters", "datasetTechniques", "sample")}


def _mix(x: int) -> int:
    """splitmix64's finaliser: a stable 64-bit hash of an int (not Python's hash())."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def child_hash(relation: int, child: int) -> int:
    return _mix((relation << 48) ^ child)


def entity_children(entity: str, row: Mapping[str, Any]) -> int:
    """The children hash of an entity as fetched (INCLUDEd relations), as `ChildDigests`
    computes it from a listing."""
    total = 0
    for n, name in enumerate(_RELATIONS[entity]):
        value = row.get(name)
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                total = (total + child_hash(n, item["id"])) & _MASK
    return total


def _groups(hashes: Mapping[int, int]) -> dict[int, str]:
    """{group: digest} of {parent id: children hash}."""
    groups: dict[int, int] = {}
    for parent, h in hashes.items():
        g = parent // GROUP
        groups[g] = (groups.get(g, 0) + _mix(parent ^ h)) & _MASK
    return {g: f"{d:016x}" for g, d in groups.items()}


class ChildDigests:
    """The child-reconciliation state of one record kind of one source."""

    def __init__(self, kind: q.Kind, checkpoint: Mapping[str, Any]):
        self.kind = kind
        self.prefix = f"kids:{kind.record_kind}:"
        self.stored: dict[int, str] = {}
        for key, value in checkpoint.items():
            if key.startswith(self.prefix) and isinstance(value, dict):
                for group, digest in value.items():
                    if isinstance(digest, str) and str(group).isdigit():
                        self.stored[int(group)] = digest
        self.listed: dict[int, int] | None = None   # parent id -> children hash, this run
        self.seen: dict[int, int] | None = None     # the same, of the parents a full pass stored
        self.new: dict[int, str] = {}                # group -> digest of this run's listing
        self.dirty: set[int] = set()

    def list(self, pairs: Iterable[tuple[int, int, int]]) -> None:
        """Take this run's listing: (relation number, parent id, child id) triples."""
        listed: dict[int, int] = {}
        for relation, parent, child in pairs:
            listed[parent] = (listed.get(parent, 0) + child_hash(relation, child)) & _MASK
        self.listed, self.new = listed, _groups(listed)

    def stale(self) -> list[tuple[int, int]]:
        """Id ranges [lo, hi] of the groups whose listing lost (or gained) a child since the
        last one, or that are dirty; ascending, adjacent groups merged."""
        groups = sorted(g for g, digest in self.stored.items() if self.new.get(g) != digest)
        ranges: list[tuple[int, int]] = []
        for g in groups:
            lo, hi = g * GROUP, (g + 1) * GROUP - 1
            if ranges and ranges[-1][1] + 1 == lo:
                ranges[-1] = (ranges[-1][0], hi)
            else:
                ranges.append((lo, hi))
        return ranges

    def full_pass(self) -> None:
        """This run's pass reads every entity: the digests are taken from what it stores (no
        listing needed: they are exactly what the records hold)."""
        self.seen = {}

    def stored_entity(self, icat_id: int, row: Mapping[str, Any]) -> None:
        """A parent stored by the pass: its group is dirty unless its children are those of
        this run's listing (a full pass records them instead)."""
        children = entity_children(self.kind.entity, row)
        if self.seen is not None:
            if children:
                self.seen[icat_id] = children
            return
        listed = self.listed
        if listed is None or listed.get(icat_id, 0) != children:
            self.dirty.add(icat_id // GROUP)

    def marks(self, covered: Callable[[int, int], bool]) -> Iterator[Mark]:
        """The Marks that bring the checkpoint to this run's listing. `covered(lo, hi)` says
        whether this run's pass went over the ids [lo, hi] (a resumed pass did not go over
        those before its resume point): only there did it fetch the stale parents."""
        final = dict(self.stored)
        if self.seen is not None:  # a full pass: the digests of what it stored
            self.listed, self.new = self.seen, _groups(self.seen)
        if self.listed is not None:
            for g in set(self.new) | set(self.stored):
                if not covered(g * GROUP, (g + 1) * GROUP - 1):
                    final[g] = self.stored.get(g, "")
                elif g in self.new:
                    final[g] = self.new[g]
                else:
                    final.pop(g, None)
        for g in self.dirty:
            final[g] = ""
        per = BUCKET // GROUP
        keys = {g // per for g in set(final) | set(self.stored)}
        for n in sorted(keys):
            old = {str(g): d for g, d in sorted(self.stored.items()) if g // per == n}
            new = {str(g): d for g, d in sorted(final.items()) if g // per == n}
            if new != old:
                yield Mark(f"{self.prefix}{n}", new or None)
        self.stored = final


__all__ = ["ChildDigests", "GROUP", "child_hash", "entity_children"]
