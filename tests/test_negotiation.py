"""Content negotiation on landing page URLs: Accept with q-values, `?format=`, URL suffixes,
406 (gateway/pages/negotiation.py, docs/pages.md). Bodies are judged by parsers that are
not ours (lxml, rdflib, json)."""
from __future__ import annotations

import json

import pytest
import rdflib
from lxml import etree

from gateway.pages.negotiation import OFFERS, SUFFIXES, choose, parse_accept
from mappings.formats import FORMATS
from mappings.record import Dates

from .factories import make_record
from .apps import app_over
from .render_fixtures import FIXTURES, FUTURE_RELEASE, NOW

BASE = "https://data.example.org/gw"
MAXIMAL = FIXTURES["maximal"]
URL = "/datasets/esrf:dataset:maximal"


@pytest.fixture
def client(tmp_path, clock):
    extra = [make_record(1, id="test:dataset:donn~C3~A9es/file~202.nxs/1.1"),
             make_record(2, id="test:dataset:run.rdf", title="An id ending in .rdf"),
             make_record(3, id="test:dataset:run", title="The run itself"),
             make_record(4, id="test:dataset:run.ttl", title="Hidden",
                         dates=Dates(release_date=FUTURE_RELEASE))]
    with app_over(tmp_path, [*FIXTURES.values(), *extra], clock, base_url=BASE) as app:
        yield app.test_client()


def name(header: str | None) -> str | None:
    offer = choose(header)
    return offer.name if offer else None


# --- the negotiation rules, as pure functions -----------------------------------------------

@pytest.mark.parametrize("header,expected", [
    (None, "html"), ("", "html"), ("*/*", "html"), ("text/*", "html"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # a browser
    ("application/ld+json", "schemaorg"),
    ('application/ld+json;profile="http://data.europa.eu/r5r/"', "dcat-jsonld"),
    ('application/ld+json; profile="https://schema.org"', "schemaorg"),
    ("text/turtle", "dcat-turtle"), ("application/rdf+xml", "dcat-rdfxml"),
    ("application/xml", "oai_datacite"), ("application/json", "panosc"),
    ("application/vnd.datacite.datacite+xml", "datacite-xml"),
    ("application/vnd.datacite.datacite+json", "datacite-json"),
    # q-values decide ...
    ("application/ld+json;q=0.5, text/turtle;q=0.9", "dcat-turtle"),
    ("text/html;q=0.1, application/rdf+xml", "dcat-rdfxml"),
    ("text/turtle;q=0, */*", "html"),
    # ... a tie goes to the more specific range, then to the one the client listed first
    ("text/turtle, application/ld+json", "dcat-turtle"),
    ("application/ld+json, text/turtle", "schemaorg"),
    ("text/turtle;q=0.5, application/rdf+xml;q=0.5", "dcat-turtle"),
    ("*/*, text/turtle", "dcat-turtle"),
    ("application/*, text/turtle", "dcat-turtle"),
    # the most specific matching range sets an offer's q
    ("text/*;q=0.9, text/html;q=0.1", "dcat-turtle"),
    # linksets (signposting's own Accept header)
    ("application/linkset+json,application/linkset;q=0.9,application/json;q=0.3,"
     "text/plain;q=0.2", "linkset-json"),
    ("application/linkset", "linkset"),
    # nothing acceptable
    ("image/png", None), ("text/html;q=0", None), ("*/*;q=0", None),
])
def test_choose(header, expected):
    assert name(header) == expected


def test_malformed_ranges_are_skipped_not_fatal():
    assert [r.subtype for r in parse_accept("text/turtle;q=abc, nonsense, */html, "
                                            "application/rdf+xml;q=2, text/html")] == ["html"]
    assert parse_accept('application/ld+json;profile="a,b;c";q=0.4')[0].q == 0.4


def test_every_suffix_names_a_registered_representation():
    assert set(SUFFIXES.values()) <= set(OFFERS)
    assert set(OFFERS) == {"html", "linkset", "linkset-json", *FORMATS}
    assert {s: SUFFIXES[s] for s in (".jsonld", ".datacite.xml", ".datacite.json", ".ttl",
                                     ".rdf", ".dc.xml")} == {
        ".jsonld": "schemaorg", ".datacite.xml": "datacite-xml",
        ".datacite.json": "datacite-json", ".ttl": "dcat-turtle", ".rdf": "dcat-rdfxml",
        ".dc.xml": "oai_dc"}


# --- over HTTP: every representation by each route ---------------------------------------------

def parse(media_type: str, body: bytes) -> object:
    """Parse a body with a parser that knows its media type; fails on anything else."""
    if media_type == "text/html":
        return etree.fromstring(body, etree.HTMLParser()).findtext(".//h1")
    if media_type.endswith("xml"):
        root = etree.fromstring(body)
        if media_type == "application/rdf+xml":
            return len(rdflib.Graph().parse(data=body, format="xml"))
        return etree.QName(root).localname
    if media_type == "text/turtle":
        return len(rdflib.Graph().parse(data=body, format="turtle"))
    if media_type == "application/linkset":
        return body.decode().count('rel="')
    return json.loads(body)


def check(client, resp, offer_name: str):
    offer = OFFERS[offer_name]
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == offer.media_type
    assert parse(offer.media_type, resp.data)
    if offer_name in FORMATS:
        context = client.application.extensions["fairgate"].render_context(NOW)
        assert resp.get_data(as_text=True).endswith(FORMATS[offer_name].render(MAXIMAL, context))
        assert resp.headers["Link"] == f'<{BASE}{URL}>; rel="describes"; type="text/html"'


@pytest.mark.parametrize("offer_name", sorted(OFFERS))
def test_format_parameter_for_every_representation(client, offer_name):
    resp = client.get(URL, query_string={"format": offer_name},
                      headers={"Accept": "image/png"})  # ?format= wins over Accept
    check(client, resp, offer_name)
    assert "Accept" not in resp.headers.get("Vary", "")


@pytest.mark.parametrize("offer_name", sorted(OFFERS))
def test_accept_for_every_representation(client, offer_name):
    offer = OFFERS[offer_name]
    accept = offer.media_type
    shared = [o for o in OFFERS.values() if o.media_type == offer.media_type]
    if shared[0].name != offer_name:  # a media type several formats share: say which
        if not offer.profile:
            pytest.skip(f"{offer_name} shares {accept} without a profile: by ?format= only")
        accept += f'; profile="{offer.profile}"'
    resp = client.get(URL, headers={"Accept": accept})
    check(client, resp, offer_name)
    assert resp.headers["Vary"] == "Accept"
    if offer_name != "html":
        assert resp.headers["Content-Location"] == f"{BASE}{URL}?format={offer_name}"


@pytest.mark.parametrize("suffix", sorted(SUFFIXES))
def test_suffix_for_every_extension(client, suffix):
    resp = client.get(URL + suffix)
    check(client, resp, SUFFIXES[suffix])
    assert client.get(URL + suffix, query_string={"format": "html"}).mimetype == "text/html"


def test_xml_ambiguity_is_resolved_by_profile(client):
    resp = client.get(URL, headers={
        "Accept": 'application/xml;profile="http://www.openarchives.org/OAI/2.0/oai_dc/"'})
    assert etree.QName(etree.fromstring(resp.data)).localname == "dc"


def test_an_exact_id_wins_over_a_suffix(client):
    own = client.get("/datasets/test:dataset:run.rdf")
    assert own.mimetype == "text/html" and b"An id ending in .rdf" in own.data
    turtle = client.get("/datasets/test:dataset:run.rdf.ttl")
    assert turtle.mimetype == "text/turtle"
    verbatim = client.get("/datasets/test:dataset:donn~C3~A9es/file~202.nxs/1.1")
    assert verbatim.status_code == 200 and verbatim.mimetype == "text/html"
    suffixed = client.get("/datasets/test:dataset:donn~C3~A9es/file~202.nxs/1.1.jsonld")
    assert suffixed.get_json()["name"] == make_record(1).title


def test_a_hidden_record_never_changes_what_a_url_means(client):
    """test:dataset:run.ttl is embargoed: its URL is the Turtle of test:dataset:run, as if
    the hidden record did not exist (a 404 would reveal it)."""
    resp = client.get("/datasets/test:dataset:run.ttl")
    assert resp.mimetype == "text/turtle" and b"The run itself" in resp.data
    assert b"Hidden" not in resp.data


def test_unknown_format_is_406_listing_what_there_is(client):
    resp = client.get(URL, query_string={"format": "pdf"}, headers={"Accept": "application/json"})
    assert resp.status_code == 406
    err = resp.get_json()["error"]
    assert err["code"] == "not_acceptable" and "pdf" in err["message"]
    available = {a["format"]: a for a in err["details"]["available"]}
    assert set(available) == set(OFFERS)
    assert available["dcat-turtle"]["url"] == f"{BASE}{URL}.ttl"
    assert available["oai_datacite"]["url"] == f"{BASE}{URL}?format=oai_datacite"
    html = client.get(URL, query_string={"format": "pdf"}, headers={"Accept": "text/html"})
    assert html.status_code == 406 and html.mimetype == "text/html"
    assert b"dcat-turtle" in html.data and b"application/rdf+xml" in html.data


def test_unacceptable_accept_is_406(client):
    resp = client.get(URL, headers={"Accept": "image/png, application/pdf"})
    assert resp.status_code == 406 and resp.headers["Vary"] == "Accept"
    assert resp.is_json and len(resp.get_json()["error"]["details"]["available"]) == len(OFFERS)


def test_head_answers_like_get_without_a_body(client):
    for accept in ("text/html", "text/turtle"):
        get, head = (client.open(URL, method=m, headers={"Accept": accept})
                     for m in ("GET", "HEAD"))
        assert head.status_code == 200 and head.data == b""
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert head.headers.get("Link") == get.headers.get("Link")


def test_the_path_must_match_the_kind(client):
    assert client.get("/documents/esrf:dataset:maximal").status_code == 404
    assert client.get("/datasets/esrf:document:MA-5678").status_code == 404
    assert client.get("/documents/esrf:document:MA-5678").status_code == 200


def test_embargoed_records_have_no_representation(client, clock):
    hidden = "/datasets/esrf:dataset:embargoed"
    for extra in ("", ".jsonld", "?format=linkset-json", "?format=datacite-xml"):
        resp = client.get(hidden + extra, headers={"Accept": "application/json"})
        assert resp.status_code == 404 and b"10.15151/ESRF-DC-2" not in resp.data
    clock[0] = FIXTURES["embargoed"].dates.release_date
    assert client.get(hidden + ".jsonld").get_json()["@id"] == "https://doi.org/10.15151/ESRF-DC-2"
