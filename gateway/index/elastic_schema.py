"""What the Elasticsearch backend stores: the index template (settings, analysers, explicit
mappings) and the document built from a Record. No I/O here.

Text fields use one analyser (`fairgate_text`): split on anything that is not a letter or a
digit ('_' separates words, as in the embedded index), lower case, fold accents. Multi-valued
text (keywords, people, ...) is indexed as arrays, so a phrase never spans two values.
`oai_stamp` is the record's public datestamp once released, max(datestamp, release_date), as
a fixed-width ISO string (UTC, seconds, 'Z'), for OAI-PMH's (datestamp, id) keyset order;
embargoed records are filtered out at query time by `release_date`, so it can be static.
Filters and facets are keyword fields holding the same values as the embedded index's
`terms` table (`docs.index_terms`: techniques with their vocabulary ancestors, licence,
access); techniques are also a nested (iri, label) pair so the facet can carry labels.
Parameters are nested (name, value, SI value and unit from `docs.numeric`) for ranges.
Sort keys are keywords: `sort_key` is the ISO sort date ('' when a record has none, which
sorts first ascending and last descending, as in the embedded index), `title_sort` the
case-folded title.
"""
from __future__ import annotations

import hashlib
from typing import Any

from mappings.record import Parameter, Record, iso

from .docs import Vocabulary, index_terms, numeric, oai_stamp, sort_date

SCHEMA_VERSION = 3  # 2: oai_stamp; placeholders of refused records (doc "rejected", reason)
# 3: licence and access terms, technique ancestors (vocabulary version in _meta)
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
        "licence": _KEYWORD, "access": _KEYWORD,
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


def mappings(techniques: Vocabulary | None = None) -> dict[str, Any]:
    """MAPPINGS, with `_meta.fairgate_techniques` naming the vocabulary version whose
    ancestors the documents carry ('' for none): an index built with another is
    outdated."""
    meta = {**MAPPINGS["_meta"], "fairgate_techniques": techniques.version if techniques else ""}
    return {**MAPPINGS, "_meta": meta}


def template(name: str, mappings: dict[str, Any] = MAPPINGS) -> dict[str, Any]:
    """Body of the index template that every versioned index `<name>-v<N>` gets."""
    return {"index_patterns": [f"{name}-v*"], "priority": 200,
            "template": {"settings": SETTINGS, "mappings": mappings},
            "_meta": {"fairgate_schema": SCHEMA_VERSION}}


def doc_id(record_id: str) -> str:
    """The `_id` of a record: its id, or a hash of it when longer than Elasticsearch allows."""
    if len(record_id.encode()) <= MAX_ID_BYTES:
        return record_id
    return "sha256:" + hashlib.sha256(record_id.encode()).hexdigest()


def document(record: Record, seq: int, techniques: Vocabulary | None = None) -> dict[str, Any]:
    """The indexed form of a live record (`seq`: its store sequence number), its
    techniques with their ancestors in `techniques`."""
    doc: dict[str, Any] = {"doc": "record", "seq": seq, "id": record.id, "pid": record.pid,
                           "source": record.source, "license": record.license,
                           "content_hash": record.provenance.content_hash,
                           "title_sort": record.title.casefold()[:MAX_SORT_CHARS],
                           "sort_key": sort_date(record), "sort_date": sort_date(record) or None,
                           "release_date": iso(record.dates.release_date),
                           "datestamp": iso(record.datestamp), "oai_stamp": oai_stamp(record)}
    terms = index_terms(record, techniques)
    for field, value, _ in terms:
        doc.setdefault(field, []).append(value)
    doc["techniques"] = [{"iri": v, "label": label} for f, v, label in terms
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
    """A parameter as indexed: a number with its SI value (`docs.numeric`: numbers JSON
    has no form for, which Elasticsearch would refuse, are left out), or text."""
    out: dict[str, Any] = {"name": p.name, "unit": p.unit}
    if (n := numeric(p)) is not None:
        out["value"], out["value_si"], out["unit_si"] = n
    elif isinstance(p.value, bool) or not isinstance(p.value, (int, float)):
        out["text"] = str(p.value)[:MAX_SORT_CHARS]
    return {k: v for k, v in out.items() if v is not None}
