"""gateway.vocabulary: the PaNET hierarchy from the source CSV, an OWL release and the flat
packaged list. Judges: SPARQL property paths over the OWL (rdflib's own evaluator) and the
reasoned v1.1.0 release for the CSV's inferred subsumptions."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rdflib

from gateway.vocabulary import PANET, VocabularyError, load_techniques

PANET_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "panet"
CSV = PANET_DIR / "PaNET.csv"
OWL = PANET_DIR / "PaNET-v1.1.0.owl"


def P(digits: str) -> str:
    return f"{PANET}PaNET{digits}"


@pytest.fixture(scope="module")
def csv_vocab():
    return load_techniques(CSV)


@pytest.fixture(scope="module")
def owl_vocab():
    return load_techniques(OWL)


def test_csv_hierarchy_of_the_deep_technique_cases(csv_vocab):
    """The classes of doc/dataset-techniques-requirements.md fall where its tables say."""
    sas, xray, magnetism, xes = P("01124"), P("01012"), P("00207"), P("01200")
    asax, gisaxs, ixsas, sxsas, mxt, rixs = (P(n) for n in
                                             ("01275", "01162", "01281", "01282", "01313",
                                              "01183"))
    assert {asax, gisaxs, ixsas, sxsas} <= csv_vocab.descendants(sas)
    assert not {mxt, rixs, xes} & csv_vocab.descendants(sas)
    assert csv_vocab.descendants(xes) == {xes}
    assert {asax, gisaxs, ixsas, sxsas, mxt, rixs, xes} <= csv_vocab.descendants(xray)
    assert mxt in csv_vocab.descendants(magnetism)
    assert not {asax, gisaxs, ixsas, sxsas} & csv_vocab.descendants(magnetism)


def test_csv_infers_what_a_reasoner_infers(csv_vocab):
    """x-ray probe = definedbyprobe some x-ray, x-ray under photon: under photon probe;
    everything with a definedby* restriction is a 'photon and neutron technique' (domain)."""
    assert P("00100") in csv_vocab.ancestors(P("01012"))
    assert P("00001") in csv_vocab.ancestors(P("00100"))
    assert P("01189") in csv_vocab.descendants(P("00101"))  # SANS is a neutron technique
    # a label shared by a technique and a specifier class: "diffraction" the technique
    assert P("01022") in csv_vocab.ancestors(P("01216"))


def test_csv_agrees_with_the_reasoned_owl_release(csv_vocab, owl_vocab):
    """The v1.3.0 CSV reproduces at least 95 % of the subsumptions the reasoned v1.1.0 OWL
    states between the classes both have (the rest are PaNET's own changes since)."""
    shared = set(owl_vocab.labels) & set(csv_vocab.labels)
    pairs = [(c, a) for c in shared for a in owl_vocab.ancestors(c) if a in shared and a != c]
    kept = sum(a in csv_vocab.ancestors(c) for c, a in pairs)
    assert len(pairs) > 2500
    assert kept / len(pairs) >= 0.95


def test_owl_descendants_match_a_sparql_property_path(owl_vocab):
    graph = rdflib.Graph().parse(OWL, format="xml")
    for digits in ("01124", "01012", "00100", "01196"):
        rows = graph.query(
            "SELECT ?c WHERE { ?c (rdfs:subClassOf|owl:equivalentClass|^owl:equivalentClass)* ?t "
            "FILTER(isIRI(?c)) }",
            initNs={"rdfs": rdflib.RDFS, "owl": rdflib.OWL},
            initBindings={"t": rdflib.URIRef(P(digits))})
        expected = {str(r[0]) for r in rows if str(r[0]) in owl_vocab.labels}
        assert owl_vocab.descendants(P(digits)) >= expected
        assert len(expected) > 1


def test_find_by_iri_id_label_and_synonym(csv_vocab):
    sans = frozenset({P("01189")})
    for term in ("SANS", "sans", "PaNET01189", "PaNET:PaNET01189", P("01189"),
                 "Small  Angle Neutron Scattering"):
        assert csv_vocab.find(term) == sans, term
    assert P("01124") in csv_vocab.find("small angle scattering")
    assert csv_vocab.find("no such technique") == frozenset()
    assert csv_vocab.label(P("01227")) == "x-ray absorption"


def test_unknown_iri_is_its_own_family(csv_vocab):
    other = "https://example.org/technique/x"
    assert csv_vocab.descendants(other) == {other} == csv_vocab.ancestors(other)
    assert csv_vocab.label(other) is None


def test_flat_list_from_esrf_ontologies():
    flat = load_techniques(None)
    xas = flat.find("x-ray absorption spectroscopy")
    assert P("01196") in xas
    assert flat.descendants(P("01196")) == {P("01196")}
    assert flat.find("XAS") >= {P("01196")}
    assert len(flat) > 200


def test_version_follows_the_hierarchy(tmp_path, csv_vocab, owl_vocab):
    copy = tmp_path / "PaNET.csv"
    shutil.copy(CSV, copy)
    assert load_techniques(copy).version == csv_vocab.version
    assert owl_vocab.version != csv_vocab.version
    text = copy.read_text(encoding="utf-8").replace(
        "1275,http://purl.org/pan-science/PaNET/PaNET01275,anomalous solution x-ray scattering,"
        "ASAX,,,,owl:Class,anomalous small angle x-ray scattering",
        "1275,http://purl.org/pan-science/PaNET/PaNET01275,anomalous solution x-ray scattering,"
        "ASAX,,,,owl:Class,x-ray probe")
    changed = tmp_path / "changed.csv"
    changed.write_text(text, encoding="utf-8")
    assert text != copy.read_text(encoding="utf-8")
    assert load_techniques(changed).version != csv_vocab.version


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "missing.csv"),
    ("table.csv", "a,b\n1,2\n", "not a ROBOT template"),
    ("terms.json", "{}", "unknown file type"),
    ("broken.owl", "<rdf:RDF", "broken.owl"),
])
def test_bad_files_are_named(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message):
        load_techniques(path)


def test_config_path_is_taken_from_the_config_files_folder(tmp_path):
    from gateway.config import load_config
    from gateway.context import Gateway

    shutil.copy(CSV, tmp_path / "panet.csv")
    (tmp_path / "conf").mkdir()
    toml = tmp_path / "conf" / "fairgate.toml"
    toml.write_text('techniques_vocabulary = "../panet.csv"\ndata_dir = "var"\n',
                    encoding="utf-8")
    config = load_config(toml, env={})
    assert Path(config.techniques_vocabulary).resolve() == (tmp_path / "panet.csv").resolve()
    gw = Gateway.open(config)
    try:
        assert P("01189") in gw.techniques.descendants(P("00101"))
    finally:
        gw.close()
