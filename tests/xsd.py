"""The official XSDs of ../shared/data/xsd as judges of OAI-PMH responses.

The driver schemas import the OAI-PMH envelope with its strict wildcards plus one metadata
format each (oai_dc's Simple DC, OpenAIRE's DC and DataCite kernel 4.5 collide, so there is
one schema set per prefix); the XML catalog maps every remote schema location to the local
copy. libxml2 reads XML_CATALOG_FILES once, before the first schema: this module sets it
(as tests/test_render_xml.py does) before lxml is imported.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

XSD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xsd"
os.environ.setdefault("XML_CATALOG_FILES", str(XSD / "catalog.xml"))

from lxml import etree  # noqa: E402

OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {"o": OAI, "oi": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
# metadataPrefix -> driver schema; responses without metadata use drv_dc.xsd
DRIVERS = {"oai_dc": "drv_dc.xsd", "oai_datacite": "drv_datacite45.xsd",
           "datacite": "drv_datacite45.xsd", "oai_openaire": "drv_openaire.xsd"}
ROOT_SCHEMA_LOCATION = f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
RESPONSE_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@functools.cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD / name)))


def driver(doc: etree._Element) -> str:
    """The driver schema for a response: the one of the metadata it carries."""
    for metadata in doc.iterfind(".//o:metadata", NS):
        for prefix, ns in (("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
                           ("oai_datacite", "http://schema.datacite.org/oai/oai-1.1/"),
                           ("datacite", "http://datacite.org/schema/kernel-4"),
                           ("oai_openaire", "http://namespace.openaire.eu/schema/oaire/")):
            if len(metadata) and etree.QName(metadata[0]).namespace == ns:
                return DRIVERS[prefix]
    return "drv_dc.xsd"


def assert_valid_oai(body: bytes) -> etree._Element:
    """Parse an OAI-PMH response and fail unless it is valid against the official XSDs and
    has what the XSD cannot check: an exact root schemaLocation and a responseDate without
    fractions (the openarchives.org validator's rules). Returns the root element."""
    doc = etree.fromstring(body)
    name = driver(doc)
    xsd = schema(name)
    if not xsd.validate(doc):
        raise AssertionError(f"invalid against {name}: {xsd.error_log}\n{body[:2000]!r}")
    location = doc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert location == ROOT_SCHEMA_LOCATION, location
    assert RESPONSE_DATE.fullmatch(doc.findtext("o:responseDate", namespaces=NS) or "")
    return doc
