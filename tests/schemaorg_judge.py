"""The schema.org judge shared by the mapping tests and the landing-page tests: the schema.org
v30 vocabulary (../shared/data/schemaorg/) for types, properties, domains and ranges, and
the Google Dataset Search required shape of science-on-schema.org (googleRequired.ttl).

JSON-LD is expanded with pyld and a document loader that serves a local context for any
schema.org URL and refuses everything else (no network).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import rdflib
from pyld import jsonld
from rdflib import RDF, Literal, URIRef

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
S = "http://schema.org/"
# The schema.org context makes these @id-typed (crosswalk section 8); @vocab does the rest.
LOCAL_CONTEXT = {"@vocab": S, **{term: {"@id": S + term, "@type": "@id"}
                                 for term in ("sameAs", "url", "license", "contentUrl",
                                              "usageInfo")}}
TEXT_TYPES = {"Text", "URL", "Date", "DateTime", "Time", "CssSelectorType", "XPathType"}
NUMBER_TYPES = {"Number", "Integer", "Float"}


# --- the judge: schema.org vocabulary ---------------------------------------------------------

class Vocabulary:
    def __init__(self, path: Path) -> None:
        graph = json.loads(path.read_text())["@graph"]
        self.terms: dict[str, dict] = {n["@id"].removeprefix("schema:"): n for n in graph
                                       if n["@id"].startswith("schema:")}

    @staticmethod
    def _ids(node: dict, key: str) -> set[str]:
        value = node.get(key, [])
        return {v["@id"].removeprefix("schema:") for v in (value if isinstance(value, list)
                                                          else [value])}

    def kinds(self, name: str) -> set[str]:
        node = self.terms.get(name)
        if node is None:
            return set()
        kinds = node["@type"]
        return set(kinds if isinstance(kinds, list) else [kinds])

    def is_class(self, name: str) -> bool:
        return bool(self.kinds(name) & {"rdfs:Class", "schema:DataType"})

    def is_property(self, name: str) -> bool:
        return "rdf:Property" in self.kinds(name)

    @cache
    def ancestors(self, name: str) -> frozenset[str]:
        out = {name}
        for parent in self._ids(self.terms.get(name, {}), "rdfs:subClassOf"):
            out |= self.ancestors(parent)
        return frozenset(out)

    def domain(self, prop: str) -> set[str]:
        return self._ids(self.terms[prop], "schema:domainIncludes")

    def range(self, prop: str) -> set[str]:
        return self._ids(self.terms[prop], "schema:rangeIncludes")

    def __hash__(self) -> int:
        return id(self)


@cache
def schemaorg_vocabulary() -> Vocabulary:
    """The judge's vocabulary (schema.org v30), read once per test session."""
    return Vocabulary(DATA / "schemaorg" / "schemaorg-current-https.jsonld")


@cache
def google_required_shape() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "shacl" / "soso" / "googleRequired.ttl")


def local_loader(url: str, options: dict | None = None) -> dict:
    if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
        return {"contextUrl": None, "documentUrl": url, "document": {"@context": LOCAL_CONTEXT}}
    raise jsonld.JsonLdError(f"refusing to load {url}", "loading document failed")


def to_graph(doc: dict) -> rdflib.Graph:
    """The JSON-LD as RDF, through pyld (expansion and toRdf) with the local context."""
    options = {"documentLoader": local_loader, "format": "application/n-quads"}
    nquads = jsonld.to_rdf(doc, options)
    return rdflib.Graph().parse(data=nquads, format="nt")


def local(term: URIRef) -> str:
    assert str(term).startswith(S), f"{term} is not a schema.org term"
    return str(term)[len(S):]


def literal_fits(vocab: Vocabulary, value: Literal, ranges: set[str]) -> bool:
    python = value.toPython()
    if isinstance(python, bool):
        return "Boolean" in ranges
    if isinstance(python, (int, float)):
        return bool(ranges & NUMBER_TYPES)
    return bool(ranges & TEXT_TYPES)


def problems(vocab: Vocabulary, graph: rdflib.Graph) -> list[str]:
    """Unknown terms, and values outside the domain/range schema.org declares."""
    found = []
    types = {s: {local(t) for t in graph.objects(s, RDF.type)} for s in graph.subjects()}
    for s, p, o in graph:
        if p == RDF.type:
            if not vocab.is_class(local(o)):
                found.append(f"unknown type {o}")
            continue
        prop = local(p)
        if not vocab.is_property(prop):
            found.append(f"unknown property {prop}")
            continue
        subject_types = set().union(*(vocab.ancestors(t) for t in types.get(s, set())))
        if not subject_types & vocab.domain(prop):
            found.append(f"{prop} not allowed on {types.get(s)}")
        ranges = vocab.range(prop)
        object_types = types.get(o, set())
        if isinstance(o, Literal):
            ok = literal_fits(vocab, o, ranges)
        elif isinstance(o, URIRef) and "URL" in ranges:
            ok = True  # an IRI is a URL, whatever else it names
        elif object_types:
            ok = bool(set().union(*(vocab.ancestors(t) for t in object_types)) & ranges)
        else:  # an untyped IRI can refer to a thing of any class (not to a datatype value)
            ok = isinstance(o, URIRef) and bool(ranges - TEXT_TYPES - NUMBER_TYPES - {"Boolean"})
        if not ok:
            found.append(f"{prop} value {o!r} outside range {sorted(ranges)}")
    return found
