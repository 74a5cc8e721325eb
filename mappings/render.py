"""What every output format shares: the `Format` description and the render `Context`.

A renderer is a pure function `(record, context) -> str`. It never sees the clock or the
configuration except through the context, so the same inputs always give the same bytes
(golden files, content hashes and OAI-PMH datestamps depend on that).

The registry of all formats is `mappings.formats`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from urllib.parse import quote

from .record import Record


def landing_path(kind: str, record_id: str) -> str:
    """The path of a record's landing page below the base URL (`/datasets/<id>`): the one
    place it is spelled, for renderings and for pages that know only the id (sitemap)."""
    return f"/{kind}s/{quote(record_id, safe=':~')}"


@dataclass(frozen=True)
class Context:
    """What a rendering may depend on besides the record."""

    now: datetime                       # decides open vs embargoed (aware, UTC)
    base_url: str = "http://127.0.0.1:8080"  # the gateway's public root URL, no trailing slash
    catalog_name: str = "FAIRgate"       # schema.org DataCatalog / dcat:Catalog name
    datacentre_symbol: str = "FAIRGATE"  # oai_datacite datacentreSymbol
    contact_email: str | None = None     # a functional mailbox (never a person's) for DCAT contactPoint

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def landing_url(self, record: Record) -> str:
        """The record's HTML landing page: /datasets/<id> or /documents/<id>."""
        return self.base_url + landing_path(record.kind, record.id)

    def metadata_url(self, record: Record, format_name: str) -> str:
        """The record rendered in one format (content negotiation's explicit form)."""
        return f"{self.landing_url(record)}?format={quote(format_name)}"

    @property
    def catalog_url(self) -> str:
        return f"{self.base_url}/"


@dataclass(frozen=True)
class OAIFormat:
    prefix: str      # metadataPrefix, e.g. "oai_dc"
    namespace: str   # metadataNamespace
    schema: str      # schema location (XSD URL)


@dataclass(frozen=True)
class Format:
    """One output format, as ListMetadataFormats, content negotiation and docs see it."""

    name: str            # registry key and the value of `?format=`
    label: str           # human-readable, for the docs table and the page's links
    media_type: str      # what the HTTP Content-Type says
    extension: str       # file extension without the dot
    render: Callable[[Record, Context], str]  # XML without declaration; JSON; Turtle ...
    oai: OAIFormat | None = None
    profile: str | None = None  # a profile URI when the media type is generic (Signposting)

    @property
    def is_xml(self) -> bool:
        return self.media_type.endswith("xml")
