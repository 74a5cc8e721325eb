"""What every page module shares: the gateway, error pages in HTML or JSON."""
from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from ..context import current_gateway
from ..errors import error_response
from .negotiation import quality


def page_globals() -> dict[str, Any]:
    """What every page template may use (registered as a context processor)."""
    return {"catalog": current_gateway().config.repository_name}


def wants_html() -> bool:
    """Whether an error should be an HTML page: the client accepts HTML, at least as much
    as JSON (browsers, and clients that send no Accept at all); else the API's JSON shape."""
    accept = request.headers.get("Accept")
    html = quality(accept, "text/html")
    return html > 0 and html >= quality(accept, "application/json")


def error_page(status: int, code: str, message: str, **details: Any) -> Response:
    """An error on a page URL: a short HTML page, or the JSON error shape of docs/api.md."""
    if wants_html():
        html = render_template("message.html", status=status,
                               title=_TITLES.get(status, "Error"), message=message,
                               details=details)
        response = Response(html, status=status, mimetype="text/html")
    else:
        response = error_response(status, code, message, details or None)
    response.vary.add("Accept")  # HTML or JSON: the Accept header chose
    return response


_TITLES = {400: "Bad request", 404: "Not found", 406: "Not acceptable", 410: "Gone",
           503: "Service unavailable"}
