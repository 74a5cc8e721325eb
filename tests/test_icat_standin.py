"""The ICAT REST stand-in behaves like ICAT 6.2 where the harvester relies on it (icat-rest.md)."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from tests.icat_standin import IcatStandin

DUMP = Path(__file__).resolve().parents[2] / "shared" / "data" / "icat" / "icatdump-6.2.yaml"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
DATE_RX = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock():
    return Clock(NOW)


@pytest.fixture(scope="module")
def icat(clock):
    s = IcatStandin(max_entities=50, clock=clock)
    s.load_dump(DUMP)
    s.add_user("db", "reader", "secret", reader_all=True)
    s.add_user("simple", "harvest", "pw")
    with s:
        yield s


@pytest.fixture(scope="module")
def http():
    with requests.Session() as h:
        yield h


def login(http, url, plugin="db", username="reader", password="secret"):
    creds = [] if plugin == "anon" else [{"username": username}, {"password": password}]
    r = http.post(url + "/icat/session",
                  data={"json": json.dumps({"plugin": plugin, "credentials": creds})})
    return r


@pytest.fixture(scope="module")
def root_sid(icat, http):
    return login(http, icat.base_url).json()["sessionId"]


@pytest.fixture(scope="module")
def anon_sid(icat, http):
    return login(http, icat.base_url, "anon").json()["sessionId"]


def search(http, icat, sid, query, **extra):
    return http.get(icat.base_url + "/icat/entityManager",
                    params={"sessionId": sid, "query": query, **extra})


def ok(r):
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------------- sessions

def test_login_info_refresh_logout(icat, http, clock):
    r = login(http, icat.base_url)
    assert r.status_code == 200 and set(r.json()) == {"sessionId"}
    sid = r.json()["sessionId"]
    info = ok(http.get(f"{icat.base_url}/icat/session/{sid}"))
    assert info["userName"] == "db/reader" and info["remainingMinutes"] == pytest.approx(120)
    clock.now = NOW + timedelta(minutes=30)
    try:
        assert ok(http.get(f"{icat.base_url}/icat/session/{sid}"))["remainingMinutes"] == \
            pytest.approx(90)
        assert http.put(f"{icat.base_url}/icat/session/{sid}").status_code == 204
        assert ok(http.get(f"{icat.base_url}/icat/session/{sid}"))["remainingMinutes"] == \
            pytest.approx(120)
        assert ok(http.get(f"{icat.base_url}/icat/user/db/reader")) == {"loggedIn": True}
    finally:
        clock.now = NOW
    assert http.delete(f"{icat.base_url}/icat/session/{sid}").status_code == 204
    r = http.get(f"{icat.base_url}/icat/session/{sid}")
    assert r.status_code == 403 and r.json()["code"] == "SESSION"


@pytest.mark.parametrize("plugin,user,pw,msg", [
    ("db", "reader", "wrong", "do not match"),
    ("ldap", "reader", "secret", "Authenticator mnemonic ldap not recognised"),
    ("db", "nobody", "secret", "do not match")])
def test_login_failures_are_session_errors(icat, http, plugin, user, pw, msg):
    r = login(http, icat.base_url, plugin, user, pw)
    assert r.status_code == 403
    assert r.json()["code"] == "SESSION" and msg in r.json()["message"]


def test_session_expiry_by_clock_and_by_fault(icat, http, clock):
    sid = login(http, icat.base_url).json()["sessionId"]
    q = "SELECT f.name FROM Facility f"
    assert ok(search(http, icat, sid, q)) == ["ESNF"]
    clock.now = NOW + timedelta(minutes=121)
    try:
        r = search(http, icat, sid, q)
        assert r.status_code == 403 and r.json()["code"] == "SESSION"
        assert "expired" in r.json()["message"]
    finally:
        clock.now = NOW
    sid = login(http, icat.base_url).json()["sessionId"]
    icat.expire_sessions()
    r = search(http, icat, sid, q)
    assert (r.status_code, r.json()["code"]) == (403, "SESSION")
    r = search(http, icat, "no-such-session", q)
    assert (r.status_code, r.json()["code"]) == (403, "SESSION")


def test_version_and_properties(icat, http):
    assert ok(http.get(icat.base_url + "/icat/version")) == {"version": "6.2.0"}
    props = ok(http.get(icat.base_url + "/icat/properties"))
    assert props["maxEntities"] == 50 and props["lifetimeMinutes"] == 120
    mnemonics = {a["mnemonic"] for a in props["authenticators"]}
    assert {"db", "simple", "anon"} <= mnemonics
    db = next(a for a in props["authenticators"] if a["mnemonic"] == "db")
    assert db["keys"] == [{"name": "username"}, {"name": "password", "hide": True}]


def test_unknown_path_is_not_implemented(icat, http):
    r = http.get(icat.base_url + "/icat/nothing/here")
    assert r.status_code == 501 and r.json()["code"] == "NOT_IMPLEMENTED"


# ------------------------------------------------------------------------- JSON shape

def test_entity_json_shape(icat, http, root_sid):
    rows = ok(search(http, icat, root_sid,
                     "SELECT i FROM Investigation i WHERE i.name = '08100122-EF'"))
    assert len(rows) == 1 and list(rows[0]) == ["Investigation"]
    inv = rows[0]["Investigation"]
    keys = list(inv)
    assert keys[:5] == ["id", "createId", "createTime", "modId", "modTime"]
    assert keys[5:] == sorted(keys[5:])
    assert inv["title"] == "Durol single crystal" and inv["visitId"] == "1.1-P"
    assert "summary" not in inv                      # null omitted
    assert inv["datasets"] == [] and inv["keywords"] == []   # one-to-many: always arrays
    assert "facility" not in inv and "type" not in inv       # many-to-one only when INCLUDEd
    assert inv["startDate"] == "2008-03-13T11:39:42.000+01:00"   # server zone +01:00
    for k in ("createTime", "modTime", "releaseDate"):
        assert DATE_RX.match(inv[k]), inv[k]


def test_include_nested_not_wrapped(icat, http, root_sid):
    q = ("SELECT DISTINCT a FROM Investigation a WHERE a.id > 0 ORDER BY a.id "
         "INCLUDE a.investigationUsers c, c.user, a.investigationInstruments ii, ii.instrument, "
         "a.keywords, a.facility LIMIT 0, 101")
    rows = ok(search(http, icat, root_sid, q))
    assert [r["Investigation"]["name"] for r in rows] == ["08100122-EF", "10100601-ST",
                                                          "12100409-ST"]
    inv = rows[0]["Investigation"]
    users = {u["user"]["name"]: (u["role"], u["user"].get("orcidId")) for u in
             inv["investigationUsers"]}
    assert users["db/jbotu"] == ("Principal Investigator", "0000-0002-3264")
    assert "User" not in inv["investigationUsers"][0]["user"]   # nested objects not wrapped
    assert inv["investigationInstruments"][0]["instrument"]["pid"] == "DOI:00.0815/inst-00027"
    assert inv["facility"]["name"] == "ESNF" and inv["facility"]["investigations"] == []
    assert [k["name"] for k in inv["keywords"]] == ["Durol"]
    assert "investigation" not in inv["keywords"][0]


def test_include_one_and_dataset_includes(icat, http, root_sid):
    ids = ok(search(http, icat, root_sid, "SELECT d.id FROM Dataset d WHERE d.name = 'e208945'"))
    rows = ok(search(http, icat, root_sid,
                     f"SELECT d FROM Dataset d WHERE d.id IN ({ids[0]}) INCLUDE d.parameters p, "
                     "p.type, d.datasetTechniques t, t.technique, d.sample s, s.type, "
                     "d.investigation, d.type LIMIT 0, 100"))
    ds = rows[0]["Dataset"]
    assert {(p["type"]["name"], p["type"]["units"], p["numericValue"]) for p in
            ds["parameters"]} == {("Sample temperature", "C", 3.92),
                                  ("Sample temperature", "K", 277.07)}
    assert ds["sample"]["type"]["molecularFormula"] == "NiO"
    assert ds["sample"]["pid"] == "IGSN:ESNFX8C7B53W"
    assert ds["investigation"]["name"] == "12100409-ST" and ds["type"]["name"] == "raw"
    one = ok(search(http, icat, root_sid, f"SELECT d FROM Dataset d WHERE d.id = {ids[0]} "
                                          "INCLUDE 1"))[0]["Dataset"]
    assert {"investigation", "sample", "type"} <= set(one) and one["parameters"] == []
    techs = ok(search(http, icat, root_sid, "SELECT t.pid FROM Technique t ORDER BY t.pid"))
    assert techs == ["PaNET:PaNET01089", "PaNET:PaNET01103", "PaNET:PaNET01207",
                     "PaNET:PaNET01217"]


def test_projections_and_aggregates(icat, http, root_sid):
    assert ok(search(http, icat, root_sid, "SELECT COUNT(d) FROM Dataset d")) == [9]
    assert ok(search(http, icat, root_sid,
                     "SELECT MIN(d.name) FROM Dataset d WHERE d.name = 'none'")) == [None]
    rows = ok(search(http, icat, root_sid, "SELECT ds.name, inv.name FROM Dataset ds, "
                     "ds.investigation inv WHERE inv.name LIKE '1%' ORDER BY ds.name DESC "
                     "LIMIT 0, 2"))
    assert rows == [["pub-00027", "12100409-ST"], ["e208947", "12100409-ST"]]
    rows = ok(search(http, icat, root_sid, "SELECT DISTINCT ds.investigation.name FROM Dataset ds "
                                           "ORDER BY ds.investigation.name"))
    assert rows == ["08100122-EF", "10100601-ST", "12100409-ST"]
    units = ok(search(http, icat, root_sid,
                      "SELECT DISTINCT p.type.units FROM DatasetParameter p ORDER BY p.type.units"))
    assert units == sorted(set(units)) and "K" in units and "T" in units
    mx = ok(search(http, icat, root_sid, "SELECT MAX(d.modTime) FROM Dataset d"))
    assert DATE_RX.match(mx[0])


def test_where_subset(icat, http, root_sid):
    def names(where):
        return ok(search(http, icat, root_sid,
                         f"SELECT i.name FROM Investigation i WHERE {where} ORDER BY i.name"))
    assert names("i.startDate > {ts 2010-01-01 00:00:00}") == ["10100601-ST", "12100409-ST"]
    assert names("i.startDate <= '2008-03-13 11:39:42'") == ["08100122-EF"]   # server zone
    assert names("i.startDate <= '2008-03-13 10:39:41 +0000'") == []
    assert names("NOT (i.name = '08100122-EF' OR i.name IN ('10100601-ST'))") == ["12100409-ST"]
    assert names("i.summary IS NULL AND i.doi IS NOT NULL AND i.name LIKE '_0100601-%'") == \
        ["10100601-ST"]
    assert names("i.releaseDate < CURRENT_TIMESTAMP") == ["08100122-EF", "10100601-ST"]
    joined = ok(search(http, icat, root_sid,
                       "SELECT o.name FROM Dataset o JOIN o.investigation AS i JOIN o.parameters "
                       "AS p JOIN p.type AS pt WHERE i.name = '10100601-ST' AND p.numericValue > "
                       "5.0 AND pt.name = 'Magnetic field' AND pt.units = 'T'"))
    assert joined == ["e208339"]   # 7.3 T; e208341 has 2.7 T
    users = ok(search(http, icat, root_sid, "SELECT u.name FROM User u WHERE u.name = :user"))
    assert users == []   # db/reader is no User row of the dump


@pytest.mark.parametrize("query", [
    "SELECT i FROM Investigation",                       # no variable
    "SELECT i FROM Nothing i",
    "SELECT i FROM Investigation i WHERE i.nope = 1",
    "SELECT i FROM Investigation i WHERE i.name = 'unterminated",
    "SELECT i FROM Investigation i WHERE i.id IN (SELECT d.id FROM Dataset d)",
    "SELECT i FROM Investigation i LIMIT 10",
    "SELECT UPPER(i.name) FROM Investigation i",
    "SELECT i FROM Investigation i INCLUDE i.nothing",
    "Investigation [name='x']"])
def test_bad_queries_are_bad_parameter(icat, http, root_sid, query):
    r = search(http, icat, root_sid, query)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "BAD_PARAMETER" and r.json()["message"]


def test_missing_query(icat, http, root_sid):
    r = http.get(icat.base_url + "/icat/entityManager", params={"sessionId": root_sid})
    assert (r.status_code, r.json()["code"]) == (400, "BAD_PARAMETER")


# ------------------------------------------------------------------------- limits and authz

def test_max_entities_rows_and_included_descendants(icat, http, root_sid):
    r = search(http, icat, root_sid, "SELECT r.id FROM Rule r")            # 161 rows > 50
    assert (r.status_code, r.json()["code"]) == (412, "VALIDATION")
    assert "more than 50" in r.json()["message"]
    assert len(ok(search(http, icat, root_sid, "SELECT r.id FROM Rule r LIMIT 0, 50"))) == 50
    q = "SELECT i FROM Investigation i INCLUDE i.investigationGroups g, g.grouping, i.keywords"
    assert len(ok(search(http, icat, root_sid, q + " LIMIT 0, 1"))) == 1
    r = search(http, icat, root_sid, "SELECT f FROM Facility f INCLUDE f.facilityCycles c, "
                                     "c.investigationFacilityCycles, f.parameterTypes pt, "
                                     "pt.permissibleStringValues, f.datafileFormats, "
                                     "f.instruments ins, ins.instrumentScientists, "
                                     "f.investigationTypes")
    assert (r.status_code, r.json()["code"]) == (412, "VALIDATION")
    assert "attempt to return more than 50 entities" in r.json()["message"]


def test_anon_sees_released_rows_only(icat, http, anon_sid, root_sid):
    q = "SELECT i.name FROM Investigation i ORDER BY i.name"
    assert ok(search(http, icat, anon_sid, q)) == ["08100122-EF", "10100601-ST"]
    assert len(ok(search(http, icat, root_sid, q))) == 3
    anon_ds = ok(search(http, icat, anon_sid, "SELECT COUNT(d) FROM Dataset d"))
    assert anon_ds == [5]
    ids = ok(search(http, icat, anon_sid, "SELECT DISTINCT p.dataset.investigation.name "
                                          "FROM DatasetParameter p"))
    assert "12100409-ST" not in ids and ids
    embargoed = ok(search(http, icat, root_sid,
                          "SELECT d.id FROM Dataset d WHERE d.investigation.name = '12100409-ST' "
                          "ORDER BY d.id"))
    r = http.get(icat.base_url + "/icat/entityManager",
                 params={"sessionId": anon_sid, "query": "Dataset INCLUDE 1", "id": embargoed[0]})
    assert r.status_code == 403 and r.json() == {
        "code": "INSUFFICIENT_PRIVILEGES", "message": "READ access to this Dataset is not allowed."}


def test_get_by_id(icat, http, root_sid):
    did = ok(search(http, icat, root_sid, "SELECT d.id FROM Dataset d WHERE d.name = 'e208341'"))[0]
    r = http.get(icat.base_url + "/icat/entityManager",
                 params={"sessionId": root_sid, "query": "Dataset ds INCLUDE ds.datafiles",
                         "id": did})
    body = ok(r)
    assert list(body) == ["Dataset"] and body["Dataset"]["id"] == did
    assert sorted(f["name"] for f in body["Dataset"]["datafiles"]) == ["e208341.dat",
                                                                       "e208341.nxs"]
    r = http.get(icat.base_url + "/icat/entityManager",
                 params={"sessionId": root_sid, "query": "Dataset INCLUDE 1", "id": 999999})
    assert r.status_code == 404 and r.json() == {"code": "NO_SUCH_OBJECT_FOUND",
                                                 "message": "Dataset[id:999999] not found."}


# ------------------------------------------------------------------------- data and faults

def test_dump_load_is_deterministic(clock):
    a, b = IcatStandin(clock=clock), IcatStandin(clock=clock)
    a.load_dump(DUMP)
    b.load_dump(DUMP)
    for etype in ("Investigation", "Dataset", "DatasetParameter", "User"):
        assert a.store.ids[etype] == b.store.ids[etype]
        assert [a.get(etype, i) for i in a.store.ids[etype]] == \
            [b.get(etype, i) for i in b.store.ids[etype]]
    inv = a.get("Investigation", a.find("Investigation", name="12100409-ST")[0])
    assert inv["releaseDate"] > NOW and inv["modTime"] < NOW


def test_writes_set_mod_times_and_cascade(clock):
    s = IcatStandin(clock=clock)
    s.load_dump(DUMP)
    inv = s.find("Investigation", name="10100601-ST")[0]
    dtype = s.find("DatasetType", name="raw")[0]
    clock.now = NOW + timedelta(hours=1)
    try:
        ds = s.create("Dataset", name="new", investigation=inv, type=dtype, complete=False)
        pt = s.find("ParameterType", name="Magnetic field")[0]
        p = s.create("DatasetParameter", dataset=ds, type=pt, numericValue=1.5)
        assert s.get("Dataset", ds)["modTime"] == NOW + timedelta(hours=1)
        assert s.get("Investigation", inv)["modTime"] < NOW      # parent not bumped
        s.update("DatasetParameter", p, numericValue=5.0)
        assert s.get("DatasetParameter", p)["numericValue"] == 5.0
        s.delete("Dataset", ds)
        assert s.find("DatasetParameter", dataset=ds) == []
        with pytest.raises(KeyError):
            s.get("DatasetParameter", p)
    finally:
        clock.now = NOW


def test_requests_log_fail_next_and_down(icat, http, root_sid):
    icat.clear_requests()
    q = "SELECT a.id FROM Dataset a WHERE a.id > 0 ORDER BY a.id LIMIT 0, 5"
    ok(search(http, icat, root_sid, q))
    assert icat.requests == [("GET", "/icat/entityManager", {"query": q})]
    icat.fail_next(2, status=503, code="INTERNAL")
    assert [search(http, icat, root_sid, q).status_code for _ in range(3)] == [503, 503, 200]
    url = icat.base_url
    icat.set_down(True)
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/icat/version", timeout=2)
    finally:
        icat.set_down(False)
    assert icat.base_url == url
    assert ok(http.get(url + "/icat/version")) == {"version": "6.2.0"}


def test_keyset_paging_and_generator(clock):
    s = IcatStandin(clock=clock, max_entities=1000)
    counts = s.generate(500, datasets_per_investigation=20, parameters_per_dataset=3)
    assert counts["Dataset"] == 500 and counts["Investigation"] == 25
    assert counts["DatasetParameter"] == 1500
    pids = [s.get("Technique", i)["pid"] for i in s.store.ids["Technique"]]
    assert all(re.search(r"PaNET\d{5}$", p) for p in pids)
    s.add_user("db", "r", "p", reader_all=True)
    with s, requests.Session() as h:
        sid = login(h, s.base_url, "db", "r", "p").json()["sessionId"]
        last, seen = 0, []
        while True:
            page = ok(search(h, s, sid, f"SELECT a.id FROM Dataset a WHERE a.id > {last} "
                                        "ORDER BY a.id LIMIT 0, 101"))
            seen += page
            if len(page) < 101:
                break
            last = page[-1]
        assert seen == s.store.ids["Dataset"]
        anon = login(h, s.base_url, "anon").json()["sessionId"]
        public = ok(search(h, s, anon, "SELECT COUNT(i) FROM Investigation i"))[0]
        assert 0 < public < 25
        units = ok(search(h, s, sid, "SELECT DISTINCT p.type.units FROM DatasetParameter p"))
        assert "K" in units


def test_generate_is_deterministic(clock):
    a, b = IcatStandin(clock=clock), IcatStandin(clock=clock)
    a.generate(60, seed=7)
    b.generate(60, seed=7)
    assert [a.get("DatasetParameter", i) for i in a.store.ids["DatasetParameter"]] == \
        [b.get("DatasetParameter", i) for i in b.store.ids["DatasetParameter"]]


@pytest.mark.slow
def test_generate_100k_and_page_fast(clock):
    s = IcatStandin(clock=clock)
    t = time.perf_counter()
    s.generate(100_000)
    assert time.perf_counter() - t < 30
    assert len(s.store.ids["Dataset"]) == 100_000
    t = time.perf_counter()
    rows = s.search("anon/anon", "SELECT a FROM Dataset a WHERE a.id > 90000 ORDER BY a.id "
                                 "LIMIT 0, 1000")
    assert len(rows) == 1000 and time.perf_counter() - t < 2
