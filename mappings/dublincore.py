"""Simple Dublin Core for OAI-PMH (`oai_dc`), per the oai_dc column of the crosswalk.

Fifteen unqualified elements, so qualifiers travel inside the values the way OpenAIRE and
B2FIND read them: access as `info:eu-repo/semantics/...`, the embargo end as
`info:eu-repo/date/embargoEnd/YYYY-MM-DD` (while the embargo lasts). Values that a harvester
should resolve are absolute URLs (DOI as https://doi.org/..., the landing page).
"""
from __future__ import annotations

from .datacite import collected, pid_ident, technical_info
from .record import Record
from .render import Context, Format, OAIFormat
from .rights import (access_rights, day, doi, doi_url, embargo_end, family_given, issued,
                     license_of)
from .xmlutil import clean, root, serialize, sub

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_XSD = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC = "http://purl.org/dc/elements/1.1/"
D = f"{{{DC}}}"
LANGUAGE = "en"


def _url(kind: str, value: str) -> str:
    """A related identifier as a URL when it has a resolver, else as it is."""
    if kind == "DOI":
        return doi_url(value)
    if kind == "Handle":
        return f"https://hdl.handle.net/{value}"
    return value


def identifiers(record: Record, context: Context) -> list[str]:
    bare = doi(record)
    return ([doi_url(bare)] if bare else []) + [context.landing_url(record)]


def subjects(record: Record) -> list[str]:
    """Technique labels, keywords, the instrument and sample names."""
    out = [t.label for t in record.techniques] + list(record.keywords)
    if record.instrument:
        out.append(record.instrument.name)
    out += [s.name for s in record.samples]
    return out


def dates(record: Record, context: Context) -> list[str]:
    out = [issued(record, context.now)]
    end = embargo_end(record)
    if end and not access_rights(record, context.now).is_open:
        out.append(f"info:eu-repo/date/embargoEnd/{day(end)}")
    return out


def relations(record: Record) -> list[str]:
    out = []
    for rel in record.related:
        ident = pid_ident(rel.identifier)
        out.append(_url(ident.type, ident.value) if ident else rel.identifier)
    inst = record.instrument
    ident = pid_ident(inst.pid) if inst and inst.pid else None
    if ident:
        out.append(_url(ident.type, ident.value))
    return out


def elements(record: Record, context: Context) -> list[tuple[str, str]]:
    """(element name, value) pairs in the order they are written."""
    acc, lic = access_rights(record, context.now), license_of(record)
    pairs = [("title", record.title)]
    pairs += [("creator", family_given(p)) for p in record.creators]
    pairs += [("subject", s) for s in subjects(record)]
    if record.description:
        pairs.append(("description", record.description))
    tech = technical_info(record)
    if tech:
        pairs.append(("description", tech))
    if record.facility:
        pairs.append(("publisher", record.facility.name))
    pairs += [("contributor", family_given(p)) for p in record.contributors]
    pairs += [("date", d) for d in dates(record, context)]
    pairs.append(("type", "Collection" if record.kind == "document" else "Dataset"))
    if record.files:
        pairs += [("format", f) for f in record.files.formats]
    pairs += [("identifier", i) for i in identifiers(record, context)]
    pairs.append(("language", LANGUAGE))
    pairs += [("relation", r) for r in relations(record)]
    period = collected(record)
    if period:
        pairs.append(("coverage", period))
    pairs += [("rights", acc.eurepo), ("rights", acc.coar), ("rights", lic.url)]
    return pairs


def render(record: Record, context: Context) -> str:
    """`<oai_dc:dc>` for OAI-PMH and `?format=oai_dc` (no XML declaration)."""
    el = root(f"{{{OAI_DC}}}dc", {"oai_dc": OAI_DC, "dc": DC}, f"{OAI_DC} {OAI_DC_XSD}")
    seen = set()
    for name, value in elements(record, context):
        text = clean(value).strip()
        if text and (name, text) not in seen:
            seen.add((name, text))
            sub(el, D + name, text)
    return serialize(el)


FORMATS = (
    Format("oai_dc", "Simple Dublin Core (OAI-PMH oai_dc)", "application/xml", "xml", render,
           oai=OAIFormat("oai_dc", OAI_DC, OAI_DC_XSD)),
)
