"""Landing pages: /datasets/<id> and /documents/<id>, one URL per record for people,
search engines and FAIR tools (docs/pages.md).

The HTML page embeds the schema.org JSON-LD and the level 1 FAIR Signposting links; the
same URL answers in every registered format and as a link set (`negotiation`). Only records
public now have a page: an embargoed record answers exactly like an id that does not exist
(404), a deleted one 410 only when `tombstone_disclosable` (decision 0011).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from mappings import schemaorg
from mappings.access import Visibility, tombstone_disclosable, visibility
from mappings.derived import description, is_iri, pid_url, related_url
from mappings.formats import FORMATS
from mappings.record import KINDS, Person, Record, iso
from mappings.render import Context
from mappings.rights import access_rights, doi, doi_url, embargo_end, license_of

from ..api.params import search_query
from ..index import IndexUnavailable
from ..search import run_search
from . import present, signposting
from ..context import current_gateway
from .common import error_page
from .negotiation import (HTML, LINKSET, LINKSET_JSON, OFFERS, Offer, choose, id_candidates,
                          suffix_of)

bp = Blueprint("landing", __name__)

DATASETS_SHOWN = 50  # datasets listed on a document's page; the rest via the search page
RELATION_LABELS = {"IsPartOf": "Part of", "HasPart": "Has part", "IsCitedBy": "Cited by",
                   "IsReferencedBy": "Referenced by", "IsDocumentedBy": "Documented by",
                   "IsDerivedFrom": "Derived from", "IsSupplementTo": "Supplement to",
                   "IsDescribedBy": "Described by"}


class NotPublic(Exception):
    """No public record at this URL: `status` 404 (unknown, embargoed, deleted while
    embargoed) or 410 (deleted after being public)."""

    def __init__(self, status: int, message: str, **details: Any):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


@bp.get("/datasets/<path:path_id>")
def dataset(path_id: str) -> Response:
    return landing("dataset", path_id)


@bp.get("/documents/<path:path_id>")
def document(path_id: str) -> Response:
    return landing("document", path_id)


def landing(kind: str, path_id: str) -> Response:
    """The record first (404/410 whatever was asked), then its representation: `?format=`,
    else the URL suffix, else `Accept` (406 when none fits)."""
    gw = current_gateway()
    now = gw.clock()
    try:
        record, suffix = resolve(kind, path_id, now)
    except NotPublic as exc:
        code = "gone" if exc.status == 410 else "not_found"
        return error_page(exc.status, code, exc.message, **exc.details)
    context = gw.render_context(now)
    asked = request.args.get("format")
    negotiated = asked is None and suffix is None
    if asked is not None:
        offer = OFFERS.get(asked)
    elif suffix is not None:
        offer = OFFERS[suffix]
    else:
        offer = choose(request.headers.get("Accept"))
    if offer is None:
        response = not_acceptable(record, context, asked)
    else:
        response = represent(record, context, offer)
        if negotiated and offer.name != HTML:
            response.headers["Content-Location"] = context.metadata_url(record, offer.name)
    if negotiated:
        response.vary.add("Accept")
    return response


def resolve(kind: str, path_id: str, now: datetime) -> tuple[Record, str | None]:
    """The public record a landing URL names, and the representation its suffix asks for.
    An exact id wins over a suffix (ids may end in `.rdf`); records that are not public
    count as absent, so a URL never answers differently because a hidden record exists."""
    store = current_gateway().store
    candidates = [(rid, name) for rid, name in id_candidates(path_id)
                  if rid.split(":", 2)[1:2] == [kind]]
    found = store.get_many([rid for rid, _ in candidates]) if candidates else {}
    for rid, name in candidates:
        record = found.get(rid)
        if record is not None and visibility(record, now) is Visibility.PUBLIC:
            return record, name
    for rid, _ in candidates:
        record = found.get(rid)
        if record is not None and tombstone_disclosable(record, now):
            raise NotPublic(410, f"record {rid!r} was deleted", deleted_at=iso(record.deleted_at))
    raise NotPublic(404, f"no public {kind} {path_id!r}")


def represent(record: Record, context: Context, offer: Offer) -> Response:
    landing_url = context.landing_url(record)
    if offer.name == HTML:
        response = Response(render_template("landing.html", **landing_view(record, context)),
                            mimetype="text/html")
        response.headers["Link"] = signposting.link_header(
            signposting.header_links(record, context))
        return response
    if offer.name in (LINKSET, LINKSET_JSON):
        links = signposting.linkset(record, context)
        body = (signposting.linkset_json(links) if offer.name == LINKSET_JSON
                else signposting.linkset_text(links))
        return Response(body, content_type=offer.media_type)
    fmt = FORMATS[offer.name]
    body = fmt.render(record, context)
    if fmt.is_xml and not body.startswith("<?xml"):  # a standalone document gets one
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + body
    text_like = fmt.is_xml or fmt.media_type.startswith("text/")
    response = Response(body, content_type=fmt.media_type + ("; charset=utf-8" if text_like
                                                             else ""))
    response.headers["Link"] = signposting.Link(landing_url, "describes", "text/html"
                                                ).header_value()
    return response


def not_acceptable(record: Record, context: Context, asked: str | None) -> Response:
    """406 with every representation this URL has, so the client can choose again."""
    available = [{"format": o.name, "media_type": o.media_type, "profile": o.profile,
                  "label": o.label, "url": representation_url(record, context, o.name)}
                 for o in OFFERS.values()]
    message = (f"unknown format {asked!r}" if asked is not None
               else "none of the media types in the Accept header is available")
    return error_page(406, "not_acceptable", message, available=available)


def representation_url(record: Record, context: Context, name: str) -> str:
    """The URL of one representation: the landing page for HTML, else its suffix URL when
    it has one, else `?format=`."""
    landing_url = context.landing_url(record)
    if name == HTML:
        return landing_url
    suffix = suffix_of(name)
    return landing_url + suffix if suffix else context.metadata_url(record, name)


# --- the page's content ---------------------------------------------------------------------

def landing_view(record: Record, context: Context) -> dict[str, Any]:
    """Everything landing.html shows, computed here so the template only lays it out."""
    access = access_rights(record, context.now)
    bare = doi(record)
    licence = license_of(record)
    access_url = record.files.access_url if access.is_open and record.files else None
    return {
        "record": record,
        "kind_label": "Dataset" if record.kind == "dataset" else "Experiment (document)",
        "landing_url": context.landing_url(record),
        "description": description(record, context, max_length=None),
        "doi": bare, "doi_url": doi_url(bare) if bare else None,
        "cite_as": signposting.cite_as(record, context),
        "citation": present.citation(record, context),
        "access": access,
        "release": present.date(embargo_end(record)),
        "license": licence,
        "license_url": href(licence.url), "license_spdx_url": href(licence.spdx_url),
        "files": record.files,
        "files_size": present.size(record.files.size) if record.files else None,
        "download": href(access_url), "download_text": None if href(access_url) else access_url,
        "facility_url": href(record.facility.ror) if record.facility else None,
        "instrument_url": pid_url(record.instrument.pid) if record.instrument else None,
        "creators": [person_view(p) for p in record.creators],
        "contributors": [person_view(p) for p in record.contributors],
        "techniques": [(t.label, href(t.iri)) for t in record.techniques],
        "dates": [(label, present.when(value)) for label, value in (
            ("Collection started", record.dates.collected_start),
            ("Collection ended", record.dates.collected_end),
            ("Created", record.dates.created), ("Modified", record.dates.modified),
            ("Released", record.dates.release_date)) if value],
        "related": related_view(record, context),
        "datasets": datasets_of(record, context) if record.kind == "document" else None,
        "formats": [(o, representation_url(record, context, o.name))
                    for o in OFFERS.values() if o.name != HTML],
        "links": signposting.header_links(record, context),
        "jsonld": present.embed_json(schemaorg.dataset(record, context)),
    }


def href(value: str | None) -> str | None:
    """`value` when it may be a link target (an absolute http(s) IRI, as the Signposting
    links require), else None and the page shows it as text: a record that skipped
    validation cannot put a `javascript:` or `data:` URL into an href."""
    return value if is_iri(value) else None


def person_view(person: Person) -> dict[str, Any]:
    """A creator or contributor with the ORCID and ROR links only when they are URLs."""
    orcid, aff = person.orcid, person.affiliation
    return {"name": person.name, "role": person.role,
            "orcid": orcid, "orcid_url": href(orcid),
            "orcid_id": orcid.rstrip("/").rsplit("/", 1)[-1] if orcid else None,
            "affiliation": aff.name if aff else None,
            "ror_url": href(aff.ror) if aff else None}


def related_view(record: Record, context: Context) -> list[dict[str, Any]]:
    """Related resources as links: another record of this gateway by its landing page and
    title (only when public now: a hidden record is not even named), others by resolver."""
    local = [r.identifier for r in record.related if r.identifier_type == "Local"
             and r.identifier.split(":", 2)[1:2] and r.identifier.split(":", 2)[1] in KINDS]
    found = current_gateway().store.get_many(local) if local else {}
    out = []
    for rel in record.related:
        label = RELATION_LABELS.get(rel.relation) or _words(rel.relation)
        target = found.get(rel.identifier) if rel.identifier_type == "Local" else None
        if target is not None:
            if visibility(target, context.now) is Visibility.PUBLIC:
                out.append({"label": label, "href": context.landing_url(target),
                            "text": target.title, "internal": True})
            continue
        if rel.identifier in local:  # a record id this store does not hold
            continue
        url = related_url(rel)
        out.append({"label": label, "href": url, "internal": False,
                    "text": rel.identifier if rel.identifier_type != "Local"
                    else f"{rel.identifier} (local identifier)"})
    return out


def datasets_of(record: Record, context: Context) -> dict[str, Any] | None:
    """The public datasets that are part of a document: found with the search index (by
    the document's proposal or visit number, the same search as /api/search), kept when
    they name this document in an IsPartOf relation."""
    numbers = [i.value for i in record.identifiers if i.type in ("proposal", "visit")]
    if not numbers:
        return None
    text = f'"{numbers[0]}"'
    query = search_query(MultiDict({"q": text, "kind": "dataset", "facets": "",
                                    "size": str(DATASETS_SHOWN)}),
                         default_size=DATASETS_SHOWN, max_size=DATASETS_SHOWN)
    try:
        result, records = run_search(current_gateway(), query)
    except IndexUnavailable:
        return {"unavailable": True, "items": [], "more": None}
    items = [records[h.id] for h in result.hits if h.id in records and any(
        r.relation == "IsPartOf" and r.identifier == record.id for r in records[h.id].related)]
    more = (f"{context.base_url}/search?{urlencode({'q': text, 'kind': 'dataset'})}"
            if result.next_cursor else None)
    return {"unavailable": False, "more": more,
            "items": [(r, context.landing_url(r)) for r in items]}


def _words(camel: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", camel).capitalize()
