"""Stateless resumption tokens (§3.5): the whole state of a list request, signed.

A token carries the verb, the list's arguments (prefix, set, from), the `until` frozen at
the first request (so records changed while a harvest runs do not shift the list), the
(datestamp, id) of the last item sent (keyset: no offset, no server cursor, no window),
the cursor, the completeListSize of the first page and an expiry. It is URL-safe base64
JSON plus an HMAC-SHA256 tag over it: the server keeps nothing, any worker sharing the
secret key can answer it, and replaying it gives the same page.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..config import ConfigError
from .args import OAIError

LIFETIME = timedelta(hours=48)  # expirationDate: well beyond the 24 h harvesters expect
_TAG_BYTES = 16


@dataclass(frozen=True)
class ListState:
    verb: str
    prefix: str
    set: str | None
    date_from: str | None  # ISO UTC, as the bound was computed on the first request
    until: str              # frozen upper bound, ISO UTC
    after: tuple[str, str]  # (datestamp ISO, id) of the last item sent
    cursor: int             # items sent before the next page
    total: int              # completeListSize, counted on the first page


class Tokens:
    """Issues and reads tokens signed with `key`."""

    def __init__(self, key: bytes):
        self._key = key

    def issue(self, state: ListState, now: datetime) -> tuple[str, datetime]:
        """(token, its expiration date, to the second)."""
        expires = (now + LIFETIME).replace(microsecond=0)
        body = {**asdict(state), "expires": int(expires.timestamp())}
        payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{self._tag(payload)}", expires

    def read(self, token: str, verb: str, now: datetime) -> ListState:
        """The state of a token issued for `verb`; badResumptionToken if it is not one of
        ours, was altered, belongs to another verb or has expired."""
        payload, _, tag = token.partition(".")
        if not hmac.compare_digest(tag.encode(), self._tag(payload).encode()):
            raise OAIError("badResumptionToken", "the resumption token is not valid")
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            expires = datetime.fromtimestamp(body.pop("expires"), timezone.utc)
            body["after"] = tuple(body["after"])
            state = ListState(**body)
        except (ValueError, TypeError, KeyError):
            raise OAIError("badResumptionToken", "the resumption token is not valid") from None
        if state.verb != verb:
            raise OAIError("badResumptionToken", f"the resumption token is not one of {verb}")
        if expires < now:
            raise OAIError("badResumptionToken", "the resumption token has expired; "
                           "start the list again")
        return state

    def _tag(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:_TAG_BYTES])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signing_key(secret_key: str, data_dir: Path) -> bytes:
    """The configured `secret_key`, else the random key kept in `data_dir/secret.key`
    (created on first use with mode 0600; every process sharing the data dir reads the
    same one). Creation is atomic: a key is written aside and linked into place."""
    if secret_key:
        return secret_key.encode()
    path = data_dir / "secret.key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    aside = data_dir / f".secret.key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
        os.link(aside, path)  # fails if another process created it meanwhile
    except FileExistsError:
        pass
    finally:
        aside.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_text().strip()
    if not key:
        raise ConfigError(f"{path} is empty: delete it (a new key is made) or set secret_key")
    return key.encode()
