"""The wall clock, in one place: everything else takes a `clock` callable, so tests can
move time (e.g. past an embargo end) without sleeping."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
