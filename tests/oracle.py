"""A brute-force search oracle written independently of the index code: plain Python
over records, for comparing totals, order and facet counts."""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from gateway.index import ParameterRange, Query
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


PANET_OWL = Path(__file__).resolve().parents[2] / "shared" / "data" / "panet" / "PaNET-v1.1.0.owl"


@lru_cache(maxsize=1)
def panet() -> tuple[dict[str, set[str]], dict[str, str]]:
    """(IRI -> its named superclasses, transitively, itself included; IRI -> rdfs:label)
    straight from the PaNET OWL file with rdflib (not through gateway.vocabulary)."""
    import rdflib
    from rdflib.namespace import OWL, RDFS
    g = rdflib.Graph()
    g.parse(PANET_OWL)
    up: dict[str, set[str]] = {}
    for s, o in g.subject_objects(RDFS.subClassOf):
        if isinstance(s, rdflib.URIRef) and isinstance(o, rdflib.URIRef) and o != OWL.Thing:
            up.setdefault(str(s), set()).add(str(o))
    closure = {}
    for start in list(up):
        seen, todo = {start}, [start]
        while todo:
            for parent in up.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        closure[start] = seen
    labels = {str(s): str(o) for s, o in g.subject_objects(RDFS.label)}
    return closure, labels


def broader(iri: str) -> set[str]:
    """The IRI and its superclasses that the OWL file labels (not the OBO or Wikidata
    classes PaNET points to)."""
    closure, labels = panet()
    return {iri} | {a for a in closure.get(iri, ()) if a in labels}


def facet_values(r: Record, deep: bool = False) -> dict[str, set[str]]:
    """Every facet value of a record; `deep`: techniques with their PaNET ancestors."""
    w = when(r)
    techniques = {t.iri for t in r.techniques}
    if deep:
        techniques = {a for t in techniques for a in broader(t)}
    return {"kind": {r.kind},
            "facility": {r.facility.name} if r.facility else set(),
            "instrument": {r.instrument.name} if r.instrument else set(),
            "technique": techniques,
            "year": {str(w.year)} if w else set(),
            "licence": {r.license or "CC-BY-4.0"},
            "access": {"open"}}  # hits are visible, so released: open access


@lru_cache(maxsize=1)
def _units():
    import pint
    return pint.UnitRegistry()


def si(value: object, unit: str | None) -> tuple[float, object] | None:
    """(SI magnitude, dimensionality) by pint directly; None for text or no/unknown unit."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not unit:
        return None
    ureg = _units()
    try:
        q = ureg.Quantity(float(value), unit).to_base_units()
    except Exception:
        return None
    return float(q.magnitude), q.dimensionality


def _param_ok(r: Record, p: ParameterRange) -> bool:
    low = -math.inf if p.low is None else p.low
    high = math.inf if p.high is None else p.high
    want = None if p.unit is None else _units().Unit(p.unit).dimensionality

    def values(name: str) -> list[float]:
        out = []
        for x in r.parameters:
            if x.name != name:
                continue
            if want is None:
                if not isinstance(x.value, bool) and isinstance(x.value, (int, float)):
                    out.append(float(x.value))
            elif (conv := si(x.value, x.unit)) is not None and conv[1] == want:
                out.append(conv[0])
        return out

    if any(low <= v <= high for v in values(p.name)):
        return True
    starts, ends = values(p.name + "_min"), values(p.name + "_max")
    return any(v <= high for v in starts) and any(v >= low for v in ends)


def matches(r: Record, q: Query, now: datetime, deep: bool = False) -> bool:
    if r.deleted or (r.dates.release_date and r.dates.release_date > now):
        return False
    tokens = searchable(r)
    if not all(_term_matches(tokens, toks, pre) for toks, pre in _text_terms(q.text)):
        return False
    values = facet_values(r, deep)
    if any(want and not values[f] & set(want) for f, want in q.filters.items()):
        return False
    if not all(_param_ok(r, p) for p in q.parameters):
        return False
    w = when(r)
    if q.date_from and (w is None or w.date() < q.date_from):
        return False
    if q.date_to and (w is None or w.date() > q.date_to):
        return False
    return True


def brute_search(records: list[Record], q: Query, now: datetime,
                 deep: bool = False) -> list[Record]:
    """The matches in `q`'s order; `deep`: technique filters match narrower techniques."""
    hits = [r for r in records if matches(r, q, now, deep)]
    sort = q.effective_sort
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    if sort == "title":
        hits.sort(key=lambda r: (r.title.casefold(), r.id))
    elif sort == "-title":
        hits.sort(key=lambda r: r.id)
        hits.sort(key=lambda r: r.title.casefold(), reverse=True)
    elif sort == "date":
        hits.sort(key=lambda r: (when(r) or epoch, r.id))
    elif sort == "-date":
        hits.sort(key=lambda r: r.id)
        hits.sort(key=lambda r: when(r) or epoch, reverse=True)
    return hits


def brute_facets(hits: list[Record], fields: tuple[str, ...],
                 deep: bool = False) -> dict[str, dict[str, int]]:
    out = {}
    for f in fields:
        c: Counter[str] = Counter()
        for r in hits:
            c.update(facet_values(r, deep)[f])
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
