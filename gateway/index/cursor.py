"""Opaque keyset cursors shared by the index backends.

A cursor carries the sort key of the last hit of a page and a fingerprint of the query it
belongs to, so a cursor replayed with another query is refused instead of giving a wrong page.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from typing import Any

from . import Query, QueryError


def fingerprint(query: Query) -> str:
    key = [query.text, sorted((k, sorted(v)) for k, v in query.filters.items()),
           str(query.date_from), str(query.date_to), query.effective_sort,
           sorted(json.dumps([p.name, p.low, p.high, p.unit]) for p in query.parameters)]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:12]


def encode(query: Query, key: list[Any]) -> str:
    raw = json.dumps({"q": fingerprint(query), "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(query: Query) -> list[Any] | None:
    """The sort key stored in `query.cursor`, or None without a cursor."""
    if not query.cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(query.cursor + "=" * (-len(query.cursor) % 4))
        data = json.loads(raw)
        key, fp = data["k"], data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise QueryError("invalid cursor", "cursor") from None
    if fp != fingerprint(query) or not isinstance(key, list) or len(key) != 2:
        raise QueryError("cursor does not belong to this query", "cursor")
    if not (_scalar(key[0]) and isinstance(key[1], str)):
        raise QueryError("invalid cursor", "cursor")
    return key


def _scalar(value: Any) -> bool:
    """A sort key SQLite can bind: text, a finite float, or a 64-bit integer."""
    if isinstance(value, str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63
