"""Marshmallow schemas of the native JSON API: the one description of its parameters and
responses. The query-string parser takes the names it accepts from `SearchArgs` (an
undocumented parameter is a 400), the responses are serialised through `SearchResponse`
and friends (a key not described here never leaves the gateway), and the OpenAPI document
(`openapi.py`) is generated from these same classes, so the document cannot drift from the
code."""
from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.validate import OneOf, Range

from ..index import ACCESS_VALUES, FACET_FIELDS, SORTS

MAX_VALUES = 100  # values of one repeatable parameter
MAX_TEXT = 2000   # characters of q
MAX_PARAMS = 20   # `param` ranges in one query


def _many(description: str, **extra: object) -> fields.List:
    return fields.List(fields.String(), metadata={"description": description, **extra})


class SearchArgs(Schema):
    """The query parameters of `GET /api/search`. Repeatable ones are lists."""

    q = fields.String(metadata={"description": (
        f"Full text, at most {MAX_TEXT} characters and 32 distinct terms. Words are AND-ed; "
        '"a phrase" matches words in sequence; word* is a prefix. Case and accents are '
        "ignored; any text is accepted (nothing in it is engine syntax).")})
    facility = _many("Facility name; several values are OR-ed.")
    instrument = _many("Instrument name; several values are OR-ed.")
    technique = _many("PaNET technique IRI; matches records tagged with it or with any "
                      "narrower technique of the configured vocabulary. OR-ed.")
    kind = _many("`dataset` or `document`.")
    year = _many("Year of the collection start date (else creation date), YYYY.")
    licence = _many("SPDX licence identifier, e.g. CC-BY-4.0 (records stating none have "
                    "the facility policy's CC-BY-4.0).")
    access = fields.List(fields.String(validate=OneOf(list(ACCESS_VALUES))), metadata={
        "description": "`open`: the access right the output formats state (embargoed records are never shown)."})
    param = _many(
        "Numeric parameter range, `NAME:RANGE[:UNIT]`; RANGE is `LOW..HIGH`, `LOW..`, "
        "`..HIGH` (inclusive) or one value. With a UNIT the bounds are converted to SI and "
        "compared with the parameters' SI values (e.g. `photon_energy:0.88..0.99:keV` "
        "finds 930 eV); without one they compare with values as recorded. A pair "
        "`NAME_min`/`NAME_max` overlapping the range matches too. Several are AND-ed "
        f"(at most {MAX_PARAMS}).", example="sample_temperature:..300:K")
    from_ = fields.Date(data_key="from", metadata={
        "description": "Collection start (else creation) date from, inclusive."})
    to = fields.Date(metadata={"description": "... to this date, inclusive."})
    facets = fields.String(metadata={"description": (
        "Comma-separated facets to count, of " + ", ".join(FACET_FIELDS)
        + "; default all, empty for none.")})
    sort = fields.String(validate=OneOf(SORTS), metadata={"description": (
        "relevance (default; without q it means -date), date, -date, title, -title.")})
    size = fields.Integer(validate=Range(0), metadata={
        "description": "Hits per page, 0 to the configured max_page_size."})
    cursor = fields.String(metadata={"description": "The next_cursor of the previous page."})


def parameter_names(schema: Schema) -> dict[str, bool]:
    """{query parameter name: repeatable} as the schema declares them."""
    return {f.data_key or name: isinstance(f, fields.List) for name, f in schema.fields.items()}


class FacetValueSchema(Schema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)
    label = fields.String(metadata={"description": "Human-readable name, when there is one."})


class HitSchema(Schema):
    id = fields.String(required=True)
    score = fields.Float(required=True, allow_none=True, metadata={
        "description": "Relevance (higher is better) for text queries, else null."})
    url = fields.String(required=True, metadata={"description": "The record in this API."})
    record = fields.Dict(required=True, metadata={
        "description": "The canonical record (see GET /api/records/{id})."})


class SearchResponse(Schema):
    total = fields.Integer(required=True, metadata={"description": "Every match."})
    hits = fields.List(fields.Nested(HitSchema), required=True)
    facets = fields.Dict(keys=fields.String(validate=OneOf(FACET_FIELDS)),
                         values=fields.List(fields.Nested(FacetValueSchema)),
                         required=True, metadata={
                             "description": "Per facet asked for, values by count then value."})
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "Pass as cursor for the next page; null on the last."})
    next = fields.String(metadata={"description": "URL of the next page, when there is one."})


class HealthResponse(Schema):
    status = fields.String(required=True, validate=OneOf([
        "ok", "catching_up", "index_ahead_of_store", "index_unavailable", "index_outdated"]))
    action = fields.String(metadata={"description": "What an operator should do."})
    rejected_documents = fields.Integer(metadata={
        "description": "Records the index refused (see the logs), when not 0."})


class ErrorBody(Schema):
    status = fields.Integer(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "e.g. `parameter`: the one to blame."})


class ErrorResponse(Schema):
    error = fields.Nested(ErrorBody, required=True)
