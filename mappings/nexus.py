"""NeXus entry -> canonical dataset `Record`. Pure: the harvester reads the file, this maps.

`entry_to_record(entry, relpath, ctx)` takes the plain dict that `harvesters.nexus` builds for
one NXentry. Every key is optional except "name"; strings are already decoded and stripped,
numbers are Python int/float, 1-element arrays unwrapped:

    name                      entry group name ("entry", "1.1")
    title, start_time, end_time, definition, experiment_identifier, proposal,
    collection_identifier, entry_identifier, experiment_description, program_name,
    run_cycle, release_date   str (times as written in the file, any common format)
    technique_ids             [str]: identifier_technique_1, _2, ... in order (IRIs or names)
    subentries                [{name, definition, title, start_time, end_time,
                                experiment_identifier}]
    instrument                {name, short_name, title}
    source                    {name, type, probe}
    sample                    {name, chemical_formula, description}
    users                     [{name, role, affiliation, orcid, proposal_number}]
                              (the reader never copies e-mail, phone, fax, login or user id)
    quantities                {"monochromator/energy" | "monochromator/wavelength" |
                               "beam/incident_energy" | "beam/incident_wavelength" |
                               "sample/temperature" | "sample/pressure" | "source/current" |
                               "source/energy": {"value": number, "units": str | None}}
    positioners               {motor name: {"value": number, "units": str | None}}
    file                      {url, size, mtime (ISO 8601 with zone), creator, file_time,
                               file_update_time, instrument}: NXroot attributes and file facts

Decisions:
- The facility comes from the context (the operator's authority); a file's source name is kept
  as the string parameter "source_name" and is the facility name only when the context has none.
- Placeholders ("Unnamed Sample", "DEFAULT", "SAMPLE-CHAR-DATA", "UNKNOWN", unfilled "{...}"
  templates, ...) count as absent. A Bliss scan's title is its scan command, so it becomes
  "<file stem> scan <entry>: <command>"; other titles are kept, falling back to a subentry's
  title, the sample name, then "<file stem> <entry name>".
- ORCID iDs are normalised to https://orcid.org/... and dropped (the person stays) when
  malformed or when the check digit is wrong; a context ROR that is not a ROR id URL is dropped.
  A person whose name looks like an e-mail address is dropped. Free text (title, description,
  keywords, string parameters, sample name and description) is kept with every e-mail address
  in it replaced by "[e-mail removed]" (`mappings.privacy`).
- Techniques: identifier_technique_N, then the entry's and subentries' definitions (a subentry
  without one: its name, as Bliss names technique subentries), then the probe term (from the
  source probe, else its type, else the context's default probe). Definitions are also keywords.
- The proposal (an Identifier "proposal" and a Related IsPartOf, type "Local") comes from
  experiment_identifier, proposal, a subentry, an NXuser proposal_number, else the ESRF
  directory policy in the path (visitor/<proposal>/<bl>/..., <bl>/inhouse/<proposal>/<bl>/...).
- Parameter names follow the PaNOSC portal: incident_photon_energy (incident_energy when the
  probe is not known to be photons), incident_wavelength, sample_temperature, sample_pressure,
  source_current, source_energy, positioner_<motor>; plus the strings source_name,
  source_type, program_name (else the NXroot creator) and run_cycle. Units "NX_..." are dropped.
- People with a local-contact / beamline / instrument-scientist role are contributors, the
  others creators. One HDF5 file per record (files.count 1, its size, application/x-hdf5).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import PurePosixPath
from typing import Any, Iterable, Iterator
from urllib.parse import quote

from .record import (Affiliation, Dates, Facility, Files, Identifier, Instrument, Parameter,
                     Person, Provenance, Record, Related, Sample, Technique, with_hash)
from .techniques import probe_kind, probe_technique, resolve
from .privacy import scrub
from .validation import EMAIL_RE, check_source_context, orcid_checksum_ok

# Bump when a change here changes the records of unchanged files: harvesters re-read them.
MAPPING_VERSION = 2  # 2: e-mail addresses scrubbed from free text
HDF5_MEDIA_TYPE = "application/x-hdf5"
MAX_TITLE = 2000

_PLACEHOLDERS = frozenset({
    "unnamed sample", "default sample", "sample-char-data", "default", "unknown", "undefined",
    "none", "null", "n/a", "no description provided.", "no description provided", "not set",
})
_TEMPLATE = re.compile(r"^\$?\{.*\}$", re.DOTALL)
_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE)
_ORCID = re.compile(r"^(?:orcid:)?(?:https?://)?(?:www\.)?(?:orcid\.org/)?"
                    r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$", re.IGNORECASE)
_PROPOSAL_DIR = re.compile(r"(?:^|/)(?:visitor/([^/]+)|[^/]+/inhouse/([^/]+))/[^/]+/")
_CONTRIBUTOR_ROLE = re.compile(r"local.?contact|beamline|instrument.?scientist|in.?charge",
                               re.IGNORECASE)

# entry["quantities"] key -> parameter name ("incident_energy" is renamed for photon probes)
_QUANTITIES = (
    ("monochromator/energy", "incident_energy"),
    ("monochromator/wavelength", "incident_wavelength"),
    ("beam/incident_energy", "incident_energy"),
    ("beam/incident_wavelength", "incident_wavelength"),
    ("sample/temperature", "sample_temperature"), ("sample/pressure", "sample_pressure"),
    ("source/current", "source_current"), ("source/energy", "source_energy"),
)


@dataclass(frozen=True, kw_only=True)
class NexusContext:
    """What the file does not say: who harvests, for which facility, under which policy.

    `tz` is the zone of times written without one. `embargo_days`: when the file gives no
    release date, release_date = collected end (else start, else file_time, else the file's
    mtime) + embargo_days; None means no embargo. `default_probe` ("x-ray", "neutron") applies
    when the file names no probe or source type. ValueError on a bad source name, a naive
    `harvested_at`, a negative embargo or a licence that is not an SPDX id.
    """

    source: str
    facility_name: str | None
    harvested_at: datetime
    facility_ror: str | None = None
    tz: tzinfo = timezone.utc
    license: str | None = "CC-BY-4.0"
    embargo_days: int | None = None
    default_probe: str | None = None

    def __post_init__(self) -> None:
        check_source_context(self.source, self.harvested_at, license=self.license,
                             embargo_days=self.embargo_days, facility_ror=self.facility_ror)


# --- value helpers ---------------------------------------------------------------------------

def text(value: Any) -> str | None:
    """A stripped string, or None for empty values, placeholders and unfilled templates."""
    if value is None or isinstance(value, (dict, bool)):
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v is not None)
    s = str(value).replace("\x00", "").strip()
    if not s or s.lower() in _PLACEHOLDERS or _TEMPLATE.match(s):
        return None
    return s


def _zone(token: str) -> tzinfo | None:
    if token.upper() in ("Z", "UTC", "GMT"):
        return timezone.utc
    digits = token[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if token[0] == "-" else offset)


def parse_time(value: Any, tz: tzinfo) -> datetime | None:
    """An aware datetime from ISO 8601 ('T' or space, optional fraction, zone Z / ±HH:MM /
    ±HHMM / ±HH) or a bare date; naive times get `tz`. None for empty or unparseable text."""
    s = text(value)
    match = _TIME.match(s) if s else None
    if match is None:
        return None
    year, month, day, hour, minute, sec, frac, zone = match.groups()
    zone_info = _zone(zone) if zone else tz
    if zone_info is None:
        return None
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                        int(sec or 0), int((frac or "0")[:6].ljust(6, "0")), tzinfo=zone_info)
    except ValueError:
        return None


def normalise_orcid(value: Any) -> str | None:
    """https://orcid.org/XXXX-XXXX-XXXX-XXXX from a bare, URL or CURIE iD; None when malformed
    or when the ISO 7064 check digit is wrong."""
    s = text(value)
    match = _ORCID.match(s.replace(" ", "")) if s else None
    if match is None:
        return None
    orcid = "https://orcid.org/" + "-".join(match.groups()).upper()
    return orcid if orcid_checksum_ok(orcid) else None


def _number(value: Any) -> int | float | str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return text(value)


def _unit(value: Any) -> str | None:
    unit = text(value)
    return None if unit is None or unit.upper().startswith("NX_") else unit


def _first(*values: Any) -> str | None:
    return next((t for t in map(text, values) if t), None)


def _unique(items: Iterable[Any]) -> tuple:
    return tuple(dict.fromkeys(i for i in items if i is not None))


# --- parts of the record -----------------------------------------------------------------------

def _subs(entry: dict, key: str) -> list[Any]:
    return [sub.get(key) for sub in entry.get("subentries") or ()]


def _title(entry: dict, relpath: str) -> str:
    """The entry's title; for a Bliss scan, whose title is the scan command ("ct 0.1"), the
    dataset (file stem) and scan number come first: "CeO2_0001 scan 1.1: ct 0.1"."""
    stem, scan = PurePosixPath(relpath).stem, _first(entry.get("title"))
    creator = text((entry.get("file") or {}).get("creator")) or ""
    if scan and creator.lower().startswith("bliss"):
        return scrub(f"{stem} scan {entry['name']}: {scan}")[:MAX_TITLE]
    title = _first(scan, *_subs(entry, "title"), (entry.get("sample") or {}).get("name"))
    return scrub(title or f"{stem} {entry['name']}")[:MAX_TITLE]


def _probe(entry: dict, ctx: NexusContext) -> str | None:
    source = entry.get("source") or {}
    return next((p for p in (text(source.get("probe")), text(source.get("type")),
                             ctx.default_probe) if probe_kind(p)), None)


def _resolve_all(hint: Any, probe: str | None) -> list[Technique | None]:
    """One term for the whole hint, else one per word ("XAS XRF", space-separated IRIs)."""
    hint = text(hint)
    whole = resolve(hint, probe)
    return [whole] if whole or not hint else [resolve(word, probe) for word in hint.split()]


def _techniques(entry: dict, probe: str | None) -> tuple[Technique, ...]:
    hints = [*(entry.get("technique_ids") or ()), entry.get("definition")]
    hints += [sub.get("definition") or sub.get("name") for sub in entry.get("subentries") or ()]
    found = [t for h in hints for t in _resolve_all(h, probe)]
    return _unique([*found, probe_technique(probe)])


def _instrument(entry: dict) -> Instrument | None:
    inst = entry.get("instrument") or {}
    name = _first(inst.get("name"), inst.get("short_name"), inst.get("title"),
                  (entry.get("file") or {}).get("instrument"))
    return Instrument(name=name) if name else None


def _facility(entry: dict, ctx: NexusContext) -> Facility | None:
    name = text(ctx.facility_name) or text((entry.get("source") or {}).get("name"))
    if name is None:
        return None
    ror = ctx.facility_ror  # checked when the context was made
    return Facility(name=name, ror=ror)


def _sample(entry: dict) -> tuple[Sample, ...]:
    sample = entry.get("sample") or {}
    name, formula = text(sample.get("name")), text(sample.get("chemical_formula"))
    if not (name or formula):
        return ()
    return (Sample(name=scrub(name or formula), chemical_formula=formula,
                   description=scrub(text(sample.get("description")))),)


def _person(user: dict) -> Person | None:
    name, affiliation = text(user.get("name")), text(user.get("affiliation"))
    if name is None or EMAIL_RE.search(name):
        return None
    if affiliation and EMAIL_RE.search(affiliation):
        affiliation = None
    return Person(name=name, orcid=normalise_orcid(user.get("orcid")), role=text(user.get("role")),
                  affiliation=Affiliation(name=affiliation) if affiliation else None)


def _people(entry: dict) -> tuple[tuple[Person, ...], tuple[Person, ...]]:
    people = _unique(_person(u) for u in entry.get("users") or ())
    contributors = tuple(p for p in people if p.role and _CONTRIBUTOR_ROLE.search(p.role))
    return tuple(p for p in people if p not in contributors), contributors


def _measured(entry: dict, photon: bool) -> Iterator[Parameter]:
    quantities = entry.get("quantities") or {}
    for key, name in _QUANTITIES:
        q = quantities.get(key) or {}
        value = _number(q.get("value"))
        if value is not None:
            name = "incident_photon_energy" if photon and name == "incident_energy" else name
            yield Parameter(name=name, value=value, unit=_unit(q.get("units")))
    for motor, q in (entry.get("positioners") or {}).items():
        value = _number((q or {}).get("value"))
        if value is not None and text(motor):
            yield Parameter(name=f"positioner_{motor}", value=value, unit=_unit(q.get("units")))


def _described(entry: dict) -> Iterator[Parameter]:
    source, file = entry.get("source") or {}, entry.get("file") or {}
    for name, value in (("source_name", source.get("name")), ("source_type", source.get("type")),
                        ("program_name", entry.get("program_name") or file.get("creator")),
                        ("run_cycle", entry.get("run_cycle"))):
        if text(value):
            yield Parameter(name=name, value=scrub(text(value)))


def _parameters(entry: dict, probe: str | None) -> tuple[Parameter, ...]:
    """Beam, sample and source quantities, positioner snapshots, then descriptive strings;
    the first parameter of each name wins."""
    photon = probe_kind(probe) in ("xray", "photon")
    params: dict[str, Parameter] = {}
    for param in (*_measured(entry, photon), *_described(entry)):
        params.setdefault(param.name, param)
    return tuple(params.values())


def _proposal(entry: dict, relpath: str) -> str | None:
    """experiment_identifier, proposal, a subentry's or an NXuser's proposal number, else the
    proposal folder of the ESRF directory policy (visitor/<proposal>/, <bl>/inhouse/<proposal>/)."""
    users = [u.get("proposal_number") for u in entry.get("users") or ()]
    in_path = _PROPOSAL_DIR.search(relpath)
    return _first(entry.get("experiment_identifier"), entry.get("proposal"),
                  *_subs(entry, "experiment_identifier"), *users,
                  in_path and (in_path.group(1) or in_path.group(2)))


def _identifiers(entry: dict, relpath: str) -> tuple[tuple[Identifier, ...], tuple[Related, ...]]:
    proposal = _proposal(entry, relpath)
    ids = [Identifier(type=kind, value=value) for kind, value in (
        ("proposal", proposal), ("collection", text(entry.get("collection_identifier"))),
        ("entry", text(entry.get("entry_identifier")))) if value]
    related = (Related(relation="IsPartOf", identifier=proposal, identifier_type="Local"),)
    return tuple(ids), related if proposal else ()


def _release(entry: dict, ctx: NexusContext, *bases: datetime | None) -> datetime | None:
    """The file's release date, else the first known base time + the context's embargo."""
    release = parse_time(entry.get("release_date"), ctx.tz)
    base = next((b for b in bases if b is not None), None)
    if release is None and ctx.embargo_days is not None and base is not None:
        release = base.astimezone(timezone.utc) + timedelta(days=ctx.embargo_days)
    return release


def _dates(entry: dict, ctx: NexusContext) -> Dates:
    file, tz = entry.get("file") or {}, ctx.tz
    start = parse_time(_first(entry.get("start_time"), *_subs(entry, "start_time")), tz)
    end = parse_time(_first(entry.get("end_time"), *_subs(entry, "end_time")), tz)
    if start and end and end < start:
        end = None
    created = parse_time(file.get("file_time"), tz)
    release = _release(entry, ctx, end, start, created, parse_time(file.get("mtime"), tz))
    return Dates(collected_start=start, collected_end=end, created=created,
                 modified=parse_time(file.get("file_update_time"), tz), release_date=release)


_UNSAFE = re.compile(r"[^A-Za-z0-9/._-]+")


def record_id(source: str, relpath: str, entry_name: str) -> str:
    """`<source>:dataset:<relpath>/<entry>` with every byte outside [A-Za-z0-9/._-] written
    as ~XX (UTF-8, upper-case hex; '~' itself too). Injective, stable, and usable verbatim
    in a URL path: no '%', so nothing is decoded on the way in."""
    escaped = _UNSAFE.sub(lambda m: "".join(f"~{b:02X}" for b in m.group().encode()),
                          f"{relpath}/{entry_name}")
    return f"{source}:dataset:{escaped}"


def entry_to_record(entry: dict, relpath: str, ctx: NexusContext) -> Record:
    """The hashed dataset record of one NXentry (see the module doc for `entry`).

    `relpath` is the file's POSIX path relative to the harvested root. Raises KeyError without
    entry["name"]. Values that would be invalid (ORCID, ROR, e-mail-like names) are dropped
    here; the harvest runner validates every record before it is stored.
    """
    name, file = entry["name"], entry.get("file") or {}
    probe = _probe(entry, ctx)
    creators, contributors = _people(entry)
    identifiers, related = _identifiers(entry, relpath)
    url = text(file.get("url"))
    definitions = [entry.get("definition"), *_subs(entry, "definition")]
    record = Record(
        id=record_id(ctx.source, relpath, name), kind="dataset", title=_title(entry, relpath),
        provenance=Provenance(source=ctx.source, native_id=f"{relpath}#{name}",
                              source_url=f"{url}#{quote(name, safe='')}" if url else None,
                              harvested_at=ctx.harvested_at),
        description=scrub(_first(entry.get("experiment_description"))),
        keywords=_unique(scrub(text(d)) for d in definitions), creators=creators, contributors=contributors,
        facility=_facility(entry, ctx), instrument=_instrument(entry),
        techniques=_techniques(entry, probe), samples=_sample(entry),
        parameters=_parameters(entry, probe), dates=_dates(entry, ctx), license=ctx.license,
        files=Files(count=1, size=file.get("size"), formats=(HDF5_MEDIA_TYPE,)),
        identifiers=identifiers, related=related,
    )
    return with_hash(record)


__all__ = ["MAPPING_VERSION", "NexusContext", "entry_to_record", "normalise_orcid", "parse_time",
           "record_id", "text"]
