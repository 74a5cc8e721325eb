"""One SQLite file shared by threads and processes: the base of the store and the index.

Each thread gets its own connection (autocommit mode: transactions are explicit), in WAL mode
so readers never block the writer. The schema is created once per file, so a reader never
needs the write lock just to open the file.
"""
from __future__ import annotations

import os
import sqlite3
import threading
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
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoint; safe under WAL
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                            (self.MARKER,)).fetchone():
            conn.executescript(self.SCHEMA)
        return conn

    def close(self) -> None:
        """Close this thread's connection (the next use opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
