"""The OpenAPI document at /api/openapi.json: valid OpenAPI 3.1 (openapi-spec-validator),
true to the endpoint (every documented parameter accepted, anything else refused) and to
its bodies (responses validated against the documented schemas with jsonschema), and
browsable at /api/docs without anything fetched from elsewhere."""
from __future__ import annotations

import jsonschema
import pytest
from lxml import html
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.config import Config
from gateway.store import Batch

from .apps import app_over
from .factories import NOW, PANET, make_record
from .search_corpus import varied_corpus

BASE = "https://data.example.org/gw"


@pytest.fixture
def app(tmp_path, clock, backend_config):
    with app_over(tmp_path, varied_corpus(40), clock, base_url=BASE, **backend_config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def spec(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    return resp.get_json()


def conforms(spec: dict, body: object, schema_name: str) -> None:
    """Validate `body` against components/schemas/<schema_name> (JSON Schema 2020-12,
    which OpenAPI 3.1 schemas are), references resolved within the document."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    jsonschema.Draft202012Validator(root).validate(body)


def response_schema(spec: dict, path: str, status: int) -> str:
    content = spec["paths"][path]["get"]["responses"][str(status)]["content"]
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def test_the_document_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"] == [{"url": BASE}]
    assert {"/api/search", "/api/records/{record_id}", "/health", "/api/openapi.json",
            "/api/docs"} <= set(spec["paths"])


# One valid value for each documented parameter: a parameter added to the document
# without a value here fails `test_every_documented_parameter_is_accepted`.
SAMPLES = {
    "q": "oxide", "facility": "ESRF", "instrument": "ID11", "technique": PANET + "PaNET01196",
    "kind": "dataset", "year": "2020", "licence": "CC0-1.0", "access": "open",
    "param": "photon_energy:0.88..0.99:keV", "from": "2019-01-01", "to": "2024-12-31",
    "facets": "licence,access", "sort": "-title", "size": "3", "cursor": None,
}


def search_parameters(spec: dict) -> dict[str, dict]:
    return {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}


def test_every_documented_parameter_is_accepted(spec, client):
    documented = search_parameters(spec)
    assert set(documented) == set(SAMPLES)
    for name, value in SAMPLES.items():
        if name == "cursor":  # only meaningful from a previous page
            first = client.get("/api/search", query_string={"size": 1}).get_json()
            value = first["next_cursor"]
            resp = client.get("/api/search", query_string={"size": 1, "cursor": value})
        else:
            resp = client.get("/api/search", query_string={name: value})
        assert resp.status_code == 200, (name, resp.get_json())
        conforms(spec, resp.get_json(), response_schema(spec, "/api/search", 200))
        if documented[name]["schema"].get("type") == "array":  # repeatable: twice is fine
            twice = client.get("/api/search", query_string={name: [value, value]})
            assert twice.status_code == 200, name
        elif name != "cursor":
            once_more = client.get("/api/search", query_string={name: [value, value]})
            assert once_more.status_code == 400, name


@pytest.mark.parametrize("name", ["colour", "licence_id", "Q", "page", "limit", "skip",
                                  "filter", "format", "parameter"])
def test_an_undocumented_parameter_is_refused(spec, client, name):
    assert name not in search_parameters(spec)
    resp = client.get("/api/search", query_string={name: "x"})
    assert resp.status_code == 400
    conforms(spec, resp.get_json(), response_schema(spec, "/api/search", 400))
    assert resp.get_json()["error"]["details"]["parameter"] == name


@pytest.mark.parametrize("query", [
    {}, {"q": "cerium oxide", "size": 5}, {"facets": ""}, {"size": 0},
    {"technique": PANET + "PaNET01188", "sort": "date", "facets": "technique,year"},
    {"param": ["sample_temperature:..300:K", "temperature:80..83"], "access": "open"},
    {"q": "nomatchwhatsoever"},
])
def test_search_responses_conform_to_the_document(spec, client, query):
    resp = client.get("/api/search", query_string=query)
    assert resp.status_code == 200
    conforms(spec, resp.get_json(), "SearchResponse")


def test_a_hit_with_a_score_and_a_last_page_conform(spec, client):
    body = client.get("/api/search", query_string={"q": "scan", "size": 100}).get_json()
    assert body["next_cursor"] is None and body["hits"][0]["score"] > 0
    conforms(spec, body, "SearchResponse")
    broken = {**body, "hits": [{**body["hits"][0], "extra": 1}]}
    with pytest.raises(jsonschema.ValidationError):  # the schema is strict enough to judge
        conforms(spec, broken, "SearchResponse")


@pytest.mark.parametrize("url,status", [
    ("/api/search?size=abc", 400), ("/api/search?param=x:1..2:wobbles", 400),
    ("/api/records/test:dataset:nope", 404)])
def test_error_bodies_conform(spec, client, url, status):
    resp = client.get(url)
    assert resp.status_code == status
    path = "/api/search" if url.startswith("/api/search") else "/api/records/{record_id}"
    conforms(spec, resp.get_json(), response_schema(spec, path, status))


def test_records_gone_records_and_health_conform(spec, app, client):
    hit = client.get("/api/search?size=1").get_json()["hits"][0]
    record = client.get(f"/api/records/{hit['id']}")
    conforms(spec, record.get_json(), response_schema(spec, "/api/records/{record_id}", 200))
    gw = app.extensions["fairgate"]
    gone = make_record(9000)
    gw.store.apply_batch("test", Batch(upserts=[gone]), NOW)
    gw.store.apply_batch("test", Batch(deletes=[gone.id]), NOW)
    resp = client.get(f"/api/records/{gone.id}")
    assert resp.status_code == 410
    conforms(spec, resp.get_json(), response_schema(spec, "/api/records/{record_id}", 410))
    health = client.get("/health")
    conforms(spec, health.get_json(), response_schema(spec, "/health", 200))


def test_the_docs_page_shows_the_document_and_fetches_nothing(spec, client):
    resp = client.get("/api/docs")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = html.fromstring(resp.data)
    assert page.findtext(".//title") == spec["info"]["title"]
    rows = {tr.get("id") for tr in page.iter("tr") if tr.get("id")}
    assert {f"search-{name}" for name in search_parameters(spec)} <= rows
    headings = " ".join(h.text_content() for h in page.iter("h2"))
    for path in spec["paths"]:
        assert path in headings
    assert {h.get("id") for h in page.iter("h3")} >= {"schema-SearchResponse",
                                                       "schema-ErrorResponse"}
    # nothing loaded from elsewhere: no scripts, no external stylesheets, images or frames
    assert not page.xpath("//script | //link[@rel='stylesheet'] | //img | //iframe")
    links = [a.get("href") for a in page.iter("a")]
    assert all(h.startswith("#") or h == BASE + "/api/openapi.json" for h in links)
    internal = {h[1:] for h in links if h.startswith("#")}
    ids = {e.get("id") for e in page.iter() if e.get("id")}
    assert internal <= ids  # every in-page link has a target


def test_the_docs_page_escapes_what_it_shows(tmp_path):
    app = create_app(Config(data_dir=tmp_path, repository_name="<script>x</script> & co"))
    page = app.test_client().get("/api/docs").get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt; &amp; co" in page
