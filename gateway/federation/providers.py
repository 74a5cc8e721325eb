"""Providers of the federation: partners' PaNOSC Search APIs over HTTP, and this gateway's
own PaNOSC API called in-process. Each answers `find`, `count` and `find_by_id` or raises
`ProviderError`; none of them knows about merging or breakers.

A partner's answer is read under a deadline (its `timeout`, counted from the request) and a
size cap (`MAX_ANSWER_BYTES`): the HTTP client's own timeout bounds each socket read, not
the whole answer, so a partner dripping a byte at a time would otherwise hold its thread
for ever. Past either bound the connection is closed.
"""
from __future__ import annotations

import json
import math
import time
from contextvars import ContextVar
from typing import Any, Protocol
from urllib.parse import quote

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from ..config import redact_url
from ..context import current_gateway
from ..panosc.filters import FilterError

LOCAL = "local"  # the name of this gateway's own provider
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a partner's answer above this is refused (a limit it
# ignored, a runaway include): 1000 PaNOSC datasets with their techniques and parameters
# take a few MB
CHUNK_BYTES = 64 * 1024
# when the federation stops waiting for the call running in this thread (monotonic
# seconds): a call that had to wait for a free slot gets only what is left of its timeout
call_deadline: ContextVar[float] = ContextVar("call_deadline", default=math.inf)


class ProviderError(Exception):
    """A provider gave no usable answer. `health` is False when the partner answered but
    refused the query itself (4xx): that says nothing about its health, so the circuit
    breaker does not count it."""

    def __init__(self, message: str, *, health: bool = True, timeout: bool = False):
        super().__init__(message)
        self.health = health
        self.timeout = timeout


class FilterRefused(ProviderError):
    """This gateway's own PaNOSC API refused the client's filter (`FilterError`, a 400 on
    `/api`): the client's mistake, answered 400 by `/federation` too, and never held against
    the local provider's health (else any client could open its circuit)."""

    def __init__(self, message: str):
        super().__init__(message, health=False)


class Provider(Protocol):
    name: str
    timeout: float

    def find(self, model: str, filter: dict[str, Any]) -> list[dict[str, Any]]: ...

    def count(self, model: str, where: dict[str, Any]) -> int: ...

    def find_by_id(self, model: str, pid: str,
                   filter: dict[str, Any]) -> dict[str, Any] | None: ...

    def describe(self) -> dict[str, Any]: ...


class HttpProvider:
    """A partner's PaNOSC Search API at `url` (its `/api` base). One pooled session."""

    def __init__(self, name: str, url: str, timeout: float, *, label: str | None = None,
                 homepage: str | None = None, pool_size: int = 8):
        self.name, self.url, self.timeout = name, url.rstrip("/"), timeout
        self.label, self.homepage = label or name, homepage
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def describe(self) -> dict[str, Any]:
        out = {"name": self.name, "label": self.label, "url": redact_url(self.url),
               "timeout_ms": round(self.timeout * 1000)}
        if self.homepage:
            out["homepage"] = self.homepage
        return out

    def find(self, model: str, filter: dict[str, Any]) -> list[dict[str, Any]]:
        body = self._get(f"/{model}", {"filter": json.dumps(filter)})
        if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
            raise ProviderError("invalid answer: not a JSON array of objects")
        return body

    def count(self, model: str, where: dict[str, Any]) -> int:
        body = self._get(f"/{model}/count", {"where": json.dumps(where)})
        n = body.get("count") if isinstance(body, dict) else None
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ProviderError("invalid answer: not {\"count\": <n>}")
        return n

    def find_by_id(self, model: str, pid: str,
                   filter: dict[str, Any]) -> dict[str, Any] | None:
        params = {"filter": json.dumps(filter)} if filter else {}
        body = self._get(f"/{model}/{quote(pid, safe='')}", params, missing_ok=True)
        if body is None or isinstance(body, dict):
            return body
        raise ProviderError("invalid answer: not a JSON object")

    def _get(self, path: str, params: dict[str, str], missing_ok: bool = False) -> Any:
        deadline = min(time.monotonic() + self.timeout, call_deadline.get())
        late = ProviderError(f"no answer within {self.timeout:g} s", timeout=True)
        try:
            with self.session.get(self.url + path, params=params,
                                  timeout=max(0.001, deadline - time.monotonic()),
                                  headers={"Accept": "application/json"},
                                  stream=True) as resp:
                if resp.status_code == 404 and missing_ok:
                    return None
                if resp.status_code != 200:
                    raise ProviderError(f"HTTP {resp.status_code}",
                                        health=resp.status_code >= 500)
                body = _read(resp, deadline, late)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise late from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ProviderError(redact_url(f"unreachable: {exc}")) from None
        try:
            return json.loads(body)
        except ValueError:
            raise ProviderError("invalid answer: not JSON") from None

    def close(self) -> None:
        self.session.close()


def _read(resp: requests.Response, deadline: float, late: ProviderError) -> bytes:
    """The body, read as it arrives (`read1`: whatever one socket read gives, decoded),
    until `deadline` or `MAX_ANSWER_BYTES`; past either, the caller's `with` closes the
    connection."""
    parts: list[bytes] = []
    size = 0
    while chunk := resp.raw.read1(CHUNK_BYTES, decode_content=True):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ProviderError(f"invalid answer: larger than {MAX_ANSWER_BYTES} bytes")
        if time.monotonic() > deadline:
            raise late
        parts.append(chunk)
    return b"".join(parts)


class LocalProvider:
    """This gateway's own PaNOSC Search API (`gateway.panosc`), called in-process inside an
    application context, so it runs in the fan-out's threads like any partner."""

    def __init__(self, app: Any, timeout: float, api: Any):
        self.name, self.timeout = LOCAL, timeout
        self.app, self.api = app, api

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": current_gateway(self.app).config
                .repository_name, "timeout_ms": round(self.timeout * 1000)}

    def find(self, model: str, filter: dict[str, Any]) -> list[dict[str, Any]]:
        return self._call(self.api.find, model, filter)

    def count(self, model: str, where: dict[str, Any]) -> int:
        return self._call(self.api.count, model, where)

    def find_by_id(self, model: str, pid: str,
                   filter: dict[str, Any]) -> dict[str, Any] | None:
        return self._call(self.api.find_by_id, model, pid, filter)

    def _call(self, fn: Any, *args: Any) -> Any:
        with self.app.app_context():
            try:
                return fn(current_gateway(self.app), *args)
            except FilterError as exc:  # the client's filter, not this provider's health
                raise FilterRefused(str(exc)) from None
            except Exception as exc:  # index down, a bug: this provider's error only
                self.app.logger.warning("local PaNOSC provider failed: %s", exc)
                raise ProviderError(f"local search failed: {exc}") from None
