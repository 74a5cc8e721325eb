"""What only the Elasticsearch backend has: server checks, timeouts and retries, the outbox
seq kept in the index, versioned writes, the alias swap of `reindex`, and a harvest that
goes on while the server is down. (The search contract is in test_index_contract.py.)"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from gateway.app import create_app
from gateway.cli import main
from gateway.config import Config, ConfigError, load_config
from gateway.harvest import Runner
from gateway.index import IncompatibleServer, IndexUnavailable, Query, catch_up
from gateway.index.elastic import ElasticIndex
from gateway.index.elastic_schema import document, to_si
from gateway.store import Batch, Store
from harvesters.events import Mark, Upsert

from .factories import NOW, corpus, make_record
from .oracle import brute_search


# -- stand-in servers that misbehave -------------------------------------------------------
class _Stub(BaseHTTPRequestHandler):
    status, body, product = 200, {}, True
    hits: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).hits.append(self.path)
        payload = json.dumps(self.body).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        if self.product:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_PUT = do_POST = do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[Any]:
    """Start an HTTP stand-in: stub(status=..., body=..., product=...) -> (url, hits)."""
    servers = []

    def start(**attrs: Any) -> tuple[str, list[str]]:
        handler = type("Handler", (_Stub,), {**attrs, "hits": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", handler.hits

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def es7_info() -> dict[str, Any]:
    return {"name": "old", "version": {"number": "7.17.9", "build_flavor": "default"},
            "tagline": "You Know, for Search"}


def test_a_server_of_another_major_version_is_refused(stub, tmp_path, capsys, monkeypatch):
    url, _ = stub(body=es7_info())
    with pytest.raises(IncompatibleServer, match=r"7\.17\.9.*Elasticsearch 8\.x"):
        ElasticIndex(url, "x").prepare()
    with pytest.raises(IncompatibleServer):
        create_app(Config(data_dir=tmp_path, index="elasticsearch", elasticsearch_url=url))
    monkeypatch.setenv("FAIRGATE_INDEX", "elasticsearch")
    monkeypatch.setenv("FAIRGATE_ELASTICSEARCH_URL", url)
    assert main(["--data-dir", str(tmp_path), "status"]) == 2
    assert "needs Elasticsearch 8.x" in capsys.readouterr().err


def test_a_server_that_is_not_elasticsearch_is_refused(stub):
    url, _ = stub(body={"version": {"number": "8.15.0"}}, product=False)
    with pytest.raises(IncompatibleServer, match="not an Elasticsearch server"):
        ElasticIndex(url, "x").prepare()
    url, _ = stub(body={"version": {"number": "3.0.0", "distribution": "opensearch"}})
    with pytest.raises(IncompatibleServer, match="opensearch 3.0.0"):
        ElasticIndex(url, "x").prepare()


def test_overloaded_server_is_retried_then_unavailable(stub):
    url, hits = stub(status=503, body={"error": "busy"})
    with pytest.raises(IndexUnavailable, match="503"):
        ElasticIndex(url, "x", retries=2, timeout=2).search(Query(), NOW)
    assert len(hits) == 3  # first try + 2 retries


def test_api_answers_503_fast_when_the_server_is_down(tmp_path, closed_port):
    app = create_app(Config(data_dir=tmp_path, index="elasticsearch", elasticsearch_timeout=2,
                            elasticsearch_url=f"http://127.0.0.1:{closed_port}"),
                     clock=lambda: NOW)  # starts although the index is down
    record = make_record(1)
    app.extensions["fairgate"].store.apply_batch("test", Batch(upserts=[record]), NOW)
    client = app.test_client()
    started = time.monotonic()
    resp = client.get("/api/search?q=cerium")
    assert time.monotonic() - started < 2
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert resp.get_json() == {"error": {
        "status": 503, "code": "service_unavailable",
        "message": "the search index is unavailable; try again later"}}
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json() == {"status": "index_unavailable"}
    assert client.get(f"/api/records/{record.id}").status_code == 200  # from the store


def test_a_hanging_server_costs_one_timeout(tmp_path, silent_server):
    app = create_app(Config(data_dir=tmp_path, index="elasticsearch", elasticsearch_timeout=0.5,
                            elasticsearch_retries=2, elasticsearch_url=silent_server))
    started = time.monotonic()
    resp = app.test_client().get("/api/search")
    assert resp.status_code == 503
    assert time.monotonic() - started < 2.5  # start-up check + one request, no retry


def test_harvest_keeps_writing_the_store_while_the_index_is_down(tmp_path, closed_port,
                                                                 es_index):
    store = Store(tmp_path / "store.sqlite")
    down = ElasticIndex(f"http://127.0.0.1:{closed_port}", "x", timeout=1, retries=0)
    report = Runner(store, down, batch_size=10).run(ListHarvester(corpus(40)))
    assert report.status == "ok" and report.new == 41
    assert report.index_lag == store.last_seq() == 41 and "Connection" in report.index_error
    assert "index behind by 41 changes" in report.summary()
    back = es_index()  # the server is back: the next catch-up brings everything
    assert catch_up(store, back) == 41
    assert back.content_hashes() == live_hashes(store)


class ListHarvester:
    name = "test"

    def __init__(self, records: list, unit: int = 5):
        self.records, self.unit = records, unit

    def harvest(self, checkpoint: Any) -> Iterator[Any]:
        for i, record in enumerate(self.records):
            yield Upsert(record)
            if i % self.unit == self.unit - 1:
                yield Mark(f"unit{i // self.unit}", True)


def live_hashes(store: Store) -> dict[str, str]:
    rows = store.db.execute("SELECT id, content_hash FROM records WHERE deleted = 0")
    return dict(rows.fetchall())


def test_applied_seq_lives_in_the_index(es_index, tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=corpus(20)), NOW)
    first = es_index()
    catch_up(store, first)
    again = es_index(first.name)  # another process, or the gateway restarted
    assert again.last_seq() == store.last_seq() and again.count() == 21
    assert catch_up(store, again) == 0


def test_a_stale_writer_never_overwrites_a_newer_document(es_index):
    idx = es_index()
    new, old = make_record(1, title="New basalt"), make_record(1, title="Old quartz")
    idx.apply([(5, new)])
    idx.apply([(3, old)])  # e.g. another process catching up from an older seq
    assert idx.search(Query(text="quartz"), NOW).total == 0
    assert idx.search(Query(text="basalt"), NOW).total == 1
    assert idx.last_seq() == 5


def test_reindex_swaps_the_alias_while_searches_keep_answering(es_index, tmp_path):
    records = corpus(120)
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=records), NOW)
    idx = es_index()
    catch_up(store, idx)
    expected = len(brute_search(records, Query(), NOW))
    before = idx._versions()
    done, seen = threading.Event(), []

    def rebuild() -> None:
        try:
            idx.rebuild(store, batch=10)
        finally:
            done.set()

    threading.Thread(target=rebuild).start()
    while not done.is_set() or not seen:
        aliased = idx.client.indices.get_alias(name=idx.name).body
        seen.append((idx.search(Query(size=0), NOW).total, len(aliased)))
    assert len(seen) >= 3, "the searches did not overlap the rebuild"
    assert set(seen) == {(expected, 1)}  # never a partial index, always one behind the alias
    after = idx._versions()
    assert len(after) == 1 and after != before
    assert idx.last_seq() == store.last_seq() and idx.count() == len(records)


def test_document_fields_and_si_units():
    record = make_record(3)
    doc = document(record, 7)
    assert doc["id"] == record.id and doc["seq"] == 7 and doc["doc"] == "record"
    assert doc["facility"] == [record.facility.name] and doc["kind"] == [record.kind]
    assert doc["parameters"] == [{"name": "temperature", "unit": "K", "value": 83.0,
                                  "value_si": 83.0, "unit_si": "K"}]
    assert to_si(25.0, "degC") == (298.15, "K")
    assert to_si(2.0, "keV")[1] == "J" and to_si(1.0, "Å") == (1e-10, "m")
    assert to_si(1.0, "furlong") is None and to_si(1.0, None) is None


def test_elasticsearch_settings_from_file_and_environment(tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text('index = "elasticsearch"\nelasticsearch_url = "http://es:9200"\n'
                   'elasticsearch_timeout = 2.5\n')
    c = load_config(cfg, env={"FAIRGATE_ELASTICSEARCH_INDEX": "facility-a",
                              "FAIRGATE_ELASTICSEARCH_TIMEOUT": "0.75",
                              "FAIRGATE_ELASTICSEARCH_RETRIES": "0"})
    assert (c.index, c.elasticsearch_url, c.elasticsearch_index) == (
        "elasticsearch", "http://es:9200", "facility-a")
    assert c.elasticsearch_timeout == 0.75 and c.elasticsearch_retries == 0


@pytest.mark.parametrize("env,message", [
    ({"FAIRGATE_ELASTICSEARCH_INDEX": "Upper"}, "elasticsearch_index"),
    ({"FAIRGATE_ELASTICSEARCH_TIMEOUT": "soon"}, "not a number"),
    ({"FAIRGATE_ELASTICSEARCH_TIMEOUT": "0"}, "positive"),
    ({"FAIRGATE_ELASTICSEARCH_RETRIES": "-1"}, "0 or more"),
])
def test_bad_elasticsearch_settings(env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(env=env)


def test_cli_reindex_and_status_on_elasticsearch(tmp_path, es_url, capsys, monkeypatch):
    from .conftest import unique_name
    name = unique_name()
    monkeypatch.setenv("FAIRGATE_INDEX", "elasticsearch")
    monkeypatch.setenv("FAIRGATE_ELASTICSEARCH_URL", es_url)
    monkeypatch.setenv("FAIRGATE_ELASTICSEARCH_INDEX", name)
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=corpus(30)), NOW)
    try:
        assert main(["--data-dir", str(tmp_path), "reindex"]) == 0
        assert main(["--data-dir", str(tmp_path), "status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["index_backend"] == "elasticsearch" and name in status["index"]
        assert status["index_seq"] == status["store_seq"] == 31
    finally:
        leftover = ElasticIndex(es_url, name)
        leftover.drop()
        leftover.close()
