"""OpenAIRE Guidelines v4 (`oai_openaire`) for datasets: valid against the 4.0 XSD.

Built from the same DataCite dict as the DataCite formats (`datacite.build`), adapted where
OpenAIRE 4.0 restricts DataCite: its kernel-4 copy is DataCite 4.1 (no `IsCollectedBy`, no
`Instrument`), `datacite:rights` holds only the COAR access right (the licence goes to
`oaire:licenseCondition`), identifier types are upper-case `HANDLE` and ORCID iDs are bare
as in the guidelines' examples. See docs/formats.md, "OpenAIRE".
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from . import datacite
from .datacite import primary_identifier
from .datacite_xml import K, write_funding, write_list, write_people
from .record import Record
from .render import Context, Format, OAIFormat
from .rights import access_rights, day, embargo_end, license_of
from .xmlutil import clean, root, serialize, sub

OAIRE = "http://namespace.openaire.eu/schema/oaire/"
OAIRE_XSD = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
DC = "http://purl.org/dc/elements/1.1/"
O, D = f"{{{OAIRE}}}", f"{{{DC}}}"
LANGUAGE = "eng"  # ISO 639-3, as the guidelines ask
DATASET = "http://purl.org/coar/resource_type/c_ddb1"

# The relation types of OpenAIRE's DataCite 4.1 copy (4.5 added IsPublishedIn,
# Obsoletes/IsObsoletedBy, Collects/IsCollectedBy).
RELATION_TYPES = datacite.RELATION_TYPES - {"IsPublishedIn", "Obsoletes", "IsObsoletedBy",
                                            "Collects", "IsCollectedBy"}
RELATED_ID_TYPES = set(datacite.RELATED_ID_TYPES.values()) - {"w3id"} | {"PISSN", "WOS"}
IDENTIFIER_TYPES = {"DOI": "DOI", "Handle": "HANDLE", "URL": "URL"}


def _bare_orcid(p: dict[str, Any]) -> dict[str, Any]:
    ids = [{**i, "nameIdentifier": i["nameIdentifier"].rsplit("/", 1)[-1]}
           if i["nameIdentifierScheme"] == "ORCID" else i for i in p.get("nameIdentifiers", ())]
    return {**p, "nameIdentifiers": ids} if ids else p


def _related(data: dict[str, Any]) -> list[dict[str, str]]:
    return [r for r in data.get("relatedIdentifiers", ())
            if r["relationType"] in RELATION_TYPES
            and r["relatedIdentifierType"] in RELATED_ID_TYPES
            and r.get("resourceTypeGeneral") != "Instrument"]


def _license(el: etree._Element, record: Record) -> None:
    """oaire:licenseCondition: the licence, applying from the end of the embargo if any."""
    lic, end = license_of(record), embargo_end(record)
    attrib = {"uri": lic.url}
    if end:
        attrib["startDate"] = day(end)
    sub(el, O + "licenseCondition", clean(lic.name), attrib)


def _file(el: etree._Element, record: Record, context: Context) -> None:
    """oaire:file: the data's access URL, only once it is open."""
    files, acc = record.files, access_rights(record, context.now)
    if not (files and files.access_url and acc.is_open):
        return
    attrib = {"accessRightsURI": acc.coar, "objectType": "dataset"}
    if len(files.formats) == 1:
        attrib["mimeType"] = clean(files.formats[0])
    sub(el, O + "file", clean(files.access_url), attrib)


def render(record: Record, context: Context) -> str:
    """`<oaire:resource>` for OAI-PMH and `?format=oai_openaire` (no XML declaration)."""
    data = datacite.build(record, context)
    el = root(O + "resource", {"oaire": OAIRE, "datacite": datacite.KERNEL, "dc": DC},
              f"{OAIRE} {OAIRE_XSD}")
    write_list(el, "titles", "title", data["titles"], "title")
    if record.creators:
        write_people(el, "creators", "creator", [_bare_orcid(p) for p in data["creators"]])
    if data.get("contributors"):
        write_people(el, "contributors", "contributor",
                     [_bare_orcid(p) for p in data["contributors"]])
    if data.get("fundingReferences"):
        write_funding(el, O, data["fundingReferences"])
    if data.get("alternateIdentifiers"):
        write_list(el, "alternateIdentifiers", "alternateIdentifier",
                   data["alternateIdentifiers"], "alternateIdentifier")
    related = _related(data)
    if related:
        write_list(el, "relatedIdentifiers", "relatedIdentifier", related, "relatedIdentifier")
    write_list(el, "dates", "date", data["dates"], "date")
    sub(el, D + "language", LANGUAGE)
    if record.facility:
        sub(el, D + "publisher", data["publisher"]["name"])
    sub(el, O + "resourceType", "dataset",
        {"resourceTypeGeneral": "dataset", "uri": DATASET})
    for d in data.get("descriptions", ()):
        sub(el, D + "description", d["description"])
    for fmt in data.get("formats", ()):
        sub(el, D + "format", fmt)
    ident = primary_identifier(record, context)
    sub(el, K + "identifier", ident.value, {"identifierType": IDENTIFIER_TYPES[ident.type]})
    acc = access_rights(record, context.now)
    sub(el, K + "rights", acc.coar_label, {"rightsURI": acc.coar})
    if data.get("subjects"):
        write_list(el, "subjects", "subject", data["subjects"], "subject")
    if data.get("sizes"):
        box = sub(el, K + "sizes")
        for text in data["sizes"]:
            sub(box, K + "size", text)
    _file(el, record, context)
    _license(el, record)
    return serialize(el)


FORMATS = (
    Format("oai_openaire", "OpenAIRE Guidelines v4 (oai_openaire)", "application/xml", "xml",
           render, oai=OAIFormat("oai_openaire", OAIRE, OAIRE_XSD)),
)

