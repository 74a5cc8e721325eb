"""A stand-in for a partner facility's PaNOSC Search API (an external system): a WSGI app
serving a fixed list of PaNOSC JSON items over real HTTP on 127.0.0.1.

LoopBack semantics for what the federation uses, written independently of
gateway.federation: `filter` with `where` (equality on top-level properties and the `text`
pseudo-operator over `title`), `order` (string or array; nulls first when ascending,
strings case-insensitively, ties by pid, as FAIRgate's /api), `skip`, `limit`, `query`
(matching items only, scored, best first, then by pid); `/count?where=`; `/{pid}` (404
in the LoopBack error shape when unknown). Anything else in a filter is a 400, so a
federation that sends what a partner cannot read is caught. Every filter received is kept
in `received`. `delay` (seconds) slows every answer; `fail` makes it fail: "500",
"invalid-json" or "not-array"; `ignore_limit` makes it answer every match whatever the
`limit` (as some partners do).
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import unquote

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

FILTER_KEYS = {"where", "order", "skip", "limit", "query", "include"}
SCORES = ("calibrated", "zero", "one")


class Partner:
    def __init__(self, items: dict[str, list[dict[str, Any]]], *, delay: float = 0.0,
                 fail: str | None = None, scores: str = "calibrated",
                 ignore_limit: bool = False):
        self.items = items  # model name ("Datasets", ...) -> items
        self.delay, self.fail, self.scores = delay, fail, scores
        self.ignore_limit = ignore_limit
        self.received: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, environ: dict, start_response: Any) -> Any:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        time.sleep(self.delay)
        if self.fail == "500":
            return _error(500, "boom")
        if self.fail == "invalid-json":
            return Response("<html>proxy error</html>", 200, content_type="application/json")
        if self.fail == "not-array":
            return _json({"results": []})
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        if len(parts) < 2 or parts[0] != "api" or parts[1] not in self.items:
            return _error(404, "no such path")
        model, rest = parts[1], "/".join(parts[2:])
        try:
            if rest == "count":
                where = json.loads(request.args.get("where", "{}"))
                self.received.append(("count", where))
                return _json({"count": len(_where(self.items[model], where))})
            filter = json.loads(request.args.get("filter", "{}"))
            self.received.append((rest or "find", filter))
            if rest:
                hit = [i for i in self.items[model] if i["pid"] == rest]
                return _json(hit[0]) if hit else _error(404, f'Unknown id "{rest}".')
            return _json(self.find(model, filter))
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"bad filter: {exc}")

    def find(self, model: str, filter: dict[str, Any]) -> list[dict[str, Any]]:
        unknown = set(filter) - FILTER_KEYS
        if unknown:
            raise ValueError(f"unsupported filter keys {sorted(unknown)}")
        items = _where(self.items[model], filter.get("where", {}))
        if filter.get("query"):
            items = self._scored(items, filter["query"])
        else:
            items = [dict(i, score=self._plain_score()) for i in items]
        if filter.get("order"):
            items = _order(items, filter["order"])
        skip = int(filter.get("skip", 0))
        limit = None if self.ignore_limit else filter.get("limit")
        return items[skip:skip + int(limit)] if limit is not None else items[skip:]

    def _plain_score(self) -> float:
        return {"calibrated": 0.5, "zero": 0.0, "one": 1.0}[self.scores]

    def _scored(self, items: list[dict], query: str) -> list[dict]:
        words = query.lower().split()
        out = []
        for item in items:
            text = f"{item.get('title', '')} {item.get('summary', '')}".lower()
            hits = sum(w in text for w in words)
            if hits:
                raw = {"calibrated": 0.9 * hits / len(words), "zero": 0.0,
                       "one": 1.0}[self.scores]
                out.append(dict(item, score=raw, _hits=hits))
        out.sort(key=lambda i: i["pid"].casefold())
        out.sort(key=lambda i: -i["_hits"])  # stable: best first, then by pid
        return [{k: v for k, v in i.items() if k != "_hits"} for i in out]


def _where(items: list[dict], where: dict[str, Any]) -> list[dict]:
    if not isinstance(where, dict):
        raise ValueError("where is not an object")
    out = items
    for key, value in where.items():
        if key == "text":
            out = [i for i in out if str(value).lower() in str(i.get("title", "")).lower()]
        elif isinstance(value, (dict, list)):
            raise ValueError(f"operator on {key!r} not supported by the stand-in")
        else:
            out = [i for i in out if i.get(key) == value]
    return out


def _order(items: list[dict], order: Any) -> list[dict]:
    clauses = [order] if isinstance(order, str) else order
    out = sorted(items, key=lambda i: i["pid"].casefold())
    for clause in reversed(clauses):  # stable sorts, least significant first
        field, _, direction = clause.strip().partition(" ")
        descending = direction.strip().upper() == "DESC"
        present = [i for i in out if i.get(field) is not None]
        missing = [i for i in out if i.get(field) is None]
        present.sort(key=lambda i: _key(i[field]), reverse=descending)
        out = present + missing if descending else missing + present
    return out


def _key(value: Any) -> tuple[bool, Any]:
    return (True, value.casefold()) if isinstance(value, str) else (False, value)


def _json(body: Any) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")


def _error(status: int, message: str) -> Response:
    body = {"error": {"statusCode": status, "name": "Error", "message": message}}
    return Response(json.dumps(body), status, content_type="application/json")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve the WSGI `app` on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
