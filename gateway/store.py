"""The record store: the truth. One SQLite file in WAL mode.

It holds every canonical record (as JSON) with its content hash and datestamp, tombstones,
harvest checkpoints and run reports. Every change to a record takes the next value of a
store-wide sequence number, so a search index can always ask "what changed after seq N"
(outbox pattern) and catch up after a crash or an outage.

A harvest batch is written with `apply_batch` in ONE transaction together with the
checkpoint entries that cover it: either both are durable or neither is.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from mappings.record import Record, from_dict, iso, to_dict, tombstone

from .sqlite import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    seq          INTEGER NOT NULL UNIQUE,
    datestamp    TEXT NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    release_date TEXT,
    content_hash TEXT NOT NULL,
    body         TEXT NOT NULL,
    render_version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_source ON records (source);
CREATE INDEX IF NOT EXISTS records_datestamp ON records (datestamp, id);
CREATE TABLE IF NOT EXISTS sequence (one INTEGER PRIMARY KEY CHECK (one = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO sequence VALUES (1, 0);
CREATE TABLE IF NOT EXISTS checkpoints (
    source TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (source, key)
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    pid         INTEGER,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    report      TEXT
);
CREATE INDEX IF NOT EXISTS runs_source ON runs (source, id);
"""

_BODY_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(ensure_ascii=False), once


@dataclass
class BatchCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0


class Batch:
    """What the runner collected between two commits: per record id, the LAST operation
    (a record to upsert, or None to delete), in first-seen order; plus checkpoint marks."""

    def __init__(self, upserts: Iterable[Record] = (), deletes: Iterable[str] = (),
                 marks: dict[str, Any] | None = None):
        self.ops: dict[str, Record | None] = {}
        self.marks: dict[str, Any] = dict(marks or {})  # key -> value (None = remove)
        for record in upserts:
            self.upsert(record)
        for rid in deletes:
            self.delete(rid)

    def upsert(self, record: Record) -> None:
        self.ops[record.id] = record

    def delete(self, rid: str) -> None:
        self.ops[rid] = None

    def extend(self, other: "Batch") -> None:
        self.ops.update(other.ops)
        self.marks.update(other.marks)

    def __len__(self) -> int:
        return len(self.ops)


class Store(SQLiteFile):
    """The SQLite record store. One connection per thread; safe to share across threads.

    `render_version` is the output mappings' version (`mappings.formats.RENDER_VERSION`) that
    records written now are rendered with; `restamp` moves the datestamps of records
    written under an older one (the OAI-PMH datestamp rule for mapping changes).
    """

    SCHEMA, MARKER = SCHEMA, "records"

    def __init__(self, path: str | os.PathLike[str], *, render_version: int = 0):
        super().__init__(path)
        self.render_version = render_version

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
        if "render_version" not in columns:  # a store written before render versions
            try:
                conn.execute("ALTER TABLE records ADD COLUMN"
                             " render_version INTEGER NOT NULL DEFAULT 0")
            except sqlite3.OperationalError as exc:  # another process migrated it first
                if "duplicate column" not in str(exc):
                    raise
        return conn

    def _tx(self) -> "_Transaction":
        return _Transaction(self.db)

    # -- records -------------------------------------------------------------------------
    def get(self, record_id: str) -> Record | None:
        row = self.db.execute("SELECT body FROM records WHERE id = ?", (record_id,)).fetchone()
        return from_dict(json.loads(row[0])) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for rid, body in self.db.execute(
                    f"SELECT id, body FROM records WHERE id IN ({marks})", chunk):
                out[rid] = from_dict(json.loads(body))
        return out

    def count(self, *, source: str | None = None, deleted: bool | None = None) -> int:
        sql, args = "SELECT count(*) FROM records WHERE 1=1", []
        if source is not None:
            sql, args = sql + " AND source = ?", [*args, source]
        if deleted is not None:
            sql, args = sql + " AND deleted = ?", [*args, int(deleted)]
        return self.db.execute(sql, args).fetchone()[0]

    def last_seq(self) -> int:
        return self.db.execute("SELECT value FROM sequence").fetchone()[0]

    def changes_since(self, seq: int, limit: int = 1000) -> list[tuple[int, Record]]:
        """Records (live and deleted) whose last change is after `seq`, in seq order."""
        rows = self.db.execute(
            "SELECT seq, body FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [(s, from_dict(json.loads(b))) for s, b in rows]

    def hashes(self, ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
        out: dict[str, tuple[str, bool]] = {}
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for rid, h, d in self.db.execute(
                    f"SELECT id, content_hash, deleted FROM records WHERE id IN ({marks})", chunk):
                out[rid] = (h, bool(d))
        return out

    def apply_batch(self, source: str, batch: Batch, now: datetime) -> BatchCounts:
        """Write upserts, tombstones and checkpoint marks in one transaction.

        An upsert whose content hash equals the stored live record's is counted unchanged
        and keeps its datestamp and seq; anything else takes datestamp `now` and a new seq.
        """
        counts = BatchCounts()
        with self._tx() as db:
            known = self.hashes(list(batch.ops))
            seq = db.execute("SELECT value FROM sequence").fetchone()[0]
            for rid, record in batch.ops.items():
                old = known.get(rid)  # (content hash, deleted) or None
                if record is None:
                    if old is None or old[1]:
                        continue  # unknown or already a tombstone
                    seq += 1
                    self._write(db, tombstone(self._get(db, rid), now), seq)
                    counts.deleted += 1
                elif old == (record.provenance.content_hash, False):
                    counts.unchanged += 1
                else:
                    if old is None or old[1]:
                        counts.new += 1
                    else:
                        counts.changed += 1
                    seq += 1
                    self._write(db, record, seq, datestamp=now)
            db.execute("UPDATE sequence SET value = ?", (seq,))
            self._marks(db, source, batch.marks)
        return counts

    def stale_renderings(self, render_version: int | None = None) -> int:
        """How many live records were last stamped under an older render version."""
        version = self.render_version if render_version is None else render_version
        return self.db.execute("SELECT count(*) FROM records WHERE deleted = 0"
                               " AND render_version < ?", (version,)).fetchone()[0]

    def restamp(self, now: datetime, render_version: int | None = None) -> int:
        """Give every live record stamped under an older render version the datestamp `now`
        and a new sequence number (so indexes and OAI-PMH harvesters see the change).

        Tombstones keep theirs: a deleted record's header does not depend on mappings.
        Returns the number of records restamped; 0 (and no write) when none is stale.
        """
        version = self.render_version if render_version is None else render_version
        if not self.stale_renderings(version):
            return 0
        stamp = iso(now)
        with self._tx() as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM records WHERE deleted = 0 AND render_version < ? ORDER BY seq",
                (version,))]
            seq = db.execute("SELECT value FROM sequence").fetchone()[0]
            db.executemany(
                "UPDATE records SET seq = ?, datestamp = ?, render_version = ?,"
                " body = json_set(body, '$.datestamp', ?) WHERE id = ?",
                ((seq + i, stamp, version, stamp, rid) for i, rid in enumerate(ids, 1)))
            db.execute("UPDATE sequence SET value = ?", (seq + len(ids),))
        return len(ids)

    def _get(self, db: sqlite3.Connection, rid: str) -> Record:
        return from_dict(json.loads(db.execute(
            "SELECT body FROM records WHERE id = ?", (rid,)).fetchone()[0]))

    def _write(self, db: sqlite3.Connection, record: Record, seq: int,
               datestamp: datetime | None = None) -> None:
        """Insert or replace `record` with sequence number `seq`; `datestamp`, when given,
        is written as the record's (the body is `to_dict` of the record with that datestamp,
        built once: no copy of the record)."""
        body = to_dict(record)
        if datestamp is not None:
            body["datestamp"] = iso(datestamp)
        db.execute(
            "INSERT INTO records (id, source, kind, seq, datestamp, deleted, release_date,"
            " content_hash, body, render_version) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET seq=excluded.seq, datestamp=excluded.datestamp,"
            " deleted=excluded.deleted, release_date=excluded.release_date,"
            " content_hash=excluded.content_hash, body=excluded.body, kind=excluded.kind,"
            " render_version=excluded.render_version",
            (record.id, record.source, record.kind, seq, body["datestamp"],
             int(record.deleted), body["dates"]["release_date"],
             record.provenance.content_hash or "", _BODY_JSON.encode(body),
             self.render_version))

    # -- checkpoints ---------------------------------------------------------------------
    def checkpoint(self, source: str) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute(
            "SELECT key, value FROM checkpoints WHERE source = ?", (source,))}

    @staticmethod
    def _marks(db: sqlite3.Connection, source: str, marks: dict[str, Any]) -> None:
        for key, value in marks.items():
            if value is None:
                db.execute("DELETE FROM checkpoints WHERE source = ? AND key = ?", (source, key))
            else:
                db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)",
                           (source, key, json.dumps(value)))

    # -- runs ------------------------------------------------------------------------------
    def start_run(self, source: str, now: datetime) -> int:
        """Register a run; refuse if a live process is already harvesting this source.

        Runs left 'running' by a process that no longer exists become 'interrupted'.
        """
        with self._tx() as db:
            for run_id, pid in db.execute(
                    "SELECT id, pid FROM runs WHERE source = ? AND status = 'running'",
                    (source,)).fetchall():
                if pid != os.getpid() and _alive(pid):
                    raise RunInProgress(f"source {source!r} is being harvested by pid {pid}")
                db.execute("UPDATE runs SET status = 'interrupted' WHERE id = ?", (run_id,))
            cur = db.execute("INSERT INTO runs (source, pid, status, started_at) VALUES (?,?,?,?)",
                             (source, os.getpid(), "running", iso(now)))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str, report: dict[str, Any], now: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET status = ?, finished_at = ?, report = ? WHERE id = ?",
                       (status, iso(now), json.dumps(report), run_id))

    def runs(self, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        sql = "SELECT id, source, status, started_at, finished_at, report FROM runs"
        args: list[Any] = []
        if source:
            sql, args = sql + " WHERE source = ?", [source]
        rows = self.db.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
        return [{"id": r[0], "source": r[1], "status": r[2], "started_at": r[3],
                 "finished_at": r[4], "report": json.loads(r[5]) if r[5] else None} for r in rows]

    def sources(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT source FROM records UNION SELECT source FROM runs ORDER BY 1")]


class RunInProgress(RuntimeError):
    pass


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


__all__ = ["Store", "Batch", "BatchCounts", "RunInProgress"]
