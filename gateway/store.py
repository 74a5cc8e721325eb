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
from typing import Any, Iterable, Mapping, Sequence

from mappings.access import Visibility, visibility
from mappings.record import Record, from_dict, iso, parse_iso, to_dict, tombstone

from .sqlite import SQLiteFile

# OAI-PMH's deleted headers (tombstones by deletion time, withdrawn records by withdrawal
# time) in (datestamp, id) order, without scanning the live records
OAI_INDEXES = """
CREATE INDEX IF NOT EXISTS records_tombstones ON records (datestamp, id) WHERE deleted = 1;
CREATE INDEX IF NOT EXISTS records_withdrawn ON records (withdrawn_at, id)
    WHERE withdrawn_at IS NOT NULL;
"""
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
    render_version INTEGER NOT NULL DEFAULT 0,
    withdrawn_at TEXT,
    withdrawn_body TEXT
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
""" + OAI_INDEXES

_BODY_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps(ensure_ascii=False), once
# The record fields `Store.oai_deletions` can match (OAI sets), with their JSON paths
OAI_FIELDS = {"kind": "$.kind", "facility": "$.facility.name",
              "instrument": "$.instrument.name"}
_Withdrawal = tuple[str | None, str | None]  # (withdrawn_at, the last public version's body)

# The deleted headers OAI-PMH announces at `now` (each `?`), with their stamp column: the
# access policy in SQL. A tombstone whose deletion may be disclosed
# (`mappings.access.tombstone_disclosable`: not deleted under embargo) or that was withdrawn
# before (its deletion was announced then); a live record withdrawn while it is embargoed.
_DELETIONS = (
    ("datestamp", "deleted = 1 AND datestamp <= ? AND (withdrawn_at IS NOT NULL"
                  " OR release_date IS NULL OR release_date <= datestamp)"),
    ("withdrawn_at", "deleted = 0 AND withdrawn_at IS NOT NULL AND withdrawn_at <= ?"
                     " AND release_date > ?"),
)


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
            _add_column(conn, "render_version INTEGER NOT NULL DEFAULT 0")
        if "withdrawn_at" not in columns:  # a store written before withdrawal tracking
            _add_column(conn, "withdrawn_at TEXT")
            conn.executescript(OAI_INDEXES)
        if "withdrawn_body" not in columns:  # ... or before the last public version was kept
            _add_column(conn, "withdrawn_body TEXT")
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
        A version under embargo at `now` that replaces one public at `now` (its release
        date moved into the future) records `now` as the record's withdrawal moment and
        keeps the replaced public version: OAI-PMH announces it as deleted from then until
        the new embargo ends, with the sets of that public version (the embargoed one's
        must not show). A record deleted while withdrawn keeps both in its tombstone (the
        public version as a tombstone too: erased), so its announced deletion persists.
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
                    self._write(db, tombstone(self._get(db, rid), now), seq,
                                withdrawal=self._withdrawal_kept(db, rid, now))
                    counts.deleted += 1
                elif old == (record.provenance.content_hash, False):
                    counts.unchanged += 1
                else:
                    if old is None or old[1]:
                        counts.new += 1
                    else:
                        counts.changed += 1
                    seq += 1
                    withdrawal = (self._withdrawn(db, rid, now)
                                  if old is not None and not old[1] and _embargoed(record, now)
                                  else (None, None))
                    self._write(db, record, seq, datestamp=now, withdrawal=withdrawal)
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

    @staticmethod
    def _withdrawn(db: sqlite3.Connection, rid: str, now: datetime) -> _Withdrawal:
        """The withdrawal of live record `rid` if an embargoed version replaces it at
        `now`: (`now`, the stored body) if the stored version is public at `now`, else the
        withdrawal it already has (an embargoed record that changes stays withdrawn since
        then, with the same last public version; (None, None) if it never was public)."""
        release, withdrawn, public, body = db.execute(
            "SELECT release_date, withdrawn_at, withdrawn_body, body FROM records"
            " WHERE id = ?", (rid,)).fetchone()
        stamp = iso(now)
        return (stamp, body) if release is None or release <= stamp else (withdrawn, public)

    @staticmethod
    def _withdrawal_kept(db: sqlite3.Connection, rid: str, now: datetime) -> _Withdrawal:
        """What the tombstone of live record `rid`, deleted at `now`, keeps of its
        withdrawal: all of it while the record is still embargoed (its last public version
        erased as a tombstone is); nothing once public again (the tombstone's own body is
        then that last public version)."""
        release, withdrawn, public = db.execute(
            "SELECT release_date, withdrawn_at, withdrawn_body FROM records WHERE id = ?",
            (rid,)).fetchone()
        if withdrawn is None or public is None or release is None or release <= iso(now):
            return None, None
        erased = to_dict(tombstone(from_dict(json.loads(public)), now))
        return withdrawn, _BODY_JSON.encode(erased)

    def withdrawn_at(self, record_id: str) -> datetime | None:
        """When live record `record_id` went back under embargo (None: never, or it has
        been public since). Only meaningful while it is embargoed."""
        row = self.db.execute("SELECT withdrawn_at FROM records WHERE id = ? AND deleted = 0",
                              (record_id,)).fetchone()
        return parse_iso(row[0]) if row else None

    def oai_deletions(self, now: datetime, *, after: tuple[datetime, str] | None = None,
                      date_from: datetime | None = None, date_to: datetime | None = None,
                      match: Mapping[str, str] | None = None,
                      limit: int = 100) -> list[tuple[datetime, str, Record]]:
        """OAI-PMH deleted headers at `now`, ascending by (stamp, id), at most `limit`:
        announced tombstones stamped with their deletion time and withdrawn live records
        stamped with their withdrawal time (`_DELETIONS`), `date_from`/`date_to` inclusive,
        strictly after `after`, whose fields equal those of `match` (`OAI_FIELDS`). Each
        comes with the record its header shows (and `match` is matched against): the last
        public version (as a tombstone if deleted)."""
        sql, args = self._deletions(now, date_from, date_to, after, match)
        rows = self.db.execute(
            f"SELECT stamp, id, coalesce(withdrawn_body, body) FROM ({sql})"
            " ORDER BY stamp, id LIMIT ?", [*args, limit]).fetchall()
        return [(parse_iso(stamp), rid, from_dict(json.loads(body))) for stamp, rid, body in rows]

    def count_oai_deletions(self, now: datetime, *, date_from: datetime | None = None,
                            date_to: datetime | None = None,
                            match: Mapping[str, str] | None = None) -> int:
        """How many items `oai_deletions` lists with these bounds in all."""
        sql, args = self._deletions(now, date_from, date_to, None, match)
        return self.db.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]

    def oai_deletion(self, record_id: str, now: datetime) -> tuple[datetime, Record] | None:
        """The deleted header of `record_id` at `now` as `oai_deletions` lists it (stamp,
        record the header shows), or None if it has none."""
        sql, args = self._deletions(now, None, None, None, {})
        row = self.db.execute(f"SELECT stamp, coalesce(withdrawn_body, body) FROM ({sql})"
                              " WHERE id = ?", [*args, record_id]).fetchone()
        return (parse_iso(row[0]), from_dict(json.loads(row[1]))) if row else None

    @staticmethod
    def _deletions(now: datetime, date_from: datetime | None, date_to: datetime | None,
                   after: tuple[datetime, str] | None, match: Mapping[str, str] | None,
                   ) -> tuple[str, list[Any]]:
        """The SQL of the deleted headers at `now` (columns stamp, id, body,
        withdrawn_body) with its arguments."""
        parts, args = [], []
        for stamp, where in _DELETIONS:
            sql = (f"SELECT {stamp} AS stamp, id, body, withdrawn_body FROM records"
                   f" WHERE {where}")
            args += [iso(now)] * where.count("?")
            if date_from is not None:
                sql, args = sql + f" AND {stamp} >= ?", [*args, iso(date_from)]
            if date_to is not None:
                sql, args = sql + f" AND {stamp} <= ?", [*args, iso(date_to)]
            if after is not None:
                sql, args = sql + f" AND ({stamp}, id) > (?, ?)", [*args, iso(after[0]), after[1]]
            for name, value in (match or {}).items():  # of the version the header shows
                path = OAI_FIELDS[name]
                sql = sql + f" AND json_extract(coalesce(withdrawn_body, body), '{path}') = ?"
                args.append(value)
            parts.append(sql)
        return " UNION ALL ".join(parts), args

    def _get(self, db: sqlite3.Connection, rid: str) -> Record:
        return from_dict(json.loads(db.execute(
            "SELECT body FROM records WHERE id = ?", (rid,)).fetchone()[0]))

    def _write(self, db: sqlite3.Connection, record: Record, seq: int,
               datestamp: datetime | None = None,
               withdrawal: _Withdrawal = (None, None)) -> None:
        """Insert or replace `record` with sequence number `seq`; `datestamp`, when given,
        is written as the record's (the body is `to_dict` of the record with that datestamp,
        built once: no copy of the record). `withdrawal`: (withdrawn_at, withdrawn_body),
        see `apply_batch`."""
        body = to_dict(record)
        if datestamp is not None:
            body["datestamp"] = iso(datestamp)
        db.execute(
            "INSERT INTO records (id, source, kind, seq, datestamp, deleted, release_date,"
            " content_hash, body, render_version, withdrawn_at, withdrawn_body)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET seq=excluded.seq, datestamp=excluded.datestamp,"
            " deleted=excluded.deleted, release_date=excluded.release_date,"
            " content_hash=excluded.content_hash, body=excluded.body, kind=excluded.kind,"
            " render_version=excluded.render_version, withdrawn_at=excluded.withdrawn_at,"
            " withdrawn_body=excluded.withdrawn_body",
            (record.id, record.source, record.kind, seq, body["datestamp"],
             int(record.deleted), body["dates"]["release_date"],
             record.provenance.content_hash or "", _BODY_JSON.encode(body),
             self.render_version, *withdrawal))

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


def _add_column(conn: sqlite3.Connection, definition: str) -> None:
    """Migrate a store written by an older version: add a column to `records`."""
    try:
        conn.execute(f"ALTER TABLE records ADD COLUMN {definition}")
    except sqlite3.OperationalError as exc:  # another process migrated it first
        if "duplicate column" not in str(exc):
            raise


def _embargoed(record: Record, now: datetime) -> bool:
    return visibility(record, now) is Visibility.EMBARGOED


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
