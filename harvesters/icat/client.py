"""A thin client for ICAT's REST API (icat-rest.md), on one keep-alive `requests.Session`.

- Login is `POST /icat/session` with ONE form field `json` = {"plugin", "credentials": [{k: v}]}.
  The session is refreshed (`PUT`) once half its lifetime has passed, and a search answered
  with a SESSION error logs in again and is retried once. `close()` logs out.
- Every call has a timeout. Timeouts, refused or reset connections and 5xx answers (but 501,
  NOT_IMPLEMENTED) are retried `retries` times with exponential backoff; then the call raises
  the typed error of ICAT's error JSON (`errors.error_for`), or `IcatUnavailable` when there
  was no ICAT answer. 4xx answers are raised at once.
- Credentials and session ids appear in no message, log line or repr: the client logs paths
  without query strings and scrubs the session id and every credential value from ICAT's
  messages (ICAT quotes the session id in "Unable to find user by sessionid: ...").
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Mapping

import requests

from .errors import IcatError, IcatUnavailable, SessionError, error_for

log = logging.getLogger("harvesters.icat")

SCRUBBED = "***"


class Credentials:
    """An authenticator plugin and its credential keys; `repr` shows the keys, never values.
    `Credentials()` is anonymous access (plugin "anon", no credentials)."""

    __slots__ = ("plugin", "_values")

    def __init__(self, plugin: str = "anon", **values: str):
        if not plugin or not isinstance(plugin, str):
            raise ValueError("the authenticator plugin must be a non-empty string")
        for key, value in values.items():
            if not isinstance(value, str):
                raise ValueError(f"credential {key!r} must be a string")
        self.plugin, self._values = plugin, dict(values)

    def login_form(self) -> dict[str, str]:
        body = {"plugin": self.plugin, "credentials": [{k: v} for k, v in self._values.items()]}
        return {"json": json.dumps(body)}

    def secrets(self) -> list[str]:
        """Every credential value (to scrub from messages)."""
        return [v for v in self._values.values() if v]

    def __repr__(self) -> str:
        return f"Credentials(plugin={self.plugin!r}, keys={sorted(self._values)!r})"

    __str__ = __repr__


class IcatClient:
    """One ICAT server at `url` (without `/icat`). Network I/O happens only in the methods."""

    def __init__(self, url: str, credentials: Credentials | None = None, *,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                 max_backoff: float = 30.0, http: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic):
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be > 0, retries and backoff >= 0")
        self.url = url.rstrip("/")
        self.credentials = credentials or Credentials()
        self.timeout, self.retries = timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self._http, self._own_http = http, http is None
        self._sleep, self._monotonic = sleep, monotonic
        self._session_id: str | None = None
        self._fresh_at = 0.0
        self._properties: dict[str, Any] | None = None
        self.logins = 0  # successful logins, re-logins included

    def __repr__(self) -> str:
        return f"IcatClient({self.url!r}, plugin={self.credentials.plugin!r})"

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            self._http = requests.Session()
        return self._http

    # -- session -----------------------------------------------------------------------------
    def login(self) -> None:
        """Log in (again); SessionError when the server refuses the credentials."""
        answer = self._call("POST", "/session", data=self.credentials.login_form(), what="login")
        sid = answer.get("sessionId") if isinstance(answer, dict) else None
        if not isinstance(sid, str) or not sid:
            raise IcatUnavailable("login answer has no sessionId")
        self._session_id, self._fresh_at = sid, self._monotonic()
        self.logins += 1

    def refresh(self) -> None:
        """Reset the session's lifetime; log in again if the server forgot it."""
        if self._session_id is None:
            return self.login()
        try:
            self._call("PUT", f"/session/{self._session_id}", what="session refresh")
            self._fresh_at = self._monotonic()
        except SessionError:
            self.login()

    def logout(self) -> None:
        """End the session (best effort: an unreachable server is only logged)."""
        sid, self._session_id = self._session_id, None
        if sid is None:
            return
        try:
            self._call("DELETE", f"/session/{sid}", what="logout", retries=0)
        except IcatError as exc:
            log.info("ICAT %s: logout failed: %s", self.url, exc)

    def close(self) -> None:
        self.logout()
        if self._own_http and self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> "IcatClient":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def _ensure_session(self) -> str:
        if self._session_id is None:
            self.login()
        else:
            lifetime = (self._properties or {}).get("lifetimeMinutes")
            if isinstance(lifetime, (int, float)) and \
                    self._monotonic() - self._fresh_at > lifetime * 30:  # half, in seconds
                self.refresh()
        assert self._session_id is not None
        return self._session_id

    # -- calls -------------------------------------------------------------------------------
    def version(self) -> str:
        answer = self._call("GET", "/version", what="version")
        return str(answer.get("version")) if isinstance(answer, dict) else str(answer)

    def properties(self) -> dict[str, Any]:
        """`GET /icat/properties` (no session needed): maxEntities, lifetimeMinutes, ..."""
        answer = self._call("GET", "/properties", what="properties")
        self._properties = answer if isinstance(answer, dict) else {}
        return self._properties

    @property
    def max_entities(self) -> int | None:
        value = (self._properties or {}).get("maxEntities")
        return value if isinstance(value, int) and value > 0 else None

    def search(self, query: str) -> list[Any]:
        """Results of a JPQL (or concise) search: a list of `{"Entity": {...}}`, of rows, or
        of values. A SESSION error logs in again and retries once."""
        sid = self._ensure_session()
        try:
            return self._search(sid, query)
        except SessionError:
            log.info("ICAT %s: session no longer valid, logging in again", self.url)
            self.login()
            assert self._session_id is not None
            return self._search(self._session_id, query)

    def _search(self, sid: str, query: str) -> list[Any]:
        answer = self._call("GET", "/entityManager", params={"sessionId": sid, "query": query},
                            what="search")
        if not isinstance(answer, list):
            raise IcatUnavailable("search answer is not a JSON array")
        return answer

    def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
              data: Mapping[str, str] | None = None, what: str, retries: int | None = None
              ) -> Any:
        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                response = self.http.request(method, f"{self.url}/icat{path}", params=params,
                                             data=data, timeout=self.timeout)
            except requests.Timeout:
                error: IcatError = IcatUnavailable(
                    f"{what} at {self.url}: no answer within {self.timeout:g} s")
            except requests.RequestException as exc:
                error = IcatUnavailable(f"{what} at {self.url}: cannot connect "
                                        f"({type(exc).__name__})")
            else:
                if response.status_code < 400:
                    return self._json(response, what)
                error = self._error(response, what)
                if not _retryable(response.status_code):
                    raise error
            if attempt == retries:
                if retries:
                    error.message += f" (after {retries + 1} attempts)"
                raise error
            delay = min(self.max_backoff, self.backoff * 2 ** attempt)
            log.warning("ICAT %s %s failed: %s; retry %d of %d in %.1f s",
                        self.url, what, error, attempt + 1, retries, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: requests.Response, what: str) -> Any:
        if not response.content:
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            raise IcatUnavailable(f"{what} at {self.url}: the answer is not JSON",
                                  status=response.status_code) from None

    def _error(self, response: requests.Response, what: str) -> IcatError:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            offset = body.get("offset")
            return error_for(body["code"], self._scrub(str(body.get("message", ""))),
                             response.status_code, offset if isinstance(offset, int) else None)
        return IcatUnavailable(f"{what} at {self.url}: HTTP {response.status_code} without "
                               "ICAT error JSON", status=response.status_code)

    def _scrub(self, message: str) -> str:
        for secret in [self._session_id or "", *self.credentials.secrets()]:
            if secret:
                message = message.replace(secret, SCRUBBED)
        return message


def _retryable(status: int) -> bool:
    return status >= 500 and status != 501


__all__ = ["Credentials", "IcatClient"]
