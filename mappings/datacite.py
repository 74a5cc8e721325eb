"""DataCite Metadata Schema 4.5: kernel-4 XML, DataCite JSON and the OAI DataCite wrapper.

All three come from one intermediate structure, the DataCite JSON dict in the shape of the
DataCite REST API that `build` returns: the XML is written from that dict, never from the
record, so the JSON and the XML cannot drift apart (tests/test_render_datacite_json.py
checks that the `datacite` package's XML rendering of our JSON equals our XML).

The XML writer is `mappings.datacite_xml`. The one thing the JSON cannot carry is a primary
identifier that is not a DOI: kernel-4 XML requires `<identifier>`, DataCite JSON has only
`doi`. `primary_identifier` decides it (see docs/formats.md, "DataCite"). The crosswalk is
../shared/reference/crosswalk.md sections 2-5.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from lxml import etree

from .datacite_xml import KERNEL, KERNEL_XSD, Ident, resource
from .record import Files, Person, Record
from .render import Context, Format, OAIFormat
from .rights import (COAR, access_rights, day, doi, embargo_end, embargo_start, family_given,
                     issued, license_of, normalise_doi, publication_year)
from .xmlutil import clean, root, serialize, sub

SCHEMA_VERSION = "4.5"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
OAI_DATACITE_XSD = "http://schema.datacite.org/oai/oai-1.1/oai.xsd"

UNKNOWN = ":unav"  # DataCite's "value unavailable" for mandatory properties
LANGUAGE = "en"
ORCID_SCHEME = "https://orcid.org"
ROR_SCHEME = "https://ror.org"            # affiliations, as DataCite's 4.5 examples
ROR_PUBLISHER_SCHEME = "https://ror.org/"  # publisher, as DataCite's 4.5 examples
PANET_SCHEME = "http://purl.org/pan-science/PaNET/"
SPDX_SCHEME = "https://spdx.org/licenses/"

RELATION_TYPES = frozenset(
    "IsCitedBy Cites IsSupplementTo IsSupplementedBy IsContinuedBy Continues IsNewVersionOf "
    "IsPreviousVersionOf IsPartOf HasPart IsPublishedIn IsReferencedBy References "
    "IsDocumentedBy Documents IsCompiledBy Compiles IsVariantFormOf IsOriginalFormOf "
    "IsIdenticalTo HasMetadata IsMetadataFor Reviews IsReviewedBy IsDerivedFrom IsSourceOf "
    "Describes IsDescribedBy HasVersion IsVersionOf Requires IsRequiredBy Obsoletes "
    "IsObsoletedBy Collects IsCollectedBy".split())
RELATED_ID_TYPES = {t.lower(): t for t in (
    "ARK arXiv bibcode DOI EAN13 EISSN Handle IGSN ISBN ISSN ISTC LISSN LSID PMID PURL UPC "
    "URL URN w3id".split())}

# Person.role (free text from the sources) -> DataCite contributorType
CONTRIBUTOR_TYPES = {
    "local contact": "ContactPerson", "contact": "ContactPerson",
    "contact person": "ContactPerson", "principal investigator": "ProjectLeader",
    "pi": "ProjectLeader", "co-investigator": "ProjectMember", "user": "ProjectMember",
    "experimenter": "DataCollector", "instrument scientist": "DataCollector",
    "beamline scientist": "DataCollector", "data manager": "DataManager",
    "data curator": "DataCurator", "supervisor": "Supervisor", "researcher": "Researcher",
}

HANDLE_RE = re.compile(r"^\d+(\.[A-Za-z0-9-]+)*/\S+$")  # 21.T11148/abc
_HANDLE_PREFIXES = ("https://hdl.handle.net/", "http://hdl.handle.net/", "hdl:")


# --- identifiers ------------------------------------------------------------------------------

def handle(value: str | None) -> str | None:
    """A handle in bare form (`21.T11148/abc`), or None when `value` is not one."""
    if not value:
        return None
    text = value.strip()
    for prefix in _HANDLE_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return text if HANDLE_RE.match(text) else None


def primary_identifier(record: Record, context: Context) -> Ident:
    """The kernel's mandatory `<identifier>`: the DOI (bare); else a handle PID; else the
    gateway's landing page as `URL` (honest: it is the only identifier the record has)."""
    bare = doi(record)
    if bare:
        return Ident("DOI", bare)
    hdl = handle(record.pid)
    if hdl:
        return Ident("Handle", hdl)
    return Ident("URL", context.landing_url(record))


def pid_ident(value: str) -> Ident | None:
    """Classify a PID found in a record (an instrument PID, ...) as DOI, Handle or URL."""
    bare = normalise_doi(value)
    if bare:
        return Ident("DOI", bare)
    if value.startswith(("https://", "http://")):
        return Ident("URL", value)
    hdl = handle(value)
    return Ident("Handle", hdl) if hdl else None


def funder_identifier(value: str) -> Ident:
    """funderIdentifierType from the value's form: ROR, Crossref Funder ID (a DOI under
    10.13039, written as its resolver URL), ISNI, GRID, else Other."""
    text = value.strip()
    if text.startswith(("https://ror.org/", "http://ror.org/")):
        return Ident("ROR", text)
    bare = normalise_doi(text)
    if bare and bare.startswith("10.13039/"):
        return Ident("Crossref Funder ID", f"https://doi.org/{bare}")
    if "isni.org" in text or re.fullmatch(r"\d{4} ?\d{4} ?\d{4} ?\d{3}[\dX]", text):
        return Ident("ISNI", text)
    if text.startswith(("grid.", "https://www.grid.ac/", "https://grid.ac/")):
        return Ident("GRID", text)
    return Ident("Other", text)


# --- dates and free text shared with the other XML formats ------------------------------------

def collected(record: Record) -> str | None:
    """The collection period as an RKMS-ISO 8601 interval of dates (one date if it is one)."""
    start, end = record.dates.collected_start, record.dates.collected_end
    parts = [day(d) for d in (start, end) if d is not None]
    if len(parts) == 2 and parts[0] == parts[1]:
        parts = parts[:1]
    return "/".join(parts) or None


def _number(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def technical_info(record: Record) -> str | None:
    """Instrument, samples and parameters as lines of text (DataCite has no structured slot)."""
    lines = []
    if record.instrument:
        pid = f" ({record.instrument.pid})" if record.instrument.pid else ""
        lines.append(f"Instrument: {record.instrument.name}{pid}")
    for s in record.samples:
        formula = f" ({s.chemical_formula})" if s.chemical_formula else ""
        text = f": {s.description}" if s.description else ""
        lines.append(f"Sample: {s.name}{formula}{text}")
    for p in record.parameters:
        unit = f" {p.unit}" if p.unit else ""
        lines.append(f"Parameter: {p.name} = {_number(p.value)}{unit}")
    return clean("\n".join(lines)) or None


def size_texts(files: Files | None) -> list[str]:
    if files is None:
        return []
    out = []
    if files.count > 0:
        out.append(f"{files.count} file" + ("s" if files.count > 1 else ""))
    if files.size:
        out.append(f"{files.size} bytes")
    return out


def format_texts(files: Files | None) -> list[str]:
    """The files' media types, each once."""
    texts = (clean(f).strip() for f in files.formats) if files else ()
    return list(dict.fromkeys(t for t in texts if t))


# --- the intermediate structure: DataCite JSON (REST API attributes) --------------------------

def _unique(items: list[dict]) -> list[dict]:
    """Drop repeated entries (the JSON schema wants uniqueItems), keeping the first."""
    seen, out = set(), []
    for item in items:
        key = tuple(item.items())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def person(p: Person) -> dict[str, Any]:
    d: dict[str, Any] = {"name": clean(family_given(p)) or UNKNOWN, "nameType": "Personal"}
    if p.given_name:
        d["givenName"] = clean(p.given_name)
    if p.family_name:
        d["familyName"] = clean(p.family_name)
    if p.orcid:
        d["nameIdentifiers"] = [{"nameIdentifier": p.orcid, "nameIdentifierScheme": "ORCID",
                                 "schemeUri": ORCID_SCHEME}]
    aff = p.affiliation
    if aff and clean(aff.name):
        a = {"name": clean(aff.name)}
        if aff.ror:
            a |= {"affiliationIdentifier": aff.ror, "affiliationIdentifierScheme": "ROR",
                  "schemeUri": ROR_SCHEME}
        d["affiliation"] = [a]
    return d


def creators(record: Record) -> list[dict[str, Any]]:
    """The record's creators; without any, one `:unav` creator (DataCite's unknown value)."""
    return [person(p) for p in record.creators] or [{"name": UNKNOWN}]


def contributors(record: Record) -> list[dict[str, Any]]:
    out = []
    for p in record.contributors:
        role = CONTRIBUTOR_TYPES.get((p.role or "").strip().lower(), "Other")
        out.append({**person(p), "contributorType": role})
    fac = record.facility
    if fac:
        host: dict[str, Any] = {"name": clean(fac.name) or UNKNOWN, "nameType": "Organizational"}
        if fac.ror:
            host["nameIdentifiers"] = [{"nameIdentifier": fac.ror, "nameIdentifierScheme": "ROR",
                                        "schemeUri": ROR_SCHEME}]
        out.append({**host, "contributorType": "HostingInstitution"})
    return out


def publisher(record: Record) -> dict[str, str]:
    fac = record.facility
    if fac is None:
        return {"name": UNKNOWN}
    d = {"name": clean(fac.name) or UNKNOWN}
    if fac.ror:
        d |= {"publisherIdentifier": fac.ror, "publisherIdentifierScheme": "ROR",
              "schemeUri": ROR_PUBLISHER_SCHEME}
    return d


def subjects(record: Record) -> list[dict[str, str]]:
    out = [{"subject": clean(t.label), "subjectScheme": "PaNET", "schemeUri": PANET_SCHEME,
            "valueUri": t.iri} for t in record.techniques]
    out += [{"subject": clean(k)} for k in record.keywords]
    if record.instrument and not record.instrument.pid:
        out.append({"subject": clean(record.instrument.name)})
    return _unique([s for s in out if s["subject"]])


def dates(record: Record, now: datetime) -> list[dict[str, str]]:
    """Issued; the embargo as Accepted (start) and Available (end, whether or not it has
    passed); Collected; Created; Updated."""
    out = [{"date": issued(record, now), "dateType": "Issued"}]
    release, start = embargo_end(record), embargo_start(record)
    if release:
        if start and start < release:
            out.append({"date": day(start), "dateType": "Accepted"})
        out.append({"date": day(release), "dateType": "Available",
                    "dateInformation": "End of embargo"})
    period = collected(record)
    if period:
        out.append({"date": period, "dateType": "Collected"})
    if record.dates.created:
        out.append({"date": day(record.dates.created), "dateType": "Created"})
    if record.dates.modified:
        out.append({"date": day(record.dates.modified), "dateType": "Updated"})
    return out


def alternate_identifiers(record: Record) -> list[dict[str, str]]:
    """Proposal numbers, visit ids, ...: typed "<facility> <type>" ("ESRF proposal")."""
    fac = record.facility.name if record.facility else ""
    out = []
    for ident in record.identifiers:
        kind = ident.type if not fac or ident.type.startswith(fac) else f"{fac} {ident.type}"
        value = clean(ident.value)
        if value:
            out.append({"alternateIdentifier": value, "alternateIdentifierType": clean(kind)})
    return _unique(out)


def related_identifiers(record: Record) -> list[dict[str, str]]:
    """record.related (types outside DataCite's lists are left out: a wrong type is worse
    than none) and the instrument's PID as IsCollectedBy an Instrument."""
    out = []
    for rel in record.related:
        kind = RELATED_ID_TYPES.get(rel.identifier_type.strip().lower())
        if kind is None or rel.relation not in RELATION_TYPES:
            continue
        value = (normalise_doi(rel.identifier) or rel.identifier) if kind == "DOI" \
            else rel.identifier
        out.append({"relatedIdentifier": clean(value), "relatedIdentifierType": kind,
                    "relationType": rel.relation})
    inst = record.instrument
    ident = pid_ident(inst.pid) if inst and inst.pid else None
    if ident:
        out.append({"relatedIdentifier": clean(ident.value), "relatedIdentifierType": ident.type,
                    "relationType": "IsCollectedBy", "resourceTypeGeneral": "Instrument"})
    return _unique([r for r in out if r["relatedIdentifier"]])


def rights_list(record: Record, now: datetime) -> list[dict[str, str]]:
    """info:eu-repo access (OpenAIRE v2, B2FIND: also as text, which B2FIND reads), COAR
    access right, and the licence with its SPDX identifier and legal-code URL."""
    acc, lic = access_rights(record, now), license_of(record)
    return [
        {"rights": acc.eurepo, "rightsUri": acc.eurepo},
        {"rights": acc.coar_label, "rightsUri": acc.coar,
         "rightsIdentifier": acc.coar.rsplit("/", 1)[-1], "rightsIdentifierScheme": "COAR",
         "schemeUri": COAR},
        {"rights": clean(lic.name), "rightsUri": lic.url, "rightsIdentifier": lic.spdx,
         "rightsIdentifierScheme": "SPDX", "schemeUri": SPDX_SCHEME},
    ]


def descriptions(record: Record) -> list[dict[str, str]]:
    out = []
    abstract = clean(record.description or "")
    if abstract.strip():
        out.append({"description": abstract, "descriptionType": "Abstract"})
    tech = technical_info(record)
    if tech:
        out.append({"description": tech, "descriptionType": "TechnicalInfo", "lang": LANGUAGE})
    return out


def funding_references(record: Record) -> list[dict[str, str]]:
    out = []
    for f in record.funding:
        d = {"funderName": clean(f.funder_name) or UNKNOWN}
        if f.funder_identifier:
            ident = funder_identifier(f.funder_identifier)
            d |= {"funderIdentifier": clean(ident.value), "funderIdentifierType": ident.type}
        if f.award_number or f.award_uri:
            d["awardNumber"] = clean(f.award_number or "") or UNKNOWN
            if f.award_uri:
                d["awardUri"] = clean(f.award_uri)
        out.append(d)
    return _unique(out)


def resource_type(record: Record) -> dict[str, str]:
    """Datasets are `Dataset`; documents (investigations, proposals: the experiment that
    groups datasets) are `Collection`."""
    if record.kind == "document":
        return {"resourceTypeGeneral": "Collection", "resourceType": "Investigation"}
    return {"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"}


def build(record: Record, context: Context) -> dict[str, Any]:
    """The DataCite JSON dict (REST API attribute shape, schema 4.5) of a record."""
    now = context.now
    data: dict[str, Any] = {}
    bare = doi(record)
    if bare:
        data["doi"] = bare
    data |= {
        "types": resource_type(record),
        "creators": creators(record),
        "titles": [{"title": clean(record.title) or UNKNOWN, "lang": LANGUAGE}],
        "publisher": publisher(record),
        "publicationYear": str(publication_year(record, now)),
    }
    optional = {
        "subjects": subjects(record),
        "contributors": contributors(record),
        "dates": dates(record, now),
        "language": LANGUAGE,
        "alternateIdentifiers": alternate_identifiers(record),
        "relatedIdentifiers": related_identifiers(record),
        "sizes": size_texts(record.files),
        "formats": format_texts(record.files),
        "rightsList": rights_list(record, now),
        "descriptions": descriptions(record),
        "fundingReferences": funding_references(record),
    }
    data |= {k: v for k, v in optional.items() if v}
    data["schemaVersion"] = KERNEL
    return data


def resource_element(record: Record, context: Context) -> etree._Element:
    return resource(build(record, context), primary_identifier(record, context))


# --- renderers --------------------------------------------------------------------------------

def render_xml(record: Record, context: Context) -> str:
    """DataCite kernel-4.5 XML (no XML declaration)."""
    return serialize(resource_element(record, context))


def render_json(record: Record, context: Context) -> str:
    """DataCite JSON, REST API attribute shape (what `datacite.schema45` validates)."""
    return json.dumps(build(record, context), ensure_ascii=False, indent=2)


def render_oai_datacite(record: Record, context: Context) -> str:
    """The kernel resource in the OAI DataCite 1.1 wrapper (OAI-PMH prefix oai_datacite)."""
    o = f"{{{OAI_DATACITE}}}"
    el = root(o + "oai_datacite", {None: OAI_DATACITE}, f"{OAI_DATACITE} {OAI_DATACITE_XSD}")
    sub(el, o + "schemaVersion", SCHEMA_VERSION)
    sub(el, o + "datacentreSymbol", clean(context.datacentre_symbol))
    sub(el, o + "payload").append(resource_element(record, context))
    return serialize(el)


FORMATS = (
    Format("datacite-xml", "DataCite Metadata Schema 4.5 (kernel-4) XML",
           "application/vnd.datacite.datacite+xml", "xml", render_xml,
           oai=OAIFormat("datacite", KERNEL, KERNEL_XSD)),
    Format("datacite-json", "DataCite JSON (REST API attributes, schema 4.5)",
           "application/vnd.datacite.datacite+json", "json", render_json),
    Format("oai_datacite", "DataCite kernel 4.5 in the OAI DataCite 1.1 wrapper",
           "application/xml", "xml", render_oai_datacite,
           oai=OAIFormat("oai_datacite", OAI_DATACITE, OAI_DATACITE_XSD)),
)
