"""DCAT-AP 3.0.1: one rdflib graph per record, served as Turtle, RDF/XML and JSON-LD
(crosswalk sections 2, 4, 5 and 9; decisions in docs/formats.md, "DCAT-AP").

`graph(record, context)` builds the graph; the three registered formats serialise it. The
graph passes the DCAT-AP 3.0.1 SHACL shapes (base, recommended, range and controlled
vocabularies) on its own: every object node carries an explicit `rdf:type`, and every
EU vocabulary concept it uses comes with its `skos:inScheme`, `skos:prefLabel` and types, so
no ontology or vocabulary has to be fetched. Access follows `mappings.rights`: while a record
is embargoed the distribution's access URL is the landing page and no files are linked.

Blank nodes get labels derived from the record id, so the same record always gives the same
bytes and graphs of different records can be merged without collisions.
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable

from rdflib import RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS as DCT, FOAF, PROV, NamespaceManager
from rdflib.term import Node

from .derived import collected, description, is_iri, pid_url, related_url
from .record import Person, Record, iso
from .render import Context, Format
from .rdftext import jsonld, rdfxml
from .rights import access_rights, doi, doi_url, embargo_end, issued, license_of

DCATAP = Namespace("http://data.europa.eu/r5r/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
PANET_SCHEME = URIRef("http://purl.org/pan-science/PaNET/PaNET.owl")
PUBLISHER_TYPES = URIRef("http://purl.org/adms/publishertype/1.0")
LICENCE_TYPES = URIRef("http://purl.org/adms/licencetype/1.0")
ROLES = "http://inspire.ec.europa.eu/metadata-codelist/ResponsiblePartyRole/"

PREFIXES = {"dcat": DCAT, "dct": DCT, "dcatap": DCATAP, "foaf": FOAF, "vcard": VCARD,
            "adms": ADMS, "prov": PROV, "skos": SKOS, "rdfs": RDFS, "xsd": XSD}
JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
LANG = "en"

SCIENTIFIC_ORGANISATION = URIRef(
    "http://purl.org/adms/publishertype/Academia-ScientificOrganisation")

# Media type -> EU file-type NAL code (dct:format; the code is also its label)
FILE_TYPES = {
    "application/x-hdf5": "HDF", "application/x-hdf": "HDF", "application/x-nexus": "HDF",
    "application/json": "JSON", "text/plain": "TXT", "text/csv": "CSV",
    "application/zip": "ZIP", "image/tiff": "TIFF", "application/pdf": "PDF",
    "application/xml": "XML", "text/xml": "XML",
}

# SPDX id -> ADMS licence types (dct:type of the licence document, DCAT-AP recommended)
LICENCE_TYPE = {
    "CC-BY-4.0": ("Attribution",), "CC0-1.0": ("PublicDomain",),
    "CC-BY-SA-4.0": ("Attribution", "ShareAlike"),
    "CC-BY-NC-4.0": ("Attribution", "NonCommercialUseOnly"),
    "ODbL-1.0": ("Attribution", "ShareAlike"), "MIT": ("Attribution",),
}
LICENCE_TYPE_LABELS = {"Attribution": "Attribution", "PublicDomain": "Public domain",
                       "ShareAlike": "Share-alike",
                       "NonCommercialUseOnly": "Non-commercial use only"}

# Person.role -> ISO 19115 responsible-party role (INSPIRE registry) for dcat:hadRole
ROLE = {"local contact": "pointOfContact", "contact": "pointOfContact",
        "contact person": "pointOfContact", "principal investigator": "principalInvestigator",
        "pi": "principalInvestigator", "data manager": "custodian"}

# DataCite relationType -> Dublin Core term; anything else is a plain dct:relation
RELATIONS = {"IsPartOf": DCT.isPartOf, "HasPart": DCT.hasPart, "IsCitedBy": DCT.isReferencedBy,
             "IsReferencedBy": DCT.isReferencedBy, "References": DCT.references,
             "Cites": DCT.references, "IsVersionOf": DCT.isVersionOf,
             "IsRequiredBy": DCT.isRequiredBy, "Requires": DCT.requires,
             "IsReplacedBy": DCT.isReplacedBy, "Replaces": DCT.replaces,
             "IsFormatOf": DCT.isFormatOf, "HasFormat": DCT.hasFormat,
             "IsDerivedFrom": DCT.source}

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MEDIA_TYPE = re.compile(r"^[a-z]+/[A-Za-z0-9][A-Za-z0-9.+_-]*$")


def text(value: object, lang: str | None = None) -> Literal:
    """A string literal RDF/XML can hold too (characters XML 1.0 cannot are dropped)."""
    return Literal(_NOT_XML.sub("", str(value)), lang=lang)


def _namespaces() -> NamespaceManager:
    """One namespace manager for every graph: its prefixes never change (every predicate
    and class we write is in PREFIXES or rdflib's core set, so serialisers never add one),
    and its qname cache then serves all records instead of being rebuilt per graph."""
    holder = Graph(store="SimpleMemory", bind_namespaces="core")
    for prefix, ns in PREFIXES.items():
        holder.bind(prefix, ns)
    return holder.namespace_manager


NAMESPACES = _namespaces()


class Builder:
    """Adds the triples of one record to a fresh graph (no state beyond that graph)."""

    def __init__(self, record: Record, context: Context) -> None:
        self.record, self.context = record, context
        self.g = Graph(store="SimpleMemory", namespace_manager=NAMESPACES)
        self._seed = "b" + hashlib.sha1(record.id.encode()).hexdigest()[:12]
        self._count = 0
        self.add = self.g.add

    def bnode(self) -> BNode:
        self._count += 1
        return BNode(f"{self._seed}n{self._count}")

    def node(self, iri: str | None) -> URIRef | BNode:
        return URIRef(iri) if is_iri(iri) else self.bnode()

    def typed(self, node: Node, *types: URIRef) -> Node:
        for t in types:
            self.add((node, RDF.type, t))
        return node

    def concept(self, iri: URIRef, scheme: URIRef, label: str, *types: URIRef) -> URIRef:
        """A vocabulary concept with what the mdr and range shapes look for."""
        self.typed(iri, SKOS.Concept, *types)
        self.add((iri, SKOS.inScheme, scheme))
        self.add((iri, SKOS.prefLabel, text(label, LANG)))
        return iri

    def eu(self, table: str, code: str, label: str, *types: URIRef) -> URIRef:
        return self.concept(URIRef(f"{EU}{table}/{code}"), URIRef(EU + table), label, *types)


# --- parts of the dataset ---------------------------------------------------------------------

def _agent(b: Builder, person: Person) -> Node:
    node = b.typed(b.node(person.orcid), FOAF.Person, FOAF.Agent)
    b.add((node, FOAF.name, text(person.name)))
    if person.given_name:
        b.add((node, FOAF.givenName, text(person.given_name)))
    if person.family_name:
        b.add((node, FOAF.familyName, text(person.family_name)))
    return node


def _people(b: Builder, ds: Node) -> None:
    for person in b.record.creators:
        b.add((ds, DCT.creator, _agent(b, person)))
    for person in b.record.contributors:
        attribution = b.typed(b.bnode(), PROV.Attribution)
        b.add((ds, PROV.qualifiedAttribution, attribution))
        b.add((attribution, PROV.agent, _agent(b, person)))
        role = ROLE.get((person.role or "").strip().lower())
        if role:
            role_node = b.typed(URIRef(ROLES + role), DCAT.Role)
            b.add((attribution, DCAT.hadRole, role_node))


def _publisher(b: Builder, ds: Node) -> None:
    fac = b.record.facility
    if fac is None:
        return
    node = b.typed(b.node(fac.ror), FOAF.Agent, FOAF.Organization)
    b.add((node, FOAF.name, text(fac.name)))
    b.add((node, DCT.type, b.concept(SCIENTIFIC_ORGANISATION, PUBLISHER_TYPES,
                                     "Academia/Scientific organisation")))
    b.typed(PUBLISHER_TYPES, SKOS.ConceptScheme)
    b.add((PUBLISHER_TYPES, DCT.title, text("Publisher type", LANG)))
    b.add((ds, DCT.publisher, node))


def _contact(b: Builder, ds: Node) -> None:
    email = b.context.contact_email
    if not email:
        return
    node = b.typed(b.bnode(), VCARD.Kind)
    b.add((node, VCARD.fn, text(b.context.catalog_name)))
    b.add((node, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    b.add((ds, DCAT.contactPoint, node))


def _themes(b: Builder, ds: Node) -> None:
    b.add((ds, DCAT.theme, b.eu("data-theme", "TECH", "Science and technology")))
    for t in b.record.techniques:
        b.add((ds, DCAT.theme, b.concept(URIRef(t.iri), PANET_SCHEME, t.label)))
    words = [*b.record.keywords, *(t.label for t in b.record.techniques),
             *(s.name for s in b.record.samples)]
    for word in dict.fromkeys(words):
        b.add((ds, DCAT.keyword, text(word, LANG)))


def _dates(b: Builder, ds: Node) -> None:
    start, end = collected(b.record)
    if start or end:
        period = b.typed(b.bnode(), DCT.PeriodOfTime)
        b.add((ds, DCT.temporal, period))
        if start:
            b.add((period, DCAT.startDate, Literal(start, datatype=XSD.dateTime)))
        if end:
            b.add((period, DCAT.endDate, Literal(end, datatype=XSD.dateTime)))
    when = issued(b.record, b.context.now)
    b.add((ds, DCT.issued, Literal(when, datatype=XSD.date if len(when) == 10 else XSD.gYear)))
    if b.record.dates.modified:
        b.add((ds, DCT.modified, Literal(iso(b.record.dates.modified), datatype=XSD.dateTime)))
    release = embargo_end(b.record)
    if release:
        b.add((ds, DCT.available, Literal(iso(release)[:10], datatype=XSD.date)))


def _identifiers(b: Builder, ds: Node) -> None:
    bare = doi(b.record)
    primary = doi_url(bare) if bare else (b.record.pid or b.context.landing_url(b.record))
    b.add((ds, DCT.identifier, text(primary)))
    fac = b.record.facility
    for ident in b.record.identifiers:
        node = b.typed(b.bnode(), ADMS.Identifier)
        b.add((node, SKOS.notation, text(ident.value)))
        b.add((node, DCT.description, text(ident.type, LANG)))
        if fac:
            b.add((node, ADMS.schemeAgency, text(fac.name)))
        b.add((ds, ADMS.identifier, node))


def _access(b: Builder, ds: Node) -> None:
    acc = access_rights(b.record, b.context.now)
    code = acc.eu_nal.rsplit("/", 1)[-1]
    b.add((ds, DCT.accessRights, b.eu("access-right", code, acc.eu_nal_label,
                                      DCT.RightsStatement)))
    landing = b.typed(URIRef(b.context.landing_url(b.record)), FOAF.Document)
    b.add((ds, DCAT.landingPage, landing))
    b.add((ds, DCT.language, b.eu("language", "ENG", "English", DCT.LinguisticSystem)))


def _licence(b: Builder) -> Node:
    lic = license_of(b.record)
    if lic.eu_nal:
        node = b.concept(URIRef(lic.eu_nal), URIRef(EU + "licence"), lic.name,
                         DCT.LicenseDocument)
    else:
        node = b.typed(URIRef(lic.url), DCT.LicenseDocument)
        b.add((node, RDFS.label, text(lic.name)))
    for kind in LICENCE_TYPE.get(lic.spdx, ()):
        b.add((node, DCT.type, b.concept(URIRef(f"http://purl.org/adms/licencetype/{kind}"),
                                         LICENCE_TYPES, LICENCE_TYPE_LABELS[kind])))
    return node


def _distribution(b: Builder, ds: Node) -> None:
    """One distribution: the files behind their access URL while open; while embargoed (or
    without an access URL) the landing page, so the mandatory accessURL still holds."""
    record, files = b.record, b.record.files
    dist = b.typed(b.bnode(), DCAT.Distribution)
    b.add((ds, DCAT.distribution, dist))
    is_open = access_rights(record, b.context.now).is_open
    access = files.access_url if files and is_open and is_iri(files.access_url) else None
    b.add((dist, DCAT.accessURL, URIRef(access or b.context.landing_url(record))))
    b.add((dist, DCT.description, text(_distribution_text(record, b.context, access), LANG)))
    b.add((dist, DCT.license, _licence(b)))
    b.add((dist, DCATAP.availability, b.eu("planned-availability", "STABLE", "stable")))
    release = embargo_end(record)
    if release:
        b.add((dist, DCT.available, Literal(iso(release)[:10], datatype=XSD.date)))
    media = next((f for f in (files.formats if files else ()) if _MEDIA_TYPE.match(f)), None)
    if media:
        b.add((dist, DCAT.mediaType, b.typed(URIRef(IANA + media), DCT.MediaType)))
        code = FILE_TYPES.get(media)
        if code:
            b.add((dist, DCT.format, b.eu("file-type", code, code,
                                          DCT.MediaTypeOrExtent)))
    if files and files.size is not None:
        b.add((dist, DCAT.byteSize, Literal(str(files.size), datatype=XSD.nonNegativeInteger)))


def _distribution_text(record: Record, context: Context, access: str | None) -> str:
    files = record.files
    parts = []
    if files and files.count:
        parts.append(f"{files.count} file{'s' if files.count > 1 else ''}")
    if files and files.size is not None:
        parts.append(f"{files.size} bytes")
    if files and files.formats:
        parts.append(", ".join(files.formats))
    what = "Data files" + (f" ({'; '.join(parts)})" if parts else "")
    if not access_rights(record, context.now).is_open:
        until = iso(embargo_end(record))[:10]  # type: ignore[index]
        return (f"{what}: under embargo until {until}; "
                "the access URL is the record's landing page.")
    if access is None:
        return f"{what}: access through the record's landing page."
    return f"{what}."


def _activity(b: Builder, ds: Node) -> None:
    """The experiment as a prov:Activity: its techniques, instrument, samples and times."""
    record = b.record
    start, end = collected(record)
    if not (record.techniques or record.instrument or record.samples or start or end):
        return
    act = b.typed(b.bnode(), PROV.Activity)
    b.add((ds, PROV.wasGeneratedBy, act))
    for t in record.techniques:
        b.add((act, DCT.type, URIRef(t.iri)))
    if record.instrument:
        inst = b.typed(b.node(pid_url(record.instrument.pid)), PROV.Entity)
        b.add((inst, RDFS.label, text(record.instrument.name)))
        b.add((act, PROV.used, inst))
    for s in record.samples:
        sample = b.typed(b.bnode(), PROV.Entity)
        b.add((sample, RDFS.label, text(s.name)))
        if s.chemical_formula:
            b.add((sample, DCT.description, text(s.chemical_formula)))
        b.add((act, PROV.used, sample))
    if start:
        b.add((act, PROV.startedAtTime, Literal(start, datatype=XSD.dateTime)))
    if end:
        b.add((act, PROV.endedAtTime, Literal(end, datatype=XSD.dateTime)))


def _relations(b: Builder, ds: Node) -> None:
    for rel in b.record.related:
        url = related_url(rel)
        if url:
            b.add((ds, RELATIONS.get(rel.relation, DCT.relation), URIRef(url)))


PARTS: tuple[Callable[[Builder, Node], None], ...] = (
    _identifiers, _people, _publisher, _contact, _themes, _dates, _access, _distribution,
    _activity, _relations)


def _dataset_iri(record: Record, context: Context) -> str:
    bare = doi(record)
    return doi_url(bare) if bare else context.landing_url(record)


def _build(record: Record, context: Context) -> Graph:
    """The graph, with the shared namespace manager (for the serialisers only)."""
    b = Builder(record, context)
    ds = b.typed(URIRef(_dataset_iri(record, context)), DCAT.Dataset)
    b.add((ds, DCT.title, text(record.title, LANG)))
    b.add((ds, DCT.description, text(description(record, context, max_length=None), LANG)))
    for part in PARTS:
        part(b, ds)
    return b.g


def graph(record: Record, context: Context) -> Graph:
    """The DCAT-AP 3.0.1 graph of one record: a dcat:Dataset named by its DOI (else its
    landing page), with every object node typed and every EU concept self-described.

    The graph lives in rdflib's `SimpleMemory` store, which keeps insertion order, so every
    serialisation is byte-stable across processes; it is not context-aware (copy it,
    `rdflib.Graph() + g`, before putting it into a Dataset). It has its own namespace
    manager with our prefixes, so binding more prefixes on it is safe."""
    g = _build(record, context)
    g.namespace_manager = NamespaceManager(g, bind_namespaces="core")
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g


def render_turtle(record: Record, context: Context) -> str:
    return _build(record, context).serialize(format="turtle")


def render_rdfxml(record: Record, context: Context) -> str:
    return rdfxml(_build(record, context))


def render_jsonld(record: Record, context: Context) -> str:
    return jsonld(_build(record, context), JSONLD_CONTEXT, _dataset_iri(record, context))


FORMATS = (
    Format("dcat-turtle", "DCAT-AP 3.0.1 (Turtle)", "text/turtle", "ttl", render_turtle,
           profile="http://data.europa.eu/r5r/"),
    Format("dcat-rdfxml", "DCAT-AP 3.0.1 (RDF/XML)", "application/rdf+xml", "rdf",
           render_rdfxml, profile="http://data.europa.eu/r5r/"),
    Format("dcat-jsonld", "DCAT-AP 3.0.1 (JSON-LD)", "application/ld+json", "jsonld",
           render_jsonld, profile="http://data.europa.eu/r5r/"),
)
