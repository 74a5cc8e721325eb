"""PaNOSC Search API JSON (../shared/reference/panosc-search-api.md section 1): a dataset
record as a `Dataset`, a document record (proposal, experiment session) as a `Document`.

The helpers (`dataset`, `document`, `instrument`, `technique`, `person`, ...) are what the
PaNOSC API endpoints (issue #6) assemble their answers from; `render` is the registered
format. `isPublic` comes from `mappings.rights`, so it turns true exactly at the release
date. Nothing here can hold an e-mail address (the record has none).

Identifiers: `pid` is the DOI (bare, as ESRF's PaNOSC provider writes it), else the record's
own PID, else the gateway's record id. Things without a PID of their own (samples,
parameters, members, people without ORCID) get local ids derived from the record id and
their position, stable as long as the record is; `id`s use only `0-9A-Za-z_.~-` as the
API's models require. No `score` (the search adds it) and no `files` (records carry file
totals, not file lists).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .record import Affiliation, Instrument, Parameter, Person, Record, Sample, Technique, iso
from .render import Context, Format
from .rights import access_rights, doi, license_of, orcid_id, ror_id

DOCUMENT_TYPE = "proposal"  # our documents are proposals / experiment sessions
FORMULA_PARAMETER = "sample_chemical_formula"
_NOT_ID = re.compile(r"[^0-9A-Za-z_.-]")


def local_id(record: Record, *parts: object) -> str:
    """An id in the API's id alphabet, unique per record and part (`~hh` escapes)."""
    base = _NOT_ID.sub(lambda m: "".join(f"~{b:02x}" for b in m[0].encode()), record.id)
    return ".".join([base, *map(str, parts)])


def pid(record: Record) -> str:
    """The DOI (bare), else the record's PID, else the gateway's record id."""
    return doi(record) or record.pid or record.id


def technique(t: Technique) -> dict[str, Any]:
    """`panetId` is the PaNET purl, as the reference implementation names it."""
    return {"pid": t.iri, "name": t.label, "panetId": t.iri}


def instrument(record: Record) -> dict[str, Any] | None:
    """The record's instrument; without a PID, `<source>:instrument:<name>` (the same for
    every record of that source, so /Instruments can list it once). `facility` is the
    facility's name, else the source's."""
    inst: Instrument | None = record.instrument
    if inst is None:
        return None
    facility = record.facility.name if record.facility else record.source
    return {"pid": inst.pid or f"{record.source}:instrument:{inst.name}", "name": inst.name,
            "facility": facility}


def parameter(p: Parameter, ident: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ident, "name": p.name, "value": p.value}
    return out | {"unit": p.unit} if p.unit else out


def parameters(record: Record) -> list[dict[str, Any]]:
    """The record's parameters, then each sample's chemical formula as the parameter
    `sample_chemical_formula` (the name the PaNOSC portal's formula filter queries)."""
    items = list(record.parameters) + [
        Parameter(FORMULA_PARAMETER, s.chemical_formula) for s in record.samples
        if s.chemical_formula]
    return [parameter(p, local_id(record, "parameter", n)) for n, p in enumerate(items, 1)]


def sample(s: Sample, ident: str) -> dict[str, Any]:
    out: dict[str, Any] = {"pid": ident, "name": s.name}
    return out | {"description": s.description} if s.description else out


def person(p: Person, fallback_id: str) -> dict[str, Any]:
    """A Person: `id` is the bare ORCID iD when known (the same person everywhere), else
    `fallback_id`; name parts when known. No contact data."""
    out: dict[str, Any] = {"id": orcid_id(p) or fallback_id, "fullName": p.name}
    if p.orcid:
        out["orcid"] = orcid_id(p)
    if p.given_name:
        out["firstName"] = p.given_name
    if p.family_name:
        out["lastName"] = p.family_name
    return out


def affiliation(a: Affiliation, fallback_id: str) -> dict[str, Any]:
    return {"id": ror_id(a.ror) or fallback_id, "name": a.name}


def member(record: Record, p: Person, n: int, default_role: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": local_id(record, "member", n), "role": p.role or default_role,
                           "person": person(p, local_id(record, "person", n))}
    if p.affiliation:
        out["affiliation"] = affiliation(p.affiliation, local_id(record, "affiliation", n))
    return out


def members(record: Record) -> list[dict[str, Any]]:
    """Creators (role "creator" unless the source named one), then contributors."""
    people = [(p, "creator") for p in record.creators] + \
             [(p, "contributor") for p in record.contributors]
    return [member(record, p, n, role) for n, (p, role) in enumerate(people, 1)]


def creation_date(record: Record, context: Context) -> str:
    """When the data came into being: created, else collected, else modified, else the
    release; failing all, when the gateway published this version (its datestamp, not the
    harvest time, which moves on every harvest), and only then the clock
    (Dataset.creationDate is mandatory)."""
    d = record.dates
    for when in (d.created, d.collected_start, d.collected_end, d.modified, d.release_date,
                 record.datestamp, context.now):
        if when is not None:
            return iso(when)  # type: ignore[return-value]
    raise AssertionError("unreachable: context.now is set")


def dataset(record: Record, context: Context) -> dict[str, Any]:
    """A PaNOSC `Dataset` with its techniques, instrument, parameters and samples."""
    out: dict[str, Any] = {
        "pid": pid(record), "title": record.title,
        "isPublic": access_rights(record, context.now).is_open,
        "creationDate": creation_date(record, context),
    }
    if record.files and record.files.size is not None:
        out["size"] = record.files.size
    out["techniques"] = [technique(t) for t in record.techniques]
    inst = instrument(record)
    if inst:
        out["instrument"] = inst
    out["parameters"] = parameters(record)
    out["samples"] = [sample(s, local_id(record, "sample", n))
                      for n, s in enumerate(record.samples, 1)]
    return out


def document(record: Record, context: Context,
             datasets: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """A PaNOSC `Document` (type "proposal"); `datasets` are the already built Dataset dicts
    the caller found for it (a record does not list its datasets)."""
    d = record.dates
    out: dict[str, Any] = {
        "pid": pid(record), "isPublic": access_rights(record, context.now).is_open,
        "type": DOCUMENT_TYPE, "title": record.title,
    }
    optional = {
        "summary": record.description or None, "doi": doi(record),
        "startDate": iso(d.collected_start), "endDate": iso(d.collected_end),
        "releaseDate": iso(d.release_date),
    }
    out |= {k: v for k, v in optional.items() if v is not None}
    out |= {"license": license_of(record).spdx, "keywords": list(record.keywords),
            "members": members(record), "datasets": list(datasets),
            "parameters": parameters(record)}
    return out


def build(record: Record, context: Context) -> dict[str, Any]:
    return dataset(record, context) if record.kind == "dataset" else document(record, context)


def render(record: Record, context: Context) -> str:
    return json.dumps(build(record, context), ensure_ascii=False, indent=2)


FORMATS = (
    Format("panosc", "PaNOSC Search API Dataset / Document (JSON)", "application/json", "json",
           render),
)
