"""The official XSDs of ../shared/data/xsd as judges of OAI-PMH responses.

The driver schemas import the OAI-PMH envelope with its strict wildcards plus one metadata
format each (oai_dc's Simple DC, OpenAIRE's DC and DataCite kernel 4.5 collide, so there is
one schema set per prefix); the XML catalog maps every remote schema location to the local
copy. libxml2 reads XML_CATALOG_FILES once, before the first schema: this module sets it
(as tests/test_render_xml.py does) before lxml is imported.

A second engine, xmlschema (pure Python, its own XSD 1.0 implementation), judges with the same
driver schemas: its imports resolve through a uri_mapper read from oai-catalog.xml (and the
catalogs it chains to), never the network. The reference asks for both engines on every
response type, so that neither processor's bugs or leniencies decide a verdict alone.
"""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path

XSD = Path(__file__).resolve().parents[2] / "shared" / "data" / "xsd"
os.environ.setdefault("XML_CATALOG_FILES", str(XSD / "catalog.xml"))

import xmlschema  # noqa: E402
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


# -- the second engine: xmlschema --------------------------------------------------------------
CATALOG = XSD / "oai-catalog.xml"
CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"
REMOTE = ("http://", "https://", "ftp://")


def catalog_entries(path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """An OASIS catalog's system/uri entries (remote location -> local file URI) and its
    rewriteSystem/rewriteURI prefixes, then those of its nextCatalog chain; the first entry
    for a location wins, as in libxml2. Paths in a catalog are relative to the catalog."""
    exact: dict[str, str] = {}
    rewrites: list[tuple[str, str]] = []
    for entry in etree.parse(str(path)).getroot().iterchildren(f"{CATALOG_NS}*"):
        tag = etree.QName(entry).localname
        if tag in ("system", "uri"):
            remote = entry.get("systemId" if tag == "system" else "name")
            exact.setdefault(remote, (path.parent / entry.get("uri")).as_uri())
        elif tag in ("rewriteSystem", "rewriteURI"):
            start = entry.get("systemIdStartString" if tag == "rewriteSystem"
                              else "uriStartString")
            rewrites.append((start, (path.parent / entry.get("rewritePrefix")).as_uri() + "/"))
        elif tag == "nextCatalog":
            more, more_rewrites = catalog_entries(path.parent / entry.get("catalog"))
            for remote, local in more.items():
                exact.setdefault(remote, local)
            rewrites += more_rewrites
    return exact, rewrites


@functools.cache
def uri_mapper() -> Callable[[str], str]:
    """xmlschema's uri_mapper from oai-catalog.xml: a remote schema location becomes its local
    copy (exact entries first, then the longest rewrite prefix); one the catalogs do not map
    fails loudly instead of being fetched. Relative and local locations pass unchanged.
    (The catalogs' public entries map namespaces, not locations: every import in the bundle
    has a schemaLocation, so they are not needed here.)"""
    exact, rewrites = catalog_entries(CATALOG)
    rewrites = sorted(rewrites, key=lambda pair: len(pair[0]), reverse=True)

    def mapper(url: str) -> str:
        if url in exact:
            return exact[url]
        for start, local in rewrites:
            if url.startswith(start):
                return local + url[len(start):]
        if url.startswith(REMOTE):
            raise LookupError(f"{url} is not mapped by {CATALOG} (no network in tests)")
        return url

    return mapper


@functools.cache
def xmlschema_schema(name: str) -> xmlschema.XMLSchema10:
    """A driver schema compiled by xmlschema, once per process (compiling takes ~0.1-0.2 s).
    allow="local" and no fallback: every import comes from the bundle through the catalog."""
    return xmlschema.XMLSchema10(str(XSD / name), uri_mapper=uri_mapper(), allow="local",
                                 use_fallback=False)


def lxml_errors(body: bytes, name: str | None = None) -> list[str]:
    """lxml's verdict on a response under a driver schema (default: the one its metadata
    needs): the error messages, empty when valid."""
    doc = etree.fromstring(body)
    xsd = schema(name or driver(doc))
    return [] if xsd.validate(doc) else [str(e) for e in xsd.error_log]


def xmlschema_errors(body: bytes, name: str | None = None) -> list[str]:
    """xmlschema's verdict on a response under a driver schema (default: as lxml_errors):
    the error messages, empty when valid. It gets the lxml tree, so both engines read the
    same parse and differ only in their schema processors."""
    doc = etree.fromstring(body)
    xsd = xmlschema_schema(name or driver(doc))
    return [f"{e.path}: {e.reason}" for e in xsd.iter_errors(doc)]


def assert_valid_oai_both(body: bytes) -> etree._Element:
    """assert_valid_oai, and xmlschema must agree that the response is valid."""
    doc = assert_valid_oai(body)
    errors = xmlschema_errors(body)
    assert not errors, f"xmlschema: invalid against {driver(doc)}: {errors}\n{body[:2000]!r}"
    return doc
