"""What a harvester yields. The runner turns these into store writes.

A harvester yields, in source order, for each unit of work (a file, a page):
the `Upsert`s and `Delete`s it found, then one `Mark` that records the unit as done.
The runner commits a batch only at a `Mark`, in one transaction with the marks, so a
checkpoint never runs ahead of the records it covers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol, Union

from mappings.record import Record


@dataclass(frozen=True, slots=True)
class Upsert:
    record: Record


@dataclass(frozen=True, slots=True)
class Delete:
    id: str


@dataclass(frozen=True, slots=True)
class Unchanged:
    """`count` records the harvester skipped because their source unit did not change."""

    ref: str
    count: int


@dataclass(frozen=True, slots=True)
class Failure:
    """One source unit that could not be harvested; the run goes on."""

    ref: str  # path, URL or native id
    reason: str


@dataclass(frozen=True, slots=True)
class Mark:
    """Checkpoint entry: `key` is done with state `value` (JSON-able); None removes the key."""

    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class Planned:
    """Optional, first: how many units (files, pages) this run will go through. Each unit
    ends with a `Mark`, an `Unchanged` or a `Failure`; progress reporting counts them."""

    units: int


Event = Union[Upsert, Delete, Unchanged, Failure, Mark, Planned]
UNIT_ENDS = (Mark, Unchanged, Failure)


class Harvester(Protocol):
    """A source: `harvest(checkpoint)` yields events lazily; `checkpoint` is the state of
    the last durable run ({key: value} from its `Mark`s)."""

    name: str

    def harvest(self, checkpoint: Mapping[str, Any]) -> Iterator[Event]: ...
