"""DCAT-AP 3.0.1 (mappings/dcat.py), judged by the official SHACL shapes (crosswalk section 9):
shapes.ttl + shapes_recommended.ttl + range.ttl + mdr-vocabularies.shape.ttl, offline, with
the bundle's small extract of EU vocabularies in the data graph. Every fixture conforms (no
sh:Violation). Warnings are allowed, but only the kinds listed in KNOWN_WARNINGS (each one
explained there and in docs/formats.md); a new kind fails the test.

The three serialisations parse back to graphs isomorphic to `dcat.graph`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib import RDF, Namespace, URIRef
from pyld import jsonld
from rdflib.compare import isomorphic

from mappings import dcat

from .golden import GOLDEN_FIXTURES, golden_text
from .render_fixtures import CONTEXT, FIXTURES

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHAPES = DATA / "shacl" / "dcat-ap-3.0.1"
SH = Namespace("http://www.w3.org/ns/shacl#")
DCT = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SERIALISATIONS = {"dcat-turtle": ("turtle", "ttl"), "dcat-rdfxml": ("xml", "rdf"),
                  "dcat-jsonld": ("json-ld", "jsonld")}

# (path, constraint component) of the Warnings we accept, and why.
KNOWN_WARNINGS = {
    # no spatial coverage: experiments at a facility have no geographic subject
    ("spatial", "MinCountConstraintComponent"),
    # the record says nothing about it (no keywords/techniques/samples, no dates, no facility,
    # no file formats, or only a start date)
    ("keyword", "MinCountConstraintComponent"), ("temporal", "MinCountConstraintComponent"),
    ("publisher", "MinCountConstraintComponent"), ("format", "MinCountConstraintComponent"),
    ("endDate", "MinCountConstraintComponent"),
    # publisher identified by ROR (or a blank node without one), not the EU corporate-body NAL
    ("publisher", "NodeConstraintComponent"), ("publisher", "NodeKindConstraintComponent"),
    # PaNET technique themes next to the EU TECH theme (the shape checks every theme value)
    ("theme", "NodeConstraintComponent"),
    # persons (creators, contributors) have no ADMS publisher type
    ("type", "MinCountConstraintComponent"),
}


def no_loading(url: str, options: dict | None = None) -> dict:
    raise jsonld.JsonLdError(f"refusing to load {url}", "loading document failed")


def parse(text: str, parser: str) -> rdflib.Graph:
    """Turtle and RDF/XML with rdflib; JSON-LD with pyld (an independent reader; rdflib's
    JSON-LD parser also warns about its own deprecated ConjunctiveGraph)."""
    if parser == "json-ld":
        nquads = jsonld.to_rdf(json.loads(text), {"format": "application/n-quads",
                                                  "documentLoader": no_loading})
        return rdflib.Graph().parse(data=nquads, format="nt")
    return rdflib.Graph().parse(data=text, format=parser)


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in ("shapes.ttl", "shapes_recommended.ttl", "range.ttl",
                 "mdr-vocabularies.shape.ttl"):
        graph.parse(SHAPES / name)
    return graph


@pytest.fixture(scope="module")
def vocabularies() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES / "vocab-extract.ttl")


@pytest.fixture(scope="module")
def graphs() -> dict[str, rdflib.Graph]:
    return {key: dcat.graph(record, CONTEXT) for key, record in FIXTURES.items()}


def validate(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, list[tuple], str]:
    """pyshacl as crosswalk section 9 runs it; returns the top-level results (not the
    details of nested sh:node checks) whose focus node is in our graph."""
    conforms, report, text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True,
        do_owl_imports=False)
    results = []
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        path = str(report.value(result, SH.resultPath)).rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        component = str(report.value(result, SH.sourceConstraintComponent)).rsplit("#", 1)[-1]
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        results.append((severity, path, component, focus))
    return conforms, results, text


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_dcat_ap_shapes_conform(key, graphs, shapes, vocabularies):
    graph = graphs[key]
    conforms, results, text = validate(graph + vocabularies, shapes)
    assert conforms, text
    assert not [r for r in results if r[0] == "Violation"], text
    ours = [(path, comp) for sev, path, comp, focus in results
            if sev == "Warning" and (focus, None, None) in graph]
    assert set(ours) <= KNOWN_WARNINGS, text
    assert len(ours) <= 12, Counter(ours)


def test_self_contained_without_the_vocabulary_extract(graphs, shapes):
    """The graph describes the EU concepts it uses itself, so it conforms alone too."""
    for key in ("maximal", "embargoed", "minimal-document"):
        conforms, results, text = validate(rdflib.Graph() + graphs[key], shapes)
        assert conforms, text


def test_the_judge_catches_violations(graphs, shapes, vocabularies):
    broken = rdflib.Graph() + graphs["maximal"]
    dataset = URIRef("https://doi.org/10.15151/ESRF-DC-1234567890")
    broken.remove((dataset, DCT.description, None))
    for dist in broken.objects(dataset, DCAT.distribution):
        broken.remove((dist, DCAT.accessURL, None))
    conforms, results, _ = validate(broken + vocabularies, shapes)
    assert not conforms
    assert {("description", "MinCountConstraintComponent"),
            ("accessURL", "MinCountConstraintComponent")} <= {(p, c) for s, p, c, _ in results
                                                               if s == "Violation"}


@pytest.mark.parametrize("name", sorted(SERIALISATIONS))
def test_serialisations_round_trip_to_the_same_graph(name, graphs):
    fmt = next(f for f in dcat.FORMATS if f.name == name)
    parser = SERIALISATIONS[name][0]
    for key, record in FIXTURES.items():
        text = fmt.render(record, CONTEXT)
        assert text == fmt.render(record, CONTEXT), (name, key)  # same bytes every time
        assert isomorphic(parse(text, parser), graphs[key]), key


def test_serialisers_never_add_prefixes_to_the_shared_namespace_manager():
    before = set(dcat.NAMESPACES.namespaces())
    for fmt in dcat.FORMATS:
        for record in FIXTURES.values():
            fmt.render(record, CONTEXT)
    dcat.graph(FIXTURES["maximal"], CONTEXT).bind("ex", "https://example.org/ns#")
    assert set(dcat.NAMESPACES.namespaces()) == before


@pytest.mark.slow
def test_same_bytes_in_every_process():
    """rdflib orders some output by hash; string hashes change with PYTHONHASHSEED."""
    code = ("import hashlib; from mappings import dcat; "
            "from tests.render_fixtures import CONTEXT, FIXTURES; "
            "print(hashlib.sha256(''.join(f.render(r, CONTEXT) for f in dcat.FORMATS "
            "for r in FIXTURES.values()).encode()).hexdigest())")
    root = Path(__file__).resolve().parents[1]
    digests = {subprocess.run([sys.executable, "-c", code], cwd=root, check=True, text=True,
                              capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}
                              ).stdout for seed in ("0", "1", "2")}
    assert len(digests) == 1


def test_blank_nodes_of_different_records_never_collide(graphs):
    def bnodes(graph):
        return {n for triple in graph for n in triple if isinstance(n, rdflib.BNode)}
    assert not bnodes(graphs["maximal"]) & bnodes(graphs["embargoed"])


def test_formats_are_registered_with_the_dcat_ap_profile():
    assert [(f.name, f.media_type, f.extension) for f in dcat.FORMATS] == [
        ("dcat-turtle", "text/turtle", "ttl"), ("dcat-rdfxml", "application/rdf+xml", "rdf"),
        ("dcat-jsonld", "application/ld+json", "jsonld")]
    assert {f.profile for f in dcat.FORMATS} == {"http://data.europa.eu/r5r/"}


# --- behaviour -------------------------------------------------------------------------------

def _distribution(graph: rdflib.Graph, dataset: URIRef):
    (dist,) = graph.objects(dataset, DCAT.distribution)
    return dist


def test_embargo_hides_the_files_and_states_the_release(graphs):
    record = FIXTURES["embargoed"]
    graph, dataset = graphs["embargoed"], URIRef("https://doi.org/10.15151/ESRF-DC-2")
    dist = _distribution(graph, dataset)
    assert graph.value(dist, DCAT.accessURL) == URIRef(CONTEXT.landing_url(record))
    assert graph.value(dist, DCAT.downloadURL) is None
    assert record.files.access_url not in graph.serialize(format="nt")
    assert graph.value(dataset, DCT.accessRights) == URIRef(
        "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC")
    assert str(graph.value(dataset, DCT.available)) == "2029-06-30"

    open_graph = graphs["maximal"]
    open_ds = URIRef("https://doi.org/10.15151/ESRF-DC-1234567890")
    open_dist = _distribution(open_graph, open_ds)
    assert open_graph.value(open_dist, DCAT.accessURL) == URIRef(
        FIXTURES["maximal"].files.access_url)
    assert open_graph.value(open_ds, DCT.accessRights).endswith("/PUBLIC")


def test_licences_are_eu_nal_iris_or_their_url(graphs):
    def licence(key):
        graph = graphs[key]
        (dataset,) = graph.subjects(RDF.type, DCAT.Dataset)
        return str(graph.value(_distribution(graph, dataset), DCT.license))
    nal = "http://publications.europa.eu/resource/authority/licence/"
    assert licence("maximal") == nal + "CC_BY_4_0"
    assert licence("cc0") == nal + "CC0"
    assert licence("license-unknown-spdx") == "https://spdx.org/licenses/MIT"


def test_people_publisher_contact_and_provenance(graphs):
    graph = graphs["maximal"]
    dataset = URIRef("https://doi.org/10.15151/ESRF-DC-1234567890")
    FOAF = Namespace("http://xmlns.com/foaf/0.1/")
    PROV = Namespace("http://www.w3.org/ns/prov#")
    ada = URIRef("https://orcid.org/0000-0002-1825-0097")
    assert (dataset, DCT.creator, ada) in graph and (ada, RDF.type, FOAF.Person) in graph
    assert graph.value(dataset, DCT.publisher) == URIRef("https://ror.org/02550n020")
    contact = graph.value(dataset, DCAT.contactPoint)
    assert str(graph.value(contact, Namespace("http://www.w3.org/2006/vcard/ns#").hasEmail)) \
        == "mailto:data-office@example.org"
    activity = graph.value(dataset, PROV.wasGeneratedBy)
    assert URIRef("http://purl.org/pan-science/PaNET/PaNET01196") in set(
        graph.objects(activity, DCT.type))
    assert URIRef("https://doi.org/10.15151/ESRF-INSTR-ID31") in set(
        graph.objects(activity, PROV.used))
    assert str(graph.value(dataset, DCT.description)) == FIXTURES["maximal"].description
    no_contact = dcat.graph(FIXTURES["maximal"], type(CONTEXT)(now=CONTEXT.now))
    assert no_contact.value(dataset, DCAT.contactPoint) is None


def test_descriptions_are_composed_when_missing_and_never_cut(graphs):
    graph = graphs["minimal-dataset"]
    (dataset,) = graph.subjects(RDF.type, DCAT.Dataset)
    assert str(graph.value(dataset, DCT.description)).startswith("Dataset \u201cx\u201d")
    graph = graphs["long-description"]
    (dataset,) = graph.subjects(RDF.type, DCAT.Dataset)
    full = FIXTURES["long-description"].description.strip()
    assert str(graph.value(dataset, DCT.description)) == full


# --- golden files ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", GOLDEN_FIXTURES)
@pytest.mark.parametrize("name", sorted(SERIALISATIONS))
def test_golden(key, name, graphs):
    """Regenerate with FAIRGATE_REGEN_GOLDEN=1 (compared by graph isomorphism)."""
    parser, ext = SERIALISATIONS[name]
    fmt = next(f for f in dcat.FORMATS if f.name == name)
    text = golden_text(f"{key}.{name}.{ext}", lambda: fmt.render(FIXTURES[key], CONTEXT))
    stored = parse(text, parser)
    assert isomorphic(stored, graphs[key])
