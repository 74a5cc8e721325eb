"""/api/search's facets (licence, access, techniques with their PaNET ancestors), parameter
ranges with units, and sorts, on both index backends, against the brute-force oracle."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.app import create_app
from gateway.config import Config
from gateway.index import FACET_FIELDS, Query, catch_up
from gateway.store import Batch

from .factories import NOW, PANET
from .oracle import PANET_OWL, brute_facets, brute_search
from .search_corpus import XAS, varied_corpus
from .test_api import assert_error


@pytest.fixture
def records():
    return varied_corpus(60)


@pytest.fixture
def client(tmp_path, records, backend_config):
    config = Config(data_dir=tmp_path, base_url="https://data.example.org/gw",
                    techniques_vocabulary=str(PANET_OWL), **backend_config)
    app = create_app(config, clock=lambda: NOW)
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("test", Batch(upserts=records), NOW - timedelta(days=1))
    catch_up(gw.store, gw.index)
    yield app.test_client()
    gw.close()


def all_ids(client, query: dict) -> list[str]:
    body = client.get("/api/search", query_string={**query, "size": 7}).get_json()
    ids = [h["id"] for h in body["hits"]]
    while body.get("next"):
        body = client.get(body["next"].removeprefix("https://data.example.org/gw")).get_json()
        ids += [h["id"] for h in body["hits"]]
    return ids


CASES = [
    ({"licence": "CC0-1.0"}, Query(filters={"licence": ("CC0-1.0",)})),
    ({"access": "open", "sort": "-title"},
     Query(filters={"access": ("open",)}, sort="-title")),
    ({"technique": XAS, "sort": "title"}, Query(filters={"technique": (XAS,)}, sort="title")),
    ({"param": "photon_energy:0.88..0.99:keV", "sort": "date"}, None),
    ({"param": "photon_energy:880..990:eV", "sort": "date"}, None),  # the same, in eV
    ({"param": ["sample_temperature:..30:°C", "wavelength:0.05..0.5:nm"]}, None),
    ({"param": "sample_temperature:330..:kelvin", "q": "scan"}, None),  # _min/_max spans
    ({"param": "temperature:82", "facility": "ESRF"}, None),  # one value, as recorded
]


@pytest.mark.parametrize("args,query", CASES, ids=lambda x: str(x)[:40])
def test_api_filters_and_sorts_match_the_oracle(client, records, args, query):
    from gateway.api.params import search_query
    from werkzeug.datastructures import MultiDict
    if query is None:  # the API's own parsing, then the oracle on the result
        query = search_query(MultiDict(args), default_size=20, max_size=100)
    body = client.get("/api/search", query_string=args).get_json()
    expected = brute_search(records, query, NOW, deep=True)
    assert body["total"] == len(expected) > 0
    ids = all_ids(client, args)
    if query.effective_sort == "relevance":  # scores are the engine's: compare the set
        assert sorted(ids) == sorted(r.id for r in expected)
    else:
        assert ids == [r.id for r in expected]
    facets = {f: {v["value"]: v["count"] for v in vs} for f, vs in body["facets"].items()}
    assert set(facets) == set(FACET_FIELDS)
    assert facets == brute_facets(expected, FACET_FIELDS, deep=True)


def test_kev_and_ev_ranges_find_the_same_records(client):
    """The PaNOSC reference case: 0.88..0.99 keV finds a record at 935 eV."""
    kev = all_ids(client, {"param": "photon_energy:0.88..0.99:keV"})
    ev = all_ids(client, {"param": "photon_energy:880..990:eV"})
    assert kev and sorted(kev) == sorted(ev)
    assert "test:dataset:r00005" in kev  # 935 eV


def test_facets_carry_labels(client):
    body = client.get("/api/search", query_string={"facets": "licence,access,technique"})
    facets = body.get_json()["facets"]
    assert {v["value"]: v["label"] for v in facets["access"]} == {
        "open": "open access"}
    licences = {v["value"]: v["label"] for v in facets["licence"]}
    assert licences["CC0-1.0"] == "Creative Commons Zero v1.0 Universal"
    techniques = {v["value"]: v for v in facets["technique"]}
    assert techniques[XAS]["label"] == "x-ray absorption spectroscopy"
    assert techniques[PANET + "PaNET01125"]["label"] == "spectroscopy"  # an ancestor


def test_an_ancestor_technique_counts_each_record_once(client, records):
    facets = client.get("/api/search", query_string={"facets": "technique"}).get_json()
    counts = {v["value"]: v["count"] for v in facets["facets"]["technique"]}
    total = client.get("/api/search?size=0").get_json()["total"]
    root = PANET + "PaNET00001"  # photon and neutron technique: above every PaNET term
    tagged = [r for r in brute_search(records, Query(), NOW) if r.techniques]
    assert counts[root] == len(tagged) < total


@pytest.mark.parametrize("value,why", [
    ("photon_energy:1..2:wobbles", "unknown unit"),
    ("photon_energy", "NAME:RANGE"),
    ("photon_energy:a..b:eV", "not a number"),
    ("photon_energy:2..1:eV", "lower bound"),
    ("photon_energy:1e999:eV", "too large"),
    ("photon_energy:..:eV", "bounds"),
    (":1..2", "NAME:RANGE"),
])
def test_bad_parameter_ranges_are_a_400_naming_param(client, value, why):
    err = assert_error(client.get("/api/search", query_string={"param": value}), 400,
                       "bad_request")
    assert err["details"]["parameter"] == "param" and why in err["message"]


def test_bad_access_value_and_too_many_ranges_are_400(client):
    err = assert_error(client.get("/api/search?access=closed"), 400, "bad_request")
    assert err["details"]["parameter"] == "access"
    many = {"param": [f"p{i}:1..2" for i in range(21)]}
    err = assert_error(client.get("/api/search", query_string=many), 400, "bad_request")
    assert err["details"]["parameter"] == "param"


def test_a_cursor_is_bound_to_its_parameter_ranges(client):
    first = client.get("/api/search", query_string={"param": "temperature:80..83",
                                                      "size": 2}).get_json()
    assert first["next_cursor"]
    other = client.get("/api/search", query_string={"param": "temperature:80..84", "size": 2,
                                                      "cursor": first["next_cursor"]})
    assert assert_error(other, 400, "bad_request")["details"]["parameter"] == "cursor"


def test_embargoed_records_are_in_no_new_facet(client, records):
    hidden = [r for r in records if r.dates.release_date and r.dates.release_date > NOW]
    body = client.get("/api/search", query_string={"size": 100}).get_json()
    for name in ("licence", "access", "technique"):
        counts = {v["value"]: v["count"] for v in body["facets"][name]}
        public = brute_facets(brute_search(records, Query(), NOW), (name,), deep=True)[name]
        assert counts == public
    assert not {r.id for r in hidden} & {h["id"] for h in body["hits"]}


def test_changing_the_vocabulary_asks_for_a_reindex_which_fixes_it(tmp_path, records,
                                                                     monkeypatch, capsys):
    """Embedded index, through the CLI: built without a vocabulary, then configured with
    PaNET: searches answer 503 and /health says `index_outdated` until `fairgate reindex`."""
    from gateway.cli import main
    monkeypatch.delenv("FAIRGATE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    flat = create_app(Config(data_dir=tmp_path / "gw"), clock=lambda: NOW)
    gw = flat.extensions["fairgate"]
    gw.store.apply_batch("test", Batch(upserts=records), NOW - timedelta(days=1))
    catch_up(gw.store, gw.index)
    gw.close()
    monkeypatch.setenv("FAIRGATE_TECHNIQUES_VOCABULARY", str(PANET_OWL))
    from gateway.config import load_config
    config = load_config(data_dir=tmp_path / "gw")
    deep = create_app(config, clock=lambda: NOW)
    client = deep.test_client()
    assert client.get("/health").get_json()["status"] == "index_outdated"
    assert client.get("/api/search").status_code == 503
    assert main(["--data-dir", str(tmp_path / "gw"), "status"]) == 0
    assert "fairgate reindex" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path / "gw"), "reindex"]) == 0
    assert client.get("/health").get_json()["status"] == "ok"
    body = client.get("/api/search", query_string={"technique": XAS, "size": 0}).get_json()
    assert body["total"] == len(brute_search(records, Query(filters={"technique": (XAS,)}),
                                             NOW, deep=True))
    deep.extensions["fairgate"].close()
