"""ICAT's error JSON (`{"code": ..., "message": ...}`) as exception types, one per code.

`error_for(code, message, status)` picks the class; `IcatUnavailable` is ours: the server could
not be reached (connection refused, timeout) or answered 5xx without ICAT's error JSON, after
the client's retries. Messages never carry credentials or session ids (the client scrubs them).
"""
from __future__ import annotations


class IcatError(Exception):
    """An error answered by (or about) an ICAT server. `code` is ICAT's type name,
    `status` the HTTP status (None when there was no answer), `offset` the query offset
    ICAT gives for some parser errors."""

    code = "ICAT"

    def __init__(self, message: str, *, status: int | None = None, offset: int | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message, self.status, self.offset = message, status, offset
        if code:
            self.code = code

    def __str__(self) -> str:
        where = f" (HTTP {self.status})" if self.status else ""
        return f"{self.code}: {self.message}{where}"


class SessionError(IcatError):
    """Bad, expired or unknown session, or a failed login (SESSION, 403)."""
    code = "SESSION"


class ValidationError(IcatError):
    """VALIDATION (412), e.g. "attempt to return more than 10000 entities"."""
    code = "VALIDATION"


class BadParameterError(IcatError):
    """BAD_PARAMETER (400): a query ICAT cannot parse or a missing parameter."""
    code = "BAD_PARAMETER"


class InsufficientPrivilegesError(IcatError):
    code = "INSUFFICIENT_PRIVILEGES"


class NoSuchObjectError(IcatError):
    code = "NO_SUCH_OBJECT_FOUND"


class ObjectAlreadyExistsError(IcatError):
    code = "OBJECT_ALREADY_EXISTS"


class InternalError(IcatError):
    """INTERNAL (500): a database or server failure; retried by the client."""
    code = "INTERNAL"


class NotImplementedByServer(IcatError):
    """NOT_IMPLEMENTED (501): the server has no such call."""
    code = "NOT_IMPLEMENTED"


class IcatUnavailable(IcatError):
    """No usable answer after the retries: connection refused or reset, timeout, a 5xx page
    that is not ICAT's error JSON, or a body that is not JSON."""
    code = "UNAVAILABLE"


ERRORS: dict[str, type[IcatError]] = {cls.code: cls for cls in (
    SessionError, ValidationError, BadParameterError, InsufficientPrivilegesError,
    NoSuchObjectError, ObjectAlreadyExistsError, InternalError, NotImplementedByServer)}


def error_for(code: str, message: str, status: int | None = None,
              offset: int | None = None) -> IcatError:
    """The typed error for an ICAT error code (an unknown code gives a plain IcatError)."""
    cls = ERRORS.get(code, IcatError)
    return cls(message, status=status, offset=offset, code=code)


__all__ = ["IcatError", "SessionError", "ValidationError", "BadParameterError",
           "InsufficientPrivilegesError", "NoSuchObjectError", "ObjectAlreadyExistsError",
           "InternalError", "NotImplementedByServer", "IcatUnavailable", "error_for"]
