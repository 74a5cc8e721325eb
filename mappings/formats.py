"""The registry of output formats: one list that OAI-PMH ListMetadataFormats, content
negotiation, the landing page's alternate links and docs/formats.md all read.

`RENDER_VERSION` moves whenever a change to any renderer alters its output for some record
(tests/test_render_golden.py fails until it does). The store remembers the version each
record's datestamp reflects, so the OAI-PMH datestamp rule ("a record's datestamp moves when
its metadata changes") holds for mapping changes too.
"""
from __future__ import annotations

from . import datacite, dcat, dublincore, openaire, panosc, schemaorg
from .render import Context, Format, OAIFormat

__all__ = ["RENDER_VERSION", "FORMATS", "Context", "Format", "OAIFormat", "get",
           "oai_formats", "by_oai_prefix", "by_media_type"]

RENDER_VERSION = 2

FORMATS: dict[str, Format] = {}
for _module in (datacite, dublincore, openaire, schemaorg, dcat, panosc):
    for _fmt in _module.FORMATS:
        if _fmt.name in FORMATS:
            raise RuntimeError(f"format {_fmt.name!r} registered twice")
        FORMATS[_fmt.name] = _fmt


def get(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; one of {', '.join(FORMATS)}") from None


def oai_formats() -> list[Format]:
    return [f for f in FORMATS.values() if f.oai is not None]


def by_oai_prefix(prefix: str) -> Format | None:
    return next((f for f in oai_formats() if f.oai and f.oai.prefix == prefix), None)


def by_media_type(media_type: str) -> list[Format]:
    return [f for f in FORMATS.values() if f.media_type == media_type]
