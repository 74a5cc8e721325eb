"""schema.org Dataset JSON-LD (mappings/schemaorg.py), judged by what is not ours:

- the schema.org v30 vocabulary: every type and property of the expanded JSON-LD exists;
  each property's domain includes its subject's type (or a supertype); each value fits the
  property's range (crosswalk section 8);
- the Google Dataset Search required shape of science-on-schema.org (googleRequired.ttl);
- Google's rules and the project's access policy as behaviour tests.

The judge itself is tests/schemaorg_judge.py (its fixtures `vocab` and `google_required`
are in conftest.py).
"""
from __future__ import annotations

import json

import pyshacl
import pytest
import rdflib
from pyld import jsonld
from rdflib import RDF, URIRef

from mappings import schemaorg
from mappings.rights import publication_year

from .golden import GOLDEN_FIXTURES, golden_text
from .render_fixtures import CONTEXT, FIXTURES, NOW
from .schemaorg_judge import S, problems, to_graph



@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {key: json.loads(schemaorg.render(r, CONTEXT)) for key, r in FIXTURES.items()}


@pytest.fixture(scope="module")
def graphs(docs) -> dict[str, rdflib.Graph]:
    return {key: to_graph(doc) for key, doc in docs.items()}


# --- the judges, for every fixture ---------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_terms_domains_and_ranges_are_schema_org(key, vocab, graphs, docs):
    assert docs[key]["@context"] == "https://schema.org/"
    graph = graphs[key]
    assert (None, RDF.type, URIRef(S + "Dataset")) in graph
    assert problems(vocab, graph) == []


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_google_required_shape_conforms(key, graphs, google_required):
    conforms, _, text = pyshacl.validate(graphs[key], shacl_graph=google_required,
                                         inference="none", do_owl_imports=False)
    assert conforms, text


def test_the_judge_catches_unknown_terms_and_domain_errors(vocab):
    bad = {"@context": "https://schema.org/", "@type": "Dataset", "name": "x",
           "colour": "red", "distribution": {"@type": "Person", "name": "y"},
           "creator": {"@type": "Person", "termCode": "PaNET1"}}
    found = problems(vocab, to_graph(bad))
    assert any("unknown property colour" in p for p in found)
    assert any("distribution value" in p for p in found)
    assert any("termCode not allowed" in p for p in found)
    with pytest.raises(jsonld.JsonLdError):
        to_graph({"@context": "https://example.org/ctx", "name": "x"})


# --- behaviour -----------------------------------------------------------------------------------

def test_description_is_always_within_google_limits(docs):
    for key, doc in docs.items():
        assert 50 <= len(doc["description"]) <= 5000, key
    assert docs["long-description"]["description"].endswith("\u2026")
    assert docs["short-description"]["description"].startswith("Short. Dataset \u201c")
    assert FIXTURES["maximal"].description == docs["maximal"]["description"]


def test_nothing_downloadable_while_embargoed(docs):
    for key in ("embargoed", "embargoed-minimal", "document-embargoed"):
        assert "distribution" not in docs[key], key
        assert "contentUrl" not in json.dumps(docs[key])
        assert docs[key]["isAccessibleForFree"] is True
    download = docs["maximal"]["distribution"][0]
    assert download["contentUrl"] == FIXTURES["maximal"].files.access_url
    assert (download["encodingFormat"], download["contentSize"]) == (
        "application/x-hdf5", "56000000000 B")


def test_conditions_of_access_name_the_embargo_end_and_coar(docs):
    text = docs["embargoed"]["conditionsOfAccess"]
    assert "2029-06-30" in text and "http://purl.org/coar/access_right/c_f1cf" in text
    assert "http://purl.org/coar/access_right/c_abf2" in docs["maximal"]["conditionsOfAccess"]
    assert "c_abf2" in docs["embargo-ends-now"]["conditionsOfAccess"]


def test_identity_doi_and_no_same_as_to_itself(docs):
    doc = docs["maximal"]
    assert doc["@id"] == "https://doi.org/10.15151/ESRF-DC-1234567890"
    assert doc["identifier"][0] == {
        "@type": "PropertyValue", "propertyID": "https://registry.identifiers.org/registry/doi",
        "value": "doi:10.15151/ESRF-DC-1234567890",
        "url": "https://doi.org/10.15151/ESRF-DC-1234567890"}
    assert doc["url"] == CONTEXT.landing_url(FIXTURES["maximal"])
    assert docs["minimal-dataset"]["@id"] == CONTEXT.landing_url(FIXTURES["minimal-dataset"])
    for key, doc in docs.items():
        same = doc.get("sameAs", [])
        assert doc["@id"] not in (same if isinstance(same, list) else [same]), key


def test_people_organisations_and_techniques_are_identified(docs):
    doc = docs["maximal"]
    ada = doc["creator"][0]
    assert (ada["@id"], ada["givenName"], ada["familyName"]) == (
        "https://orcid.org/0000-0002-1825-0097", "Ada", "Lovelace")
    assert ada["affiliation"]["@id"] == "https://ror.org/02550n020"
    assert "@id" not in doc["creator"][2]  # no ORCID: no invented identifier
    assert doc["publisher"] == {"@type": "Organization", "@id": "https://ror.org/02550n020",
                                "name": "ESRF"}
    assert doc["measurementTechnique"][0] == {
        "@type": "DefinedTerm", "name": "x-ray absorption spectroscopy",
        "termCode": "PaNET01196", "inDefinedTermSet": "http://purl.org/pan-science/PaNET/PaNET.owl",
        "url": "http://purl.org/pan-science/PaNET/PaNET01196"}
    assert doc["license"] == "https://spdx.org/licenses/CC-BY-4.0"
    assert docs["license-unknown-spdx"]["license"] == "https://spdx.org/licenses/MIT"
    assert doc["temporalCoverage"] == "2023-03-01T08:00:00Z/2023-03-04T08:00:00Z"
    assert docs["open-no-release-date"]["temporalCoverage"] == "2023-03-01T08:00:00Z/.."


def test_parameters_are_variables_with_units(docs):
    variables = {v["name"]: v for v in docs["maximal"]["variableMeasured"]}
    assert variables["temperature"] == {"@type": "PropertyValue", "name": "temperature",
                                        "value": 298.15, "unitText": "K", "unitCode": "KEL"}
    assert variables["cell"] == {"@type": "PropertyValue", "name": "cell", "value": "coin"}


def test_date_published_agrees_with_the_publication_year(docs):
    for key, doc in docs.items():
        assert doc["datePublished"][:4] == str(publication_year(FIXTURES[key], NOW)), key


def test_json_is_embeddable_in_html(docs):
    text = schemaorg.render(FIXTURES["xml-specials"], CONTEXT)
    assert "</" not in text
    assert json.loads(text)["name"] == FIXTURES["xml-specials"].title


# --- golden files --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", GOLDEN_FIXTURES)
def test_golden(key, docs):
    """Regenerate with FAIRGATE_REGEN_GOLDEN=1 (compared as JSON values, not bytes)."""
    text = golden_text(f"{key}.schemaorg.jsonld",
                       lambda: schemaorg.render(FIXTURES[key], CONTEXT) + "\n")
    assert json.loads(text) == docs[key]
