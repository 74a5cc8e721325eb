"""Query-string parsing for /api/search: every bad argument is a 400 naming it."""
from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from ..errors import BadRequest
from ..index import FACET_FIELDS, FILTER_FIELDS, SORTS, Query, QueryError

MAX_VALUES = 100  # values of one filter parameter
MAX_TEXT = 2000  # characters of q
KNOWN = {"q", "sort", "size", "cursor", "facets", "from", "to", *FILTER_FIELDS}
SINGLE = {"q", "sort", "size", "cursor", "facets", "from", "to"}


def search_query(args: MultiDict[str, str], *, default_size: int, max_size: int) -> Query:
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}", parameter=unknown[0],
                         allowed=sorted(KNOWN))
    for name in SINGLE:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"parameter {name!r} given more than once", parameter=name)
    for name in FILTER_FIELDS:
        if len(args.getlist(name)) > MAX_VALUES:
            raise BadRequest(f"parameter {name!r}: at most {MAX_VALUES} values", parameter=name)
    if len(args.get("q", "")) > MAX_TEXT:
        raise BadRequest(f"parameter 'q': at most {MAX_TEXT} characters", parameter="q")
    try:
        return Query(
            text=args.get("q", ""),
            filters={f: tuple(v for v in args.getlist(f) if v) for f in FILTER_FIELDS
                     if args.getlist(f)},
            date_from=_date(args, "from"),
            date_to=_date(args, "to"),
            facets=_facets(args.get("facets")),
            sort=args.get("sort", "relevance"),
            size=_size(args.get("size"), default_size, max_size),
            cursor=args.get("cursor") or None,
        )
    except QueryError as exc:
        raise BadRequest(str(exc), parameter=exc.parameter, allowed_sorts=list(SORTS)) from None


def _date(args: MultiDict[str, str], name: str) -> date | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"parameter {name!r}: {value!r} is not a date (YYYY-MM-DD)",
                         parameter=name) from None


def _facets(value: str | None) -> tuple[str, ...]:
    if value is None:
        return FACET_FIELDS
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    bad = [n for n in names if n not in FACET_FIELDS]
    if bad:
        raise BadRequest(f"unknown facet(s): {', '.join(bad)}", parameter="facets",
                         allowed=list(FACET_FIELDS))
    return names


def _size(value: str | None, default: int, maximum: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) > maximum:
        raise BadRequest(f"parameter 'size' must be a whole number from 0 to {maximum}",
                         parameter="size")
    return int(value)
