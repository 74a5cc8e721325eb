"""DataCite kernel-4 XML written from a DataCite JSON dict (see `mappings.datacite.build`).

JSON keys map to XML one to one: a flat JSON object is an element whose text is one key and
whose attributes are the others (`schemeUri` -> `schemeURI`, `lang` -> `xml:lang`, ...).
Elements are in the kernel-4 namespace, which OpenAIRE's `datacite:` elements share, so
`mappings.openaire` writes its DataCite parts with the same functions.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from lxml import etree

from .xmlutil import XML_LANG, root, sub

KERNEL = "http://datacite.org/schema/kernel-4"
KERNEL_XSD = "http://schema.datacite.org/meta/kernel-4.5/metadata.xsd"


class Ident(NamedTuple):
    type: str   # DataCite identifierType / relatedIdentifierType
    value: str


K = f"{{{KERNEL}}}"
_ATTR = {"schemeUri": "schemeURI", "valueUri": "valueURI", "rightsUri": "rightsURI",
         "awardUri": "awardURI", "lang": XML_LANG}


def flat(parent: etree._Element, tag: str, item: dict[str, str], text_key: str | None
         ) -> etree._Element:
    """One element from a flat JSON object: `text_key` is its text, the rest attributes."""
    attrib = {_ATTR.get(k, k): v for k, v in item.items() if k != text_key}
    return sub(parent, tag, item.get(text_key) if text_key else None, attrib)


def write_list(parent: etree._Element, wrapper: str, tag: str, items: list[dict],
               text_key: str) -> None:
    box = sub(parent, K + wrapper)
    for item in items:
        flat(box, K + tag, item, text_key)


def write_person(parent: etree._Element, tag: str, p: dict[str, Any]) -> None:
    attrib = {"contributorType": p["contributorType"]} if "contributorType" in p else None
    el = sub(parent, K + tag, None, attrib)
    sub(el, K + tag + "Name", p["name"], {"nameType": p["nameType"]} if "nameType" in p else None)
    for key in ("givenName", "familyName"):
        if key in p:
            sub(el, K + key, p[key])
    for ni in p.get("nameIdentifiers", ()):
        flat(el, K + "nameIdentifier", ni, "nameIdentifier")
    for aff in p.get("affiliation", ()):
        flat(el, K + "affiliation", aff, "name")


def write_people(parent: etree._Element, wrapper: str, tag: str, people: list[dict]) -> None:
    box = sub(parent, K + wrapper)
    for p in people:
        write_person(box, tag, p)


def write_funding(parent: etree._Element, ns: str, items: list[dict[str, str]]) -> None:
    """fundingReferences in namespace `ns` (kernel-4 here, OpenAIRE's own in oai_openaire)."""
    box = sub(parent, ns + "fundingReferences")
    for f in items:
        ref = sub(box, ns + "fundingReference")
        sub(ref, ns + "funderName", f["funderName"])
        if "funderIdentifier" in f:
            sub(ref, ns + "funderIdentifier", f["funderIdentifier"],
                {"funderIdentifierType": f["funderIdentifierType"]})
        if "awardNumber" in f:
            sub(ref, ns + "awardNumber", f["awardNumber"],
                {"awardURI": f["awardUri"]} if "awardUri" in f else None)


_LISTS = (  # after creators/titles/...: (JSON key, wrapper, element, text key), XSD order
    ("subjects", "subjects", "subject", "subject"),
    ("contributors", "contributors", "contributor", None),
    ("dates", "dates", "date", "date"),
    ("language", None, "language", None),
    ("alternateIdentifiers", "alternateIdentifiers", "alternateIdentifier",
     "alternateIdentifier"),
    ("relatedIdentifiers", "relatedIdentifiers", "relatedIdentifier", "relatedIdentifier"),
    ("sizes", "sizes", "size", None),
    ("formats", "formats", "format", None),
    ("rightsList", "rightsList", "rights", "rights"),
    ("descriptions", "descriptions", "description", "description"),
)


def resource(data: dict[str, Any], ident: Ident) -> etree._Element:
    """The kernel-4 `<resource>` element for a DataCite JSON dict from `build`."""
    el = root(K + "resource", {None: KERNEL}, f"{KERNEL} {KERNEL_XSD}")
    sub(el, K + "identifier", ident.value, {"identifierType": ident.type})
    write_people(el, "creators", "creator", data["creators"])
    write_list(el, "titles", "title", data["titles"], "title")
    flat(el, K + "publisher", data["publisher"], "name")
    sub(el, K + "publicationYear", data["publicationYear"])
    flat(el, K + "resourceType", data["types"], "resourceType")
    for key, wrapper, tag, text_key in _LISTS:
        value = data.get(key)
        if not value:
            continue
        if wrapper is None:
            sub(el, K + tag, value)
        elif key == "contributors":
            write_people(el, wrapper, tag, value)
        elif text_key is None:  # a list of strings
            box = sub(el, K + wrapper)
            for text in value:
                sub(box, K + tag, text)
        else:
            write_list(el, wrapper, tag, value, text_key)
    if "fundingReferences" in data:
        write_funding(el, K, data["fundingReferences"])
    return el
