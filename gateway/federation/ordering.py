"""LoopBack `order` clauses: parsing, and the comparison the merge sorts by.

A clause is `"title DESC"`, `"title"` (ascending), or a JSON array of those. Values
compare exactly as this gateway's `/api` orders them, by the one key both use
(`gateway.panosc.ordering.sort_key`): missing or null first when ascending (last when
descending), then booleans, numbers, strings (dates as instants, other text by its case
fold), then lists and objects. The merge must compare as each provider orders, or a
provider's first N items are not the first N in the merge's order and global paging breaks.
Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ..panosc.ordering import sort_key as value_key

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


def compare_values(a: Any, b: Any) -> int:
    ka, kb = value_key(a), value_key(b)
    return (ka > kb) - (ka < kb)


def comparator(orders: tuple[OrderBy, ...]) -> Callable[[dict, dict], int]:
    """A cmp function over items (dicts) for the clauses, in order."""
    def cmp(a: dict, b: dict) -> int:
        for o in orders:
            c = compare_values(a.get(o.field), b.get(o.field))
            if c:
                return -c if o.descending else c
        return 0
    return cmp
