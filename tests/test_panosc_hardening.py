"""The PaNOSC Search API under hostile or unlucky input: patterns that would backtrack for
minutes, numbers and nesting beyond what Python or SQLite take, invalid Unicode, embargoed
text leaking through BM25 statistics, scores the federator drops, threads and processes
racing on a fresh projection file."""
from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from gateway import panosc
from gateway.app import create_app
from gateway.config import Config
from gateway.panosc.filters import FilterError, compile_filter, like_pattern, parse_date
from gateway.panosc.ordering import sort_key
from gateway.panosc.projection import Projection, link_key
from gateway.sqlite import SQLiteFile
from gateway.store import Batch, Store
from mappings.record import Related, with_hash

from .panosc_fixture import EMBARGO_END, NOW, SANS, dataset, records

EVIL_LIKE = "%_%_%_%_%_%_%_%Z"   # took 18 s on one long title as a regular expression


def make_app(tmp_path, recs, clock=None):
    clock = clock or [NOW]
    app = create_app(Config(data_dir=tmp_path), clock=lambda: clock[0])
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("panosc", Batch(upserts=list(recs)), NOW - timedelta(days=1))
    return app, gw


@pytest.fixture
def hundred(tmp_path):
    """The fixture plus 95 public datasets with long titles: 100 records."""
    words = "small angle neutron scattering of a copper cylinder at room temperature"
    extra = [dataset(100 + i, 10, "LoKI", SANS, 1, (), title=f"{words} run {i} " * 3)
             for i in range(93)]
    app, gw = make_app(tmp_path, records() + extra)
    yield app.test_client(), gw
    gw.close()


def get(client, path, **params):
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    response = client.get(path, query_string=params)
    return response.status_code, response.get_json()


def timed(client, path, **params):
    start = time.perf_counter()
    status, body = get(client, path, **params)
    return status, body, time.perf_counter() - start


# --- 1. no pattern backtracks catastrophically ---------------------------------------------

@pytest.mark.parametrize("op, expect", [("like", 0), ("ilike", 0), ("nlike", 97),
                                        ("nilike", 97)])
def test_evil_like_patterns_answer_at_once(hundred, op, expect):
    client, _ = hundred
    status, body, elapsed = timed(client, "/api/Datasets",
                                  filter={"where": {"title": {op: EVIL_LIKE}}, "limit": 1000})
    assert status == 200 and len(body) == expect
    assert elapsed < 2


@pytest.mark.parametrize("pattern, problem", [
    ("/(.|.)*Z$/", "quantifier around a group"), ("(a+)+$", "quantifier around a group"),
    (".*.*.*Z", "at most one repetition"), ("a*a*Z", "at most one repetition"),
    ("a?a?a?a?aaaa", "optional parts"), (r"(a)\1", "backreferences"),
    ("(?=a)b", "lookarounds"), ("(?<!a)b", "lookarounds"), ("/a/y", "flag(s) y")])
def test_slow_regular_expressions_are_refused_before_running(hundred, pattern, problem):
    client, _ = hundred
    status, body, elapsed = timed(client, "/api/Datasets",
                                  filter={"where": {"title": {"regexp": pattern}}})
    assert status == 400 and body["error"]["code"] == "INVALID_FILTER"
    assert problem in body["error"]["message"] and "where.title.regexp" in body["error"]["message"]
    assert elapsed < 2


def test_regexp_flags_s_u_g_are_accepted(hundred):
    client, _ = hundred
    where = {"title": {"regexp": "/^panosc test.dataset [1-4]$/isu"}}
    assert len(get(client, "/api/Datasets", filter={"where": where})[1]) == 4
    atom = compile_filter("Dataset", {"where": {"title": {"regexp": "/a.b/s"}}}).where
    assert atom.operand.search("a\nb")
    atom = compile_filter("Dataset", {"where": {"title": {"regexp": "/a.b/g"}}}).where
    assert not atom.operand.search("a\nb")


def _sqlite_like(db, pattern, value, case_sensitive):
    db.execute(f"PRAGMA case_sensitive_like = {'ON' if case_sensitive else 'OFF'}")
    return bool(db.execute("SELECT ? LIKE ? ESCAPE '\\'", (value, pattern)).fetchone()[0])


def test_like_agrees_with_sqlites_like():
    """SQLite's own LIKE (ESCAPE '\\', case-sensitive for `like`, ASCII case folded for
    `ilike`) is the judge, on 4000 random patterns and values."""
    db, rng = sqlite3.connect(":memory:"), random.Random(7)
    pieces = ["a", "b", "A", "%", "_", "\\%", "\\_", "\\\\", "ab"]
    for _ in range(4000):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        value = "".join(rng.choice("abAB%_\\") for _ in range(rng.randint(0, 7)))
        for ignore_case in (False, True):
            assert like_pattern(pattern, ignore_case).matches(value) == _sqlite_like(
                db, pattern, value, not ignore_case), (pattern, value, ignore_case)


# --- 2. embargoed text does not move public scores ---------------------------------------

def _alpha_beta(tmp_path, secrets, clock=None):
    public = [dataset(11, 10, "LoKI", SANS, 1, (), title="alpha measurement"),
              dataset(12, 10, "LoKI", SANS, 1, (), title="beta measurement")]
    hidden = [dataset(20 + i, 10, "SKADI", SANS, 1, (), title=f"alpha secret {i}",
                      release=EMBARGO_END) for i in range(secrets)]
    return make_app(tmp_path / str(secrets), records() + public + hidden, clock)[1]


def _hits(gw):
    return [(d["title"], d["score"]) for d in panosc.find(gw, "Datasets", {"query": "alpha beta"})]


def test_embargoed_records_do_not_change_public_scores_or_order(tmp_path):
    clock = [NOW]
    without, with_secrets = _alpha_beta(tmp_path, 0), _alpha_beta(tmp_path, 3, clock)
    assert _hits(without) == _hits(with_secrets) == [("alpha measurement", 0.99),
                                                     ("beta measurement", 0.99)]
    clock[0] = EMBARGO_END   # released: now they count, and are found
    assert sorted(t for t, _ in _hits(with_secrets)) == [
        "alpha measurement", "alpha secret 0", "alpha secret 1", "alpha secret 2",
        "beta measurement"]
    clock[0] = NOW           # the clock went back: out of the statistics again
    assert _hits(with_secrets) == _hits(without)
    without.close()
    with_secrets.close()


# --- 3. bad input is a 400 that names the problem ----------------------------------------

@pytest.mark.parametrize("path, params, problem", [
    ("/api/Datasets", {"filter": '{"skip": 1e30}'}, "filter.skip"),
    ("/api/Datasets", {"filter": json.dumps({"skip": 10**19})}, "filter.skip"),
    ("/api/Datasets", {"filter": '{"skip": 1e400}'}, "filter.skip"),
    ("/api/Datasets", {"filter": json.dumps({"skip": 10**19, "where": {"size": {"gt": 1}}})},
     "filter.skip"),
    ("/api/Datasets", {"filter": "[" * 5000}, "nested too deeply"),
    ("/api/Datasets/count", {"where": '{"a":' * 3000}, "nested too deeply"),
    ("/api/Datasets", {"filter": '{"where":{"title":"\\ud800"}}'}, "filter.where.title"),
    ("/api/Datasets", {"filter": '{"where":{"text":"\\ud800"}}'}, "filter.where.text"),
    ("/api/Datasets", {"filter": '{"query":"\\ud800 a"}'}, "filter.query"),
    ("/api/Datasets/count", {"where": '{"title":{"like":"\\udfff%"}}'}, "filter.where.title.like"),
    ("/api/Datasets", {"filter": json.dumps({"query": " ".join(f"w{i}" for i in range(33))})},
     "at most 32 words"),
])
def test_bad_input_is_a_400_naming_the_problem(hundred, path, params, problem):
    client, _ = hundred
    response = client.get(path, query_string=params)
    body = response.get_json()
    assert response.status_code == 400, body
    assert body["error"]["code"] == "INVALID_FILTER" and problem in body["error"]["message"]


def test_a_pid_that_is_not_unicode_is_a_filter_error(hundred):
    _, gw = hundred
    for call in (lambda: panosc.find_by_id(gw, "Datasets", "\ud800"),
                 lambda: panosc.files(gw, "x\udfff")):
        with pytest.raises(FilterError, match="pid: not valid Unicode"):
            call()


def test_the_word_limit_is_a_filter_error_found_before_running():
    with pytest.raises(FilterError, match="at most 32 words"):
        compile_filter("Dataset", {}, query=" ".join(f"w{i}" for i in range(33)))
    assert compile_filter("Dataset", {}, query=" ".join(f"w{i}" for i in range(32)))


def test_an_unexpected_error_is_a_loopback_500(tmp_path, caplog):
    app, gw = make_app(tmp_path, records())
    gw.panosc.path.write_bytes(b"not a database" * 100)   # a broken projection file
    response = app.test_client().get("/api/Datasets")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"statusCode": 500, "name": "Error",
                                             "message": "Internal Server Error",
                                             "code": "INTERNAL_SERVER_ERROR"}}
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)
    gw.close()


# --- 4. scores strictly inside (0, 1) ----------------------------------------------------

def test_every_score_is_strictly_between_0_and_1(hundred):
    client, gw = hundred
    found = [*get(client, "/api/Datasets", filter={"limit": 1000})[1],
             *get(client, "/api/Datasets", query="copper alpha cylinder")[1],
             *get(client, "/api/Datasets", filter={"query": "copper", "where": {"size": {"gt": 1}},
                                                   "skip": 3})[1],
             *get(client, "/api/Documents", query="chadwick")[1],
             *get(client, "/api/Instruments", query="loki ess")[1],
             *get(client, "/api/Instruments")[1],
             get(client, "/api/Datasets/20.500.12269%2Fpanosc-dataset1")[1]]
    assert len(found) > 100
    assert all(0 < d["score"] < 1 for d in found)
    assert {d["score"] for d in get(client, "/api/Datasets")[1]} == {0.5}
    assert max(d["score"] for d in get(client, "/api/Datasets", query="copper")[1]) == 0.99


# --- 5. a fresh file under threads and processes ----------------------------------------

class ManyTables(SQLiteFile):
    """A schema long enough that a half-created one is easy to see."""
    SCHEMA = "".join(f"CREATE TABLE IF NOT EXISTS t{i} (x);\n" for i in range(300))
    MARKER = "t0"


def test_a_fresh_files_schema_appears_all_at_once(tmp_path):
    for attempt in range(5):
        path = tmp_path / f"fresh{attempt}.sqlite"
        errors, start = [], threading.Barrier(8)

        def use():
            start.wait()
            try:
                ManyTables(path).db.execute("SELECT count(*) FROM t299").fetchone()
            except sqlite3.Error as exc:
                errors.append(exc)

        threads = [threading.Thread(target=use) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_two_projections_building_at_once_apply_each_change_once(tmp_path):
    """Two Projection objects on one file (as two processes: no shared lock) build it from
    one store in small batches at the same time."""
    store = Store(tmp_path / "store.sqlite")
    extra = [dataset(100 + i, 10, "LoKI", SANS, 1, ()) for i in range(150)]
    store.apply_batch("panosc", Batch(upserts=records() + extra), NOW)
    app = create_app(Config(data_dir=tmp_path / "app"))
    context = app.extensions["fairgate"].render_context
    errors, start = [], threading.Barrier(2)

    def build():
        proj = Projection(tmp_path / "panosc.sqlite")
        start.wait()
        try:
            proj.sync(store, context, batch=7)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        proj.close()

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    proj = Projection(tmp_path / "panosc.sqlite")
    assert proj.rows("SELECT count(*), count(DISTINCT rid) FROM items")[0] == (157, 157)
    assert proj.seq() == store.last_seq()
    proj.close()
    store.close()
    app.extensions["fairgate"].close()


# --- 6. one date parser, one DOI normaliser, one order ------------------------------------

def test_dates_accept_a_year_or_a_month_as_its_start(hundred):
    assert parse_date("2020") == datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert parse_date("2020-05") == datetime(2020, 5, 1, tzinfo=timezone.utc)
    assert parse_date("2020-05-05T15:01:02+02:00") == datetime(2020, 5, 5, 13, 1, 2,
                                                              tzinfo=timezone.utc)
    assert parse_date("2020-13") is None and parse_date("May 2020") is None
    client, _ = hundred
    assert len(get(client, "/api/Datasets", filter={"where": {"creationDate": {"gt": "2020-05"}},
                                                    "limit": 1000})[1]) == 97
    assert get(client, "/api/Datasets", filter={"where": {"creationDate": {"gt": "2021"}}})[1] == []


def test_links_compare_dois_whatever_the_resolver_spelling(tmp_path):
    assert link_key("HTTPS://DOI.ORG/10.5072/ABC") == link_key("doi:10.5072/abc") \
        == link_key("10.5072/Abc") == "10.5072/abc"
    assert link_key(" panosc:document:document1 ") == "panosc:document:document1"
    # a dataset naming document 2 by its DOI spelled as an upper-case resolver URL
    linked = with_hash(replace(dataset(9, 10, "LoKI", SANS, 2, ()), related=(
        Related("IsPartOf", "HTTPS://DOI.ORG/10.5072/PANOSC-DOCUMENT2", "DOI"),)))
    _, gw = make_app(tmp_path, records() + [linked])
    doc = panosc.find_by_id(gw, "Documents", "10.5072/panosc-document2",
                            {"include": ["datasets"]})
    assert "20.500.12269/panosc-dataset9" in [d["pid"] for d in doc["datasets"]]
    gw.close()


def test_sort_key_is_total_and_reads_dates_as_instants():
    values = ["b", None, 2, "A", True, 1.5, float("nan"), [2, 1], {"b": 1, "a": 2},
              "2020-01-01T01:00:00+01:00", "2019-12-31T23:30:00Z", False, -3]
    ordered = sorted(values, key=sort_key)
    assert ordered[:7] == [None, False, True, -3, 1.5, 2, ordered[6]]
    assert ordered[7:11] == ["2019-12-31T23:30:00Z", "2020-01-01T01:00:00+01:00", "A", "b"]
    assert sort_key("2020-01-01T01:00:00+01:00") == sort_key("2020-01-01T00:00:00Z")
    assert sort_key({"b": 1, "a": 2}) == sort_key({"a": 2, "b": 1})
    assert sort_key("Abc") == sort_key("aBC")
