"""The PaNOSC Search API over HTTP (a real server on 127.0.0.1, both index backends):
the reference behaviour cases of panosc-eu/search-api's mocha suites (section 5 of the
reference) against the equivalent fixture, unit conversion, embargo invisibility and the
LoopBack error envelope."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import Config
from gateway.store import Batch

from .conftest import BACKENDS, unique_name
from .panosc_fixture import NOW, deleted, records

PANET_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "panet" / "PaNET.csv"
SECRET = ("Secret", "panosc-dataset5", "SKADI")


@pytest.fixture(scope="module", params=BACKENDS)
def url(request, tmp_path_factory):
    """One server per index backend for the module (the tests only read)."""
    options: dict = {"index": request.param}
    if request.param == "elasticsearch":
        options |= {"elasticsearch_url": request.getfixturevalue("es_url"),
                    "elasticsearch_index": unique_name(), "elasticsearch_timeout": 30}
    app = create_app(Config(data_dir=tmp_path_factory.mktemp("panosc"),
                            techniques_vocabulary=str(PANET_CSV), **options), clock=lambda: NOW)
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("panosc", Batch(upserts=[*records(), deleted()]),
                         NOW - timedelta(days=2))
    gw.store.apply_batch("panosc", Batch(deletes=[deleted().id]), NOW - timedelta(days=1))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()
    thread.join()
    if request.param == "elasticsearch":
        gw.index.drop()
    gw.close()


def get(url, path, **params):
    params = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in params.items()}
    resp = requests.get(url + path, params=params, timeout=30)
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp


def ok(url, path, **params):
    resp = get(url, path, **params)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    for item in body if isinstance(body, list) else []:
        assert "pid" not in item or 0 < item["score"] <= 1  # files have no score
        for secret in SECRET:
            assert secret not in json.dumps(item)
    return body


def include(relation, where=None, **scope):
    out = {"relation": relation}
    if where is not None or scope:
        out["scope"] = {**({"where": where} if where is not None else {}), **scope}
    return out


def pids(items):
    return sorted(i["pid"].rsplit("-", 1)[-1] for i in items)


# --- reference: datasets ------------------------------------------------------------------

def test_datasets_shape(url):
    body = ok(url, "/Datasets")
    assert pids(body) == ["dataset1", "dataset2", "dataset3", "dataset4"]
    for d in body:
        assert {"pid", "title", "isPublic", "creationDate"} <= set(d) and d["isPublic"] is True


def test_technique_x_ray_absorption(url):
    body = ok(url, "/Datasets", filter={"include": [
        include("techniques", {"name": "x-ray absorption"})]})
    assert pids(body) == ["dataset3", "dataset4"]
    assert all([t["name"] for t in d["techniques"]] == ["x-ray absorption"] for d in body)
    assert all(t["panetId"] == "http://purl.org/pan-science/PaNET/PaNET01227"
               for d in body for t in d["techniques"])


def photon_energy(lo, hi, unit):
    return include("parameters", {"and": [{"name": "photon_energy"},
                                          {"value": {"between": [lo, hi]}}, {"unit": unit}]})


def test_photon_energy_range(url):
    body = ok(url, "/Datasets", filter={"include": [photon_energy(880, 990, "eV")]})
    assert pids(body) == ["dataset2"]
    assert body[0]["parameters"] == [{"id": body[0]["parameters"][0]["id"],
                                      "name": "photon_energy", "value": 930, "unit": "eV"}]


def test_or_of_parameters(url):
    body = ok(url, "/Datasets", filter={"include": [include("parameters", {"or": [
        {"and": [{"name": "sample_state"}, {"value": "solid"}]},
        {"and": [{"name": "chemical_formula"}, {"value": "Cu"}]}]})]})
    assert pids(body) == ["dataset1"]
    params = body[0]["parameters"]
    assert [(p["name"], p["value"]) for p in params] == [("chemical_formula", "Cu"),
                                                        ("sample_state", "solid")]


def temperature(op, value, unit):
    return include("parameters", {"and": [{"name": "temperature"}, {"value": {op: value}},
                                          {"unit": unit}]})


def test_temperature_in_celsius(url):
    body = ok(url, "/Datasets", filter={"include": [temperature("lt", 80, "celsius")]})
    assert pids(body) == ["dataset3"]
    assert [(p["name"], p["value"], p["unit"]) for p in body[0]["parameters"]] == [
        ("temperature", 20, "celsius")]


def test_files_text(url):
    body = ok(url, "/Datasets", filter={"include": [include("files", {"text": "file1"})]})
    assert pids(body) == ["dataset1"]
    assert body[0]["files"] and all("file1" in f["name"] for f in body[0]["files"])


def test_find_by_id(url):
    d = ok(url, "/Datasets/20.500.12269%2Fpanosc-dataset1")
    assert d["pid"] == "20.500.12269/panosc-dataset1" and d["isPublic"] is True
    doc = ok(url, "/Documents/10.5072%2Fpanosc-document1")
    assert doc["pid"] == "10.5072/panosc-document1" and doc["type"] == "proposal"
    inst = ok(url, "/Instruments/20.500.12269%2F0f98fcf2-7bd7-430e-ad20-d47031ca8f71")
    assert (inst["name"], inst["facility"]) == ("LoKI", "ESS")
    with_rel = ok(url, "/Datasets/20.500.12269%2Fpanosc-dataset1",
                  filter={"include": ["techniques", "instrument"]})
    assert with_rel["instrument"]["name"] == "LoKI" and len(with_rel["techniques"]) == 1


def test_dataset_files_endpoints(url):
    files = ok(url, "/Datasets/20.500.12269%2Fpanosc-dataset2/files")
    assert [(f["name"], f["path"]) for f in files] == [("panosc-file2.hdf", "/data")]
    assert ok(url, "/Datasets/20.500.12269%2Fpanosc-dataset2/files/count") == {"count": 1}
    assert ok(url, "/datasets/20.500.12269%2Fpanosc-dataset2/files/count",
              where={"name": {"like": "%file1%"}}) == {"count": 0}
    assert get(url, "/Datasets/20.500.12269%2Fnope/files").status_code == 404


# --- reference: documents -----------------------------------------------------------------

def test_documents_shape(url):
    body = ok(url, "/Documents")
    assert pids(body) == ["document1", "document2"]
    for d in body:
        assert {"pid", "isPublic", "type", "title"} <= set(d)


def test_documents_of_a_principal_investigator(url):
    body = ok(url, "/Documents", filter={
        "where": {"type": "proposal"},
        "include": [include("datasets"),
                    include("members", {"role": "principal investigator"},
                            include=[include("person", {"fullName": "James Chadwick"})])]})
    assert pids(body) == ["document2"]
    doc = body[0]
    assert pids(doc["datasets"]) == ["dataset3", "dataset4"]
    assert [(m["role"], m["person"]["fullName"]) for m in doc["members"]] == [
        ("principal investigator", "James Chadwick")]


def wavelength(lo, hi, unit):
    return include("parameters", {"and": [{"name": "wavelength"},
                                          {"value": {"between": [lo, hi]}}, {"unit": unit}]})


def test_document_parameter_wavelength(url):
    body = ok(url, "/Documents", filter={"include": [wavelength(1000, 1100, "nm")]})
    assert pids(body) == ["document1"]
    assert [(p["name"], p["value"], p["unit"]) for p in body[0]["parameters"]] == [
        ("wavelength", 1064, "nm")]


def test_documents_by_dataset_parameters(url):
    body = ok(url, "/Documents", filter={"include": [
        include("datasets", include=[wavelength(1000, 1100, "nm")])]})
    assert pids(body) == ["document2"]
    assert pids(body[0]["datasets"]) == ["dataset4"]
    assert [p["value"] for p in body[0]["datasets"][0]["parameters"]] == [1064]


def test_documents_by_dataset_sample_and_technique(url):
    body = ok(url, "/Documents", filter={"include": [include("datasets", include=[
        include("samples", {"name": "solid copper cylinder"}),
        include("techniques", {"name": "x-ray absorption"})])]})
    assert pids(body) == ["document2"]
    for ds in body[0]["datasets"]:
        assert [s["name"] for s in ds["samples"]] == ["solid copper cylinder"]
        assert [t["name"] for t in ds["techniques"]] == ["x-ray absorption"]


def test_documents_by_dataset_files(url):
    body = ok(url, "/Documents", filter={"include": [include("datasets", include=[
        include("files", {"text": "file1"})])]})
    assert pids(body) == ["document1"]
    assert pids(body[0]["datasets"]) == ["dataset1"]


# --- reference: instruments ---------------------------------------------------------------

def test_instruments(url):
    body = ok(url, "/Instruments")
    assert sorted(i["name"] for i in body) == ["DREAM", "FREIA", "HEIMDAL", "LoKI", "MAGiC",
                                               "ODIN"]
    assert all({"pid", "name", "facility"} <= set(i) for i in body)
    assert [i["name"] for i in ok(url, "/Instruments", filter={"where": {"name": "LoKI"}})] \
        == ["LoKI"]
    page = ok(url, "/Instruments", filter={"where": {"facility": "ESS"}, "order": "name ASC",
                                           "skip": 2, "limit": 3})
    assert [i["name"] for i in page] == ["HEIMDAL", "LoKI", "MAGiC"]
    assert ok(url, "/instruments/count", where={"facility": "ESS"}) == {"count": 6}
    with_ds = ok(url, "/Instruments", filter={"include": [include(
        "datasets", {"title": {"like": "%Dataset 1"}})]})
    assert [(i["name"], pids(i["datasets"])) for i in with_ds] == [("LoKI", ["dataset1"])]


# --- units --------------------------------------------------------------------------------

@pytest.mark.parametrize("first, second", [
    (temperature("lt", 300, "K"), temperature("lt", 26.85, "celsius")),
    (temperature("lt", 300, "kelvin"), temperature("lt", 80.33, "fahrenheit")),
    (photon_energy(880, 990, "eV"), photon_energy(0.88, 0.99, "keV")),
    (photon_energy(880, 990, "eV"), photon_energy(1.40993e-16, 1.58615e-16, "J")),
    (wavelength(1000, 1100, "nm"), wavelength(10000, 11000, "angstrom")),
    (wavelength(1000, 1100, "nm"), wavelength(10000, 11000, "Å")),
])
def test_the_same_query_in_other_units(url, first, second):
    a = ok(url, "/Datasets", filter={"include": [first]})
    b = ok(url, "/Datasets", filter={"include": [second]})
    assert pids(a) == pids(b) and a


def test_conversion_beyond_the_reference(url):
    kelvin = ok(url, "/Datasets", filter={"include": [temperature("lt", 300, "K")]})
    assert pids(kelvin) == ["dataset3"]
    assert [(p["value"], p["unit"]) for p in kelvin[0]["parameters"]] == [(293.15, "K")]
    kev = ok(url, "/Datasets", filter={"include": [photon_energy(0.88, 0.99, "keV")]})
    assert [(p["value"], p["unit"]) for p in kev[0]["parameters"]] == [(0.93, "keV")]
    assert pids(ok(url, "/Datasets", filter={"include": [temperature("gt", 300, "K")]})) == []
    assert pids(ok(url, "/Datasets", filter={"include": [
        photon_energy("0.88", "0.99", "keV")]})) == ["dataset2"]


def test_several_parameter_includes_are_and_ed(url):
    both = ok(url, "/Datasets", filter={"include": [
        include("parameters", {"name": "chemical_formula", "value": "Cu"}),
        include("parameters", {"name": "sample_state", "value": "solid"})]})
    assert pids(both) == ["dataset1"] and len(both[0]["parameters"]) == 2
    assert ok(url, "/Datasets", filter={"include": [
        include("parameters", {"name": "chemical_formula"}),
        photon_energy(880, 990, "eV")]}) == []


# --- the rest of the filter language ------------------------------------------------------

def test_where_order_skip_limit_and_count(url):
    body = ok(url, "/Datasets", filter={"where": {"size": {"gt": "50000"}},
                                        "order": "size DESC", "limit": 2, "skip": 1})
    assert [d["size"] for d in body] == [1235253, 53453]
    assert ok(url, "/Datasets/count", where={"title": {"ilike": "%dataset 1"}}) == {"count": 1}
    assert ok(url, "/Datasets/count",
              where={"where": {"title": {"ilike": "%dataset%"}}}) == {"count": 4}
    assert ok(url, "/datasets/count") == {"count": 4}
    assert pids(ok(url, "/datasets", filter={"where": {"or": [
        {"pid": "20.500.12269/panosc-dataset1"}, {"title": {"regexp": "/DATASET 4$/i"}}]}})) \
        == ["dataset1", "dataset4"]


def test_query_scores(url):
    body = ok(url, "/Datasets", query="copper cylinder")
    assert pids(body) == ["dataset1", "dataset2", "dataset3", "dataset4"]
    assert max(d["score"] for d in body) == 0.99   # the federator drops scores of 1
    assert all(0 < d["score"] < 1 for d in body)
    assert {d["score"] for d in ok(url, "/Datasets")} == {0.5}
    assert [d["score"] for d in body] == sorted((d["score"] for d in body), reverse=True)
    assert pids(ok(url, "/Documents", filter={"query": "chadwick", "limit": 5})) == [
        "document1", "document2"]
    assert ok(url, "/Datasets", filter={"query": "nothingmatcheshere"}) == []


def test_embargoed_and_deleted_records_leak_nowhere(url):
    assert ok(url, "/Datasets/count") == {"count": 4}
    assert ok(url, "/Datasets", filter={"where": {"title": {"like": "%Secret%"}}}) == []
    assert ok(url, "/Datasets", query="secret embargoed deleted") == []
    assert ok(url, "/Datasets", filter={"include": [
        include("files", {"text": "file5"})]}) == []
    assert ok(url, "/Instruments", filter={"where": {"name": "SKADI"}}) == []
    for path in ("/Datasets/20.500.12269%2Fpanosc-dataset5",
                 "/Datasets/20.500.12269%2Fpanosc-dataset6",
                 "/Datasets/20.500.12269%2Fpanosc-dataset5/files"):
        assert get(url, path).status_code == 404
    docs = ok(url, "/Documents", filter={"include": ["datasets"]})
    assert all("dataset5" not in pids(d["datasets"]) for d in docs)
    copper = include("parameters", {"name": "chemical_formula", "value": "Cu"})
    assert pids(ok(url, "/Documents", filter={"include": [
        include("datasets", include=[copper])], "order": "title ASC", "limit": 1})) == \
        ["document1"]
    assert ok(url, "/Documents", filter={"include": [include("datasets", include=[
        include("parameters", {"name": "temperature", "value": 25, "unit": "celsius"})])]}) \
        == []
    assert ok(url, "/Documents/count", where={"title": {"like": "%Secret%"}}) == {"count": 0}


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("path, params, status, code, words", [
    ("/Datasets", {"filter": "{not json"}, 400, "INVALID_FILTER", "JSON"),
    ("/Datasets", {"filter": "[1]"}, 400, "INVALID_FILTER", "object"),
    ("/Datasets", {"filter": {"include": [{"relation": "documents"}]}}, 400, "INVALID_FILTER",
     "'documents'"),
    ("/Datasets", {"filter": {"where": {"title": {"like2": "x"}}}}, 400, "INVALID_FILTER",
     "'like2'"),
    ("/Datasets", {"filter": {"where": {"colour": "red"}}}, 400, "INVALID_FILTER", "'colour'"),
    ("/Datasets", {"filter": {"limit": -1}}, 400, "INVALID_FILTER", "limit"),
    ("/Datasets", {"filter": {"limit": "many"}}, 400, "INVALID_FILTER", "limit"),
    ("/Datasets", {"filter": {"limit": 5000}}, 400, "INVALID_FILTER", "limit"),
    ("/Datasets", {"filter": {"where": {"creationDate": {"gt": "yesterday"}}}}, 400,
     "INVALID_FILTER", "date"),
    ("/Datasets", {"filter": {"where": {"title": {"regexp": "(unclosed"}}}}, 400,
     "INVALID_FILTER", "regular expression"),
    ("/Datasets", {"filter": {"order": "colour DESC"}}, 400, "INVALID_FILTER", "'colour'"),
    ("/Datasets/count", {"where": "{\"and\": 1}"}, 400, "INVALID_FILTER", "and"),
    ("/Datasets/nope", {}, 404, "MODEL_NOT_FOUND", "\"nope\""),
    ("/Documents/10.5072%2Fnope", {}, 404, "MODEL_NOT_FOUND", "Document"),
])
def test_errors_in_the_loopback_shape(url, path, params, status, code, words):
    resp = get(url, path, **params)
    assert resp.status_code == status
    error = resp.json()["error"]
    assert set(error) == {"statusCode", "name", "message", "code"}
    assert (error["statusCode"], error["name"], error["code"]) == (status, "Error", code)
    assert words in error["message"]
