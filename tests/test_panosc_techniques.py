"""Deep technique queries: the 10 worked queries of panosc-eu/search-api
`doc/dataset-techniques-requirements.md` (expected tables transcribed below) through the
local PaNOSC API, with the PaNET source CSV and with the v1.1.0 OWL release; and the
vocabulary's expansions against pan-ontologies-api's test vectors
(`src/__tests__/fixtures/technique.testcases.ts`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway import panosc
from gateway.app import create_app
from gateway.config import Config
from gateway.store import Batch
from gateway.vocabulary import load_techniques
from mappings.record import Dates, Provenance, Record, Technique, with_hash

PANET_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "panet"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def P(digits: str) -> str:
    return f"http://purl.org/pan-science/PaNET/PaNET{digits}"


RIXS = Technique(P("01183"), "resonant inelastic x-ray scattering")
ASAX = Technique(P("01275"), "anomalous solution x-ray scattering")
GISAXS = Technique(P("01162"), "grazing incidence small angle x-ray scattering")
IXSAS = Technique(P("01281"), "inelastic x-ray small angle scattering")
SXSAS = Technique(P("01282"), "soft x-ray small angle scattering")
MXT = Technique(P("01313"), "magnetic x-ray tomography")
XES = Technique(P("01200"), "x-ray emission spectroscopy")
DATASETS = {1: (RIXS,), 2: (ASAX,), 3: (GISAXS,), 4: (IXSAS,), 5: (SXSAS,), 6: (MXT,),
            7: (XES,), 8: (XES, MXT), 9: (XES, GISAXS), 10: (XES, ASAX)}

SAS, MAG, XRAY = "small angle scattering", "magnetism technique", "x-ray probe"
CASES = [  # (technique where, datasets the requirements table marks "Y")
    ({"name": "x-ray emission spectroscopy"}, {7, 8, 9, 10}),
    ({"name": SAS}, {2, 3, 4, 5, 9, 10}),
    ({"name": {"neq": "x-ray emission spectroscopy"}}, {1, 2, 3, 4, 5, 6}),
    ({"name": {"neq": SAS}}, {1, 6, 7, 8}),
    ({"and": [{"name": SAS}, {"name": MAG}]}, set()),
    ({"or": [{"name": SAS}, {"name": MAG}]}, {2, 3, 4, 5, 6, 8, 9, 10}),
    ({"and": [{"name": SAS}, {"name": XRAY}]}, {2, 3, 4, 5, 9, 10}),
    ({"or": [{"name": SAS}, {"name": XRAY}]}, set(range(1, 11))),
    ({"and": [{"name": SAS}, {"name": {"neq": XRAY}}]}, set()),
    ({"and": [{"name": SAS}, {"name": {"neq": MAG}}]}, {2, 3, 4, 5, 9, 10}),
]


def record(n: int) -> Record:
    return with_hash(Record(
        id=f"req:dataset:d{n}", kind="dataset", title=f"Dataset {n}", pid=f"req/d{n}",
        provenance=Provenance("req", f"d{n}", harvested_at=NOW), techniques=DATASETS[n],
        dates=Dates(created=datetime(2021, 1, n, tzinfo=timezone.utc))))


@pytest.fixture(scope="module", params=["PaNET.csv", "PaNET-v1.1.0.owl"])
def gw(request, tmp_path_factory):
    app = create_app(Config(data_dir=tmp_path_factory.mktemp("tech"),
                            techniques_vocabulary=str(PANET_DIR / request.param)),
                     clock=lambda: NOW)
    gateway = app.extensions["fairgate"]
    gateway.store.apply_batch("req", Batch(upserts=[record(n) for n in DATASETS]),
                              NOW - timedelta(days=1))
    yield gateway
    gateway.close()


def returned(gw, where) -> set[int]:
    found = panosc.find(gw, "Datasets", {"include": [
        {"relation": "techniques", "scope": {"where": where}}]})
    return {int(d["pid"].removeprefix("req/d")) for d in found}


@pytest.mark.parametrize("number", range(1, 11))
def test_requirement_query(gw, number):
    where, expected = CASES[number - 1]
    assert returned(gw, where) == expected
    assert panosc.count(gw, "Datasets", {}) == 10


def test_by_pid_long_form_and_ids(gw):
    """The same queries by IRI (short and long form), PaNET id and synonym."""
    assert returned(gw, {"pid": P("01124")}) == CASES[1][1]
    assert returned(gw, {"pid": {"eq": P("01124")}}) == CASES[1][1]
    assert returned(gw, {"pid": {"neq": P("01124")}}) == CASES[3][1]
    assert returned(gw, {"panetId": {"inq": [P("01124"), P("00207")]}}) == CASES[5][1]
    assert returned(gw, {"pid": {"nin": [P("01124"), P("00207")]}}) == {1, 7}
    assert returned(gw, {"name": "XES"}) == CASES[0][1]
    assert returned(gw, {"pid": "PaNET01200"}) == CASES[0][1]


def test_embedded_techniques_are_the_matching_ones(gw):
    found = panosc.find(gw, "Datasets", {"include": [
        {"relation": "techniques", "scope": {"where": {"name": SAS}}}]})
    by_pid = {d["pid"]: [t["name"] for t in d["techniques"]] for d in found}
    assert by_pid["req/d9"] == [GISAXS.label]
    assert by_pid["req/d10"] == [ASAX.label]


def _vector(digits: str) -> set[str]:
    return {P(d) for d in digits.split()}


# pan-ontologies-api technique.testcases.ts: expansions of name filters (its PaNET is 1.1)
EXPANSIONS = {
    "01124": _vector("01124 01107 01127 01133 01240 01241 01274 01275 01099 01276 01189 01277 "
                     "01278 01279 01280 01188 01281 01273 01282 01162 01287 01286"),
    "00207": _vector("00207 01141 01137 01221 01252 01253 01142 01259 01143 01301 01313"),
    "01200": _vector("01200"),
    "01012": _vector(
        "01012 01095 01156 01101 01013 01103 01140 01149 01160 01161 01165 01172 01182 01183 "
        "01015 01187 01184 01186 01196 01197 01199 01200 01208 01216 01204 01218 01219 01137 "
        "01221 01224 01227 01229 01205 01238 01241 01258 01259 01260 01261 01262 01266 01274 "
        "01275 01280 01281 01188 01282 01283 01284 01167 01162 01287 01286 01289 01285 01290 "
        "01294 01180 01295 01297 01301 01302 01303 01014 01305 01271 01306 01272 01307 01102 "
        "01168 01309 01169 01310 01311 01312 01207 01313 01314 01315 01191 01316 01193 01321 "
        "01198 01322 01173 01325 01300 01327"),
}


@pytest.mark.parametrize("root", sorted(EXPANSIONS))
def test_owl_release_expands_like_pan_ontologies_api(root):
    assert load_techniques(PANET_DIR / "PaNET-v1.1.0.owl").descendants(P(root)) == \
        EXPANSIONS[root]


def test_csv_expands_like_pan_ontologies_api_where_panet_did_not_change():
    vocab = load_techniques(PANET_DIR / "PaNET.csv")
    for root in ("01124", "00207", "01200"):
        assert vocab.descendants(P(root)) == EXPANSIONS[root]
    xray = vocab.descendants(P("01012"))
    assert len(xray & EXPANSIONS["01012"]) >= 89  # 1.3.0 moved photoelectron diffraction
    assert all(len(iri.rsplit("PaNET", 1)[1]) == 5 for iri in xray)  # techniques only
