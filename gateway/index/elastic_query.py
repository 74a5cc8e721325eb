"""A `Query` as an Elasticsearch search request, and the response as a `Result`. No I/O.

Only query shapes that Elasticsearch 8, OpenSearch and the CI stand-in all accept: bool
filters, `multi_match` (phrase, phrase_prefix, bool_prefix), terms/range/nested queries,
terms and date_histogram aggregations, `search_after` on the sort key plus `id` (OAI-PMH:
on `oai_stamp` plus `id`). Never
from/size paging past the first page, scroll, point-in-time, composite aggregations, terms
include/exclude, `min_doc_count: 0` or scripts.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from mappings.record import iso

from . import FILTER_FIELDS, FacetValue, Hit, ParameterRange, Query, QueryError, Result
from . import cursor as cursors
from .docs import value_label
from .elastic_schema import TEXT_FIELDS
from .textquery import TooManyTerms, terms

FACET_SIZE = 1000          # most values one facet returns
PREFIX_EXPANSIONS = 1000   # words a prefix inside a phrase expands to (see docs)
FIELDS = [f"{name}^{boost:g}" for name, boost in TEXT_FIELDS.items()]
_SUBWORD = re.compile(r"[^\W_]+")

SORTS: dict[str, list[dict[str, Any]]] = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "date": [{"sort_key": "asc"}, {"id": "asc"}],
    "-date": [{"sort_key": "desc"}, {"id": "asc"}],
    "title": [{"title_sort": "asc"}, {"id": "asc"}],
    "-title": [{"title_sort": "desc"}, {"id": "asc"}],
}


def request(query: Query, now: datetime) -> dict[str, Any]:
    """Keyword arguments for `Elasticsearch.search` answering `query` as seen at `now`.
    One page of `size + 1` hits (the extra one tells whether there is a next page)."""
    after = cursors.decode(query)
    try:
        must = text_clauses(query.text)
    except TooManyTerms as exc:
        raise QueryError(str(exc), "q") from None
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filters(query, now), "must": must}},
        "sort": SORTS[query.effective_sort], "size": query.size + 1,
        "track_total_hits": True, "_source": False, "track_scores": bool(must)}
    if after is not None:
        body["search_after"] = after
    if query.facets:
        body["aggs"] = {name: aggregation(name) for name in query.facets}
    return body


def text_clauses(text: str) -> list[dict[str, Any]]:
    """One clause per word or phrase, all required, each matching in any text field.
    Words are split like the index analyser splits them, so 'Cu_foil' is the phrase
    'cu foil'; a term with nothing searchable in it is dropped."""
    clauses = []
    for tokens, prefix in terms(text):
        words = [w for t in tokens for w in _SUBWORD.findall(_fold(t))]
        if not words:
            continue
        phrase = " ".join(words)
        if not prefix:
            clauses.append({"multi_match": {"query": phrase, "type": "phrase", "fields": FIELDS}})
        elif len(words) == 1:  # a prefix query: every word with this prefix, no limit
            clauses.append({"multi_match": {"query": phrase, "type": "bool_prefix",
                                            "fields": FIELDS}})
        else:
            clauses.append({"multi_match": {"query": phrase, "type": "phrase_prefix",
                                            "fields": FIELDS,
                                            "max_expansions": PREFIX_EXPANSIONS}})
    return clauses


def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def visible(now: datetime) -> list[dict[str, Any]]:
    """Record documents public at `now` (embargo at query time)."""
    return [{"term": {"doc": "record"}},
            {"bool": {"minimum_should_match": 1, "should": [
                {"bool": {"must_not": {"exists": {"field": "release_date"}}}},
                {"range": {"release_date": {"lte": iso(now)}}}]}}]


def filters(query: Query, now: datetime) -> list[dict[str, Any]]:
    """Record documents visible at `now` (embargo at query time) that pass the filters."""
    out = visible(now)
    out += [{"terms": {name: list(values)}} for name, values in query.filters.items() if values]
    dates: dict[str, str] = {}
    if query.date_from:
        dates["gte"] = query.date_from.isoformat()
    if query.date_to and query.date_to < date.max:  # inclusive: before the next day (UTC)
        dates["lt"] = (query.date_to + timedelta(days=1)).isoformat()
    elif query.date_to:
        out.append({"exists": {"field": "sort_date"}})
    if dates:
        out.append({"range": {"sort_date": dates}})
    out += [parameter_clause(p) for p in query.parameters]
    return out


def parameter_clause(p: ParameterRange) -> dict[str, Any]:
    """One parameter range: a parameter inside it, or a `<name>_min`..`<name>_max` pair
    that overlaps it (both nested: name, unit and value of the same parameter)."""
    column = "parameters.value" if p.unit is None else "parameters.value_si"

    def having(name: str, bounds: dict[str, float]) -> dict[str, Any]:
        value = {"range": {column: bounds}} if bounds else {"exists": {"field": column}}
        must: list[dict[str, Any]] = [{"term": {"parameters.name": name}}, value]
        if p.unit is not None:
            must.append({"term": {"parameters.unit_si": p.unit}})
        return {"nested": {"path": "parameters", "query": {"bool": {"filter": must}}}}

    inside = {op: v for op, v in (("gte", p.low), ("lte", p.high)) if v is not None}
    start, end = p.span_names
    span = [having(start, {"lte": p.high} if p.high is not None else {}),
            having(end, {"gte": p.low} if p.low is not None else {})]
    return {"bool": {"minimum_should_match": 1, "should": [
        having(p.name, inside), {"bool": {"filter": span}}]}}


def stamps_request(now: datetime, date_from: datetime | None, date_to: datetime | None,
                   after: tuple[datetime, str] | None, size: int,
                   filters: Mapping[str, tuple[str, ...]] | None) -> dict[str, Any]:
    """Keyword arguments for `Elasticsearch.search` listing (oai_stamp, id) in that order:
    `search_after` from the previous page's last pair, never an offset."""
    body: dict[str, Any] = {"query": stamps_query(now, date_from, date_to, filters),
                            "sort": [{"oai_stamp": "asc"}, {"id": "asc"}], "size": size,
                            "track_total_hits": False, "_source": False}
    if after is not None:
        body["search_after"] = [iso(after[0]), after[1]]
    return body


def stamps_query(now: datetime, date_from: datetime | None, date_to: datetime | None,
                 filters: Mapping[str, tuple[str, ...]] | None) -> dict[str, Any]:
    """The query of `stamps_request`, also counted for OAI-PMH's completeListSize."""
    bad = [f for f in filters or {} if f not in FILTER_FIELDS]
    if bad:
        raise QueryError(f"unknown field(s): {', '.join(bad)}", "set")
    clauses = [*visible(now), {"exists": {"field": "oai_stamp"}}]
    clauses += [{"terms": {k: list(v)}} for k, v in (filters or {}).items() if v]
    bounds = {op: iso(when) for op, when in (("gte", date_from), ("lte", date_to)) if when}
    if bounds:
        clauses.append({"range": {"oai_stamp": bounds}})
    return {"bool": {"filter": clauses}}


def stamps_result(response: dict[str, Any]) -> list[tuple[datetime, str]]:
    return [(_parse_stamp(h["sort"][0]), h["sort"][1]) for h in response["hits"]["hits"]]


def _parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def aggregation(name: str) -> dict[str, Any]:
    order = [{"_count": "desc"}, {"_key": "asc"}]
    if name == "year":
        return {"date_histogram": {"field": "sort_date", "calendar_interval": "year",
                                   "format": "yyyy", "min_doc_count": 1}}
    if name == "technique":  # nested, to carry each IRI's label
        return {"nested": {"path": "techniques"}, "aggs": {"values": {
            "terms": {"field": "techniques.iri", "size": FACET_SIZE, "order": order},
            "aggs": {"label": {"terms": {"field": "techniques.label", "size": 1,
                                         "order": {"_key": "desc"}}}}}}}
    return {"terms": {"field": name, "size": FACET_SIZE, "order": order}}


def result(query: Query, response: dict[str, Any]) -> Result:
    rows = response["hits"]["hits"]
    more, rows = len(rows) > query.size, rows[:query.size]
    scored = bool(text_clauses(query.text))
    hits = [Hit(id=_record_id(r), score=float(r["_score"]) if scored else None) for r in rows]
    next_key = list(rows[-1]["sort"]) if more and rows else None
    aggs = response.get("aggregations", {})
    facets = {name: facet(name, aggs.get(name, {})) for name in query.facets}
    return Result(total=response["hits"]["total"]["value"], hits=hits, facets=facets,
                  next_cursor=cursors.encode(query, next_key) if next_key else None)


def _record_id(row: dict[str, Any]) -> str:
    """The record id of a hit: the last sort value is always `id`."""
    return row["sort"][-1]


def facet(name: str, agg: dict[str, Any]) -> list[FacetValue]:
    if name == "year":
        values = [FacetValue(b["key_as_string"], b["doc_count"]) for b in agg.get("buckets", [])]
        return sorted(values, key=lambda v: (-v.count, v.value))
    if name == "technique":
        return [FacetValue(b["key"], b["doc_count"],
                           (b["label"]["buckets"] or [{}])[0].get("key"))
                for b in agg.get("values", {}).get("buckets", [])]
    return [FacetValue(b["key"], b["doc_count"], value_label(name, b["key"]))
            for b in agg.get("buckets", [])]
