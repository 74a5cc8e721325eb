"""The PaNOSC projection: every live record's PaNOSC object in a SQLite file of its own
(`data_dir/panosc.sqlite`), with side tables the planner narrows on (techniques,
parameters in SI, document links, full text). It is derived from the record store like
the search index, kept current by sequence number before each request, and works the same
whichever index backend is configured.

Embargoed records are in it (so little has to happen when an embargo ends) and are left
out at query time by their release date, with the same rule as `mappings.access`: public
when there is no release date or it is not after now. Deleted records are removed.

The full-text table `fts` holds public records only: BM25's statistics (document
frequencies, average length) would otherwise let embargoed text change public scores and
order. A record with a release date waits in `embargoed` and each sync (before every
request) moves the ones whose release has passed into `fts` (and back, should the clock
go back), by an index on the release date.
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from mappings import panosc
from mappings.formats import RENDER_VERSION
from mappings.record import Record
from mappings.render import Context
from mappings.rights import doi, normalise_doi
from mappings.units import number, to_si

from ..sqlite import SQLiteFile
from .filters import parse_date
from .models import MODELS

log = logging.getLogger(__name__)

PROJECTION_VERSION = 4  # 2: doc_keys, 3: kids, 4: embargoed
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id          INTEGER PRIMARY KEY,
    rid         TEXT NOT NULL UNIQUE,
    model       TEXT NOT NULL,
    pid_key     TEXT NOT NULL,
    title_key   TEXT NOT NULL,
    sort_date   TEXT,
    size        REAL,
    release     TEXT,
    inst_pid    TEXT,
    inst_name   TEXT,
    inst_facility TEXT,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_pid ON items (model, pid_key, rid);
CREATE INDEX IF NOT EXISTS items_title ON items (model, title_key, pid_key, rid);
CREATE INDEX IF NOT EXISTS items_date ON items (model, sort_date, pid_key, rid);
CREATE INDEX IF NOT EXISTS items_size ON items (model, size, pid_key, rid);
CREATE INDEX IF NOT EXISTS items_inst ON items (inst_pid);
CREATE TABLE IF NOT EXISTS embargoed (
    item INTEGER PRIMARY KEY, release TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    indexed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS embargoed_due ON embargoed (indexed, release);
CREATE TABLE IF NOT EXISTS techniques (item INTEGER NOT NULL, iri TEXT, iri_key TEXT,
                                       name_key TEXT);
CREATE INDEX IF NOT EXISTS techniques_item ON techniques (item);
CREATE INDEX IF NOT EXISTS techniques_iri ON techniques (iri, item);
CREATE INDEX IF NOT EXISTS techniques_name ON techniques (name_key, item);
CREATE INDEX IF NOT EXISTS techniques_key ON techniques (iri_key, item);
CREATE TABLE IF NOT EXISTS params (
    item INTEGER NOT NULL, name_key TEXT NOT NULL, num REAL, si REAL, si_unit TEXT,
    text_key TEXT NOT NULL, unit_key TEXT
);
CREATE INDEX IF NOT EXISTS params_item ON params (item);
CREATE INDEX IF NOT EXISTS params_si ON params (name_key, si_unit, si, item);
CREATE INDEX IF NOT EXISTS params_num ON params (name_key, num, item);
CREATE INDEX IF NOT EXISTS params_text ON params (name_key, text_key, item);
CREATE TABLE IF NOT EXISTS parents (item INTEGER NOT NULL, target TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS parents_target ON parents (target, item);
CREATE INDEX IF NOT EXISTS parents_item ON parents (item);
CREATE TABLE IF NOT EXISTS kids (
    item INTEGER NOT NULL, relation TEXT NOT NULL, name_key TEXT, text_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kids_item ON kids (item);
CREATE INDEX IF NOT EXISTS kids_name ON kids (relation, name_key, item);
CREATE TABLE IF NOT EXISTS doc_keys (item INTEGER NOT NULL, key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS doc_keys_key ON doc_keys (key, item);
CREATE INDEX IF NOT EXISTS doc_keys_item ON doc_keys (item);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
    title, body, tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
VERSION = f"{PROJECTION_VERSION}.{RENDER_VERSION}"


def instant(when: datetime | None) -> str | None:
    """Fixed-width UTC ISO text with microseconds: text order is time order, and no
    sub-second embargo end is rounded into the past."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_key(identifier: str) -> str:
    """How a dataset's IsPartOf target and a document's id, PID or DOI are compared: a
    DOI bare (`normalise_doi`: without resolver or `doi:`), anything else as it is; both
    case-folded (DOIs are case-insensitive)."""
    return (normalise_doi(identifier) or identifier.strip()).casefold()


def fold(value: Any) -> str:
    return str(value).casefold()


def files(record: Record) -> list[dict[str, Any]]:
    """The record's files: one File per `file` identifier (its path). The canonical
    record keeps file totals, not lists; a source that knows file names records them as
    identifiers of type "file". `size` when the record has exactly one file."""
    paths = [i.value for i in record.identifiers if i.type == "file"]
    out = []
    for n, path in enumerate(paths, 1):
        item: dict[str, Any] = {"id": panosc.local_id(record, "file", n),
                                "name": posixpath.basename(path.rstrip("/")) or path}
        folder = posixpath.dirname(path.rstrip("/"))
        if folder:
            item["path"] = folder
        if len(paths) == 1 and record.files and record.files.size is not None:
            item["size"] = record.files.size
        out.append(item)
    return out


def full_object(record: Record, context: Context) -> dict[str, Any]:
    """The PaNOSC object with every relation a record holds (a Document's `datasets` are
    joined at query time)."""
    if record.kind == "dataset":
        return {**panosc.dataset(record, context), "files": files(record)}
    obj = panosc.document(record, context)
    obj.pop("datasets", None)
    inst = panosc.instrument(record)
    return {**obj, "instrument": inst} if inst else obj


def query_text(record: Record) -> str:
    """What `query` searches besides the title: description, keywords, techniques, samples,
    instrument, facility and people's names."""
    people = [*record.creators, *record.contributors]
    parts = [record.description or "", *record.keywords, *(t.label for t in record.techniques),
             *(s for smp in record.samples for s in (smp.name, smp.chemical_formula,
                                                      smp.description) if s),
             *(x.name for x in (record.facility, record.instrument) if x),
             *(p.name for p in people), *(p.name for p in record.parameters)]
    return "\n".join(p for p in parts if p)


class Projection(SQLiteFile):
    SCHEMA, MARKER = SCHEMA, "items"

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path)
        self._lock = threading.Lock()

    def seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        return int(row[0]) if row else 0

    def sync(self, store: Any, context: Callable[[datetime], Context], *,
             now: str | None = None, batch: int = 2000) -> int:
        """Apply the store's changes since the last sync; rebuild when the store is behind
        (restored) or the projection's version changed; with `now` (an `instant`), bring
        the full text up to the records public then. Returns the changes applied."""
        done = 0 if self._current(store) else self._apply(store, context, batch)
        if now is not None:
            self._release(now)
        return done

    def _apply(self, store: Any, context: Callable[[datetime], Context], batch: int) -> int:
        """Each batch in one write transaction that first reads where the projection is,
        so two threads or processes never apply the same change twice."""
        with self._lock:
            db, done, seq = self.db, 0, 0
            while True:
                db.execute("BEGIN IMMEDIATE")
                try:
                    version = db.execute("SELECT value FROM meta WHERE key = 'version'"
                                         ).fetchone()
                    if version is None or version[0] != VERSION or self.seq() > store.last_seq():
                        self._clear()
                    seq = self.seq()
                    changes = store.changes_since(seq, batch)
                    # a first build replaces nothing: skip the look-ups of older rows
                    empty = seq == 0 and db.execute("SELECT 1 FROM items LIMIT 1").fetchone() \
                        is None
                    seen: set[str] = set()
                    for s, record in changes:
                        if not empty or record.id in seen:
                            self._remove(record.id)
                        seen.add(record.id)
                        if not record.deleted:
                            self._insert(record, context(record.datestamp or _EPOCH))
                        seq = s
                    if changes:
                        db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (str(seq),))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                if not changes:
                    break
                done += len(changes)
            if done > 1000:
                log.info("PaNOSC projection: %d changes applied (now at %d)", done, seq)
            return done

    def _current(self, store: Any) -> bool:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return row is not None and row[0] == VERSION and self.seq() == store.last_seq()

    def _release(self, now: str) -> None:
        """Move the records whose release has passed at `now` into the full text, and those
        not yet released (the clock went back) out of it."""
        due = ("SELECT item, title, body FROM embargoed WHERE indexed = 0 AND release <= ?")
        back = "SELECT item FROM embargoed WHERE indexed = 1 AND release > ?"
        db = self.db
        if not db.execute(f"{due} LIMIT 1", (now,)).fetchone() and \
                not db.execute(f"{back} LIMIT 1", (now,)).fetchone():
            return   # the common case: no write lock taken
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                for item, title, body in db.execute(due, (now,)).fetchall():
                    db.execute("INSERT INTO fts (rowid, title, body) VALUES (?,?,?)",
                               (item, title, body))
                    db.execute("UPDATE embargoed SET indexed = 1 WHERE item = ?", (item,))
                for (item,) in db.execute(back, (now,)).fetchall():
                    db.execute("DELETE FROM fts WHERE rowid = ?", (item,))
                    db.execute("UPDATE embargoed SET indexed = 0 WHERE item = ?", (item,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _clear(self) -> None:
        """Empty every table (in the caller's transaction), creating any the current
        schema added since the file was made."""
        db = self.db
        for statement in self.SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        for table in ("items", "techniques", "params", "parents", "doc_keys", "kids", "fts",
                      "embargoed", "meta"):
            db.execute(f"DELETE FROM {table}")
        db.execute("INSERT INTO meta VALUES ('version', ?)", (VERSION,))

    def _remove(self, rid: str) -> None:
        row = self.db.execute("SELECT id FROM items WHERE rid = ?", (rid,)).fetchone()
        if row is None:
            return
        for table in ("techniques", "params", "parents", "doc_keys", "kids"):
            self.db.execute(f"DELETE FROM {table} WHERE item = ?", row)
        self.db.execute("DELETE FROM fts WHERE rowid = ?", row)
        self.db.execute("DELETE FROM embargoed WHERE item = ?", row)
        self.db.execute("DELETE FROM items WHERE id = ?", row)

    def _insert(self, record: Record, context: Context) -> None:
        obj = full_object(record, context)
        model = "Dataset" if record.kind == "dataset" else "Document"
        inst = obj.get("instrument") or {}
        date = obj.get("creationDate") if model == "Dataset" else obj.get("startDate")
        links = sorted({link_key(k) for k in (record.id, obj["pid"], doi(record)) if k}) \
            if model == "Document" else []
        cur = self.db.execute(
            "INSERT INTO items (rid, model, pid_key, title_key, sort_date, size, release,"
            " inst_pid, inst_name, inst_facility, body) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (record.id, model, fold(obj["pid"]), fold(obj["title"]),
             _sort_date(date), obj.get("size"), instant(record.dates.release_date),
             inst.get("pid"), inst.get("name"), inst.get("facility"),
             json.dumps(obj, ensure_ascii=False, separators=(",", ":"))))
        item = cur.lastrowid
        self.db.executemany("INSERT INTO techniques VALUES (?,?,?,?)", [
            (item, t["pid"], fold(t["pid"]), fold(t["name"])) for t in obj.get("techniques", ())])
        self.db.executemany("INSERT INTO params VALUES (?,?,?,?,?,?,?)",
                            [_param_row(item, p) for p in obj.get("parameters", ())])
        self.db.executemany("INSERT INTO doc_keys VALUES (?,?)", [(item, k) for k in links])
        self.db.executemany("INSERT INTO kids VALUES (?,?,?,?)", _kids(item, obj))
        self.db.executemany("INSERT INTO parents VALUES (?,?)", [
            (item, link_key(r.identifier)) for r in record.related
            if r.relation == "IsPartOf"] if model == "Dataset" else [])
        release = instant(record.dates.release_date)
        if release is None:
            self.db.execute("INSERT INTO fts (rowid, title, body) VALUES (?,?,?)",
                            (item, record.title, query_text(record)))
        else:  # into `fts` by `_release` once public
            self.db.execute("INSERT INTO embargoed (item, release, title, body) VALUES (?,?,?,?)",
                            (item, release, record.title, query_text(record)))

    def rows(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, list(args)).fetchall()


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _sort_date(value: str | None) -> str | None:
    return instant(parse_date(value)) if value else None


KID_RELATIONS = {"samples": "Sample", "files": "File", "instrument": "Instrument"}


def _kids(item: int, obj: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(item, relation, folded name, folded text fields joined by newlines) per sample,
    file and instrument: what `plan` translates `name` and `text` conditions to."""
    rows = []
    for relation, model in KID_RELATIONS.items():
        value = obj.get(relation)
        for child in value if isinstance(value, list) else [value] if value else []:
            texts = [fold(child[f]) for f in MODELS[model].text if child.get(f) is not None]
            name = child.get("name")
            rows.append((item, relation, fold(name) if name is not None else None,
                         "\n".join(texts)))
    return rows


def _param_row(item: int, p: dict[str, Any]) -> tuple[Any, ...]:
    unit = p.get("unit")
    si = to_si(p["value"], unit, name=p["name"]) if unit else None
    return (item, fold(p["name"]), number(p["value"]), si[0] if si else None,
            si[1] if si else None, fold(p["value"]), fold(unit) if unit else None)
