"""The embedded search index: SQLite FTS5 in a file of its own, no server.

Full text with BM25 ranking over title, description, keywords, people, samples and the
rest; exact-value filters and facet counts from a `terms` table (field, value) that holds
every facetable value of every document (multi-valued fields simply have several rows).
Facet counts are computed over the documents that match the whole query (text, filters,
dates, parameter ranges, visibility). Numeric parameters are in a `params` table (value as
recorded, SI value and unit) for parameter ranges. `meta.schema` holds `TERMS_VERSION` and
the techniques vocabulary's version the documents were built with; an index holding
documents of another is refused (`IndexOutdated`) until `fairgate reindex`. `oai_stamp`
(max(datestamp, release_date), indexed with the id) serves OAI-PMH's keyset iteration
(`stamps`).
"""
from __future__ import annotations

import math
import os
import sqlite3
from datetime import datetime
from typing import Any, Iterable, Mapping

from mappings.record import Record, iso

from ..sqlite import SQLiteFile
from . import (FILTER_FIELDS, FacetValue, Hit, IndexOutdated, ParameterRange, Query,
               QueryError, Result)
from . import cursor as cursors
from .docs import Vocabulary, index_terms, numeric, oai_stamp, sort_date, text_fields
from .textquery import TooManyTerms, to_fts

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rowid        INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    sort_date    TEXT NOT NULL,
    title_sort   TEXT NOT NULL,
    release_date TEXT,
    oai_stamp    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS docs_oai_stamp ON docs (oai_stamp, id);
CREATE TABLE IF NOT EXISTS terms (
    rowid INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    label TEXT
);
CREATE INDEX IF NOT EXISTS terms_field_value ON terms (field, value, rowid);
CREATE INDEX IF NOT EXISTS terms_rowid ON terms (rowid);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (
    title, description, keywords, people, samples, extra,
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + """
CREATE TABLE IF NOT EXISTS params (
    rowid    INTEGER NOT NULL,
    name     TEXT NOT NULL,
    value    REAL NOT NULL,
    value_si REAL,
    unit_si  TEXT
);
CREATE INDEX IF NOT EXISTS params_name ON params (name, unit_si, value_si);
CREATE INDEX IF NOT EXISTS params_rowid ON params (rowid);
"""
PARAMS_TABLE = SCHEMA[SCHEMA.index('CREATE TABLE IF NOT EXISTS params'):]
# What the documents hold: 2 = licence and access terms, numeric parameters (params),
# technique ancestors. Stored in `meta` with the vocabulary's version (`schema_key`).
TERMS_VERSION = 2
WEIGHTS = "8.0, 1.0, 3.0, 2.0, 3.0, 1.0"

_ORDER = {  # effective sort -> (sort key column, direction)
    "relevance": ("score", "ASC"),  # bm25: lower is better
    "date": ("sort_date", "ASC"),
    "-date": ("sort_date", "DESC"),
    "title": ("title_sort", "ASC"),
    "-title": ("title_sort", "DESC"),
}


class EmbeddedIndex(SQLiteFile):
    """`SearchIndex` on SQLite FTS5. Thread-safe: one connection per thread."""

    SCHEMA, MARKER = SCHEMA, "docs"

    def __init__(self, path: str | os.PathLike[str], techniques: Vocabulary | None = None):
        """`techniques`: the vocabulary whose ancestors documents carry (None: none)."""
        super().__init__(path)
        self.techniques = techniques
        self.schema_key = f"{TERMS_VERSION}/{techniques.version if techniques else ''}"
        self._outdated: str | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection; IndexOutdated while the file holds documents built
        under another `schema_key` (re-checked on each use, so a `fairgate reindex` in
        another process is noticed)."""
        conn = super().db
        if self._outdated is not None:
            self._outdated = self._check_schema(conn)
            if self._outdated is not None:
                raise IndexOutdated(self._outdated)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(docs)")}
        if "oai_stamp" not in columns:
            self._migrate(conn)
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'params'").fetchone():
            conn.executescript(PARAMS_TABLE)  # a file from before TERMS_VERSION 2
        self._outdated = self._check_schema(conn)
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> str | None:
        """Why the documents do not fit this index's `schema_key`, or None. An empty index
        takes this key (nothing to rebuild)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row and row[0] == self.schema_key:
            return None
        if conn.execute("SELECT count(*) FROM docs").fetchone()[0] == 0:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (self.schema_key,))
            return None
        return (f"the search index {self.path} was built with index schema "
                f"{row[0] if row else 1!r}, this gateway uses {self.schema_key!r} (terms "
                "version/techniques vocabulary version): run `fairgate reindex` to rebuild it")

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """An index file from before `oai_stamp`: add the column and empty the index, so
        the next catch-up refills it from the store (it is derived data)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            if "oai_stamp" not in {r[1] for r in conn.execute("PRAGMA table_info(docs)")}:
                conn.execute("ALTER TABLE docs ADD COLUMN oai_stamp TEXT NOT NULL DEFAULT ''")
                conn.execute("CREATE INDEX IF NOT EXISTS docs_oai_stamp ON docs (oai_stamp, id)")
                for table in ("docs", "terms", "meta", "fts"):
                    conn.execute(f"DELETE FROM {table}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- writing -------------------------------------------------------------------------
    def apply(self, changes: Iterable[tuple[int, Record]]) -> int:
        db, n, top = self.db, 0, None
        db.execute("BEGIN IMMEDIATE")
        try:
            for seq, record in changes:
                self._remove(db, record.id)
                if not record.deleted:
                    self._add(db, record)
                top, n = seq, n + 1
            if top is not None:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('last_seq', ?)", (str(top),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return n

    @staticmethod
    def _remove(db: sqlite3.Connection, rid: str) -> None:
        row = db.execute("SELECT rowid FROM docs WHERE id = ?", (rid,)).fetchone()
        if row:
            for table in ("docs", "terms", "fts", "params"):
                db.execute(f"DELETE FROM {table} WHERE rowid = ?", row)

    def _add(self, db: sqlite3.Connection, record: Record) -> None:
        cur = db.execute(
            "INSERT INTO docs (id, sort_date, title_sort, release_date, oai_stamp)"
            " VALUES (?,?,?,?,?)",
            (record.id, sort_date(record), record.title.casefold(),
             iso(record.dates.release_date), oai_stamp(record) or ""))
        rowid = cur.lastrowid
        db.executemany("INSERT INTO terms VALUES (?,?,?,?)",
                       [(rowid, f, v, label)
                        for f, v, label in index_terms(record, self.techniques)])
        db.executemany("INSERT INTO params VALUES (?,?,?,?,?)",
                       [(rowid, p.name, *n) for p in record.parameters
                        if (n := numeric(p)) is not None])
        db.execute("INSERT INTO fts (rowid, title, description, keywords, people, samples, extra)"
                   " VALUES (?,?,?,?,?,?,?)", (rowid, *text_fields(record)))

    def last_seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        return int(row[0]) if row else 0

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def rejected(self) -> int:
        """Always 0: SQLite takes every record the store holds."""
        return 0

    def clear(self) -> None:
        """Empty the index; it then takes this index's `schema_key` (what a rebuild
        fills it with)."""
        db = SQLiteFile.db.fget(self)  # type: ignore[attr-defined]  # also when outdated
        db.execute("BEGIN IMMEDIATE")
        for table in ("docs", "terms", "meta", "params"):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM fts")
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (self.schema_key,))
        db.execute("COMMIT")
        self._outdated = None

    # -- searching -----------------------------------------------------------------------
    def search(self, query: Query, now: datetime) -> Result:
        after = cursors.decode(query)
        try:
            match_sql, args = self._matches(query, now)
        except TooManyTerms as exc:
            raise QueryError(str(exc), "q") from None
        db = self.db
        db.execute("BEGIN")  # one snapshot for total, page and facets
        try:
            total = db.execute(f"SELECT count(*) FROM ({match_sql})", args).fetchone()[0]
            hits, next_key = self._page(db, query, match_sql, args, after)
            facets = self._facets(db, query.facets, match_sql, args)
        finally:
            db.execute("COMMIT")
        next_cursor = cursors.encode(query, next_key) if next_key is not None else None
        return Result(total=total, hits=hits, facets=facets, next_cursor=next_cursor)

    def stamps(self, now: datetime, *, date_from: datetime | None = None,
               date_to: datetime | None = None, after: tuple[datetime, str] | None = None,
               size: int = 100, filters: Mapping[str, tuple[str, ...]] | None = None,
               ) -> list[tuple[datetime, str]]:
        """See `SearchIndex.stamps`: keyset on the (oai_stamp, id) index."""
        where, args = self._stamps_where(now, date_from, date_to, filters)
        if after is not None:  # a row value: SQLite seeks the index to it (an OR would scan)
            where += " AND (d.oai_stamp, d.id) > (?, ?)"
            args += [iso(after[0]), after[1]]
        rows = self.db.execute(f"SELECT d.oai_stamp, d.id FROM docs d WHERE {where}"
                               " ORDER BY d.oai_stamp, d.id LIMIT ?", [*args, size]).fetchall()
        return [(datetime.fromisoformat(s.replace("Z", "+00:00")), i) for s, i in rows]

    def count_stamps(self, now: datetime, *, date_from: datetime | None = None,
                     date_to: datetime | None = None,
                     filters: Mapping[str, tuple[str, ...]] | None = None) -> int:
        """See `SearchIndex.count_stamps`."""
        where, args = self._stamps_where(now, date_from, date_to, filters)
        return self.db.execute(f"SELECT count(*) FROM docs d WHERE {where}", args).fetchone()[0]

    @staticmethod
    def _stamps_where(now: datetime, date_from: datetime | None, date_to: datetime | None,
                      filters: Mapping[str, tuple[str, ...]] | None) -> tuple[str, list[Any]]:
        """The SQL condition (on `docs d`) and arguments of `stamps` and `count_stamps`."""
        bad = [f for f in filters or {} if f not in FILTER_FIELDS]
        if bad:
            raise QueryError(f"unknown field(s): {', '.join(bad)}", "set")
        sql = "d.oai_stamp != '' AND (d.release_date IS NULL OR d.release_date <= ?)"
        args: list[Any] = [iso(now)]
        for name, values in (filters or {}).items():
            if values:
                sql += (f" AND d.rowid IN (SELECT rowid FROM terms WHERE field = ?"
                        f" AND value IN ({','.join('?' * len(values))}))")
                args += [name, *values]
        if date_from is not None:
            sql, args = sql + " AND d.oai_stamp >= ?", [*args, iso(date_from)]
        if date_to is not None:
            sql, args = sql + " AND d.oai_stamp <= ?", [*args, iso(date_to)]
        return sql, args

    @staticmethod
    def _matches(query: Query, now: datetime) -> tuple[str, list[Any]]:
        """SQL selecting (rowid, id, score, sort_date, title_sort) of every visible match."""
        fts = to_fts(query.text)
        if fts is not None:
            sql = (f"SELECT d.rowid AS rowid, d.id AS id, bm25(fts, {WEIGHTS}) AS score,"
                   " d.sort_date AS sort_date, d.title_sort AS title_sort"
                   " FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ?")
            args: list[Any] = [fts]
        else:
            sql = ("SELECT d.rowid AS rowid, d.id AS id, 0.0 AS score, d.sort_date AS sort_date,"
                   " d.title_sort AS title_sort FROM docs d WHERE 1=1")
            args = []
        sql += " AND (d.release_date IS NULL OR d.release_date <= ?)"
        args.append(iso(now))
        for name, values in query.filters.items():
            if values:
                marks = ",".join("?" * len(values))
                sql += (f" AND d.rowid IN (SELECT rowid FROM terms WHERE field = ?"
                        f" AND value IN ({marks}))")
                args += [name, *values]
        if query.date_from:
            sql, args = sql + " AND d.sort_date >= ?", [*args, query.date_from.isoformat()]
        if query.date_to:
            sql += " AND d.sort_date != '' AND substr(d.sort_date, 1, 10) <= ?"
            args.append(query.date_to.isoformat())
        for p in query.parameters:
            clause, more = _parameter_sql(p)
            sql, args = sql + f" AND ({clause})", [*args, *more]
        return sql, args

    @staticmethod
    def _page(db: sqlite3.Connection, query: Query, match_sql: str, args: list[Any],
              after: list[Any] | None) -> tuple[list[Hit], list[Any] | None]:
        column, direction = _ORDER[query.effective_sort]
        sql, page_args = f"SELECT id, score, {column} FROM ({match_sql})", list(args)
        if after is not None:
            op = "<" if direction == "DESC" else ">"
            sql += f" WHERE ({column} {op} ? OR ({column} = ? AND id > ?))"
            page_args += [after[0], after[0], after[1]]
        sql += f" ORDER BY {column} {direction}, id ASC LIMIT ?"
        rows = db.execute(sql, [*page_args, query.size + 1]).fetchall()
        more = len(rows) > query.size
        rows = rows[:query.size]
        scored = bool(to_fts(query.text))
        hits = [Hit(id=r[0], score=-r[1] if scored else None) for r in rows]
        next_key = [rows[-1][2], rows[-1][0]] if more and rows else None
        return hits, next_key

    @staticmethod
    def _facets(db: sqlite3.Connection, names: tuple[str, ...], match_sql: str,
                args: list[Any]) -> dict[str, list[FacetValue]]:
        """Every facet asked for in one pass over the matches' terms (one query, not one
        per facet: the matches are found once)."""
        if not names:
            return {}
        rows = db.execute(
            f"SELECT t.field, t.value, max(t.label), count(*) FROM terms t"
            f" WHERE t.rowid IN (SELECT rowid FROM ({match_sql}))"
            f" AND t.field IN ({','.join('?' * len(names))})"
            f" GROUP BY t.field, t.value", [*args, *names]).fetchall()
        out: dict[str, list[FacetValue]] = {name: [] for name in names}
        for name, value, label, n in sorted(rows, key=lambda r: (-r[3], r[1])):
            out[name].append(FacetValue(value=value, label=label, count=n))
        return out


def _parameter_sql(p: ParameterRange) -> tuple[str, list[Any]]:
    """SQL on `d.rowid` for one parameter range: a value inside it, or a
    `<name>_min`..`<name>_max` pair overlapping it."""
    column = "value" if p.unit is None else "value_si"
    unit = "" if p.unit is None else " AND unit_si = ?"
    low = -math.inf if p.low is None else p.low
    high = math.inf if p.high is None else p.high

    def having(name: str, test: str, *bounds: float) -> tuple[str, list[Any]]:
        extra = [] if p.unit is None else [p.unit]
        return (f"d.rowid IN (SELECT rowid FROM params WHERE name = ?{unit}"
                f" AND {column} {test})", [name, *extra, *bounds])

    inside, a = having(p.name, "BETWEEN ? AND ?", low, high)
    start, b = having(p.span_names[0], "<= ?", high)
    end, c = having(p.span_names[1], ">= ?", low)
    return f"{inside} OR ({start} AND {end})", [*a, *b, *c]
