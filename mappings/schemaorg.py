"""schema.org `Dataset` JSON-LD, the form Google Dataset Search reads (crosswalk sections 2,
5 and 8; decisions in docs/formats.md, "schema.org").

`dataset(record, context)` builds the JSON-LD dict, `render` writes it. The context is the
string "https://schema.org/" (what Google reads); every value that is a link is an absolute
IRI. Access follows `mappings.rights`: while a record is embargoed there is no
`distribution` (nothing downloadable) and `conditionsOfAccess` names the COAR "embargoed
access" IRI and the release date.
"""
from __future__ import annotations

import json
from typing import Any

from .derived import description, is_iri, pid_url, related_url, temporal_coverage
from .record import (Affiliation, Facility, Funding, Parameter, Person, Record, Sample,
                     Technique, iso)
from .render import Context, Format
from .rights import access_rights, day, doi, doi_url, embargo_end, issued, license_of

CONTEXT = "https://schema.org/"
DOI_REGISTRY = "https://registry.identifiers.org/registry/doi"
PANET_SET = "http://purl.org/pan-science/PaNET/PaNET.owl"
LANGUAGE = "en"

# DataCite relationType -> schema.org property; other relations are left out.
RELATIONS = {
    "IsPartOf": "isPartOf", "HasPart": "hasPart", "IsDerivedFrom": "isBasedOn",
    "IsCitedBy": "citation", "IsReferencedBy": "citation", "IsDocumentedBy": "citation",
    "IsDescribedBy": "citation", "IsSupplementTo": "citation",
}

# Units as the sources write them -> UN/CEFACT common codes (schema.org `unitCode`).
UNIT_CODES = {
    "K": "KEL", "kelvin": "KEL", "degC": "CEL", "°C": "CEL", "celsius": "CEL",
    "m": "MTR", "mm": "MMT", "nm": "C45", "Å": "A11", "angstrom": "A11",
    "s": "SEC", "Hz": "HTZ", "Pa": "PAL", "bar": "BAR", "T": "D33",
    "eV": "A53", "keV": "B29", "deg": "DD", "rad": "C81",
}


def identifier(value: str, property_id: str, url: str | None = None) -> dict[str, Any]:
    out = {"@type": "PropertyValue", "propertyID": property_id, "value": value}
    return out | {"url": url} if url else out


def identifiers(record: Record) -> list[dict[str, Any]]:
    """The DOI (`doi:` form, with its resolver URL), then the alternate identifiers."""
    bare = doi(record)
    out = [identifier(f"doi:{bare}", DOI_REGISTRY, doi_url(bare))] if bare else []
    if record.pid and not bare:
        out.append(identifier(record.pid, "PID", pid_url(record.pid)))
    fac = f"{record.facility.name} " if record.facility else ""
    out += [identifier(i.value, f"{fac}{i.type}") for i in record.identifiers]
    return out


def organization(name: str, ror: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "Organization"}
    if ror:
        out["@id"] = ror
    return out | {"name": name}


def affiliation(aff: Affiliation) -> dict[str, Any]:
    return organization(aff.name, aff.ror)


def person(p: Person) -> dict[str, Any]:
    """A Person with its ORCID as `@id`; no role, no contact data."""
    out: dict[str, Any] = {"@type": "Person"}
    if p.orcid:
        out["@id"] = p.orcid
    out["name"] = p.name
    if p.given_name:
        out["givenName"] = p.given_name
    if p.family_name:
        out["familyName"] = p.family_name
    if p.affiliation:
        out["affiliation"] = affiliation(p.affiliation)
    return out


def facility(fac: Facility) -> dict[str, Any]:
    return organization(fac.name, fac.ror)


def technique(t: Technique) -> dict[str, Any]:
    return {"@type": "DefinedTerm", "name": t.label, "termCode": t.iri.rsplit("/", 1)[-1],
            "inDefinedTermSet": PANET_SET, "url": t.iri}


def variable(p: Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "PropertyValue", "name": p.name, "value": p.value}
    if p.unit:
        out["unitText"] = p.unit
        code = UNIT_CODES.get(p.unit)
        if code:
            out["unitCode"] = code
    return out


def sample(s: Sample) -> dict[str, Any]:
    """A sample as what the dataset is `about`: a ChemicalSubstance when its formula is known."""
    out: dict[str, Any] = {"@type": "ChemicalSubstance" if s.chemical_formula else "Thing",
                           "name": s.name}
    if s.chemical_formula:
        out["chemicalComposition"] = s.chemical_formula
    if s.description:
        out["description"] = s.description
    return out


def grant(f: Funding) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "Grant"}
    if f.award_number:
        out["identifier"] = f.award_number
    if is_iri(f.award_uri):
        out["url"] = f.award_uri
    return out | {"funder": funder(f)}


def funder(f: Funding) -> dict[str, Any]:
    ident = pid_url(f.funder_identifier)
    out = organization(f.funder_name, ident)
    if f.funder_identifier and not ident:
        out["identifier"] = f.funder_identifier
    return out


def keywords(record: Record) -> list[Any]:
    """The record's keywords, then the instrument as a DefinedTerm (schema.org has no
    `instrument` property for a Dataset)."""
    out: list[Any] = list(dict.fromkeys(record.keywords))
    inst = record.instrument
    if inst:
        term: dict[str, Any] = {"@type": "DefinedTerm", "name": inst.name,
                                "description": "instrument"}
        url = pid_url(inst.pid)
        out.append(term | {"url": url} if url else term)
    return out


def conditions_of_access(record: Record, context: Context) -> str:
    """Access in words, with the COAR IRI (and info:eu-repo term) F-UJI and others recognise."""
    acc = access_rights(record, context.now)
    if acc.is_open:
        return f"Open access ({acc.coar}). Licence: {license_of(record).spdx}."
    until = day(embargo_end(record))  # type: ignore[arg-type]  # embargoed: has a release
    return (f"Embargoed access until {until} ({acc.coar}; {acc.eurepo}): the data are "
            f"reserved to the experimental team and released on {until} under "
            f"{license_of(record).spdx}.")


def distribution(record: Record, context: Context) -> list[dict[str, Any]]:
    """One DataDownload for the files' access URL, only while the data is open."""
    files = record.files
    if not files or not is_iri(files.access_url) or not access_rights(record, context.now).is_open:
        return []
    out: dict[str, Any] = {"@type": "DataDownload", "contentUrl": files.access_url}
    if files.formats:
        out["encodingFormat"] = list(files.formats) if len(files.formats) > 1 else files.formats[0]
    if files.size is not None:
        out["contentSize"] = f"{files.size} B"
    return [out]


def relations(record: Record) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for rel in record.related:
        prop, url = RELATIONS.get(rel.relation), related_url(rel)
        if prop and url:
            value = {"@type": "CreativeWork", "@id": url, "url": url} if prop == "hasPart" else url
            out.setdefault(prop, []).append(value)
    return out


def dataset(record: Record, context: Context) -> dict[str, Any]:
    """The schema.org Dataset of a record, as a JSON-LD dict (documents too: an experiment
    session is published as a Dataset, its `@id` the session DOI)."""
    bare = doi(record)
    landing = context.landing_url(record)
    data: dict[str, Any] = {"@context": CONTEXT, "@type": "Dataset",
                            "@id": doi_url(bare) if bare else landing}
    ids = identifiers(record)
    data |= {"identifier": ids} if ids else {}
    data |= {"name": record.title, "description": description(record, context), "url": landing,
             "license": license_of(record).spdx_url, "inLanguage": LANGUAGE}
    optional: dict[str, Any] = {
        "creator": [person(p) for p in record.creators],
        "contributor": [person(p) for p in record.contributors],
        "publisher": facility(record.facility) if record.facility else None,
        "provider": facility(record.facility) if record.facility else None,
        "includedInDataCatalog": {"@type": "DataCatalog", "name": context.catalog_name,
                                  "url": context.catalog_url},
        "datePublished": issued(record, context.now),
        "dateCreated": iso(record.dates.created),
        "dateModified": iso(record.dates.modified),
        "temporalCoverage": temporal_coverage(record),
        "measurementTechnique": [technique(t) for t in record.techniques],
        "variableMeasured": [variable(p) for p in record.parameters],
        "about": [sample(s) for s in record.samples],
        "keywords": keywords(record),
        "isAccessibleForFree": True,
        "conditionsOfAccess": conditions_of_access(record, context),
        "distribution": distribution(record, context),
        "funding": [grant(f) for f in record.funding],
        "funder": _unique([funder(f) for f in record.funding]),
        **relations(record),
    }
    data |= {k: v for k, v in optional.items() if v is not None and v != []}
    return data


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def render(record: Record, context: Context) -> str:
    """UTF-8 JSON text; `</` is written `<\\/` so the text can sit in an HTML `<script>`."""
    text = json.dumps(dataset(record, context), ensure_ascii=False, indent=2)
    return text.replace("</", "<\\/")


FORMATS = (
    Format("schemaorg", "schema.org Dataset (JSON-LD)", "application/ld+json", "jsonld",
           render, profile="https://schema.org/"),
)
