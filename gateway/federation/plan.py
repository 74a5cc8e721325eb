"""From a client's PaNOSC filter to what each provider is asked. Pure: no I/O.

Global paging: each provider gets the client's filter unchanged except `skip` 0, `limit`
`skip + limit` and an order with a `pid` tiebreak (`pid ASC` alone when the client gave
no order and no `query`; no order at all with `query`, so providers rank by relevance).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mappings.units import number

from .ordering import OrderBy, OrderError, parse_order, with_tiebreak


class PlanError(ValueError):
    """A filter the federation cannot serve correctly; the message says why (HTTP 400)."""


@dataclass(frozen=True)
class FindPlan:
    skip: int
    limit: int
    orders: tuple[OrderBy, ...]
    scored: bool  # a `query`: rank by fused relevance unless an order is given
    provider_filter: dict[str, Any]
    max_window: int  # the most items one provider is ever asked for


def _whole(filter: dict[str, Any], key: str, default: int, minimum: int) -> int:
    """A whole number as `/api` reads one (`number`: 20, 20.0, "20", 1e3 alike)."""
    raw = filter.get(key)
    if raw is None:
        return default
    value = number(raw)
    if value is None or value != int(value) or value < minimum:
        raise PlanError(f"filter.{key} must be a whole number >= {minimum}")
    return int(value)


def plan_find(filter: dict[str, Any], *, default_limit: int, max_window: int) -> FindPlan:
    """The plan for a federated find; PlanError when the filter cannot be served."""
    if "fields" in filter:
        raise PlanError("filter.fields is not supported by the federated API: merging "
                        "needs every item's pid and ordered properties")
    skip = _whole(filter, "skip", _whole(filter, "offset", 0, 0), 0)
    limit = _whole(filter, "limit", default_limit, 0) or default_limit  # 0: as if absent
    if skip + limit > max_window:
        raise PlanError(f"skip + limit is {skip + limit}; the federated API serves the first "
                        f"{max_window} results at most (federation_max_window)")
    query = filter.get("query")
    if query is not None and not isinstance(query, str):
        raise PlanError("filter.query must be a string")
    try:
        orders = parse_order(filter.get("order"))
    except OrderError as exc:
        raise PlanError(str(exc)) from None
    scored = bool(query and query.strip())
    sent = {k: v for k, v in filter.items() if k not in ("offset", "order")}
    sent["skip"], sent["limit"] = 0, skip + limit
    if orders or not scored:
        sent["order"] = [o.clause() for o in with_tiebreak(orders)]
    return FindPlan(skip, limit, orders, scored, sent, max_window)


def plan_where(where: Any) -> dict[str, Any]:
    """A count's `where`, also in the `{"where": {...}}` form some clients send."""
    if isinstance(where, dict) and set(where) == {"where"} and isinstance(where["where"], dict):
        where = where["where"]
    if not isinstance(where, dict):
        raise PlanError("where must be a JSON object")
    return where

