"""A brute-force search oracle written independently of the index code: plain Python
over records, for comparing totals, order and facet counts."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import datetime

from gateway.index import Query
from mappings.record import Record


def fold(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", text.casefold())  # like FTS5 unicode61: '_' separates


def searchable(r: Record) -> list[str]:
    people = [*r.creators, *r.contributors]
    parts = [r.title, r.description or "", *r.keywords, *(p.name for p in people),
             *(p.affiliation.name for p in people if p.affiliation),
             *(x for s in r.samples for x in (s.name, s.chemical_formula, s.description) if x),
             *(t.label for t in r.techniques), *(x.name for x in (r.facility, r.instrument) if x),
             *(i.value for i in r.identifiers), r.pid or "", *(p.name for p in r.parameters)]
    return [tok for part in parts for tok in fold(part) + ["\x00"]]  # \x00: field boundary


def _term_matches(tokens: list[str], phrase: list[str], prefix: bool) -> bool:
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        window = tokens[i:i + n]
        if window[:-1] == phrase[:-1] and (
                window[-1].startswith(phrase[-1]) if prefix else window[-1] == phrase[-1]):
            return True
    return False


def _text_terms(text: str) -> list[tuple[list[str], bool]]:
    out = []
    for phrase, word in re.findall(r'"([^"]*)"?|(\S+)', text):
        toks = fold(phrase or word)
        if toks:
            out.append((toks, bool(word) and word.endswith("*")))
    return out


def when(r: Record) -> datetime | None:
    d = r.dates
    return d.collected_start or d.created or d.collected_end


def facet_values(r: Record) -> dict[str, set[str]]:
    w = when(r)
    return {"kind": {r.kind},
            "facility": {r.facility.name} if r.facility else set(),
            "instrument": {r.instrument.name} if r.instrument else set(),
            "technique": {t.iri for t in r.techniques},
            "year": {str(w.year)} if w else set()}


def matches(r: Record, q: Query, now: datetime) -> bool:
    if r.deleted or (r.dates.release_date and r.dates.release_date > now):
        return False
    tokens = searchable(r)
    if not all(_term_matches(tokens, toks, pre) for toks, pre in _text_terms(q.text)):
        return False
    values = facet_values(r)
    if any(want and not values[f] & set(want) for f, want in q.filters.items()):
        return False
    w = when(r)
    if q.date_from and (w is None or w.date() < q.date_from):
        return False
    if q.date_to and (w is None or w.date() > q.date_to):
        return False
    return True


def brute_search(records: list[Record], q: Query, now: datetime) -> list[Record]:
    hits = [r for r in records if matches(r, q, now)]
    sort = q.effective_sort
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    if sort == "title":
        hits.sort(key=lambda r: (r.title.casefold(), r.id))
    elif sort == "date":
        hits.sort(key=lambda r: (when(r) or epoch, r.id))
    elif sort == "-date":
        hits.sort(key=lambda r: r.id)
        hits.sort(key=lambda r: when(r) or epoch, reverse=True)
    return hits


def brute_facets(hits: list[Record], fields: tuple[str, ...]) -> dict[str, dict[str, int]]:
    out = {}
    for f in fields:
        c: Counter[str] = Counter()
        for r in hits:
            c.update(facet_values(r)[f])
        out[f] = dict(c)
    return out


def brute_stamps(records: list[Record], now: datetime, date_from: datetime | None = None,
                 date_to: datetime | None = None,
                 filters: dict[str, tuple[str, ...]] | None = None) -> list[tuple[datetime, str]]:
    """OAI-PMH order: (public datestamp, id) of the records public at `now`, by the access
    policy's own rule (`mappings.access`), bounds inclusive at second precision."""
    from mappings.access import Visibility, public_datestamp, visibility
    out = []
    for r in records:
        if visibility(r, now) is not Visibility.PUBLIC:
            continue
        stamp = public_datestamp(r, now)
        if stamp is None:
            continue
        values = facet_values(r)
        if any(want and not values[f] & set(want) for f, want in (filters or {}).items()):
            continue
        if date_from and stamp < date_from.replace(microsecond=0):
            continue
        if date_to and stamp > date_to.replace(microsecond=0):
            continue
        out.append((stamp, r.id))
    return sorted(out)
