"""The seeded random plan of the demo: which files to write, with which entries.

`plan_files(seed)` is an endless stream of `FileSpec`s drawn, in order, from one
`random.Random(seed)`: the first `n` files of a seed are always the same, whatever is asked for
after them. There is no wall clock; times are written in Europe/Paris local time.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from .catalogue import (APP_DEF, BEAMLINE, BEAMLINES, CUSTOM_TITLES, INHOUSE, MODES, NOTES, PEOPLE,
                        SAMPLES, STAFF, VARIANTS, Beamline, creator_version)
from .people import identity, people_for, person
from .scans import ScanPlan, make_scan
from .summary import DemoEntry, DemoUser

_UTC = timezone.utc
_T0 = datetime(2019, 1, 7, tzinfo=_UTC)
_T1 = datetime(2026, 9, 10, tzinfo=_UTC)


def _last_sunday(year: int, month: int) -> date:
    d = date(year, month, 31)  # March and October
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _paris(t: datetime) -> datetime:
    """`t` (aware) in Europe/Paris local time: +02:00 between the last Sundays of March and
    October (01:00 UTC), else +01:00."""
    start = datetime.combine(_last_sunday(t.year, 3), time(1), tzinfo=_UTC)
    end = datetime.combine(_last_sunday(t.year, 10), time(1), tzinfo=_UTC)
    hours = 2 if start <= t < end else 1
    return t.astimezone(timezone(timedelta(hours=hours)))


def _iso(t: datetime) -> str:
    return _paris(t).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class EntrySpec:
    """One NXentry to write: its `DemoEntry` row and what the file holds beyond it."""

    row: DemoEntry
    scan: ScanPlan
    positioners: tuple[tuple[str, str, float], ...]
    wavelength: bool
    source_extra: tuple[str, float] | None  # (mode, current mA)
    temperature: float | None
    notes: tuple[str, ...]
    plotselect: bool
    detector: str
    big: bool
    data_seed: int
    users: tuple[tuple[DemoUser, str, str | None, str | None], ...]  # user, orcid as written, id, phone


@dataclass(frozen=True)
class FileSpec:
    """One file to write: its path, NXroot attributes and entries."""

    relpath: str
    file_name: str
    creator_version: str
    file_time: str
    entries: tuple[EntrySpec, ...]


@dataclass
class _Session:
    proposal: str
    bl: Beamline
    inhouse: bool
    weight: int
    people: tuple[tuple[DemoUser, str, str | None, str | None], ...]
    collections: list[tuple[str, str]] = field(default_factory=list)  # (collection, sample key)
    combo: tuple[str, ...] = ()
    energy: float | None = None
    write_users: bool = False
    write_definition: bool = False
    write_description: bool = True
    temperature: float | None = None
    cursor: datetime = _T0
    current: int = 0

    @property
    def base_dir(self) -> str:
        d = self.bl.dirname
        return f"{d}/inhouse/{self.proposal}/{d}" if self.inhouse else f"visitor/{self.proposal}/{d}"


def _proposal_name(rng: random.Random, prefix: str, taken: set[str]) -> str:
    low, high = (100, 10000) if prefix.startswith(("ih", "blc")) else (1000, 6000)
    while True:
        name = f"{prefix}{rng.randrange(low, high)}"
        if name not in taken:
            taken.add(name)
            return name


def _session_setup(rng: random.Random, s: _Session, anchor: bool) -> None:
    keys = rng.sample(s.bl.samples, rng.randint(2, min(5, len(s.bl.samples))))
    if anchor:
        keys = ["CeO2_calib"] + [k for k in keys if k != "CeO2_calib"]
    for i, key in enumerate(keys):
        name = key if (anchor and i == 0) or rng.random() < 0.6 else f"{key}_{rng.choice(VARIANTS)}"
        s.collections.append((name, key))
    s.combo = rng.choice(s.bl.combos)
    s.energy = rng.choice(s.bl.energies) if s.bl.energies else None
    s.write_users = rng.random() < 0.35
    s.write_definition = rng.random() < 0.4
    s.write_description = rng.random() < 0.6
    if s.bl.name == "ID23-1":
        s.temperature = 100.0
    elif rng.random() < 0.4:
        s.temperature = rng.choice((10.0, 77.0, 295.0, 300.0, 573.15, 873.15))


def _sessions(rng: random.Random) -> list[_Session]:
    """3 visitor proposals per beamline (one session each) and 4 in-house proposals (2 sessions
    each), their start dates stratified over 2019-01 … 2026-09. Visitor sessions weigh 1, 2 or 3
    files per round in turn along the timeline, so every stretch of time gets its share."""
    taken: set[str] = {"ma5432"}
    staff = {bl.name: STAFF[i % len(STAFF)] for i, bl in enumerate(BEAMLINES)}
    ids = {name: identity(rng, name) for name in [n for n, _ in PEOPLE] + list(STAFF)}
    sessions = []
    for bl in BEAMLINES:
        for j in range(3):
            anchor = bl.name == "ID11" and j == 0
            prop = "ma5432" if anchor else _proposal_name(rng, rng.choice(bl.prefixes), taken)
            people = people_for(rng, ids, staff[bl.name])
            sessions.append((_Session(prop, bl, False, 1, people), anchor))
    for prefix, bl_name in INHOUSE:
        bl = BEAMLINE[bl_name]
        prop = _proposal_name(rng, prefix, taken)
        people = (person(ids, staff[bl_name], "ESRF", "principal investigator"),)
        sessions += [(_Session(prop, bl, True, 1, people), False) for _ in range(2)]
    rng.shuffle(sessions)
    span = (_T1 - _T0) / len(sessions)
    for k, (s, anchor) in enumerate(sessions):
        day = _T0 + span * (k + rng.uniform(0.05, 0.95))
        s.cursor = datetime.combine(day.date(), time(6), tzinfo=_UTC)
        s.cursor += timedelta(seconds=rng.randrange(12 * 3600))  # 07:00-20:00 local
        s.weight = 1 if s.inhouse else 1 + k % 3
        _session_setup(rng, s, anchor)
    return [s for s, _ in sessions]


def _entry(rng: random.Random, s: _Session, relpath: str, name: str, scan: ScanPlan,
           start: datetime, end: datetime, coll: tuple[str, str], big: bool) -> EntrySpec:
    formula, description = SAMPLES[coll[1]]
    techniques: tuple[str, ...] = ()
    if rng.random() < (0.92 if scan.measurement else 0.5):
        techniques = tuple(sorted(s.combo if rng.random() < 0.85 else rng.choice(s.bl.combos)))
    apps = {APP_DEF[t] for t in (techniques or s.combo) if t in APP_DEF}
    definition = apps.pop() if s.write_definition and scan.measurement and len(apps) == 1 else None
    title = scan.title
    if scan.measurement and rng.random() < 0.05:
        title = rng.choice(CUSTOM_TITLES).format(n=rng.randint(1, 9))
    energy = s.energy if s.energy is None or scan.axis != "energy" else scan.lo
    users = s.people if s.write_users else ()
    row = DemoEntry(relpath, name, title, s.bl.name, s.proposal, _iso(start), _iso(end), techniques,
                    definition, coll[0], formula, description if s.write_description else None,
                    energy, tuple(u[0] for u in users), s.inhouse)
    return EntrySpec(
        row=row, scan=scan, users=users, big=big,
        positioners=tuple((m, u, round(rng.uniform(-180, 180) if u == "deg" else rng.uniform(-10, 10), 4))
                          for m, u in s.bl.motors),
        wavelength=s.bl.name == "ID23-1" or rng.random() < 0.1,
        source_extra=(rng.choice(MODES), round(rng.uniform(180, 200.5), 2)) if rng.random() < 0.5 else None,
        temperature=None if s.temperature is None else round(s.temperature + rng.uniform(-0.2, 0.2), 2),
        notes=tuple(rng.sample(NOTES, rng.randint(1, 2))) if rng.random() < 0.15 else (),
        plotselect=scan.npts > 1 and rng.random() < 0.6,
        detector=rng.choice(s.bl.detectors),
        data_seed=rng.getrandbits(32))


def _next_file(rng: random.Random, s: _Session, counters: dict[str, int]) -> FileSpec:
    coll = s.collections[s.current]
    if rng.random() < 0.35:  # the next file of this session moves on to another collection
        s.current = (s.current + 1) % len(s.collections)
    key = f"{s.base_dir}/{coll[0]}"
    counters[key] = counters.get(key, 0) + 1
    ds = f"{coll[0]}_{counters[key]:04d}"
    relpath = f"{key}/{ds}/{ds}.h5"
    s.cursor += timedelta(seconds=rng.randrange(60, 2400), microseconds=rng.randrange(10**6))
    file_time = s.cursor
    n_scans = rng.choices((1, 2, 3, 4), weights=(3, 3, 2, 2))[0]
    sub_at = n_scans if rng.random() < 0.08 else 0
    big = rng.random() < 0.05
    kinds, weights = zip(*s.bl.kinds)
    entries = []
    for i in range(1, n_scans + 1):
        scan = make_scan(rng, s.bl, rng.choices(kinds, weights)[0])
        start = s.cursor + timedelta(seconds=rng.uniform(2, 60))
        per_point = scan.count_time + (0.005 if scan.title.startswith("fscan") else rng.uniform(0.02, 0.3))
        end = start + timedelta(seconds=scan.npts * per_point + rng.uniform(1, 15))
        entries.append(_entry(rng, s, relpath, f"{i}.1", scan, start, end, coll, big and i == 1))
        if i == sub_at:
            sub_end = end + timedelta(seconds=rng.uniform(0.01, 2))
            entries.append(_entry(rng, s, relpath, f"{i}.2", scan, start, sub_end, coll, False))
            end = sub_end
        s.cursor = end
    return FileSpec(relpath, f"/data/{relpath}", creator_version(file_time),
                    _iso(file_time), tuple(entries))


def _smooth_wrr(weights: list[int]) -> Iterator[int]:
    """Smooth weighted round robin: every prefix is close to the weight proportions."""
    current, total = [0] * len(weights), sum(weights)
    while True:
        for i, w in enumerate(weights):
            current[i] += w
        pick = max(range(len(weights)), key=current.__getitem__)
        current[pick] -= total
        yield pick


def plan_files(seed: int) -> Iterator[FileSpec]:
    """The endless file stream of a seed."""
    rng = random.Random(seed)
    sessions = _sessions(rng)
    counters: dict[str, int] = {}
    for idx in _smooth_wrr([s.weight for s in sessions]):
        yield _next_file(rng, sessions[idx], counters)
