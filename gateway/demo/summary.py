"""What the demo generator wrote: `DemoSummary`, one `DemoEntry` per NXentry, `DemoUser`.

Tests compute their expectations from these by brute force.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

EMBARGO_DAYS = 1095


@dataclass(frozen=True)
class DemoUser:
    name: str
    orcid: str | None  # https://orcid.org/... form, whatever form the file holds
    affiliation: str
    role: str
    email: str  # always written in the file; must never be exported


@dataclass(frozen=True)
class DemoEntry:
    """One NXentry as written. Times are the exact strings in the file."""

    relpath: str  # file path relative to root, POSIX
    entry: str  # "1.1", "3.2", ...
    title: str
    beamline: str  # "ID11"
    proposal: str
    start_time: str
    end_time: str
    techniques: tuple[str, ...] = ()  # ESRFET names, in identifier_technique_<i> order
    definition: str | None = None
    sample_name: str = ""
    chemical_formula: str | None = None
    sample_description: str | None = None
    energy_kev: float | None = None
    users: tuple[DemoUser, ...] = ()
    inhouse: bool = False

    @property
    def end(self) -> datetime:
        return datetime.fromisoformat(self.end_time)

    def release_date(self, days: int = EMBARGO_DAYS) -> datetime:
        return self.end + timedelta(days=days)


@dataclass(frozen=True)
class DemoSummary:
    files: int
    entries: int
    beamlines: tuple[str, ...]  # sorted
    proposals: tuple[str, ...]  # sorted
    paths: tuple[str, ...] = ()  # relpaths of the files, in writing order
    large_files: tuple[str, ...] = ()  # relpaths of files with the 1 MiB detector dataset
    entry_rows: tuple[DemoEntry, ...] = ()

    def embargoed(self, now: datetime, days: int = EMBARGO_DAYS) -> tuple[DemoEntry, ...]:
        """Entries whose release date (end_time + `days`) is after `now` (aware datetime)."""
        return tuple(e for e in self.entry_rows if e.release_date(days) > now)
