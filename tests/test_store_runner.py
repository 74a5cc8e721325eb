"""Record store and harvest runner: counting, datestamps, sequence numbers, checkpoints,
failures and a source that breaks mid-run."""
from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from gateway.harvest import Runner
from gateway.index.embedded import EmbeddedIndex
from gateway.store import Batch, RunInProgress, Store
from gateway.progress import Progress
from harvesters.events import Delete, Failure, Mark, Planned, Unchanged, Upsert
from mappings.record import to_dict, tombstone, with_hash

from .factories import NOW, make_record


class ListHarvester:
    """A harvester that replays a list of events (optionally raising after some)."""

    def __init__(self, events, name="test", explode_after=None):
        self.name, self.events, self.explode_after = name, events, explode_after
        self.checkpoints = []

    def harvest(self, checkpoint):
        self.checkpoints.append(dict(checkpoint))
        for n, event in enumerate(self.events):
            if n == self.explode_after:
                raise ConnectionError("source went away")
            yield event


def unit(i, **kw):
    r = make_record(i, **kw)
    return [Upsert(r), Mark(f"unit{i}", {"v": 1})]


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.sqlite")


@pytest.fixture
def index(tmp_path):
    return EmbeddedIndex(tmp_path / "index.sqlite")


def clock_at(t):
    return lambda: t


def test_store_uses_wal_and_counts_new_changed_unchanged(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    a, b = make_record(1), make_record(2)
    c1 = store.apply_batch("test", Batch(upserts=[a, b]), NOW)
    assert (c1.new, c1.changed, c1.unchanged) == (2, 0, 0)
    b2 = with_hash(replace(b, title="Changed title"))
    later = NOW + timedelta(hours=1)
    c2 = store.apply_batch("test", Batch(upserts=[a, b2]), later)
    assert (c2.new, c2.changed, c2.unchanged) == (0, 1, 1)
    assert store.get(a.id).datestamp == NOW          # unchanged keeps its datestamp
    assert store.get(b.id).datestamp == later
    assert store.get(b.id).title == "Changed title"


def test_sequence_moves_on_every_change_only(store):
    a = make_record(1)
    store.apply_batch("test", Batch(upserts=[a]), NOW)
    s1 = store.last_seq()
    store.apply_batch("test", Batch(upserts=[a]), NOW)
    assert store.last_seq() == s1
    store.apply_batch("test", Batch(deletes=[a.id]), NOW)
    assert store.last_seq() == s1 + 1
    seqs = [s for s, _ in store.changes_since(0)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_tombstone_drops_personal_data_and_keeps_sets(store):
    a = make_record(1)
    store.apply_batch("test", Batch(upserts=[a]), NOW)
    store.apply_batch("test", Batch(deletes=[a.id, "test:dataset:unknown"]), NOW)
    t = store.get(a.id)
    assert t.deleted and t.deleted_at == NOW and t.datestamp == NOW
    assert t.creators == () and t.description is None
    assert t.facility == a.facility and t.techniques == a.techniques
    assert store.get("test:dataset:unknown") is None
    # a deleted record that comes back is new again
    c = store.apply_batch("test", Batch(upserts=[a]), NOW + timedelta(days=1))
    assert c.new == 1 and not store.get(a.id).deleted


def test_runner_report_counts_and_index_follow(store, index):
    events = [*unit(1), *unit(2), Failure("bad.h5", "truncated file"),
              Unchanged("same.h5", 3), Mark("same.h5", {"v": 0})]
    report = Runner(store, index, clock=clock_at(NOW)).run(ListHarvester(events))
    assert report.status == "ok"
    assert (report.seen, report.new, report.unchanged, report.failed) == (5, 2, 3, 1)
    assert report.failures == [{"ref": "bad.h5", "reason": "truncated file"}]
    assert index.count() == 2 and index.last_seq() == store.last_seq()
    assert store.checkpoint("test") == {"unit1": {"v": 1}, "unit2": {"v": 1},
                                        "same.h5": {"v": 0}}
    runs = store.runs("test")
    assert runs[0]["status"] == "ok" and runs[0]["report"]["new"] == 2


def test_runner_rejects_invalid_records_and_keeps_the_rest(store, index):
    bad = replace(make_record(2), creators=(replace(make_record(2).creators[0],
                                                    orcid="https://orcid.org/0000-0002-1825-0098"),))
    events = [*unit(1), Upsert(bad), Mark("unit2", {}), *unit(3)]
    report = Runner(store, index, clock=clock_at(NOW)).run(ListHarvester(events))
    assert report.failed == 1 and report.new == 2
    assert "creators.0.orcid" in report.failures[0]["reason"]
    assert store.get(bad.id) is None


def test_source_failure_keeps_committed_units_and_checkpoint_consistent(store, index):
    events = [*unit(1), *unit(2), Upsert(make_record(3))]  # unit 3 never marked
    h = ListHarvester(events + [Mark("unit3", {"v": 1})], explode_after=5)
    report = Runner(store, index, batch_size=1000, clock=clock_at(NOW)).run(h)
    assert report.status == "failed" and "source went away" in report.error
    assert store.count() == 2                       # whole units kept, the open one dropped
    assert set(store.checkpoint("test")) == {"unit1", "unit2"}
    assert index.count() == 2
    # the next run resumes from the durable checkpoint without duplicates
    h2 = ListHarvester(events + [Mark("unit3", {"v": 1})])
    report2 = Runner(store, index, clock=clock_at(NOW)).run(h2)
    assert h2.checkpoints[0] == {"unit1": {"v": 1}, "unit2": {"v": 1}}
    assert report2.status == "ok" and store.count() == 3 and index.count() == 3
    assert report2.new == 1 and report2.unchanged == 2


def test_delete_event_creates_tombstone_and_unindexes(store, index):
    Runner(store, index, clock=clock_at(NOW)).run(ListHarvester([*unit(1), *unit(2)]))
    r = make_record(1)
    report = Runner(store, index, clock=clock_at(NOW)).run(
        ListHarvester([Delete(r.id), Mark("unit1", None)]))
    assert report.deleted == 1
    assert store.get(r.id).deleted and index.count() == 1
    assert "unit1" not in store.checkpoint("test")


def test_index_catches_up_after_it_missed_a_commit(store, index):
    store.apply_batch("test", Batch(upserts=[make_record(1), make_record(2)]), NOW)
    assert index.count() == 0  # as if the process died between store commit and index update
    Runner(store, index, clock=clock_at(NOW)).run(ListHarvester([]))
    assert index.count() == 2


def test_a_second_live_harvest_of_the_same_source_is_refused(store, index, tmp_path):
    db = sqlite3.connect(tmp_path / "store.sqlite")
    store.start_run("test", NOW)
    db.execute("UPDATE runs SET pid = 1")  # pid 1 is alive (init)
    db.commit()
    with pytest.raises(RunInProgress):
        store.start_run("test", NOW)


def test_stale_running_runs_become_interrupted(store, tmp_path):
    run_id = store.start_run("test", NOW)
    db = sqlite3.connect(tmp_path / "store.sqlite")
    db.execute("UPDATE runs SET pid = 999999999 WHERE id = ?", (run_id,))
    db.commit()
    store.start_run("test", NOW)
    assert [r["status"] for r in store.runs("test")] == ["running", "interrupted"]


class FakeTTY(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_on_a_terminal_log_lines_otherwise(store, index, tty):
    events = [Planned(4), *unit(1), *unit(2), Failure("x", "bad"), Unchanged("y", 2)]
    stream = FakeTTY(tty)
    Runner(store, index, clock=clock_at(NOW), progress=Progress(stream, interval=0)).run(
        ListHarvester(events))
    out = stream.getvalue()
    if tty:
        assert "[" + "#" * 30 + "] 100%" in out and "4/4 units" in out and "\r" in out
    else:
        assert "\r" not in out and "[#" not in out
        assert "harvest progress test: 4/4 units" in out
    assert "harvest done test: ok; seen 4, new 2" in out and "failed x: bad" in out


def test_the_last_operation_on_an_id_in_a_batch_wins(store):
    a = make_record(1)
    store.apply_batch("test", Batch(upserts=[a]), NOW)
    batch = Batch()
    batch.delete(a.id)
    batch.upsert(a)                       # deleted, then back: stays live, unchanged
    b = make_record(2)
    batch.upsert(b)
    batch.upsert(with_hash(replace(b, title="second version")))  # counted once, as new
    counts = store.apply_batch("test", batch, NOW)
    assert (counts.new, counts.changed, counts.unchanged, counts.deleted) == (1, 0, 1, 0)
    assert not store.get(a.id).deleted and store.get(b.id).title == "second version"


def test_a_new_render_version_restamps_live_records_only(tmp_path):
    """The OAI-PMH datestamp rule for mapping changes: when the output mappings change
    (RENDER_VERSION moves), every live record's datestamp and seq move once; tombstones
    keep theirs, and a second restamp finds nothing to do."""
    path = tmp_path / "store.sqlite"
    old = Store(path, render_version=1)
    old.apply_batch("test", Batch(upserts=[make_record(i) for i in range(3)]), NOW)
    old.apply_batch("test", Batch(deletes=["test:dataset:r00002"]), NOW + timedelta(hours=1))
    tomb_stamp = old.get("test:dataset:r00002").datestamp
    seq_before = old.last_seq()
    assert old.stale_renderings() == 0 and old.restamp(NOW + timedelta(days=1)) == 0
    old.close()

    new = Store(path, render_version=2)
    assert new.stale_renderings() == 2
    later = NOW + timedelta(days=2)
    assert new.restamp(later) == 2
    assert new.last_seq() == seq_before + 2
    changed = new.changes_since(seq_before)
    assert sorted(r.id for _, r in changed) == ["test:dataset:r00000", "test:dataset:r00001"]
    assert all(r.datestamp == later for _, r in changed)
    row = new.db.execute("SELECT datestamp, render_version FROM records"
                         " WHERE id = 'test:dataset:r00000'").fetchone()
    assert row == ("2026-11-25T12:00:00Z", 2)
    assert new.get("test:dataset:r00002").datestamp == tomb_stamp
    assert new.stale_renderings() == 0 and new.restamp(later + timedelta(days=1)) == 0
    # records written from now on carry the new version
    new.apply_batch("test", Batch(upserts=[make_record(7)]), later)
    assert new.db.execute("SELECT render_version FROM records WHERE id = 'test:dataset:r00007'"
                          ).fetchone() == (2,)
    new.close()


def test_a_store_from_before_render_versions_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    from gateway.store import SCHEMA
    old_schema = SCHEMA.replace(",\n    render_version INTEGER NOT NULL DEFAULT 0", "")
    assert old_schema != SCHEMA
    with sqlite3.connect(path) as db:  # the schema as issue #2 left it
        db.executescript(old_schema)
    db.close()
    store = Store(path, render_version=1)
    store.apply_batch("test", Batch(upserts=[make_record(1)]), NOW)
    assert store.stale_renderings() == 0
    store.db.execute("UPDATE records SET render_version = 0")
    assert store.stale_renderings() == 1
    store.close()


def test_opening_the_gateway_restamps_records_of_an_older_render_version(tmp_path):
    from gateway.config import Config
    from gateway.context import Gateway
    from mappings.formats import RENDER_VERSION

    config = Config(data_dir=tmp_path)
    old = Store(config.store_path, render_version=RENDER_VERSION - 1)
    old.apply_batch("test", Batch(upserts=[make_record(1), make_record(2)]), NOW)
    old.close()
    later = NOW + timedelta(days=3)
    gateway = Gateway.open(config, clock=lambda: later)
    try:
        assert {r.datestamp for r in gateway.store.get_many(
            ["test:dataset:r00001", "test:dataset:r00002"]).values()} == {later}
        assert gateway.store.stale_renderings() == 0
    finally:
        gateway.close()
    again = Gateway.open(config, clock=lambda: later + timedelta(days=1))
    try:  # nothing stale any more: datestamps stay
        assert again.store.get("test:dataset:r00001").datestamp == later
    finally:
        again.close()


def test_stored_rows_are_the_records_json_with_the_store_datestamp(store):
    """The write path builds each body once, without copying the record: the row must be what
    json.dumps(to_dict(replace(record, datestamp=now)), ensure_ascii=False) gives."""
    r = make_record(1, title="Ångström – 東京", release=NOW + timedelta(days=3))
    later = NOW + timedelta(hours=1, microseconds=5)
    store.apply_batch("test", Batch(upserts=[r]), NOW)
    store.apply_batch("test", Batch(upserts=[make_record(2)]), NOW)
    sql = ("SELECT datestamp, deleted, release_date, content_hash, body FROM records"
           " WHERE id = ?")
    stamped = replace(r, datestamp=NOW)
    assert store.db.execute(sql, (r.id,)).fetchone() == (
        "2026-11-23T12:00:00Z", 0, "2026-11-26T12:00:00Z", r.provenance.content_hash,
        json.dumps(to_dict(stamped), ensure_ascii=False))
    assert store.get(r.id) == stamped
    store.apply_batch("test", Batch(deletes=[r.id]), later)
    gone = tombstone(stamped, later)
    assert store.db.execute(sql, (r.id,)).fetchone() == (
        "2026-11-23T13:00:00Z", 1, "2026-11-26T12:00:00Z", r.provenance.content_hash,
        json.dumps(to_dict(gone), ensure_ascii=False))
