"""What the Elasticsearch backend stores: the index template (settings, analysers, explicit
mappings) and the document built from a Record. No I/O here.

Text fields use one analyser (`fairgate_text`): split on anything that is not a letter or a
digit ('_' separates words, as in the embedded index), lower case, fold accents. Multi-valued
text (keywords, people, ...) is indexed as arrays, so a phrase never spans two values.
`oai_stamp` is the record's public datestamp once released, max(datestamp, release_date), as
a fixed-width ISO string (UTC, seconds, 'Z'), for OAI-PMH's (datestamp, id) keyset order;
embargoed records are filtered out at query time by `release_date`, so it can be static.
Filters and facets are keyword fields holding the same values as the embedded index's
`terms` table (`docs.index_terms`); techniques are also a nested (iri, label) pair so the
facet can carry labels. Sort keys are keywords: `sort_key` is the ISO sort date ('' when a
record has none, which sorts first ascending and last descending, as in the embedded index),
`title_sort` the case-folded title.
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

from mappings.record import Parameter, Record, iso

from .docs import index_terms, oai_stamp, sort_date

SCHEMA_VERSION = 2  # 2: oai_stamp; placeholders of refused records (doc "rejected", reason)
META_ID = "fairgate:meta"  # the one meta document: {"doc": "meta", "seq": N}
MAX_REASON_CHARS = 1000
MAX_ID_BYTES = 512         # Elasticsearch's limit for _id
MAX_SORT_CHARS = 4000      # a keyword term must stay under 32 kB

TEXT_FIELDS = {"title": 8.0, "description": 1.0, "keywords": 3.0, "people": 2.0,
               "samples": 3.0, "extra": 1.0}  # boosts, as the embedded index's BM25 weights

_TEXT = {"type": "text", "analyzer": "fairgate_text"}
_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date", "format": "strict_date_optional_time"}

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,  # exact facet counts and one BM25 statistics space
    "auto_expand_replicas": "0-1",
    "analysis": {
        "tokenizer": {"fairgate_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
        "analyzer": {"fairgate_text": {"type": "custom", "tokenizer": "fairgate_words",
                                       "filter": ["lowercase", "asciifolding"]}},
    },
}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"fairgate_schema": SCHEMA_VERSION},
    "properties": {
        "doc": _KEYWORD, "seq": {"type": "long"},
        "id": _KEYWORD, "pid": _KEYWORD, "source": _KEYWORD, "kind": _KEYWORD,
        "facility": _KEYWORD, "instrument": _KEYWORD, "technique": _KEYWORD, "year": _KEYWORD,
        "techniques": {"type": "nested", "properties": {"iri": _KEYWORD, "label": _KEYWORD}},
        **{name: _TEXT for name in TEXT_FIELDS},
        "title_sort": _KEYWORD, "sort_key": _KEYWORD,
        "sort_date": _DATE, "release_date": _DATE, "datestamp": _DATE,
        "oai_stamp": _KEYWORD, "reason": {"type": "keyword", "index": False},
        "license": _KEYWORD, "content_hash": _KEYWORD,
        "parameters": {"type": "nested", "properties": {
            "name": _KEYWORD, "value": {"type": "double"}, "text": _KEYWORD, "unit": _KEYWORD,
            "value_si": {"type": "double"}, "unit_si": _KEYWORD}},
    },
}


def template(name: str) -> dict[str, Any]:
    """Body of the index template that every versioned index `<name>-v<N>` gets."""
    return {"index_patterns": [f"{name}-v*"], "priority": 200,
            "template": {"settings": SETTINGS, "mappings": MAPPINGS},
            "_meta": {"fairgate_schema": SCHEMA_VERSION}}


def doc_id(record_id: str) -> str:
    """The `_id` of a record: its id, or a hash of it when longer than Elasticsearch allows."""
    if len(record_id.encode()) <= MAX_ID_BYTES:
        return record_id
    return "sha256:" + hashlib.sha256(record_id.encode()).hexdigest()


def document(record: Record, seq: int) -> dict[str, Any]:
    """The indexed form of a live record (`seq`: its store sequence number)."""
    doc: dict[str, Any] = {"doc": "record", "seq": seq, "id": record.id, "pid": record.pid,
                           "source": record.source, "license": record.license,
                           "content_hash": record.provenance.content_hash,
                           "title_sort": record.title.casefold()[:MAX_SORT_CHARS],
                           "sort_key": sort_date(record), "sort_date": sort_date(record) or None,
                           "release_date": iso(record.dates.release_date),
                           "datestamp": iso(record.datestamp), "oai_stamp": oai_stamp(record)}
    for field, value, _ in index_terms(record):
        doc.setdefault(field, []).append(value)
    doc["techniques"] = [{"iri": v, "label": label} for f, v, label in index_terms(record)
                         if f == "technique"]
    doc.update(text(record))
    doc["parameters"] = [parameter(p) for p in record.parameters]
    return {k: v for k, v in doc.items() if v is not None and v != []}


def rejected(record_id: str, seq: int, reason: str) -> dict[str, Any]:
    """The placeholder kept at a record's `_id` when its document was refused: invisible
    to searches (`doc` is not "record"), counted by `ElasticIndex.rejected`, replaced by
    the next accepted version of the record (external version = seq) or its deletion."""
    return {"doc": "rejected", "id": record_id, "seq": seq,
            "reason": reason[:MAX_REASON_CHARS]}


def text(record: Record) -> dict[str, Any]:
    """The searchable text, field by field, the same words `docs.text_fields` gives FTS5."""
    people = [*record.creators, *record.contributors]
    return {
        "title": record.title, "description": record.description or "",
        "keywords": list(record.keywords),
        "people": [p.name for p in people] + [p.affiliation.name for p in people
                                              if p.affiliation],
        "samples": [s for smp in record.samples
                    for s in (smp.name, smp.chemical_formula, smp.description) if s],
        "extra": [t.label for t in record.techniques]
        + [x.name for x in (record.facility, record.instrument) if x]
        + [i.value for i in record.identifiers] + ([record.pid] if record.pid else [])
        + [p.name for p in record.parameters],
    }


def parameter(p: Parameter) -> dict[str, Any]:
    """A parameter as indexed. Non-finite numbers (NaN, ±inf: JSON has no such values, and
    Elasticsearch refuses the document) are left out, as is an SI value that overflows."""
    out: dict[str, Any] = {"name": p.name, "unit": p.unit}
    if isinstance(p.value, (int, float)) and not isinstance(p.value, bool):
        try:
            value = float(p.value)
        except OverflowError:  # an int too large for a double
            value = math.nan
        if math.isfinite(value):
            out["value"] = value
            si = to_si(value, p.unit)
            if si is not None and math.isfinite(si[0]):
                out["value_si"], out["unit_si"] = si
    else:
        out["text"] = str(p.value)[:MAX_SORT_CHARS]
    return {k: v for k, v in out.items() if v is not None}


# unit -> (factor, offset, SI unit): value_si = value * factor + offset
_UNITS: dict[str, tuple[float, float, str]] = {
    "K": (1, 0, "K"), "mK": (1e-3, 0, "K"), "degC": (1, 273.15, "K"), "°C": (1, 273.15, "K"),
    "celsius": (1, 273.15, "K"),
    "J": (1, 0, "J"), "eV": (1.602176634e-19, 0, "J"), "keV": (1.602176634e-16, 0, "J"),
    "MeV": (1.602176634e-13, 0, "J"), "meV": (1.602176634e-22, 0, "J"),
    "m": (1, 0, "m"), "cm": (1e-2, 0, "m"), "mm": (1e-3, 0, "m"), "um": (1e-6, 0, "m"),
    "µm": (1e-6, 0, "m"), "μm": (1e-6, 0, "m"), "micron": (1e-6, 0, "m"),
    "nm": (1e-9, 0, "m"), "pm": (1e-12, 0, "m"), "Å": (1e-10, 0, "m"),
    "angstrom": (1e-10, 0, "m"), "Angstrom": (1e-10, 0, "m"),
    "s": (1, 0, "s"), "ms": (1e-3, 0, "s"), "us": (1e-6, 0, "s"), "µs": (1e-6, 0, "s"),
    "ns": (1e-9, 0, "s"), "min": (60, 0, "s"), "h": (3600, 0, "s"),
    "Pa": (1, 0, "Pa"), "hPa": (1e2, 0, "Pa"), "kPa": (1e3, 0, "Pa"), "MPa": (1e6, 0, "Pa"),
    "GPa": (1e9, 0, "Pa"), "bar": (1e5, 0, "Pa"), "mbar": (1e2, 0, "Pa"),
    "T": (1, 0, "T"), "mT": (1e-3, 0, "T"), "G": (1e-4, 0, "T"),
    "Hz": (1, 0, "Hz"), "kHz": (1e3, 0, "Hz"), "MHz": (1e6, 0, "Hz"), "GHz": (1e9, 0, "Hz"),
    "W": (1, 0, "W"), "mW": (1e-3, 0, "W"), "A": (1, 0, "A"), "mA": (1e-3, 0, "A"),
    "V": (1, 0, "V"), "kV": (1e3, 0, "V"),
    "rad": (1, 0, "rad"), "mrad": (1e-3, 0, "rad"), "deg": (0.017453292519943295, 0, "rad"),
    "degree": (0.017453292519943295, 0, "rad"), "degrees": (0.017453292519943295, 0, "rad"),
    "°": (0.017453292519943295, 0, "rad"),
    "kg": (1, 0, "kg"), "g": (1e-3, 0, "kg"), "mg": (1e-6, 0, "kg"),
}


def to_si(value: float, unit: str | None) -> tuple[float, str] | None:
    """(value, SI unit) for the units facilities commonly write; None for unknown units.
    A stand-in until the units vocabulary lands in `mappings` (see docs/decisions/0005)."""
    if not unit or unit.strip() not in _UNITS:
        return None
    factor, offset, si_unit = _UNITS[unit.strip()]
    return value * factor + offset, si_unit
