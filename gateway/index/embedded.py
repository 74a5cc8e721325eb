"""The embedded search index: SQLite FTS5 in a file of its own, no server.

Full text with BM25 ranking over title, description, keywords, people, samples and the
rest; exact-value filters and facet counts from a `terms` table (field, value) that holds
every facetable value of every document (multi-valued fields simply have several rows).
Facet counts are computed over the documents that match the whole query (text, filters,
dates, visibility). `oai_stamp` (max(datestamp, release_date), indexed with the id) serves
OAI-PMH's keyset iteration (`stamps`).
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Iterable, Mapping

from mappings.record import Record, iso

from ..sqlite import SQLiteFile
from . import FILTER_FIELDS, FacetValue, Hit, Query, QueryError, Result
from . import cursor as cursors
from .docs import index_terms, oai_stamp, sort_date, text_fields
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
"""
WEIGHTS = "8.0, 1.0, 3.0, 2.0, 3.0, 1.0"

_ORDER = {  # effective sort -> (sort key column, direction)
    "relevance": ("score", "ASC"),  # bm25: lower is better
    "date": ("sort_date", "ASC"),
    "-date": ("sort_date", "DESC"),
    "title": ("title_sort", "ASC"),
}


class EmbeddedIndex(SQLiteFile):
    """`SearchIndex` on SQLite FTS5. Thread-safe: one connection per thread."""

    SCHEMA, MARKER = SCHEMA, "docs"

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(docs)")}
        if "oai_stamp" not in columns:
            self._migrate(conn)
        return conn

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
            for table in ("docs", "terms", "fts"):
                db.execute(f"DELETE FROM {table} WHERE rowid = ?", row)

    @staticmethod
    def _add(db: sqlite3.Connection, record: Record) -> None:
        cur = db.execute(
            "INSERT INTO docs (id, sort_date, title_sort, release_date, oai_stamp)"
            " VALUES (?,?,?,?,?)",
            (record.id, sort_date(record), record.title.casefold(),
             iso(record.dates.release_date), oai_stamp(record) or ""))
        rowid = cur.lastrowid
        db.executemany("INSERT INTO terms VALUES (?,?,?,?)",
                       [(rowid, f, v, label) for f, v, label in index_terms(record)])
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
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        for table in ("docs", "terms", "meta"):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM fts")
        db.execute("COMMIT")

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
            facets = {f: self._facet(db, f, match_sql, args) for f in query.facets}
        finally:
            db.execute("COMMIT")
        next_cursor = cursors.encode(query, next_key) if next_key is not None else None
        return Result(total=total, hits=hits, facets=facets, next_cursor=next_cursor)

    def stamps(self, now: datetime, *, date_from: datetime | None = None,
               date_to: datetime | None = None, after: tuple[datetime, str] | None = None,
               size: int = 100, filters: Mapping[str, tuple[str, ...]] | None = None,
               ) -> list[tuple[datetime, str]]:
        """See `SearchIndex.stamps`: keyset on the (oai_stamp, id) index."""
        bad = [f for f in filters or {} if f not in FILTER_FIELDS]
        if bad:
            raise QueryError(f"unknown field(s): {', '.join(bad)}", "set")
        sql = ("SELECT d.oai_stamp, d.id FROM docs d WHERE d.oai_stamp != ''"
               " AND (d.release_date IS NULL OR d.release_date <= ?)")
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
        if after is not None:
            stamp = iso(after[0])
            sql += " AND (d.oai_stamp > ? OR (d.oai_stamp = ? AND d.id > ?))"
            args += [stamp, stamp, after[1]]
        sql += " ORDER BY d.oai_stamp, d.id LIMIT ?"
        rows = self.db.execute(sql, [*args, size]).fetchall()
        return [(datetime.fromisoformat(s.replace("Z", "+00:00")), i) for s, i in rows]

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
    def _facet(db: sqlite3.Connection, name: str, match_sql: str,
               args: list[Any]) -> list[FacetValue]:
        rows = db.execute(
            f"SELECT t.value, max(t.label), count(*) AS n FROM terms t"
            f" WHERE t.field = ? AND t.rowid IN (SELECT rowid FROM ({match_sql}))"
            f" GROUP BY t.value ORDER BY n DESC, t.value ASC", [name, *args]).fetchall()
        return [FacetValue(value=v, label=label, count=n) for v, label, n in rows]
