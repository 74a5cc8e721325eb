"""Landing pages (/datasets/<id>, /documents/<id>): what a person reads, what Google
Dataset Search reads (JSON-LD, extracted by `extruct` and judged by the schema.org
vocabulary and the Google-required SHACL shape of tests/test_render_schemaorg.py), and
that nothing of a record that is not public leaks."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import extruct
import pyshacl
import pytest
from lxml import html as lxml_html

from gateway.store import Batch
from mappings import schemaorg
from mappings.record import (Affiliation, Facility, Files, Instrument, Person, Related,
                             Technique)

from .factories import make_record
from .apps import app_over
from .render_fixtures import CONTEXT, FIXTURES, FUTURE_RELEASE, NOW, public_fixtures
from .schemaorg_judge import problems, to_graph

BASE = "https://data.example.org/gw"


DOC = make_record(100, kind="document", title="Proposal MA-9 session",
                  id="test:document:inv9")
DOC = replace(DOC, identifiers=(replace(DOC.identifiers[0], value="MA-9"),))
PART = [Related("IsPartOf", DOC.id, "Local")]
DATASETS = [make_record(101 + i, title=f"Dataset {i} of MA-9", related=tuple(PART),
                        identifiers=DOC.identifiers) for i in range(3)]
HIDDEN_DATASET = make_record(110, title="Secret dataset of MA-9", related=tuple(PART),
                             identifiers=DOC.identifiers, release=FUTURE_RELEASE)
HIDDEN_DOC = make_record(111, kind="document", title="Secret proposal", id="test:document:inv10",
                         release=FUTURE_RELEASE)
ORPHAN = make_record(112, title="Dataset of a hidden proposal",
                     related=(Related("IsPartOf", HIDDEN_DOC.id, "Local"),))
LINKED = [DOC, *DATASETS, HIDDEN_DATASET, HIDDEN_DOC, ORPHAN]


@pytest.fixture
def app(tmp_path, clock, backend_config):
    with app_over(tmp_path, [*FIXTURES.values(), *LINKED], clock, base_url=BASE,
                  **backend_config) as app:
        yield app


@pytest.fixture
def embedded_app(tmp_path, clock):
    with app_over(tmp_path, [*FIXTURES.values(), *LINKED], clock, base_url=BASE) as app:
        yield app


@pytest.fixture
def client(embedded_app):
    return embedded_app.test_client()


def path(record) -> str:
    return CONTEXT.landing_url(record).removeprefix(CONTEXT.base_url)


def page(client, record):
    resp = client.get(path(record))
    assert resp.status_code == 200, resp.status
    return lxml_html.fromstring(resp.data), resp.get_data(as_text=True)


def jsonld_of(text: str) -> list[dict]:
    return extruct.extract(text, base_url=BASE, syntaxes=["json-ld"], uniform=False)["json-ld"]


# --- what a person reads ------------------------------------------------------------------------

def test_a_full_landing_page(client):
    rec = FIXTURES["maximal"]
    tree, text = page(client, rec)
    assert tree.findtext(".//h1") == rec.title
    assert tree.xpath("string(//p[@class='description'])") == rec.description
    orcids = tree.xpath("//a[@class='orcid']/@href")
    assert orcids == [rec.creators[0].orcid, rec.creators[1].orcid]
    assert "Marie Dupont" in text  # a creator without ORCID is named, not linked
    assert "https://ror.org/02550n020" in tree.xpath("//a/@href")  # facility
    assert "https://doi.org/10.15151/ESRF-INSTR-ID31" in tree.xpath("//a/@href")  # instrument
    assert tree.xpath("//a[@class='technique']/@href") == [t.iri for t in rec.techniques]
    assert "LiNi0.8Mn0.1Co0.1O2" in tree.xpath("//span[@class='formula']/text()")
    rows = [[c.text_content() for c in tr.findall("td")]
            for tr in tree.xpath("//table[@class='parameters']/tbody/tr")]
    assert ["temperature", "298.15", "K"] in rows and ["cell", "coin", ""] in rows
    assert "2023-03-01 08:00 UTC" in text and "2023-03-04 08:00 UTC" in text
    citation = tree.xpath("string(//p[@class='citation'])")
    assert citation == ("Lovelace, Ada; Carberry, Josiah; Dupont, Marie (2026). Operando XAS "
                        "and SAXS of a Ni-rich cathode during fast charging. ESRF. "
                        "https://doi.org/10.15151/ESRF-DC-1234567890")
    assert tree.xpath("//a[@rel='license']/@href") == [
        "https://creativecommons.org/licenses/by/4.0/legalcode"]
    assert tree.xpath("string(//dd[@class='access'])").startswith("open access")
    assert tree.xpath("//a[@class='download']/@href") == [rec.files.access_url]
    assert "56.0 GB" in text and "1234 files" in text
    formats = tree.xpath("//ul[@class='formats']//a/@href")
    assert f"{BASE}{path(rec)}.ttl" in formats and len(formats) == 12


def test_markup_in_records_is_text(client):
    rec = FIXTURES["xml-specials"]
    tree, text = page(client, rec)
    assert tree.findtext(".//h1") == rec.title
    assert "<b>bold</b>" not in text and "<tag>" not in text
    script = tree.xpath("//script[@type='application/ld+json']")[0].text
    assert "<" not in script and ">" not in script and "&" not in script
    assert json.loads(script)["name"] == rec.title


EVIL = "javascript:alert(1)"


def test_only_http_urls_become_links(tmp_path, clock):
    """A record that never went through validation (put in the store directly) with a
    `javascript:` value in every field the page links: each is shown as text, none is a
    link target, in the page, its <link>s or the Link header."""
    rec = make_record(
        7, id="test:dataset:evil", license="CC-BY-4.0",
        creators=(Person("Eve", orcid=EVIL, affiliation=Affiliation("Lab", EVIL)),),
        contributors=(Person("Mallory", orcid=EVIL, role="user"),),
        facility=Facility("Evil facility", EVIL), instrument=Instrument("Beamline", EVIL),
        techniques=(Technique(EVIL, "evil technique"),),
        files=Files(count=1, access_url=EVIL),
        related=(Related("References", EVIL, "URL"),))
    with app_over(tmp_path, [rec], clock, base_url=BASE) as app:
        resp = app.test_client().get(path(rec))
    assert resp.status_code == 200
    tree = lxml_html.fromstring(resp.data)
    targets = tree.xpath("//a/@href | //link/@href")
    assert targets and not [t for t in targets if t.lower().lstrip().startswith(
        ("javascript", "data", "vbscript"))]
    assert not [t for t in targets if not t.startswith(("http://", "https://", "/", "#"))]
    assert "alert" not in resp.headers["Link"]
    text = tree.xpath("string(//main)")
    for shown in ("Eve", "(ORCID javascript:alert(1))", "Lab", "Evil facility",
                  "Beamline", "evil technique", f"data at {EVIL}"):
        assert shown in text
    assert not tree.xpath("//a[@class='orcid' or @class='technique' or @class='download']")


def test_a_record_without_a_doi_is_cited_by_its_landing_page(client):
    rec = FIXTURES["minimal-dataset"]
    tree, _ = page(client, rec)
    assert tree.xpath("string(//p[@class='citation'])").endswith(CONTEXT.landing_url(rec)
                                                                  .replace(CONTEXT.base_url, BASE))
    assert not tree.xpath("//a[@class='download']")


# --- what Google reads: JSON-LD from the rendered page, judged ----------------------------------

@pytest.mark.parametrize("key", sorted(public_fixtures()))
def test_embedded_json_ld_passes_the_schema_org_judges(key, client, vocab, google_required):
    rec = FIXTURES[key]
    _, text = page(client, rec)
    docs = jsonld_of(text)
    assert len(docs) == 1
    doc = docs[0]
    assert doc == json.loads(json.dumps(schemaorg.dataset(rec, replace(CONTEXT, base_url=BASE,
                                                                       catalog_name="FAIRgate",
                                                                       contact_email=None))))
    graph = to_graph(doc)
    assert problems(vocab, graph) == []
    conforms, _, report = pyshacl.validate(graph, shacl_graph=google_required,
                                           inference="none", do_owl_imports=False)
    assert conforms, report


# --- what is not public does not leak --------------------------------------------------------

def test_embargoed_record_answers_as_an_unknown_one(client):
    rec = FIXTURES["embargoed"]
    unknown = client.get("/datasets/esrf:dataset:no-such-record")
    hidden = client.get(path(rec))
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.data.replace(b"embargoed", b"X") == unknown.data.replace(
        b"no-such-record", b"X")
    for secret in (rec.title, rec.pid, "2029-06-30", "Lovelace"):
        assert secret.encode() not in hidden.data
    assert "Link" not in hidden.headers and hidden.headers["Vary"] == unknown.headers["Vary"]
    as_json = client.get(path(rec), headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.get_json()["error"]["code"] == "not_found"


def test_deleted_records(embedded_app, client, clock):
    gw = embedded_app.extensions["fairgate"]
    gone, never = make_record(200), make_record(201, release=NOW + timedelta(days=5))
    gw.store.apply_batch("test", Batch(upserts=[gone, never]), NOW)
    gw.store.apply_batch("test", Batch(deletes=[gone.id, never.id]), NOW)
    resp = client.get(path(gone))
    assert resp.status_code == 410 and gone.title.encode() not in resp.data
    assert b"deleted" in resp.data
    assert client.get(path(gone), headers={"Accept": "application/json"}).get_json()[
        "error"]["code"] == "gone"
    clock[0] = NOW + timedelta(days=30)  # deleted while embargoed: stays unknown
    assert client.get(path(never)).status_code == 404


def test_embargo_end_opens_the_page(client, clock):
    rec = FIXTURES["embargoed"]
    clock[0] = rec.dates.release_date
    tree, _ = page(client, rec)
    assert tree.findtext(".//h1") == rec.title
    assert tree.xpath("//a[@class='download']/@href") == [rec.files.access_url]


def test_no_email_address_on_any_page(client):
    for rec in public_fixtures().values():
        assert "@example.org" not in client.get(path(rec)).get_data(as_text=True)


def test_urls_come_from_base_url_not_the_host_header(client):
    resp = client.get(path(FIXTURES["maximal"]), headers={"Host": "evil.example"})
    assert b"evil.example" not in resp.data and "evil.example" not in resp.headers["Link"]


# --- links between documents and datasets (the document side searches: both backends) ---------

def test_a_document_lists_its_public_datasets(app):
    client = app.test_client()
    tree, text = page(client, DOC)
    listed = tree.xpath("//ul[@class='datasets']//a/@href")
    assert sorted(listed) == sorted(f"{BASE}{path(d)}" for d in DATASETS)
    assert "Secret" not in text


def test_a_dataset_links_to_its_document_only_when_it_is_public(client):
    tree, _ = page(client, DATASETS[0])
    assert tree.xpath("//ul[@class='related']//a[@class='record-link']/@href") == [
        f"{BASE}{path(DOC)}"]
    assert tree.xpath("string(//ul[@class='related'])").strip() == f"Part of: {DOC.title}"
    _, text = page(client, ORPHAN)
    assert HIDDEN_DOC.id not in text and "Secret" not in text


def test_kinds_and_relations_of_the_fixtures_render(client):
    tree, text = page(client, FIXTURES["document-funded"])
    assert tree.xpath("string(//p[@class='kind'])") == "Experiment (document)"
    _, text = page(client, FIXTURES["maximal"])
    assert "Cited by" in text and "https://doi.org/10.1038/s41560-024-01234-5" in text
