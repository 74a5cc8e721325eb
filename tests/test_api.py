"""The native JSON API: search, records by id, health, the error shape, and embargo
invisibility on every endpoint."""
from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from gateway.index import Query, catch_up
from gateway.store import Batch
from mappings.record import with_hash

from .apps import app_over
from .factories import NOW, corpus, make_record
from .oracle import brute_facets, brute_search


@pytest.fixture
def records():
    return corpus(60)


@pytest.fixture
def app(tmp_path, records, clock, backend_config):
    """The app on one index backend (every test here runs on each; see conftest.py)."""
    with app_over(tmp_path, records, clock, **backend_config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def embargoed(records):
    return [r for r in records if r.dates.release_date and r.dates.release_date > NOW]


def assert_error(resp, status, code):
    assert resp.status_code == status
    assert resp.is_json
    body = resp.get_json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_search_matches_brute_force_with_facets(client, records):
    resp = client.get("/api/search?q=oxide&facility=ESRF&facility=PSI&size=5")
    body = resp.get_json()
    q = Query(text="oxide", filters={"facility": ("ESRF", "PSI")})
    expected = brute_search(records, q, NOW)
    assert body["total"] == len(expected)
    facets = {f: {v["value"]: v["count"] for v in vs} for f, vs in body["facets"].items()}
    assert facets == brute_facets(expected, tuple(facets))
    ids = [h["id"] for h in body["hits"]]
    while body.get("next"):
        body = client.get(body["next"].removeprefix("https://data.example.org/gw")).get_json()
        ids += [h["id"] for h in body["hits"]]
    assert sorted(ids) == sorted(r.id for r in expected) and len(ids) == len(set(ids))


def test_search_hits_carry_record_and_url(client):
    body = client.get("/api/search?sort=title&size=1").get_json()
    hit = body["hits"][0]
    assert hit["record"]["id"] == hit["id"]
    assert hit["url"].endswith("/api/records/" + hit["id"])
    assert "email" not in str(hit).lower()


def test_record_by_id(client, records):
    public = next(r for r in records if r not in embargoed(records))
    body = client.get(f"/api/records/{public.id}").get_json()
    assert body["id"] == public.id and body["title"] == public.title
    assert body["creators"][0]["orcid"] == "https://orcid.org/0000-0002-1825-0097"


def test_embargoed_record_is_invisible_on_every_endpoint(client, records, clock):
    hidden = embargoed(records)[0]
    unknown = assert_error(client.get("/api/records/test:dataset:nope"), 404, "not_found")
    err = assert_error(client.get(f"/api/records/{hidden.id}"), 404, "not_found")
    assert err["message"].replace(hidden.id, "X") == unknown["message"].replace(
        "test:dataset:nope", "X")  # same answer as for an id that does not exist
    for q in ["", hidden.title, hidden.id]:
        body = client.get("/api/search", query_string={"q": q, "size": 100}).get_json()
        assert hidden.id not in {h["id"] for h in body["hits"]}
    everything = client.get("/api/search?size=100").get_json()
    assert everything["total"] == len(records) - len(embargoed(records))
    assert sum(v["count"] for v in everything["facets"]["kind"]) == everything["total"]
    title_hits = client.get("/api/search", query_string={"q": f'"{hidden.title}"'}).get_json()
    assert title_hits["total"] == 0 and all(
        sum(v["count"] for v in vs) == 0 for vs in title_hits["facets"].values())
    # once the embargo ends, the record appears everywhere
    clock[0] = hidden.dates.release_date + timedelta(seconds=1)
    assert client.get(f"/api/records/{hidden.id}").status_code == 200
    body = client.get("/api/search", query_string={"q": f'"{hidden.title}"'}).get_json()
    assert hidden.id in {h["id"] for h in body["hits"]}


def test_deleted_record_is_gone(app, client):
    gw = app.extensions["fairgate"]
    r = make_record(7000)
    gw.store.apply_batch("test", Batch(upserts=[r]), NOW)
    gw.store.apply_batch("test", Batch(deletes=[r.id]), NOW)
    catch_up(gw.store, gw.index)
    err = assert_error(client.get(f"/api/records/{r.id}"), 410, "gone")
    assert err["details"]["deleted_at"]
    # a deleted record that never became public looks like an unknown one
    e = make_record(7001, release=NOW + timedelta(days=9))
    gw.store.apply_batch("test", Batch(upserts=[e]), NOW)
    gw.store.apply_batch("test", Batch(deletes=[e.id]), NOW)
    assert_error(client.get(f"/api/records/{e.id}"), 404, "not_found")


@pytest.mark.parametrize("url,param", [
    ("/api/search?bogus=1", "bogus"),
    ("/api/search?size=-1", "size"),
    ("/api/search?size=100000", "size"),
    ("/api/search?size=abc", "size"),
    ("/api/search?from=yesterday", "from"),
    ("/api/search?q=a&q=b", "q"),
    ("/api/search?facets=colour", "facets"),
])
def test_bad_parameters_get_400_naming_the_parameter(client, url, param):
    err = assert_error(client.get(url), 400, "bad_request")
    assert err["details"]["parameter"] == param


@pytest.mark.parametrize("url,param", [("/api/search?sort=colour", "sort"),
                                       ("/api/search?cursor=xyz", "cursor")])
def test_bad_sort_or_cursor_is_a_400(client, url, param):
    assert assert_error(client.get(url), 400, "bad_request")["details"]["parameter"] == param


def test_unknown_route_and_method_use_the_error_shape(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    resp = client.post("/api/search")
    assert_error(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


@pytest.mark.parametrize("q", ['"', "title:x", "NEAR(a b)", "(((", "a OR", "*", "é*"])
def test_hostile_query_text_never_errors(client, q):
    assert client.get("/api/search", query_string={"q": q}).status_code == 200


def test_health_says_nothing_about_embargoed_records(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_urls_use_base_url_not_the_host_header(client):
    body = client.get("/api/search?size=1", headers={"Host": "evil.example"}).get_json()
    assert body["hits"][0]["url"].startswith("https://data.example.org/gw/api/records/")
    assert body["next"].startswith("https://data.example.org/gw/api/search?")


def test_search_never_shows_what_the_store_no_longer_holds_as_public(app, client, records):
    """The index lags the store (a harvest died between commit and index update): hits are
    checked against the store and the index catches up on the next request."""
    gw = app.extensions["fairgate"]
    public = next(r for r in records if r not in embargoed(records))
    hidden_again = replace(public, title=public.title + " SECRET",
                           dates=replace(public.dates, release_date=NOW + timedelta(days=400)))
    gw.store.apply_batch("test", Batch(upserts=[with_hash(hidden_again)]), NOW)
    gone = next(r for r in records if r not in embargoed(records) and r.id != public.id)
    gw.store.apply_batch("test", Batch(deletes=[gone.id]), NOW)
    assert gw.index.last_seq() < gw.store.last_seq()
    body = client.get("/api/search", query_string={"size": 100}).get_json()
    text = json.dumps(body)
    assert "SECRET" not in text and public.id not in text and gone.id not in text
    assert gw.index.last_seq() == gw.store.last_seq()
    again = client.get("/api/search", query_string={"size": 100}).get_json()
    assert again["total"] == len(records) - len(embargoed(records)) - 2


def test_a_record_deleted_under_embargo_stays_unknown_after_its_release_date(app, client, clock):
    gw = app.extensions["fairgate"]
    e = make_record(7002, release=NOW + timedelta(days=9))
    gw.store.apply_batch("test", Batch(upserts=[e]), NOW)
    gw.store.apply_batch("test", Batch(deletes=[e.id]), NOW)
    clock[0] = NOW + timedelta(days=30)
    assert_error(client.get(f"/api/records/{e.id}"), 404, "not_found")


@pytest.mark.parametrize("query", [
    {"size": "²"}, {"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"},
    {"instrument": ["ID11"] * 101}, {"q": "e* " * 2000}, {"q": " ".join(f"w{i}" for i in range(40))},
    {"q": "x" * 2001},
])
def test_edge_inputs_are_answered_not_crashed(client, query):
    assert client.get("/api/search", query_string=query).status_code in (200, 400)


@pytest.mark.parametrize("key", [[{}, "x"], [[1], "x"], [2**70, "x"], ["a", 5], [True, "x"],
                                 [float("nan"), "x"]])
def test_tampered_cursors_are_400(client, key):
    from gateway.api.params import search_query
    from gateway.index import cursor
    from werkzeug.datastructures import MultiDict
    q = search_query(MultiDict({"sort": "date"}), default_size=20, max_size=100)
    raw = json.dumps({"q": cursor.fingerprint(q), "k": key}).encode()
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert_error(client.get("/api/search", query_string={"sort": "date", "cursor": token}),
                 400, "bad_request")


def test_too_many_terms_is_a_400_naming_q(client):
    err = assert_error(client.get("/api/search", query_string={
        "q": " ".join(f"w{i}" for i in range(40))}), 400, "bad_request")
    assert "terms" in err["message"] and err["details"]["parameter"] == "q"


def test_an_id_with_escaped_characters_works_pasted_verbatim(app, client):
    gw = app.extensions["fairgate"]
    r = make_record(7004, id="test:dataset:donn~C3~A9es/file~202.nxs/1.1")
    gw.store.apply_batch("test", Batch(upserts=[r]), NOW)
    assert client.get("/api/records/test:dataset:donn~C3~A9es/file~202.nxs/1.1").status_code == 200
