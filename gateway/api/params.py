"""Query-string parsing for /api/search: every bad argument is a 400 naming it. The names
accepted, and which may repeat, are those `schemas.SearchArgs` documents."""
from __future__ import annotations

import math
import re
from datetime import date

from werkzeug.datastructures import MultiDict

from mappings.units import to_si

from ..errors import BadRequest
from ..index import ACCESS_VALUES, FACET_FIELDS, FILTER_FIELDS, SORTS, ParameterRange, Query, \
    QueryError
from .schemas import MAX_PARAMS, MAX_TEXT, MAX_VALUES, SearchArgs, parameter_names

PARAMETERS = parameter_names(SearchArgs())  # name -> repeatable
KNOWN = set(PARAMETERS)
SINGLE = {name for name, many in PARAMETERS.items() if not many}
EXACT = 1e-9  # relative width of a one-value parameter range (unit conversions round)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def search_query(args: MultiDict[str, str], *, default_size: int, max_size: int) -> Query:
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}", parameter=unknown[0],
                         allowed=sorted(KNOWN))
    for name in sorted(KNOWN):
        values = args.getlist(name)
        if name in SINGLE and len(values) > 1:
            raise BadRequest(f"parameter {name!r} given more than once", parameter=name)
        limit = MAX_PARAMS if name == "param" else MAX_VALUES
        if len(values) > limit:
            raise BadRequest(f"parameter {name!r}: at most {limit} values", parameter=name)
    if len(args.get("q", "")) > MAX_TEXT:
        raise BadRequest(f"parameter 'q': at most {MAX_TEXT} characters", parameter="q")
    bad_access = [v for v in args.getlist("access") if v and v not in ACCESS_VALUES]
    if bad_access:
        raise BadRequest(f"parameter 'access': {bad_access[0]!r} is not one of "
                         f"{', '.join(ACCESS_VALUES)}", parameter="access")
    try:
        return Query(
            text=args.get("q", ""),
            filters={f: tuple(v for v in args.getlist(f) if v) for f in FILTER_FIELDS
                     if args.getlist(f)},
            parameters=tuple(parameter_range(v) for v in args.getlist("param") if v),
            date_from=_date(args, "from"),
            date_to=_date(args, "to"),
            facets=_facets(args.get("facets")),
            sort=args.get("sort", "relevance"),
            size=_size(args.get("size"), default_size, max_size),
            cursor=args.get("cursor") or None,
        )
    except QueryError as exc:
        raise BadRequest(str(exc), parameter=exc.parameter,
                         allowed=list(SORTS) if exc.parameter == "sort" else None) from None


def parameter_range(text: str) -> ParameterRange:
    """`NAME:RANGE[:UNIT]` as a range in SI units (or as recorded, without a unit).
    RANGE: `LOW..HIGH`, `LOW..`, `..HIGH` or one value (equal within `EXACT`)."""
    name, _, rest = text.partition(":")
    span, _, unit = rest.partition(":")
    name, span, unit = name.strip(), span.strip(), unit.strip()
    if not name or not span:
        raise QueryError(f"{text!r} is not NAME:RANGE[:UNIT] (e.g. "
                         "photon_energy:0.88..0.99:keV)", "param")
    low_text, dots, high_text = span.partition("..")
    low, high = _bound(low_text, text), _bound(high_text, text) if dots else None
    if not dots:
        high = low
    if unit:
        low, high, unit = _si(name, low, high, unit)
    if not dots and low is not None and high is not None:
        width = abs(low) * EXACT
        low, high = low - width, high + width
    return ParameterRange(name, low, high, unit or None)


def _bound(text: str, whole: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise QueryError(f"parameter range {whole!r}: {text!r} is not a number", "param")
    value = float(text)
    if not math.isfinite(value):
        raise QueryError(f"parameter range {whole!r}: {text!r} is too large", "param")
    return value


def _si(name: str, low: float | None, high: float | None,
        unit: str) -> tuple[float | None, float | None, str]:
    """The bounds in SI; a 400 naming `param` for a unit the gateway does not know."""
    converted, si_unit = [], None
    for bound in (low, high):
        if bound is None:
            converted.append(None)
            continue
        si = to_si(bound, unit, name=name)
        if si is None:
            raise QueryError(f"parameter {name!r}: unknown unit {unit!r}", "param")
        converted.append(si[0])
        si_unit = si[1]
    return converted[0], converted[1], si_unit or unit  # no bound: ParameterRange refuses


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
