"""`/federation`: the PaNOSC Search API over this gateway and its partners (docs/federation.md).

Same paths and filter language as `/api` (which stays local-only, so gateways can federate
each other without loops): `/federation/Datasets`, `/count`, `/{pid}`, likewise Documents
and Instruments. The body is what a PaNOSC client expects; how each provider fared is in
`X-Federation-Status`. When a provider failed, the answer says so (`Warning`, no caching);
when none answered, it is an error (502, or 504 when every one timed out), never `[]`.
"""
from __future__ import annotations

import json
import time
from typing import Any, NoReturn

from flask import Blueprint, Response, current_app, jsonify, request

from .. import panosc
from ..context import current_gateway
from ..panosc.errors import loopback_error
from ..panosc.filters import FilterError, compile_filter, parse_filter
from ..panosc.models import COLLECTIONS
from .federator import OK, PROVIDER_CALLS, TIMEOUT, Federation, Status
from .merge import RRF_K
from .plan import PlanError, plan_find, plan_where
from .providers import MAX_ANSWER_BYTES, FilterRefused, HttpProvider, LocalProvider

bp = Blueprint("federation", __name__, url_prefix="/federation")
MODELS = {"datasets": "Datasets", "documents": "Documents", "instruments": "Instruments"}
EXTENSION = "fairgate_federation"
STATUS_HEADER = "X-Federation-Status"


class FederationError(Exception):
    """An error answered in the PaNOSC (LoopBack) error shape."""

    def __init__(self, status: int, code: str, message: str,
                 statuses: list[Status] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.statuses = status, code, message, statuses


@bp.record_once
def _setup(state: Any) -> None:
    """Build the providers once, when the blueprint is registered: local first, then the
    partners in configuration order."""
    app = state.app
    config = current_gateway(app).config
    providers: list[Any] = [LocalProvider(app, config.federation_timeout, panosc)]
    for name, options in config.partners.items():
        providers.append(HttpProvider(name, options["url"],
                                      options.get("timeout", config.federation_timeout),
                                      label=options.get("name"),
                                      homepage=options.get("homepage"),
                                      pool_size=PROVIDER_CALLS))
    app.extensions[EXTENSION] = Federation(
        providers, failure_threshold=config.federation_failure_threshold,
        cooldown=config.federation_cooldown)
    app.extensions[EXTENSION + "_started"] = time.monotonic()


def federation() -> Federation:
    return current_app.extensions[EXTENSION]


@bp.errorhandler(FederationError)
def _error(exc: FederationError) -> Response:
    response = loopback_error(exc.status, exc.message, exc.code)
    if exc.statuses is not None:
        _status_headers(response, exc.statuses)
    return response


@bp.errorhandler(FilterError)
@bp.errorhandler(FilterRefused)
def _bad_filter(exc: Exception) -> Response:
    """The client's filter refused, here or by the local provider while answering (e.g.
    too many query words): the same 400 as on `/api`."""
    return loopback_error(400, str(exc), "INVALID_FILTER")


@bp.get("")
def status() -> Any:
    """Like the production federator's `GET /`: who is federated, and how each fares."""
    config = current_gateway().config
    started = current_app.extensions[EXTENSION + "_started"]
    return jsonify(
        hosting_facility=config.repository_name,
        uptime_seconds=round(time.monotonic() - started),
        data_providers=federation().describe(),
        provider_timeout_ms=round(config.federation_timeout * 1000),
        default_limit=config.federation_default_limit,
        max_window=config.federation_max_window,
        circuit_breaker={"failure_threshold": config.federation_failure_threshold,
                         "cooldown_seconds": config.federation_cooldown},
        max_concurrent_calls_per_provider=PROVIDER_CALLS,
        max_answer_bytes=MAX_ANSWER_BYTES,
        score_method=f"reciprocal rank fusion, k = {RRF_K}, first rank scores 1",
        filter_invalid_scores=False)


@bp.get("/<model>")
def find(model: str) -> Response:
    config = current_gateway().config
    name = _model(model)
    filter = _json_param("filter", name, also=("query",))
    if "query" in request.args and "query" not in filter:  # SciCat's ?query=, as on /api
        filter = {**filter, "query": request.args["query"]}
    try:
        plan = plan_find(filter, default_limit=config.federation_default_limit,
                         max_window=config.federation_max_window)
    except PlanError as exc:
        raise FederationError(400, "INVALID_FILTER", str(exc)) from None
    items, statuses = federation().find(name, plan)
    return _answer(items, statuses)


@bp.get("/<model>/count")
def count(model: str) -> Response:
    name = _model(model)
    try:
        where = plan_where(_json_param("where", name, check=False))
    except PlanError as exc:
        raise FederationError(400, "INVALID_FILTER", str(exc)) from None
    compile_filter(COLLECTIONS[name], {"where": where})
    n, statuses = federation().count(name, where)
    response = _answer({"count": n}, statuses)
    answered = sum(1 for s in statuses if s.status == OK and s.count)
    response.headers["X-Federation-Count"] = "upper-bound" if answered > 1 else "exact"
    return response


@bp.get("/<model>/<path:pid>")
def find_by_id(model: str, pid: str) -> Response:
    name = _model(model)
    filter = _json_param("filter", name)
    extra = set(filter) - {"include", "fields"}
    if extra:  # as /api/{pid}
        raise FederationError(400, "INVALID_FILTER", "filter: only include and fields apply "
                              f"to one item (not {', '.join(sorted(extra))})")
    item, statuses = federation().find_by_id(name, pid, filter)
    if item is not None:
        return _answer(item, statuses)
    if all(s.status == OK for s in statuses):
        raise FederationError(404, "MODEL_NOT_FOUND",
                              f"Unknown \"{name[:-1]}\" id \"{pid}\".", statuses)
    _no_answer(statuses, f"\"{pid}\" was not found and not every provider answered")


def _model(name: str) -> str:
    model = MODELS.get(name.lower())
    if model is None:
        raise FederationError(404, "NOT_FOUND", f"no model {name!r} (available: "
                              f"{', '.join(MODELS.values())})")
    return model


def _json_param(name: str, model: str, check: bool = True,
                also: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object of query parameter `name` ({} when absent), read by `/api`'s own
    `parse_filter` (its size limit included) and checked (`check`) by the local PaNOSC
    filter compiler for `model`, so a filter gets the same answer here as on `/api`. Any
    query parameter other than `name` and `also`, or a repeated one, is a 400."""
    unknown = set(request.args) - {name, *also}
    if unknown:
        raise FederationError(400, "INVALID_PARAMETER",
                              f"unknown query parameter(s): {', '.join(sorted(unknown))}")
    repeated = [k for k in request.args if len(request.args.getlist(k)) > 1]
    if repeated:
        raise FederationError(400, "INVALID_PARAMETER", f"{repeated[0]} given more than once")
    value = parse_filter(request.args.get(name))
    if check:
        compile_filter(COLLECTIONS[model], value)
    return value


def _answer(body: Any, statuses: list[Status]) -> Response:
    if not any(s.status == OK for s in statuses):
        _no_answer(statuses, "no provider answered")
    response = jsonify(body)
    _status_headers(response, statuses)
    return response


def _no_answer(statuses: list[Status], message: str) -> NoReturn:
    failed = [s for s in statuses if s.status != OK]
    timed_out = all(s.status == TIMEOUT for s in failed)
    raise FederationError(504 if timed_out else 502, "FEDERATION_UNAVAILABLE",
                          f"{message}: {_failures(failed)}", statuses)


def _failures(failed: list[Status]) -> str:
    return ", ".join(f"{s.name} ({s.status})" for s in failed)


def _status_headers(response: Response, statuses: list[Status]) -> None:
    """Every provider's status; when one failed, a `Warning` and no caching, so a partial
    answer never passes for a complete one."""
    response.headers[STATUS_HEADER] = json.dumps([s.to_json() for s in statuses],
                                                 separators=(",", ":"))
    failed = [s for s in statuses if s.status != OK]
    if failed:
        response.headers["Warning"] = f'199 fairgate "partial result: {_failures(failed)}"'
        response.headers["Cache-Control"] = "no-store"
