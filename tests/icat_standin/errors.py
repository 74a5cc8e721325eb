"""ICAT exception types and their HTTP statuses (icat-rest.md §5)."""
from __future__ import annotations

STATUS = {"BAD_PARAMETER": 400, "INTERNAL": 500, "INSUFFICIENT_PRIVILEGES": 403,
          "NO_SUCH_OBJECT_FOUND": 404, "OBJECT_ALREADY_EXISTS": 412, "SESSION": 403,
          "VALIDATION": 412, "NOT_IMPLEMENTED": 501}


class IcatError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None,
                 offset: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS[code]
        self.offset = offset

    def body(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.offset is not None:
            out["offset"] = self.offset
        return out


def bad(message: str) -> IcatError:
    return IcatError("BAD_PARAMETER", message)
