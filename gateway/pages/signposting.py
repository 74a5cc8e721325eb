"""FAIR Signposting (signposting.org/FAIR) for a public record, as pure functions.

Level 1: typed links from the landing page, sent as HTTP `Link` headers and HTML `<link>`
elements. Level 2: the same links and those of the metadata and content resources, each
with an explicit `anchor`, as an RFC 9264 link set (JSON and text). Only records that are
public now get links: an embargoed record has no page at all (docs/pages.md), so no link
ever names its files, authors or metadata.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mappings.derived import is_iri
from mappings.formats import FORMATS
from mappings.record import Record
from mappings.render import Context
from mappings.rights import access_rights, doi, doi_url, license_of

from .negotiation import LINKSET, LINKSET_JSON, OFFERS

SCHEMA_TYPES = ("https://schema.org/Dataset", "https://schema.org/AboutPage")
# `author` links in the Link header (and the page's <link>s); the link set lists every one.
# Proxies and servers refuse responses whose headers pass ~8 KB; a beamtime can have
# hundreds of authors.
MAX_HEADER_AUTHORS = 20


@dataclass(frozen=True)
class Link:
    href: str
    rel: str
    type: str | None = None
    profile: str | None = None
    anchor: str | None = None  # the link's context; None: the resource that sends it

    def header_value(self) -> str:
        """The link in RFC 8288 syntax, for a `Link` header or an application/linkset."""
        out = f'<{self.href}>; rel="{self.rel}"'
        for key in ("type", "profile", "anchor"):
            value = getattr(self, key)
            if value:
                out += f'; {key}="{value}"'
        return out


def cite_as(record: Record, context: Context) -> str:
    """The PID to cite: the DOI URL, else the landing page itself."""
    bare = doi(record)
    return doi_url(bare) if bare else context.landing_url(record)


def metadata_links(record: Record, context: Context) -> list[Link]:
    """`describedby`: the record in every registered format (`?format=` URLs)."""
    return [Link(context.metadata_url(record, name), "describedby", OFFERS[name].media_type,
                 OFFERS[name].profile) for name in FORMATS]


def item_links(record: Record, context: Context) -> list[Link]:
    """`item`: the data files, only while the data is open (never under embargo)."""
    files = record.files
    if not files or not is_iri(files.access_url) or not access_rights(record, context.now).is_open:
        return []
    media = files.formats[0] if len(files.formats) == 1 else None
    return [Link(files.access_url, "item", media)]  # type: ignore[arg-type]


def linkset_links(record: Record, context: Context) -> list[Link]:
    """`linkset`: where the level 2 link set of this record is, in both serialisations."""
    return [Link(context.metadata_url(record, name), "linkset", OFFERS[name].media_type)
            for name in (LINKSET_JSON, LINKSET)]


def author_links(record: Record) -> list[Link]:
    """`author`: each creator's ORCID, when it is an http(s) IRI (a record that skipped
    validation cannot put another scheme into a link)."""
    return [Link(p.orcid, "author") for p in record.creators if is_iri(p.orcid)]


def landing_links(record: Record, context: Context, *,
                  max_authors: int | None = None) -> list[Link]:
    """Level 1: the landing page's typed links (no anchor: the page is their context);
    the first `max_authors` authors only, when given."""
    links = [Link(cite_as(record, context), "cite-as")]
    links += author_links(record)[:max_authors]
    links += metadata_links(record, context)
    links += item_links(record, context)
    spdx_url = license_of(record).spdx_url
    links += [Link(spdx_url, "license")] if is_iri(spdx_url) else []
    links += [Link(t, "type") for t in SCHEMA_TYPES]
    return links + linkset_links(record, context)


def header_links(record: Record, context: Context) -> list[Link]:
    """The level 1 links for the `Link` header and the page's head: at most
    MAX_HEADER_AUTHORS authors, so the header stays bounded (the link set has them all)."""
    return landing_links(record, context, max_authors=MAX_HEADER_AUTHORS)


def linkset(record: Record, context: Context) -> list[Link]:
    """Level 2: every link with its anchor. The landing page's links, then each metadata
    resource `describes` the page, each content resource is an `item` of its `collection`."""
    landing = context.landing_url(record)
    out = [Link(l.href, l.rel, l.type, l.profile, landing)
           for l in landing_links(record, context) if l.rel != "linkset"]
    out += [Link(landing, "describes", "text/html", None, l.href)
            for l in metadata_links(record, context)]
    out += [Link(landing, "collection", "text/html", None, l.href)
            for l in item_links(record, context)]
    return out


def linkset_json(links: list[Link]) -> str:
    """RFC 9264 section 4.2: one context object per anchor, relations as arrays of targets."""
    contexts: dict[str, dict[str, Any]] = {}
    for link in links:
        target: dict[str, Any] = {"href": link.href}
        if link.type:
            target["type"] = link.type
        if link.profile:
            target["profile"] = link.profile
        ctx = contexts.setdefault(link.anchor or "", {"anchor": link.anchor})
        ctx.setdefault(link.rel, []).append(target)
    return json.dumps({"linkset": list(contexts.values())}, ensure_ascii=False, indent=2)


def linkset_text(links: list[Link]) -> str:
    """RFC 9264 section 4.1: the Link header syntax, one link per line."""
    return ",\n".join(link.header_value() for link in links) + "\n"


def link_header(links: list[Link]) -> str:
    return ", ".join(link.header_value() for link in links)
