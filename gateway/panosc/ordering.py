"""The one order of LoopBack `order` values, shared by the local engine (when it sorts in
Python) and the federation's merge (so a global page agrees with each provider's order).

Values of different kinds never raise when compared: null first, then booleans, numbers,
strings, then lists and objects. Strings that are ISO 8601 dates compare as instants
(`2020-01-01T01:00:00+01:00` equals `2020-01-01T00:00:00Z`), rendered as fixed-width UTC
text in the same rank as other strings, which compare case-folded; so a date-valued field
orders by time and a text field as the SQL projection orders its folded column.
"""
from __future__ import annotations

import json
import math
from datetime import timezone
from typing import Any

from .filters import parse_date

NULL, BOOLEAN, NUMBER, STRING, STRUCTURE = range(5)


def sort_key(value: Any) -> tuple[Any, ...]:
    """A key such that sorting by it is LoopBack's ascending order of `value` (reverse
    the sort for DESC: nulls then come last, as in SQL)."""
    if value is None:
        return (NULL,)
    if isinstance(value, bool):
        return (BOOLEAN, int(value))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return (NUMBER, 1, 0)      # NaN after every number, equal to itself
        return (NUMBER, 0, value)
    if isinstance(value, str):
        return (STRING, date_text(value) or value.casefold())
    return (STRUCTURE, json.dumps(value, sort_keys=True, default=str))


def date_text(value: str) -> str | None:
    """An ISO 8601 date or date-time string as fixed-width UTC text (naive = UTC), whose
    text order is time order; None if `value` is not one."""
    if not value[:4].isdigit() or len(value) < 10 or value[4:5] != "-":
        return None
    when = parse_date(value)
    if when is None:
        return None
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")
