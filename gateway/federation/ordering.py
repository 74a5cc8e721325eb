"""LoopBack `order` clauses: parsing, and the comparison the merge sorts by.

A clause is `"title DESC"`, `"title"` (ascending), or a JSON array of those. Values
compare as this gateway's `/api` compares them (and SQLite, MySQL's default collation):
missing or null first when ascending (last when descending), then booleans, numbers,
strings (case-insensitively: by code point of their case fold), then anything else by its
JSON text. Pure: no I/O.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any, Callable

_CLAUSE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\s+(ASC|DESC))?", re.I)
TIEBREAK_FIELD = "pid"


class OrderError(ValueError):
    """An `order` the federation cannot honour; the message says why."""


@dataclass(frozen=True)
class OrderBy:
    field: str
    descending: bool = False

    def clause(self) -> str:
        return f"{self.field} {'DESC' if self.descending else 'ASC'}"


def parse_order(order: Any) -> tuple[OrderBy, ...]:
    """The clauses of a LoopBack `order` (None or empty: no clause)."""
    if order is None or order == "" or order == []:
        return ()
    parts = [order] if isinstance(order, str) else order
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise OrderError("order must be a string such as \"title DESC\" or an array of them")
    out = []
    for part in parts:
        m = _CLAUSE.fullmatch(part.strip())
        if not m:
            raise OrderError(f"order: {part!r} is not \"<property> ASC|DESC\"")
        out.append(OrderBy(m[1], (m[2] or "ASC").upper() == "DESC"))
    return tuple(out)


def with_tiebreak(orders: tuple[OrderBy, ...]) -> tuple[OrderBy, ...]:
    """`orders` followed by `pid ASC` unless pid is already ordered on: every provider then
    orders ties the same way, so a provider's first N items are the first N of its whole
    answer in the merge's order (what global paging needs)."""
    if any(o.field == TIEBREAK_FIELD for o in orders):
        return orders
    return (*orders, OrderBy(TIEBREAK_FIELD))


def _rank(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value.casefold())
    return (4, json.dumps(value, sort_keys=True))


def compare_values(a: Any, b: Any) -> int:
    ra, rb = _rank(a), _rank(b)
    return (ra > rb) - (ra < rb)


def comparator(orders: tuple[OrderBy, ...]) -> Callable[[dict, dict], int]:
    """A cmp function over items (dicts) for the clauses, in order."""
    def cmp(a: dict, b: dict) -> int:
        for o in orders:
            c = compare_values(a.get(o.field), b.get(o.field))
            if c:
                return -c if o.descending else c
        return 0
    return cmp


def sort_key(orders: tuple[OrderBy, ...]) -> Callable[[dict], Any]:
    return cmp_to_key(comparator(orders))
