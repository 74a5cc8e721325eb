"""The canonical record: one shape for every source and every output format.

Plain frozen dataclasses, no I/O. A `Record` has no field that can hold an e-mail
address, a login name or a telephone number: personal data is limited by construction
to what a citation needs (name, ORCID, affiliation with ROR, role).

`to_dict` / `from_dict` convert to and from plain JSON-able dicts (datetimes as ISO 8601
strings in UTC); they trust their input. Untrusted input goes through
`mappings.validation.validate` first.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, Callable, Literal, get_args

Kind = Literal["document", "dataset"]
KINDS: tuple[str, ...] = get_args(Kind)


@dataclass(frozen=True, slots=True)
class Affiliation:
    name: str
    ror: str | None = None  # https://ror.org/0xxxxxxxx


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    given_name: str | None = None
    family_name: str | None = None
    orcid: str | None = None  # https://orcid.org/0000-0000-0000-0000
    affiliation: Affiliation | None = None
    role: str | None = None  # e.g. "principal investigator", "local contact", "user"


@dataclass(frozen=True, slots=True)
class Facility:
    name: str
    ror: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str
    pid: str | None = None


@dataclass(frozen=True, slots=True)
class Technique:
    iri: str  # PaNET IRI, http://purl.org/pan-science/PaNET/PaNETnnnnn
    label: str


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    chemical_formula: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: float | str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Dates:
    collected_start: datetime | None = None
    collected_end: datetime | None = None
    created: datetime | None = None
    modified: datetime | None = None
    release_date: datetime | None = None  # embargo end; None = public from the start


@dataclass(frozen=True, slots=True)
class Files:
    count: int = 0
    size: int | None = None  # bytes
    formats: tuple[str, ...] = ()
    access_url: str | None = None


@dataclass(frozen=True, slots=True)
class Identifier:
    """An alternate identifier: proposal number, visit id, file path, ..."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Related:
    relation: str  # DataCite relationType, e.g. "IsPartOf", "IsCitedBy"
    identifier: str
    identifier_type: str  # DataCite relatedIdentifierType, e.g. "DOI", "URL", "Local"


@dataclass(frozen=True, slots=True)
class Funding:
    funder_name: str
    funder_identifier: str | None = None
    award_number: str | None = None
    award_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    native_id: str
    source_url: str | None = None
    harvested_at: datetime | None = None
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    id: str  # "<source>:<kind>:<native id>", URL-safe
    kind: Kind
    title: str
    provenance: Provenance
    pid: str | None = None  # DOI (bare, "10.x/y") or handle
    description: str | None = None
    keywords: tuple[str, ...] = ()
    creators: tuple[Person, ...] = ()
    contributors: tuple[Person, ...] = ()
    facility: Facility | None = None
    instrument: Instrument | None = None
    techniques: tuple[Technique, ...] = ()
    samples: tuple[Sample, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    dates: Dates = field(default_factory=Dates)
    license: str | None = None  # SPDX identifier
    files: Files | None = None
    identifiers: tuple[Identifier, ...] = ()
    related: tuple[Related, ...] = ()
    funding: tuple[Funding, ...] = ()
    datestamp: datetime | None = None  # set by the store: when a public rendering last changed
    deleted: bool = False
    deleted_at: datetime | None = None

    @property
    def source(self) -> str:
        return self.provenance.source


# --- conversion to and from plain dicts -----------------------------------------------

def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a 'Z', seconds precision (naive datetimes are taken as UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    elif dt.tzinfo is not timezone.utc:
        dt = dt.astimezone(timezone.utc)
    if dt.year < 1000:  # strftime does not pad such years: keep its exact output
        return dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (dt.year, dt.month, dt.day, dt.hour, dt.minute,
                                               dt.second)


def parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_PLAIN = frozenset({str, int, float, bool, type(None)})  # dumped as they are
_DUMPERS: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _dumper(cls: type) -> Callable[[Any], dict[str, Any]]:
    """The dump of one instance of dataclass `cls`: a function written once per class, as
    `dataclasses` writes `__init__`, with one dict display (no loop, no `fields()` per call).
    Values of a `_PLAIN` type are taken as they are, the others go through `_dump`."""
    names = [f.name for f in fields(cls)]
    reads = "".join(f"    v{i} = o.{name}\n" for i, name in enumerate(names))
    items = ", ".join(f"{name!r}: v{i} if type(v{i}) in P else D(v{i})"
                      for i, name in enumerate(names))
    namespace: dict[str, Any] = {"P": _PLAIN, "D": _dump}
    exec(f"def dump(o):\n{reads}    return {{{items}}}\n", namespace)  # noqa: S102
    dump = _DUMPERS[cls] = namespace["dump"]
    return dump


def _dump(value: Any) -> Any:
    """dataclass -> dict, tuple -> list, datetime -> `iso`, anything else as it is.

    This runs twice per harvested record (content hash, store), so the common cases come
    first and each dataclass has its own `_dumper`."""
    cls = type(value)
    dump = _DUMPERS.get(cls)
    if dump is not None:
        return dump(value)
    if cls in _PLAIN:
        return value
    if cls is tuple:
        return [v if type(v) in _PLAIN else _dump(v) for v in value]
    if cls is datetime:
        return iso(value)
    if dataclasses.is_dataclass(value):
        if isinstance(value, type):  # a dataclass itself, not an instance
            return {f.name: _dump(getattr(value, f.name)) for f in fields(value)}
        return _dumper(cls)(value)
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return iso(value) if isinstance(value, datetime) else value


def to_dict(record: Record) -> dict[str, Any]:
    """The record as a JSON-able dict; every field present (None / [] when empty)."""
    return _dump(record)


_NESTED = {
    "creators": Person, "contributors": Person, "techniques": Technique,
    "samples": Sample, "parameters": Parameter, "identifiers": Identifier,
    "related": Related, "funding": Funding,
}


def _person(d: dict) -> Person:
    aff = d.get("affiliation")
    return Person(**{**d, "affiliation": Affiliation(**aff) if aff else None})


def _dates(d: dict | None) -> Dates:
    return Dates(**{k: parse_iso(v) for k, v in (d or {}).items()})


def _prov(d: dict) -> Provenance:
    return Provenance(**{**d, "harvested_at": parse_iso(d.get("harvested_at"))})


def _files(d: dict | None) -> Files | None:
    return None if d is None else Files(**{**d, "formats": tuple(d.get("formats") or ())})


def from_dict(d: dict[str, Any]) -> Record:
    """Inverse of `to_dict`. Trusts its input: validate untrusted dicts first."""
    kw = dict(d)
    for name, cls in _NESTED.items():
        items = kw.get(name)
        kw[name] = (() if not items else tuple([_person(i) for i in items]) if cls is Person
                    else tuple([cls(**i) for i in items]))
    kw["keywords"] = tuple(kw.get("keywords") or ())
    kw["provenance"] = _prov(kw["provenance"])
    kw["dates"] = _dates(kw.get("dates"))
    kw["files"] = _files(kw.get("files"))
    kw["facility"] = Facility(**kw["facility"]) if kw.get("facility") else None
    kw["instrument"] = Instrument(**kw["instrument"]) if kw.get("instrument") else None
    for name in ("datestamp", "deleted_at"):
        kw[name] = parse_iso(kw.get(name))
    return Record(**kw)


# --- content hash and tombstones ---------------------------------------------------------

_VOLATILE = ("datestamp", "deleted", "deleted_at")
# json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":")), built once
_HASH_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(record: Record) -> str:
    """SHA-256 over the record's content, ignoring when it was harvested or stamped.

    Two harvests of unchanged source data give the same hash; any change to a field that a
    rendering could show gives a different one.
    """
    return _dict_hash(to_dict(record))


def _dict_hash(d: dict[str, Any]) -> str:
    """`content_hash` of the record whose `to_dict` is `d` (which is left unchanged)."""
    body = {k: v for k, v in d.items() if k not in _VOLATILE}
    body["provenance"] = {k: v for k, v in d["provenance"].items()
                          if k not in ("harvested_at", "content_hash")}
    return hashlib.sha256(_HASH_JSON.encode(body).encode()).hexdigest()


def with_hash(record: Record) -> Record:
    return replace(record, provenance=replace(record.provenance, content_hash=content_hash(record)))


def tombstone(record: Record, at: datetime) -> Record:
    """The deleted form of a record: what OAI-PMH deleted headers and sets still need.

    People, description, samples and parameters are dropped, so a deletion is also an erasure.
    """
    return replace(
        record, deleted=True, deleted_at=at, datestamp=at, description=None,
        creators=(), contributors=(), samples=(), parameters=(), keywords=(), files=None,
    )

