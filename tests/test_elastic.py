"""What only the Elasticsearch backend has: server checks, timeouts and retries, the outbox
seq kept in the index, versioned writes, the alias swap of `reindex`, and a harvest that
goes on while the server is down. (The search contract is in test_index_contract.py.)"""
from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from gateway.app import create_app
from gateway.cli import main
from gateway.config import Config, ConfigError, load_config
from gateway.harvest import Runner
from gateway.index import IncompatibleServer, IndexUnavailable, Query, catch_up
from gateway.index.elastic import ElasticIndex
from gateway.index.elastic_schema import document
from gateway.store import Batch, Store
from harvesters.events import Mark, Upsert
from mappings.units import to_si

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
    assert to_si(1.0, "wobble") is None and to_si(1.0, None) is None


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
        # opening the gateway restamps records written under an older render version
        assert status["index_seq"] == status["store_seq"] >= 31
        assert status["index_rejected"] == 0
    finally:
        leftover = ElasticIndex(es_url, name)
        leftover.drop()
        leftover.close()


# -- review findings (issue #8 follow-up) --------------------------------------------------
SECRET = "s3cret-pw"


def test_credentials_in_the_url_never_show(tmp_path, closed_port, stub, capsys, caplog,
                                           monkeypatch):
    """user:password@ in elasticsearch_url (allowed by the docs) and the API key stay out
    of exception messages, run reports (runs table), logs, CLI output and repr."""
    from gateway.context import describe_index
    url = f"http://elastic:{SECRET}@127.0.0.1:{closed_port}"
    config = Config(data_dir=tmp_path, index="elasticsearch", elasticsearch_url=url,
                    elasticsearch_api_key=f"key-{SECRET}", elasticsearch_timeout=1,
                    elasticsearch_retries=0)
    index = ElasticIndex(url, "x", timeout=1, retries=0, api_key=f"key-{SECRET}")
    with pytest.raises(IndexUnavailable) as caught:
        index.search(Query(), NOW)
    shown = [str(caught.value), repr(index), repr(config), str(config),
             describe_index(config)]
    assert "127.0.0.1" in str(caught.value) and "elastic:" not in str(caught.value)

    store = Store(tmp_path / "store.sqlite")
    report = Runner(store, index, batch_size=10).run(ListHarvester(corpus(5)))
    assert report.index_error
    shown += [report.index_error, report.summary(), json.dumps(store.runs("test", limit=5))]

    app = create_app(config, clock=lambda: NOW)  # logs that the index is down
    shown += [app.test_client().get("/health").get_data(as_text=True),
              app.test_client().get("/api/search").get_data(as_text=True)]
    monkeypatch.setenv("FAIRGATE_INDEX", "elasticsearch")
    monkeypatch.setenv("FAIRGATE_ELASTICSEARCH_URL", url)
    monkeypatch.setenv("FAIRGATE_ELASTICSEARCH_TIMEOUT", "1")
    for command in (["status"], ["status", "--json"], ["reindex"]):
        main(["--data-dir", str(tmp_path), *command])
    out = capsys.readouterr()
    shown += [out.out, out.err, caplog.text]

    old_url, _ = stub(body=es7_info())  # a refused server: IncompatibleServer's message
    with pytest.raises(IncompatibleServer) as refused:
        ElasticIndex(old_url.replace("http://", f"http://u:{SECRET}@"), "x").prepare()
    shown.append(str(refused.value))
    assert "127.0.0.1" in refused.value.args[0]
    leaks = [text for text in shown if SECRET in text]
    assert not leaks


def test_a_rebuild_between_a_writers_records_and_its_seq_loses_nothing(es_index, tmp_path,
                                                                       monkeypatch):
    """A rebuild has read the whole store; a writer then applies newer changes, and the
    alias moves after the writer's records and before its seq. Both went to the index
    resolved at the start of the batch, so the new index's seq does not claim records it
    never got, and catch_up replays them there."""
    store = Store(tmp_path / "store.sqlite")
    records = corpus(40)
    store.apply_batch("test", Batch(upserts=records[:20]), NOW)
    writer = es_index()
    catch_up(store, writer)
    other = es_index(writer.name)  # e.g. `fairgate reindex` in another process
    read_all, may_swap, swapped = threading.Event(), threading.Event(), threading.Event()
    real_swap, real_meta = ElasticIndex._swap, ElasticIndex._write_meta

    def swap_when_told(self, new):
        read_all.set()
        may_swap.wait(30)
        real_swap(self, new)
        swapped.set()

    def meta_after_the_swap(self, index, seq):
        if self is writer and not swapped.is_set():
            may_swap.set()
            swapped.wait(30)
        return real_meta(self, index, seq)

    monkeypatch.setattr(ElasticIndex, "_swap", swap_when_told)
    monkeypatch.setattr(ElasticIndex, "_write_meta", meta_after_the_swap)
    rebuilding = threading.Thread(target=other.rebuild, args=(store,))
    rebuilding.start()
    assert read_all.wait(30)
    store.apply_batch("test", Batch(upserts=records[20:]), NOW)  # after the rebuild's reads
    writer.apply(store.changes_since(writer.last_seq()))
    rebuilding.join()
    monkeypatch.setattr(ElasticIndex, "_swap", real_swap)
    monkeypatch.setattr(ElasticIndex, "_write_meta", real_meta)
    assert swapped.is_set()
    catch_up(store, writer)
    assert writer.last_seq() == store.last_seq()
    assert writer.content_hashes() == live_hashes(store)
    versions = writer._versions()
    assert len(versions) == 1 and set(
        writer.client.indices.get_alias(name=writer.name).body) == set(versions)


def test_reindex_next_to_a_live_writer_loses_nothing(es_index, tmp_path):
    """A writer thread keeps harvesting (new, changed, deleted records) and catching up
    while `rebuild` runs several times; after a final catch_up the index equals the store
    (count and content hash per record)."""
    import random
    from dataclasses import replace as change

    from mappings.record import with_hash
    store = Store(tmp_path / "store.sqlite")
    records = corpus(150)
    store.apply_batch("test", Batch(upserts=records), NOW)
    idx = es_index()
    catch_up(store, idx)
    writer_index = es_index(idx.name)  # its own client, as another process would have
    stop, errors, rounds = threading.Event(), [], [0]

    def harvest() -> None:
        rnd, n = random.Random(8), 1000
        try:
            while not stop.is_set():
                victim = rnd.choice(records)
                batch = Batch(upserts=[make_record(n), make_record(n + 1), with_hash(
                    change(victim, title=f"{victim.title} rev{n}"))])
                batch.delete(rnd.choice(records).id)
                store.apply_batch("test", batch, NOW)
                n += 2
                try:
                    catch_up(store, writer_index, batch=3)
                except IndexUnavailable as exc:  # e.g. racing a swap's deletion: retried
                    errors.append(str(exc))
                rounds[0] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
            raise

    thread = threading.Thread(target=harvest)
    thread.start()
    try:
        for _ in range(4):
            idx.rebuild(store, batch=25)
    finally:
        stop.set()
        thread.join()
    assert rounds[0] >= 4, "the writer did not overlap the rebuilds"
    assert not [e for e in errors if "Error(" in e]
    catch_up(store, idx)
    assert idx.last_seq() == store.last_seq()
    assert idx.count() == store.count(deleted=False)
    assert idx.content_hashes() == live_hashes(store)
    aliased = idx.client.indices.get_alias(name=idx.name).body
    assert len(aliased) == 1


def test_processes_starting_at_once_create_one_index(es_index):
    from .conftest import unique_name
    name = unique_name()
    starters = [es_index(name) for _ in range(8)]
    barrier, errors = threading.Barrier(len(starters)), []

    def start(index: ElasticIndex) -> None:
        barrier.wait()
        try:
            index.prepare()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in starters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert starters[0]._versions() == [f"{name}-v1"]
    assert list(starters[0].client.indices.get_alias(name=name).body) == [f"{name}-v1"]


def test_concurrent_rebuilds_leave_one_index_behind_the_alias(es_index, tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=corpus(60)), NOW)
    first = es_index()
    catch_up(store, first)
    builders = [es_index(first.name) for _ in range(3)]
    outcomes: list[Any] = []

    def build(index: ElasticIndex) -> None:
        try:
            outcomes.append(index.rebuild(store, batch=10))
        except IndexUnavailable as exc:  # "another reindex is running": allowed
            outcomes.append(exc)

    threads = [threading.Thread(target=build, args=(b,)) for b in builders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any(isinstance(o, int) for o in outcomes)
    aliased = first.client.indices.get_alias(name=first.name).body
    assert len(aliased) == 1
    assert first._versions() == list(aliased)  # the older versions are gone
    assert first.content_hashes() == live_hashes(store)


def test_a_refused_document_is_counted_logged_and_skipped(es_index, tmp_path, monkeypatch,
                                                          caplog):
    """One record Elasticsearch refuses (HTTP 400) must not make the index unavailable
    for every later change: it is logged by id (no content), counted, and the seq moves."""
    import gateway.index.elastic as elastic
    records = corpus(10)
    bad = records[3]
    real_document = elastic.document

    def document(record, seq, *rest):
        doc = real_document(record, seq, *rest)
        if record.id == bad.id and "rev" not in record.title:
            doc["datestamp"] = "not a date"  # the server refuses: document_parsing_exception
        return doc

    monkeypatch.setattr(elastic, "document", document)
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=records), NOW)
    idx = es_index()
    caplog.set_level("WARNING", logger="gateway.index.elastic")
    assert catch_up(store, idx) == len(records)
    assert idx.last_seq() == store.last_seq() and idx.count() == len(records) - 1
    assert idx.rejected() == 1
    logged = [r.getMessage() for r in caplog.records if bad.id in r.getMessage()]
    assert logged and "datestamp" in logged[0] and bad.title not in caplog.text
    assert "not a date" not in caplog.text
    assert bad.id not in idx.content_hashes()
    assert idx.search(Query(size=100), NOW + timedelta(days=400)).total == len(records) - 1

    store.apply_batch("test", Batch(upserts=[make_record(99)]), NOW)  # later changes go on
    assert catch_up(store, idx) == 1 and idx.count() == len(records)

    config = Config(data_dir=tmp_path / "gw", index="elasticsearch", elasticsearch_url=idx._url,
                    elasticsearch_index=idx.name, elasticsearch_timeout=30)
    client = create_app(config, clock=lambda: NOW).test_client()
    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["rejected_documents"] == 1

    from dataclasses import replace as change

    from mappings.record import with_hash
    fixed = with_hash(change(bad, title=bad.title + " rev"))
    store.apply_batch("test", Batch(upserts=[fixed]), NOW)  # an accepted version clears it
    catch_up(store, idx)
    assert idx.rejected() == 0 and idx.count() == len(records) + 1


def test_non_finite_numbers_are_left_out_of_documents():
    from mappings.record import Parameter
    record = make_record(1, parameters=(Parameter("t", float("nan"), "K"),
                                        Parameter("p", float("inf"), "bar"),
                                        Parameter("e", 1e308, "MPa"),
                                        Parameter("n", 10 ** 400, None)))
    params = document(record, 1)["parameters"]
    assert params == [{"name": "t", "unit": "K"}, {"name": "p", "unit": "bar"},
                      {"name": "e", "unit": "MPa", "value": 1e308},
                      {"name": "n"}]
    json.dumps(params, allow_nan=False)


def test_an_index_of_another_schema_version_needs_a_reindex(es_index, tmp_path):
    from gateway.index import IndexOutdated, rebuild
    from gateway.index.elastic_schema import MAPPINGS, SCHEMA_VERSION, template
    idx = es_index()
    idx.client.indices.put_index_template(name=idx.name, **template(idx.name))
    old_mappings = {**MAPPINGS, "_meta": {"fairgate_schema": SCHEMA_VERSION - 1}}
    idx.client.indices.create(index=f"{idx.name}-v1", mappings=old_mappings,
                              aliases={idx.name: {"is_write_index": True}})
    with pytest.raises(IndexOutdated, match=rf"schema {SCHEMA_VERSION - 1}.*fairgate reindex"):
        idx.prepare()
    with pytest.raises(IndexOutdated):
        idx.search(Query(), NOW)
    config = Config(data_dir=tmp_path, index="elasticsearch", elasticsearch_url=idx._url,
                    elasticsearch_index=idx.name, elasticsearch_timeout=30)
    health = create_app(config, clock=lambda: NOW).test_client().get("/health")
    assert health.status_code == 503 and health.get_json()["status"] == "index_outdated"

    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=corpus(10)), NOW)
    assert rebuild(store, idx) == 11  # reindex works on the outdated index
    assert idx._versions() == [f"{idx.name}-v2"]
    assert idx.search(Query(size=0), NOW + timedelta(days=400)).total == 11
