"""One SQLite file shared by threads and processes: the base of the store and the index.

Each thread gets its own connection (autocommit mode: transactions are explicit), in WAL mode
so readers never block the writer. The schema is created once per file, so a reader never
needs the write lock just to open the file.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path


class SQLiteFile:
    SCHEMA = ""   # DDL, idempotent (IF NOT EXISTS)
    MARKER = ""   # a table the schema creates: present means the schema is there

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        self._wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoint; safe under WAL
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                            (self.MARKER,)).fetchone():
            self._create_schema(conn)
        return conn

    @staticmethod
    def _wal(conn: sqlite3.Connection, wait: float = 30.0) -> None:
        """Switch to WAL mode (kept in the file). On a fresh file another connection may be
        switching it or creating the schema, and SQLite answers "database is locked" at
        once, without its busy timeout: so wait here, as long as the connect timeout."""
        deadline = time.monotonic() + wait
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """The whole schema in one write transaction: another connection sees all of it or
        none (it waits on the write lock, then finds every table already there), never the
        MARKER table without the ones created after it."""
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{self.SCHEMA}\nCOMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close this thread's connection (the next use opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
