"""Content negotiation on a landing page URL, as pure functions (docs/pages.md).

One URL, many representations: the HTML page, every registered output format
(`mappings.formats`) and the record's FAIR Signposting link set in both RFC 9264
serialisations. A client picks one, most explicit first:

1. `?format=<name>` (a registry name, `html`, `linkset` or `linkset-json`) wins over all;
2. a URL suffix (`.jsonld`, `.ttl`, ... `SUFFIXES`) on the id of an existing record;
3. the `Accept` header, with q-values (RFC 9110 section 12.5.1).

Ties in `Accept` are broken predictably: higher q, then the more specific media range
(`text/turtle` beats `*/*` at the same q), then the range the client listed first, then
the server's order (`offers()`: HTML, then the registry's order).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from mappings.formats import FORMATS

HTML = "html"
LINKSET = "linkset"
LINKSET_JSON = "linkset-json"


@dataclass(frozen=True)
class Offer:
    """One representation a landing page URL can answer with."""

    name: str                  # the `?format=` value
    media_type: str
    profile: str | None = None
    label: str = ""


def offers() -> list[Offer]:
    """Every representation, in the server's order of preference for Accept ties."""
    return [Offer(HTML, "text/html", None, "HTML landing page"),
            *(Offer(f.name, f.media_type, profile_of(f.name), f.label)
              for f in FORMATS.values()),
            Offer(LINKSET_JSON, "application/linkset+json", None,
                  "FAIR Signposting link set (RFC 9264 JSON)"),
            Offer(LINKSET, "application/linkset", None,
                  "FAIR Signposting link set (RFC 9264 text)")]


def profile_of(name: str) -> str | None:
    """A format's profile URI: the registry's, else, for the formats that share the generic
    application/xml, their OAI-PMH namespace (it tells them apart in Accept and in
    Signposting `describedby` links)."""
    fmt = FORMATS[name]
    if fmt.profile:
        return fmt.profile
    return fmt.oai.namespace if fmt.oai and fmt.media_type == "application/xml" else None


OFFERS = {o.name: o for o in offers()}

# URL suffix (after the record id) -> representation. Longest first, so `.datacite.xml`
# is tried before a shorter suffix could match.
SUFFIXES: dict[str, str] = {
    ".datacite.xml": "datacite-xml",
    ".datacite.json": "datacite-json",
    ".linkset.json": LINKSET_JSON,
    ".dc.xml": "oai_dc",
    ".jsonld": "schemaorg",
    ".linkset": LINKSET,
    ".ttl": "dcat-turtle",
    ".rdf": "dcat-rdfxml",
}


def suffix_of(name: str) -> str | None:
    """The URL suffix that selects representation `name`, if it has one."""
    return next((s for s, n in SUFFIXES.items() if n == name), None)


def id_candidates(path_id: str) -> list[tuple[str, str | None]]:
    """Ways to read the id part of a landing URL: [(record id, representation or None)].
    The whole text as an id comes first (an id may itself end in `.rdf` or `.1`); then
    each known suffix stripped from it."""
    out: list[tuple[str, str | None]] = [(path_id, None)]
    for suffix, name in SUFFIXES.items():
        if path_id.endswith(suffix) and len(path_id) > len(suffix):
            out.append((path_id[:-len(suffix)], name))
    return out


# --- Accept -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    profile: str | None
    q: float
    position: int  # where the client listed it

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*") + (self.profile is not None)

    def matches(self, offer: Offer) -> bool:
        otype, _, osub = offer.media_type.partition("/")
        return (self.type in ("*", otype) and self.subtype in ("*", osub)
                and (self.profile is None or _same_uri(self.profile, offer.profile)))


_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header. A range that is not `type/subtype`, or whose q
    is not a number from 0 to 1, is skipped (as if the client had not sent it)."""
    out = []
    for position, part in enumerate(_split(header, ",")):
        fields = _split(part, ";")
        if not fields:
            continue
        mtype, _, subtype = fields[0].strip().lower().partition("/")
        if not (_TOKEN.match(mtype) and _TOKEN.match(subtype)) or (mtype == "*" != subtype):
            continue
        q, profile, ok = 1.0, None, True
        for param in fields[1:]:
            key, _, value = param.strip().partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    ok = False
                ok = ok and 0.0 <= q <= 1.0
            elif key == "profile" and value:
                profile = value
        if ok:
            out.append(MediaRange(mtype, subtype, profile, q, position))
    return out


def choose(header: str | None, available: list[Offer] | None = None) -> Offer | None:
    """The representation for an Accept header; None when nothing acceptable is offered
    (a 406). No header, or an empty one, means anything: the HTML page."""
    available = offers() if available is None else available
    if not header or not header.strip():
        return available[0]
    ranges = parse_accept(header)
    best: tuple[tuple[float, int, int, int], Offer] | None = None
    for rank, offer in enumerate(available):
        matching = [r for r in ranges if r.matches(offer)]
        if not matching:
            continue
        # the most specific matching range decides the offer's q (RFC 9110 12.5.1)
        top = max(matching, key=lambda r: (r.specificity, -r.position))
        if top.q <= 0:
            continue
        key = (top.q, top.specificity, -top.position, -rank)
        if best is None or key > best[0]:
            best = (key, offer)
    return best[1] if best else None


def quality(header: str | None, media_type: str) -> float:
    """How much the client wants `media_type` (for choosing an error page's type)."""
    if not header:
        return 1.0
    offer = Offer("", media_type)
    matching = [r for r in parse_accept(header) if r.matches(offer)]
    return max(matching, key=lambda r: (r.specificity, -r.position)).q if matching else 0.0


def _split(text: str, sep: str) -> list[str]:
    """Split on `sep` outside double quotes (a profile URI may hold `,` or `;`)."""
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (x.strip() for x in parts) if p]


def _same_uri(a: str, b: str | None) -> bool:
    """Profile URIs compared without a trailing slash (`https://schema.org` is schema.org's)."""
    return b is not None and a.rstrip("/") == b.rstrip("/")
