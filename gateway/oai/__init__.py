"""The OAI-PMH 2.0 provider at `/oai` (GET and POST): see docs/oai-pmh.md.

Built on plain strings and the format registry rather than the `oaipmh` toolkit's server
(docs/decisions/0007-oai-pmh-provider-without-toolkit.md).
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request

from ..context import current_gateway
from ..index import IndexUnavailable
from .provider import Provider

bp = Blueprint("oai", __name__)
RETRY_AFTER = 30  # seconds (numeric: harvesters and validators wait and retry)


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    """One endpoint for the six verbs; the arguments of the query string and of a form
    body are read together, every value of every key (a repeated key is an error)."""
    pairs = list(request.args.lists())
    if request.method == "POST":
        pairs += list(request.form.lists())
    return Response(_provider(current_app).respond(pairs),
                    content_type="text/xml; charset=UTF-8")


@bp.errorhandler(IndexUnavailable)
def _unavailable(exc: IndexUnavailable) -> Response:
    current_app.logger.warning("OAI-PMH: search index unavailable: %s", exc)
    return Response("The search index is unavailable; try again later.\n", status=503,
                    headers={"Retry-After": str(RETRY_AFTER)},
                    content_type="text/plain; charset=UTF-8")


def _provider(app: Flask) -> Provider:
    """The app's provider, made on first use (it reads or creates the signing key)."""
    provider = app.extensions.get("fairgate.oai")
    if provider is None:
        provider = app.extensions["fairgate.oai"] = Provider(current_gateway(app))
    return provider
