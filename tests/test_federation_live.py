"""Acceptance: live FAIRgate gateways federating each other over HTTP on 127.0.0.1, plus a
slow partner (sleeps past its timeout), a failing one (HTTP 500) and a refused port.

Gateways g1, g2, g3 serve their own records on `/api`; g1 also federates g2 and g3; a fourth,
`hub`, federates g1, g2, g3 and the three bad partners. Merged pages are compared with a
brute-force merge of every healthy provider's full answer fetched from its `/api`.
"""
from __future__ import annotations

import json
import socket
from contextlib import ExitStack
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests

from gateway.app import create_app
from gateway.config import Config
from gateway.index import catch_up
from gateway.store import Batch

from .factories import NOW, make_record
from .panosc_partner import Partner, serve
from .test_federation_merge import brute_force_merge, doi_key

SHARED = {3: "10.5072/fed-1", 5: "10.5072/fed-2", 7: "10.5072/fed-3"}
SECRET = "10.5072/embargoed-secret"


def records(n: int, source: str, pids: dict[int, str], secret: bool = False) -> list:
    """n records of `source`: some with shared DOIs, some with a repeated title (ties),
    every ninth under embargo, one document in ten."""
    out = []
    for i in range(n):
        release = NOW + timedelta(days=30) if i % 9 == 8 else NOW - timedelta(days=1)
        kw = {"pid": pids[i]} if i in pids else {}
        if i % 4 == 1:
            kw["title"] = "Common title"
        out.append(make_record(i + 1000 * len(source), source=source, release=release,
                               kind="document" if i % 10 == 6 else "dataset", **kw))
    if secret:
        out.append(make_record(999, source=source, pid=SECRET, title="Secret title zq",
                               release=NOW + timedelta(days=100)))
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway(tmp, name: str, recs: list, **config):
    config = {"federation_failure_threshold": 1000} | config
    app = create_app(Config(data_dir=tmp / name, repository_name=name, **config),
                     clock=lambda: NOW)
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("test", Batch(upserts=recs), NOW - timedelta(days=1))
    catch_up(gw.store, gw.index)
    return app


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("federation")
    apps = []
    with ExitStack() as stack:
        def up(app) -> str:
            apps.append(app)
            return stack.enter_context(serve(app))
        base = {}
        base["g2"] = up(gateway(tmp, "g2", records(30, "gtwo", {3: "10.5072/FED-1", 5: SHARED[5]},
                                                   secret=True)))
        base["g3"] = up(gateway(tmp, "g3", records(25, "gthree", {5: SHARED[5], 7: SHARED[7]})))
        base["g1"] = up(gateway(tmp, "g1", records(35, "g", SHARED), partners={
            "g2": {"url": base["g2"] + "/api"}, "g3": {"url": base["g3"] + "/api"}}))
        base["slow"] = stack.enter_context(serve(Partner({"Datasets": []}, delay=0.6)))
        base["broken"] = stack.enter_context(serve(Partner({"Datasets": []}, fail="500")))
        partners = {name: {"url": base[name] + "/api"} for name in ("g1", "g2", "g3")}
        partners |= {"slow": {"url": base["slow"] + "/api", "timeout": 0.25},
                     "broken": {"url": base["broken"] + "/api"},
                     "refused": {"url": f"http://fed:pw0rd@127.0.0.1:{closed_port()}/api"}}
        base["hub"] = up(gateway(tmp, "hub", records(20, "hubsrc", {7: SHARED[7]}),
                                 partners=partners))
        yield base
        for app in apps:
            app.extensions["fairgate_federation"].close()
            app.extensions["fairgate"].close()


def get(url: str, **params) -> requests.Response:
    return requests.get(url, params={k: json.dumps(v) for k, v in params.items()}, timeout=10)


def full_answer(api: str, model: str, filter: dict) -> list[dict]:
    """A provider's whole answer to the filter's where/query, in its order."""
    keep = {k: v for k, v in filter.items() if k in ("where", "query")}
    resp = get(f"{api}/{model}", filter={**keep, "limit": 1000})
    resp.raise_for_status()
    return resp.json()


def statuses(resp: requests.Response) -> dict[str, str]:
    return {s["name"]: s["status"] for s in json.loads(resp.headers["X-Federation-Status"])}


CASES = [  # windows smaller than a provider's answer, so paging mistakes show
    ({}, 0, 10), ({}, 7, 7), ({"order": "title ASC"}, 0, 12), ({"order": "title DESC"}, 9, 9),
    ({"order": ["creationDate DESC", "title ASC"]}, 20, 6), ({"order": "pid DESC"}, 30, 4),
    ({"query": "cerium"}, 0, 10), ({"query": "oxide lysozyme"}, 9, 2), ({}, 55, 5),
    ({"order": "size DESC"}, 12, 5),
]


@pytest.mark.parametrize("filter,skip,limit", CASES)
def test_hub_pages_equal_brute_force_despite_bad_partners(net, filter, skip, limit):
    resp = get(net["hub"] + "/federation/Datasets", filter={**filter, "skip": skip,
                                                           "limit": limit})
    assert resp.status_code == 200
    assert statuses(resp) == {"local": "ok", "g1": "ok", "g2": "ok", "g3": "ok",
                              "slow": "timeout", "broken": "error", "refused": "error"}
    assert resp.headers["Warning"].startswith('199 fairgate "partial result: slow (timeout)')
    assert resp.headers["Cache-Control"] == "no-store"
    full = [(name, full_answer(net[gw] + "/api", "Datasets", filter))
            for name, gw in [("local", "hub"), ("g1", "g1"), ("g2", "g2"), ("g3", "g3")]]
    expected = brute_force_merge(full, filter, skip, limit)
    assert expected  # every case has a non-empty page
    assert [(i["pid"], i["provider"]) for i in resp.json()] == expected


@pytest.mark.parametrize("filter,skip,limit", CASES[:4])
def test_healthy_federation_has_no_warning(net, filter, skip, limit):
    resp = get(net["g1"] + "/federation/datasets", filter={**filter, "skip": skip,
                                                          "limit": limit})
    assert resp.status_code == 200 and "Warning" not in resp.headers
    assert set(statuses(resp).values()) == {"ok"}
    full = [(name, full_answer(net[name] + "/api", "Datasets", filter))
            for name in ("g1", "g2", "g3")]
    assert [(i["pid"], i["provider"]) for i in resp.json()] == \
        brute_force_merge([("local", full[0][1])] + full[1:], filter, skip, limit)


@pytest.mark.parametrize("model,filter,skip,limit", [
    ("Documents", {"order": "title DESC"}, 1, 2), ("Documents", {"query": "cerium"}, 0, 3),
    ("Instruments", {"order": "name ASC"}, 2, 4),
])
def test_documents_and_instruments_pages_equal_brute_force(net, model, filter, skip, limit):
    resp = get(net["hub"] + f"/federation/{model.lower()}",
               filter={**filter, "skip": skip, "limit": limit})
    assert resp.status_code == 200
    full = [(name, full_answer(net[gw] + "/api", model, filter))
            for name, gw in [("local", "hub"), ("g1", "g1"), ("g2", "g2"), ("g3", "g3")]]
    expected = brute_force_merge(full, filter, skip, limit)
    assert expected and [(i["pid"], i["provider"]) for i in resp.json()] == expected


def test_query_parameter_as_on_api(net):
    """SciCat's `?query=` works as on /api, and the filter's own query wins."""
    by_param = requests.get(net["g1"] + "/federation/Datasets", params={"query": "cerium"})
    by_filter = get(net["g1"] + "/federation/Datasets", filter={"query": "cerium"})
    assert by_param.status_code == 200 and by_param.json() == by_filter.json()
    assert by_filter.json() and all(i["score"] <= 1 for i in by_filter.json())


def test_shared_dois_are_merged_with_provenance(net):
    items = get(net["hub"] + "/federation/Datasets", filter={"limit": 500}).json()
    by_doi = {}
    for item in items:
        by_doi.setdefault(doi_key(item["pid"]), []).append(item)
    assert all(len(v) == 1 for v in by_doi.values())
    assert by_doi["10.5072/fed-1"][0]["providers"] == ["g1", "g2"]
    assert by_doi["10.5072/fed-2"][0]["providers"] == ["g1", "g2", "g3"]
    assert by_doi["10.5072/fed-3"][0]["providers"] == ["local", "g1", "g3"]
    assert all(0 < i["score"] <= 1 for i in items)


def test_count_sums_providers(net):
    resp = get(net["hub"] + "/federation/Datasets/count")
    counts = [get(net[g] + "/api/Datasets/count").json()["count"]
              for g in ("hub", "g1", "g2", "g3")]
    assert resp.status_code == 200 and resp.json() == {"count": sum(counts)}
    assert resp.headers["X-Federation-Count"] == "upper-bound"
    assert statuses(resp)["slow"] == "timeout" and "Warning" in resp.headers
    where = {"title": "Common title"}
    wrapped = get(net["g1"] + "/federation/Datasets/count", where={"where": where})
    assert wrapped.json()["count"] == sum(get(net[g] + "/api/Datasets/count", where=where)
                                          .json()["count"] for g in ("g1", "g2", "g3"))


def test_find_by_id_is_resolved_in_configuration_order(net):
    resp = requests.get(net["hub"] + "/federation/Datasets/" + quote(SHARED[5], safe=""))
    assert resp.status_code == 200
    item = resp.json()
    assert (item["pid"], item["provider"], item["providers"]) == (SHARED[5], "g1",
                                                                  ["g1", "g2", "g3"])
    local = requests.get(net["hub"] + "/federation/Datasets/" + quote(SHARED[7], safe=""))
    assert local.json()["provider"] == "local"
    healthy = requests.get(net["g1"] + "/federation/Datasets/" + quote("10.5072/none", safe=""))
    assert healthy.status_code == 404
    assert healthy.json()["error"]["code"] == "MODEL_NOT_FOUND"
    unsure = requests.get(net["hub"] + "/federation/Datasets/" + quote("10.5072/none", safe=""))
    assert unsure.status_code == 502  # a silent partner may hold it
    assert unsure.json()["error"]["code"] == "FEDERATION_UNAVAILABLE"


def test_embargoed_record_leaks_nowhere(net):
    texts = [get(net["g1"] + "/federation/Datasets", filter={"limit": 500}).text,
             get(net["g1"] + "/federation/Datasets", filter={"query": "zq"}).text,
             get(net["g1"] + "/federation/Datasets",
                 filter={"where": {"title": "Secret title zq"}}).text]
    assert not any("embargoed-secret" in t or "Secret title" in t for t in texts)
    one = requests.get(net["g1"] + "/federation/Datasets/" + quote(SECRET, safe=""))
    assert one.status_code == 404 and "Secret title" not in one.text
    n = get(net["g1"] + "/federation/Datasets/count",
            where={"title": "Secret title zq"}).json()
    assert n == {"count": 0}


def test_status_page(net):
    body = requests.get(net["hub"] + "/federation").json()
    names = [p["name"] for p in body["data_providers"]]
    assert names == ["local", "g1", "g2", "g3", "slow", "broken", "refused"]
    assert body["data_providers"][4]["timeout_ms"] == 250
    get(net["hub"] + "/federation/Datasets")
    body = requests.get(net["hub"] + "/federation").json()
    last = {p["name"]: p["last"]["status"] for p in body["data_providers"]}
    assert last["g1"] == "ok" and last["slow"] == "timeout" and last["broken"] == "error"
    assert {p["state"] for p in body["data_providers"]} == {"closed"}
    assert body["default_limit"] == 100 and body["max_window"] == 1000
    assert "pw0rd" not in json.dumps(body)


@pytest.mark.parametrize("path,params,status,code", [
    ("/federation/Datasets", {"filter": "{not json"}, 400, "INVALID_FILTER"),
    ("/federation/Datasets", {"filter": '{"skip": 995, "limit": 10}'}, 400, "INVALID_FILTER"),
    ("/federation/Datasets", {"filter": '{"order": "title UP"}'}, 400, "INVALID_FILTER"),
    ("/federation/Datasets", {"filter": '{"where": {"nosuchfield": 1}}'}, 400,
     "INVALID_FILTER"),
    ("/federation/Datasets", {"filtre": "{}"}, 400, "INVALID_PARAMETER"),
    ("/federation/Datasets/x", {"filter": '{"limit": 3}'}, 400, "INVALID_FILTER"),
    ("/federation/Datasets/count", {"where": "[1]"}, 400, "INVALID_FILTER"),
    ("/federation/Samples", {}, 404, "NOT_FOUND"),
])
def test_bad_requests_get_loopback_errors(net, path, params, status, code):
    resp = requests.get(net["g1"] + path, params=params)
    assert resp.status_code == status
    error = resp.json()["error"]
    assert error["statusCode"] == status and error["code"] == code and error["message"]


def test_no_provider_answering_is_an_error_not_an_empty_list(tmp_path):
    """The gateway's own PaNOSC data unreadable (not an SQLite file) and its only partner
    failing: 502 with the statuses, never 200 []."""
    (tmp_path / "panosc.sqlite").write_bytes(b"this is not a database\n" * 100)
    with serve(Partner({"Datasets": []}, fail="500")) as broken:
        app = create_app(Config(data_dir=tmp_path,
                                partners={"broken": {"url": broken + "/api"}}))
        try:
            resp = app.test_client().get("/federation/Datasets")
            count = app.test_client().get("/federation/Datasets/count")
        finally:
            app.extensions["fairgate_federation"].close()
            app.extensions["fairgate"].close()
    for r in (resp, count):
        assert r.status_code == 502
        assert r.get_json()["error"]["code"] == "FEDERATION_UNAVAILABLE"
        assert {s["name"]: s["status"] for s in json.loads(r.headers["X-Federation-Status"])} \
            == {"local": "error", "broken": "error"}


def test_every_provider_timing_out_is_a_504(tmp_path):
    """Nothing answered in time (the local provider given 0.1 ms, the partner sleeping past
    its timeout): 504, statuses say timeout."""
    with serve(Partner({"Datasets": []}, delay=0.5)) as slow:
        app = create_app(Config(data_dir=tmp_path, federation_timeout=0.0001, partners={
            "slow": {"url": slow + "/api", "timeout": 0.2}}))
        try:
            resp = app.test_client().get("/federation/Datasets")
        finally:
            app.extensions["fairgate_federation"].close()
            app.extensions["fairgate"].close()
    assert resp.status_code == 504
    assert resp.get_json()["error"]["code"] == "FEDERATION_UNAVAILABLE"
    assert [s["status"] for s in json.loads(resp.headers["X-Federation-Status"])] == \
        ["timeout", "timeout"]


def test_a_clients_bad_filter_is_a_400_and_never_opens_a_circuit(tmp_path):
    """A filter only the local engine can refuse (too many query words): 400 as on /api,
    however often, and the local provider stays closed and answers the next request."""
    app = gateway(tmp_path, "solo", records(5, "solo", {}), federation_failure_threshold=2)
    client = app.test_client()
    words = {"query": " ".join(f"w{i}" for i in range(40))}
    try:
        api = client.get("/api/Datasets", query_string={"filter": json.dumps(words)})
        for _ in range(4):
            resp = client.get("/federation/Datasets", query_string={"filter": json.dumps(words)})
            assert resp.status_code == 400 and resp.get_json() == api.get_json()
        one = client.get("/federation/Datasets/x", query_string={"filter": json.dumps(
            {"include": [{"relation": "nothing"}]})})
        after = client.get("/federation/Datasets")
        state = client.get("/federation").get_json()["data_providers"][0]
    finally:
        app.extensions["fairgate_federation"].close()
        app.extensions["fairgate"].close()
    assert api.status_code == 400 and "32 words" in api.get_json()["error"]["message"]
    assert one.status_code == 400 and one.get_json()["error"]["code"] == "INVALID_FILTER"
    assert after.status_code == 200 and statuses(after) == {"local": "ok"}
    assert (state["state"], state["consecutive_failures"]) == ("closed", 0)


@pytest.mark.parametrize("text", [
    '{"skip": 1e1, "limit": 2.0}', '{"skip": "10", "limit": "2"}', '{"offset": 10, "limit": 2}',
    '{"where": {"title": "' + "x" * 20_001 + '"}}', '{"limit": 1001}', '{"skip": 1.5}',
    '{"limit": -2}', '{"nope": 1}', "[]", "",
])
def test_federation_accepts_and_refuses_the_filters_api_does(net, text):
    api = requests.get(net["g2"] + "/api/Datasets", params={"filter": text})
    fed = requests.get(net["g2"] + "/federation/Datasets", params={"filter": text})
    assert fed.status_code == api.status_code
    if api.status_code == 200:
        assert [i["pid"] for i in fed.json()] == [i["pid"] for i in api.json()]
    else:
        assert fed.json()["error"]["code"] == api.json()["error"]["code"] == "INVALID_FILTER"


def test_find_by_id_takes_fields_as_on_api(net):
    path = "/Datasets/" + quote(SHARED[5], safe="")
    filter = {"fields": ["pid", "title"]}
    api = get(net["g2"] + "/api" + path, filter=filter)
    fed = get(net["g2"] + "/federation" + path, filter=filter)
    assert api.status_code == fed.status_code == 200
    assert set(api.json()) == {"pid", "title", "score"}
    assert fed.json() == api.json() | {"provider": "local", "providers": ["local"]}
