"""LoopBack 3's error envelope, the one shape every PaNOSC Search API error takes (the
local API and the federation alike), so a PaNOSC client parses one shape:

    {"error": {"statusCode": 400, "name": "Error", "message": "...", "code": "INVALID_FILTER"}}
"""
from __future__ import annotations

from flask import Response, jsonify


def loopback_error(status: int, message: str, code: str) -> Response:
    """The LoopBack error response: `statusCode` is the HTTP status, `code` a stable
    upper-case name clients switch on (INVALID_FILTER, MODEL_NOT_FOUND, ...)."""
    response = jsonify(error={"statusCode": status, "name": "Error", "message": message,
                              "code": code})
    response.status_code = status
    return response
