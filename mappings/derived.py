"""Values the web-facing formats (schema.org, DCAT-AP) derive from a record in the same way:
a description of acceptable length, the issue date, the collection period and resolvable
URLs for related resources and PIDs.

Pure: no I/O. The access and licence semantics are not here but in `mappings.rights`.
"""
from __future__ import annotations

import re

from .record import Record, Related, iso
from .render import Context
from .rights import day, doi_url, normalise_doi

MIN_DESCRIPTION = 50    # Google Dataset Search: description 50-5000 characters
MAX_DESCRIPTION = 5000
ELLIPSIS = "\u2026"

_SPACE = re.compile(r"\s+")
_ABSOLUTE_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_HANDLE = re.compile(r"^\d+(\.\d+)*/\S+$")


# --- description ----------------------------------------------------------------------------

def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def composed_description(record: Record, context: Context) -> str:
    """One or two sentences built from what the record says: kind, title, techniques,
    instrument, facility and collection dates. Used when the source gave no description
    (or one too short for Google); ends with the landing page when still shorter than 50."""
    noun = "Dataset" if record.kind == "dataset" else "Experiment record"
    text = f"{noun} \u201c{_SPACE.sub(' ', record.title).strip()}\u201d"
    if record.techniques:
        text += " measured by " + _join([t.label for t in record.techniques])
    if record.instrument:
        text += f" on the instrument {record.instrument.name}"
    if record.facility:
        text += f" at {record.facility.name}"
    start, end = record.dates.collected_start, record.dates.collected_end
    if start and end and day(start) != day(end):
        text += f", collected from {day(start)} to {day(end)}"
    elif start or end:
        text += f", collected on {day(start or end)}"  # type: ignore[arg-type]
    text += "."
    if len(text) < MIN_DESCRIPTION:
        text += f" Metadata published by {context.catalog_name} at {context.landing_url(record)}."
    return text


def description(record: Record, context: Context, max_length: int | None = MAX_DESCRIPTION
                ) -> str:
    """The record's description, at least 50 characters: a missing or shorter one is
    completed by `composed_description`. Longer than `max_length` (None: no limit), it is
    cut at the last word boundary and ends with an ellipsis, `max_length` characters at most."""
    own = (record.description or "").strip()
    if len(own) < MIN_DESCRIPTION:
        composed = composed_description(record, context)
        own = f"{own} {composed}" if own else composed
    if max_length is not None and len(own) > max_length:
        own = truncate(own, max_length)
    return own


def truncate(text: str, max_length: int) -> str:
    """`text` cut at a word boundary so that, with an ellipsis, it has <= max_length chars."""
    cut = text[:max_length - len(ELLIPSIS) + 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    cut = cut[:space] if space > max_length // 2 else cut[:-1]
    return cut.rstrip(" \n\t,;:.") + ELLIPSIS


# --- dates ------------------------------------------------------------------------------------

def collected(record: Record) -> tuple[str | None, str | None]:
    """Start and end of data collection as ISO 8601 UTC date-times (seconds precision)."""
    return iso(record.dates.collected_start), iso(record.dates.collected_end)


def temporal_coverage(record: Record) -> str | None:
    """The collection period as an ISO 8601 interval; `start/..` or `../end` when open."""
    start, end = collected(record)
    if start is None and end is None:
        return None
    return f"{start or '..'}/{end or '..'}"


# --- links ------------------------------------------------------------------------------------

def is_iri(value: str | None) -> bool:
    """An absolute http(s) IRI that Turtle, RDF/XML and JSON-LD can all carry as it is."""
    return bool(value) and bool(_ABSOLUTE_IRI.match(value))  # type: ignore[arg-type]


def pid_url(value: str | None) -> str | None:
    """A PID (DOI in any form, handle, http(s) URL) as a resolvable URL, else None."""
    if not value:
        return None
    text = value.strip()
    bare = normalise_doi(text)
    if bare:
        url = doi_url(bare)
    elif text.startswith("hdl:") or _HANDLE.match(text):
        url = "https://hdl.handle.net/" + text.removeprefix("hdl:")
    else:
        url = text
    return url if is_iri(url) else None


def related_url(related: Related) -> str | None:
    """A related resource as a resolvable URL: DOIs and handles through their resolvers,
    any other type only when the identifier already is an http(s) IRI (a `Local` id is not)."""
    kind = related.identifier_type.strip().lower()
    value = related.identifier.strip()
    bare = normalise_doi(value)
    if kind == "doi" or bare:
        return doi_url(bare) if bare else None
    if kind == "handle":
        return pid_url("hdl:" + value.removeprefix("hdl:").removeprefix("https://hdl.handle.net/"))
    return value if is_iri(value) else None
