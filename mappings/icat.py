"""ICAT entities -> canonical records. Pure: the harvester fetches, this maps.

Input is the JSON ICAT's REST API returns for one entity, unwrapped from its `{"Dataset": {...}}`
envelope, with these relations INCLUDEd (anything missing counts as empty):

    Investigation  facility, investigationUsers.user, keywords, parameters.type,
                   investigationInstruments.instrument, fundingReferences.funding, publications,
                   samples.type
    Dataset        type, sample.type, parameters.type, datasetTechniques.technique,
                   datasetInstruments.instrument, investigation (with facility,
                   investigationInstruments.instrument, investigationUsers.user)

`investigation_to_record` makes a "document", `dataset_to_record` a "dataset"; both raise
`MalformedEntity` (a ValueError naming the entity and what is wrong) when the JSON does not have
the shape of an ICAT entity: no id, no name or title, a date that is not a date, a count that is
not a number. Poor but well-formed values are dropped instead and the record stays:

- DOIs: `DOI:10.x/y`, `doi:…`, `https://doi.org/…` and bare `10.x/y` become the bare form (the
  record's `pid`). A value that is not a DOI (python-icat's fake `00.0815` prefix) is no pid: it
  is kept as the alternate identifier of type "ICAT DOI", as written.
- People: full name (else given + family name), given and family name, ORCID (normalised to
  https://orcid.org/…, dropped when truncated or its check digit is wrong), affiliation text,
  and the InvestigationUser role. Local contacts and instrument scientists are contributors,
  everyone else a creator. The login (`User.name`) and e-mail are never read; a user with no
  name but a login is left out.
- Release date (embargo end): `Investigation.releaseDate`; when missing, the investigation's
  start date (else end date, else creation time) + `Facility.daysUntilRelease`, else + the
  context's `embargo_days`; else none (public). A dataset has its investigation's release date.
- Record ids are `<source>:document:<ICAT id>` and `<source>:dataset:<ICAT id>`: ICAT ids never
  change, names and visit ids can.
- Free text (titles, summary, description, keywords, string parameter values, sample names) is
  kept with every e-mail address in it replaced by "[e-mail removed]" (`mappings.privacy`).
- Lists (people, keywords, parameters, techniques, ...) are in ICAT id order, so an unchanged
  entity always maps to the same record (same content hash).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from .nexus import normalise_orcid, text
from .privacy import scrub
from .record import (Affiliation, Dates, Facility, Files, Funding, Identifier, Instrument,
                     Parameter, Person, Provenance, Record, Related, Sample, Technique, iso,
                     with_hash)
from .techniques import resolve
from .validation import EMAIL_RE, check_source_context

# Bump when a change here changes the records of unchanged entities: harvesters re-read all.
MAPPING_VERSION = 2  # 2: e-mail addresses scrubbed from free text
MAX_TITLE = 2000

_DOI = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?\s*(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_FUNDER_DOI = re.compile(r"(10\.13039/\S+)$")
_IGSN = re.compile(r"^igsn:\s*(\S+)$", re.IGNORECASE)
_CONTRIBUTOR_ROLE = re.compile(r"local.?contact|beamline|instrument.?scientist|in.?charge",
                               re.IGNORECASE)
_NO_UNIT = frozenset({"", "n/a", "na", "none", "-", "1", "dimensionless"})
_UNKNOWN = frozenset({":unas", ":unav", ":unkn", ":none", ":null", ":tba", ":unac", ":etal"})


class MalformedEntity(ValueError):
    """An entity without the shape ICAT gives it; the message names the entity and the field."""


@dataclass(frozen=True, kw_only=True)
class IcatContext:
    """What ICAT does not say: who harvests, for which facility, under which policy.

    `facility_name` / `facility_ror` win over ICAT's Facility; `embargo_days` applies when neither
    `releaseDate` nor `Facility.daysUntilRelease` is set; `icat_url` is the server's base URL
    (for provenance). ValueError on a bad source name, a naive `harvested_at`, a negative
    embargo, a licence that is not an SPDX id or a ROR that is not a ROR id URL.
    """

    source: str
    harvested_at: datetime
    icat_url: str | None = None
    facility_name: str | None = None
    facility_ror: str | None = None
    license: str | None = "CC-BY-4.0"
    embargo_days: int | None = None

    def __post_init__(self) -> None:
        check_source_context(self.source, self.harvested_at, license=self.license,
                             embargo_days=self.embargo_days, facility_ror=self.facility_ror)


# --- values ----------------------------------------------------------------------------------

def record_id(source: str, kind: str, icat_id: int) -> str:
    """`<source>:<kind>:<ICAT id>`."""
    return f"{source}:{kind}:{icat_id}"


def normalise_doi(value: Any) -> str | None:
    """The bare DOI ("10.1234/abc") in a DOI, `doi:`/`DOI:` CURIE or resolver URL; None when
    the value is not a DOI."""
    s = text(value)
    match = _DOI.match(s) if s else None
    return match.group(1) if match else None


def icat_time(value: Any, where: str = "date") -> datetime | None:
    """An aware UTC datetime from ICAT's `2010-09-30T12:27:24.000+02:00`; None when absent.
    MalformedEntity when present but not a time with a zone."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None:
        raise MalformedEntity(f"{where} {value!r} is not an ICAT time")
    return dt.astimezone(timezone.utc)


def _int(entity: dict, key: str, where: str) -> int | None:
    value = entity.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEntity(f"{where} {key} {value!r} is not a count")
    return value


def _list(entity: dict, key: str) -> list[dict]:
    """A one-to-many relation, in id order (ICAT does not promise one)."""
    items = entity.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedEntity(f"{key} is not a list of entities")
    return sorted(items, key=lambda i: i.get("id") or 0)


def _one(entity: dict, key: str) -> dict:
    value = entity.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEntity(f"{key} is not an entity")
    return value


def _unique(items: Iterable[Any]) -> tuple:
    return tuple(dict.fromkeys(i for i in items if i is not None))


def _entity_id(entity: Any, kind: str) -> int:
    if not isinstance(entity, dict):
        raise MalformedEntity(f"{kind}: not a JSON object")
    icat_id = entity.get("id")
    if isinstance(icat_id, bool) or not isinstance(icat_id, int):
        raise MalformedEntity(f"{kind}: no id")
    return icat_id


# --- parts -----------------------------------------------------------------------------------

def _person(link: dict) -> Person | None:
    user = _one(link, "user")
    given, family = text(user.get("givenName")), text(user.get("familyName"))
    name = text(user.get("fullName")) or " ".join(p for p in (given, family) if p) or None
    if name is None or EMAIL_RE.search(name):
        return None
    given = None if given and EMAIL_RE.search(given) else given
    family = None if family and EMAIL_RE.search(family) else family
    affiliation = text(user.get("affiliation"))
    if affiliation and EMAIL_RE.search(affiliation):
        affiliation = None
    return Person(name=name, given_name=given, family_name=family,
                  orcid=normalise_orcid(user.get("orcidId")), role=text(link.get("role")),
                  affiliation=Affiliation(name=affiliation) if affiliation else None)


def _people(inv: dict) -> tuple[tuple[Person, ...], tuple[Person, ...]]:
    people = _unique(_person(link) for link in _list(inv, "investigationUsers"))
    contributors = tuple(p for p in people if p.role and _CONTRIBUTOR_ROLE.search(p.role))
    return tuple(p for p in people if p not in contributors), contributors


def _facility(inv: dict, ctx: IcatContext) -> Facility | None:
    facility = _one(inv, "facility")
    name = text(ctx.facility_name) or text(facility.get("fullName")) or text(facility.get("name"))
    return Facility(name=name, ror=ctx.facility_ror) if name else None


def _instrument(links: list[dict]) -> Instrument | None:
    """The instrument of the first link (by id) that has one with a name."""
    for link in links:
        inst = _one(link, "instrument")
        name = text(inst.get("name")) or text(inst.get("fullName"))
        if name:
            pid = text(inst.get("pid"))
            doi = normalise_doi(pid)
            return Instrument(name=name, pid=f"https://doi.org/{doi}" if doi else pid)
    return None


def _value(param: dict, where: str) -> float | str | None:
    number = param.get("numericValue")
    if number is not None:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise MalformedEntity(f"{where}: numericValue {number!r} is not a number")
        return float(number) if math.isfinite(number) else None
    string = text(param.get("stringValue"))
    if string is not None:
        return scrub(string)
    return iso(icat_time(param.get("dateTimeValue"), f"{where}: dateTimeValue"))


def _parameters(entity: dict, kind: str) -> tuple[Parameter, ...]:
    out = []
    for param in _list(entity, "parameters"):
        ptype = _one(param, "type")
        name = text(ptype.get("name"))
        value = _value(param, f"{kind} parameter {param.get('id')}")
        if name and value is not None:
            unit = text(ptype.get("units"))
            out.append(Parameter(name=name, value=value,
                                 unit=None if unit is None or unit.lower() in _NO_UNIT else unit))
    return tuple(out)


def _sample(sample: dict) -> tuple[Sample, ...]:
    name = scrub(text(sample.get("name")))
    formula = text(_one(sample, "type").get("molecularFormula"))
    if not (name or formula):
        return ()
    return (Sample(name=name or formula, chemical_formula=formula),)  # type: ignore[arg-type]


def _sample_relation(sample: dict) -> Related | None:
    match = _IGSN.match(text(sample.get("pid")) or "")
    return Related(relation="IsDerivedFrom", identifier=match.group(1),
                   identifier_type="IGSN") if match else None


def _techniques(ds: dict) -> tuple[Technique, ...]:
    found = []
    for link in _list(ds, "datasetTechniques"):
        tech = _one(link, "technique")
        found.append(resolve(text(tech.get("pid"))) or resolve(text(tech.get("name"))))
    return _unique(found)


def _doi(entity: dict) -> tuple[str | None, tuple[Identifier, ...]]:
    """(pid, identifiers): a DOI-looking value that is not a DOI is kept as written."""
    raw = text(entity.get("doi"))
    doi = normalise_doi(raw)
    return doi, (Identifier(type="ICAT DOI", value=raw),) if raw and not doi else ()


def _visit_ids(inv: dict) -> tuple[Identifier, ...]:
    return tuple(Identifier(type=kind, value=value) for kind, value in (
        ("proposal", text(inv.get("name"))), ("visit", text(inv.get("visitId")))) if value)


def _funding(inv: dict) -> tuple[Funding, ...]:
    out = []
    for link in _list(inv, "fundingReferences"):
        ref = _one(link, "funding")
        name = text(ref.get("funderName"))
        if not name:
            continue
        ident = text(ref.get("funderIdentifier"))
        crossref = _FUNDER_DOI.search(ident or "")
        award = text(ref.get("awardNumber"))
        out.append(Funding(funder_name=name,
                           funder_identifier=(f"https://doi.org/{crossref.group(1)}" if crossref
                                              else ident),
                           award_number=None if award is None or award.lower() in _UNKNOWN
                           else award))
    return _unique(out)


def _publications(inv: dict) -> tuple[Related, ...]:
    out = []
    for pub in _list(inv, "publications"):
        doi, url = normalise_doi(pub.get("doi")), text(pub.get("url"))
        if doi:
            out.append(Related(relation="IsReferencedBy", identifier=doi, identifier_type="DOI"))
        elif url and url.startswith(("http://", "https://")):
            out.append(Related(relation="IsReferencedBy", identifier=url, identifier_type="URL"))
    return _unique(out)


def release_date(inv: dict, ctx: IcatContext) -> datetime | None:
    """`releaseDate`, else (start, else end, else creation) + Facility.daysUntilRelease, else +
    the context's embargo_days; None = public from the start."""
    where = f"Investigation {inv.get('id')}"
    release = icat_time(inv.get("releaseDate"), f"{where} releaseDate")
    if release is not None:
        return release
    days = _one(inv, "facility").get("daysUntilRelease")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        days = ctx.embargo_days
    base = next((t for t in (icat_time(inv.get(k), f"{where} {k}")
                             for k in ("startDate", "endDate", "createTime")) if t), None)
    return base + timedelta(days=days) if days is not None and base is not None else None


def _collected(entity: dict, where: str) -> tuple[datetime | None, datetime | None]:
    start = icat_time(entity.get("startDate"), f"{where} startDate")
    end = icat_time(entity.get("endDate"), f"{where} endDate")
    return start, (None if start and end and end < start else end)


def _dates(entity: dict, where: str, inv: dict, ctx: IcatContext) -> Dates:
    """Collection period and create/modify times of `entity`; the release date is always
    its investigation's (`inv`, the entity itself for a document)."""
    start, end = _collected(entity, where)
    return Dates(collected_start=start, collected_end=end,
                 created=icat_time(entity.get("createTime"), "createTime"),
                 modified=icat_time(entity.get("modTime"), "modTime"),
                 release_date=release_date(inv, ctx))


def _files(entity: dict, where: str) -> Files | None:
    count, size = _int(entity, "fileCount", where), _int(entity, "fileSize", where)
    if count is None and size is None:
        return None
    return Files(count=count or 0, size=size)


def _provenance(kind: str, icat_id: int, ctx: IcatContext) -> Provenance:
    url = f"{ctx.icat_url.rstrip('/')}/icat/entityManager?query={kind}&id={icat_id}" \
        if ctx.icat_url else None
    return Provenance(source=ctx.source, native_id=str(icat_id), source_url=url,
                      harvested_at=ctx.harvested_at)


def _guard(kind: str, build: Callable[[dict, IcatContext], Record]
           ) -> Callable[[dict, IcatContext], Record]:
    """Any shape error while mapping `kind` becomes MalformedEntity naming the ICAT id."""
    def mapped(entity: dict, ctx: IcatContext) -> Record:
        icat_id = _entity_id(entity, kind)
        try:
            return build(entity, ctx)
        except MalformedEntity as exc:
            raise MalformedEntity(f"{kind} {icat_id}: {exc}") from None
        except (TypeError, AttributeError, ValueError) as exc:
            raise MalformedEntity(f"{kind} {icat_id}: {type(exc).__name__}: {exc}") from None
    mapped.__doc__, mapped.__name__ = build.__doc__, build.__name__
    return mapped


# --- records ---------------------------------------------------------------------------------

def _investigation(inv: dict, ctx: IcatContext) -> Record:
    """The hashed document record of an Investigation (see the module doc)."""
    icat_id = inv["id"]
    title = scrub(text(inv.get("title")) or text(inv.get("name")))
    if title is None:
        raise MalformedEntity("no title and no name")
    doi, doi_ids = _doi(inv)
    creators, contributors = _people(inv)
    samples = [s for sample in _list(inv, "samples") for s in _sample(sample)]
    record = Record(
        id=record_id(ctx.source, "document", icat_id), kind="document", title=title[:MAX_TITLE],
        provenance=_provenance("Investigation", icat_id, ctx), pid=doi,
        description=scrub(text(inv.get("summary"))),
        keywords=_unique(scrub(text(k.get("name"))) for k in _list(inv, "keywords")),
        creators=creators, contributors=contributors, facility=_facility(inv, ctx),
        instrument=_instrument(_list(inv, "investigationInstruments")),
        samples=_unique(samples), parameters=_parameters(inv, "Investigation"),
        dates=_dates(inv, "Investigation", inv, ctx),
        license=ctx.license, files=_files(inv, "Investigation"),
        identifiers=(*_visit_ids(inv), *doi_ids), related=_publications(inv),
        funding=_funding(inv),
    )
    return with_hash(record)


def _dataset(ds: dict, ctx: IcatContext) -> Record:
    """The hashed dataset record of a Dataset, with its investigation's people, release date,
    proposal and visit ids, and an IsPartOf link to the investigation's record (and DOI)."""
    icat_id, name = ds["id"], scrub(text(ds.get("name")))
    if name is None:
        raise MalformedEntity("no name")
    inv = _one(ds, "investigation")
    if not isinstance(inv.get("id"), int):
        raise MalformedEntity("no investigation")
    doi, doi_ids = _doi(ds)
    inv_doi = normalise_doi(inv.get("doi"))
    creators, contributors = _people(inv)
    sample = _one(ds, "sample")
    related = [Related(relation="IsPartOf", identifier=record_id(ctx.source, "document", inv["id"]),
                       identifier_type="Local"),
               Related(relation="IsPartOf", identifier=inv_doi, identifier_type="DOI")
               if inv_doi else None, _sample_relation(sample)]
    inv_title = scrub(text(inv.get("title")))
    context = scrub(f"Part of investigation {text(inv.get('name')) or inv['id']}" + (
        f": {inv_title}" if inv_title else ""))
    record = Record(
        id=record_id(ctx.source, "dataset", icat_id), kind="dataset", title=name[:MAX_TITLE],
        provenance=_provenance("Dataset", icat_id, ctx), pid=doi,
        description=scrub(text(ds.get("description"))) or context,
        creators=creators, contributors=contributors, facility=_facility(inv, ctx),
        instrument=(_instrument(_list(ds, "datasetInstruments"))
                    or _instrument(_list(inv, "investigationInstruments"))),
        techniques=_techniques(ds), samples=_sample(sample),
        parameters=_parameters(ds, "Dataset"),
        dates=_dates(ds, "Dataset", inv, ctx),
        license=ctx.license, files=_files(ds, "Dataset"),
        identifiers=(*_visit_ids(inv), *doi_ids), related=_unique(related),
    )
    return with_hash(record)


investigation_to_record = _guard("Investigation", _investigation)
dataset_to_record = _guard("Dataset", _dataset)

__all__ = ["MAPPING_VERSION", "IcatContext", "MalformedEntity", "dataset_to_record",
           "icat_time", "investigation_to_record", "normalise_doi", "record_id", "release_date"]
