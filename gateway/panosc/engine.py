"""find / count / find_by_id / files over the projection: the planner narrows (and, when
its translation is exact, orders and pages in SQL), `match.select` decides and embeds.

Scores are strictly inside (0, 1), what a facility must return to be federated by the
PaNOSC federated search (it drops scores of 1 and more). Without `query` every result
scores NEUTRAL_SCORE. With `query`, results are the items whose text holds at least one of
the query's words (title, description, keywords, techniques, samples, instrument,
facility, people and parameter names; accents and case ignored), and the score is 0.99 x
the FTS5 BM25 relevance divided by the best one among all results of the filter (0.99 for
the best). BM25's statistics cover public records only (see projection.py). Instruments
score 0.99 x the share of query words their name and facility hold.
"""
from __future__ import annotations

import json
from typing import Any

from .filters import Filter, FilterError, Include, check_text, compile_filter, words
from .match import Vocabulary, select
from .models import COLLECTIONS
from .ordering import sort_key
from .plan import order_sql, plan
from .projection import Projection, fold, instant

VISIBLE = "(items.release IS NULL OR items.release <= ?)"
NEUTRAL_SCORE = 0.5   # without `query`: no item is more relevant than another
TOP_SCORE = 0.99      # the best `query` hit; the federator wants scores below 1
MIN_SCORE = 1e-6      # the floor: a hit never scores 0


class NotFound(LookupError):
    """No public item of that model with that pid."""

    def __init__(self, model: str, pid: str):
        super().__init__(f'Unknown "{model}" id "{pid}".')


def model_name(collection: str) -> str:
    """"Dataset" for "Datasets", "datasets" or "Dataset"; FilterError otherwise."""
    for plural, name in COLLECTIONS.items():
        if collection.casefold() in (plural.casefold(), name.casefold()):
            return name
    raise FilterError(f"unknown model {collection!r} (Datasets, Documents, Instruments)")


def sync(gw: Any) -> int:
    """Bring the gateway's projection up to its record store; returns the changes applied.
    A harvest and `serve` call it too, so a request seldom has changes to apply."""
    return gw.panosc.sync(gw.store, gw.render_context, now=instant(gw.clock()))


def projection(gw: Any) -> Projection:
    """The gateway's projection, brought up to date with its record store."""
    sync(gw)
    return gw.panosc


def _fts(query: str) -> str | None:
    """The query's words OR-ed as an FTS5 MATCH (each quoted: no FTS5 syntax gets in)."""
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words(query))) or None


# --- the entry points ---------------------------------------------------------------------

def find(gw: Any, model: str, raw: dict[str, Any], *, query: str | None = None,
         ) -> list[dict[str, Any]]:
    f = compile_filter(model_name(model), raw, query=query)
    proj = projection(gw)
    now = instant(gw.clock())
    if f.model == "Instrument":
        return _instruments(proj, f, now, gw.techniques)
    return _items(proj, f, now, gw.techniques)


def count(gw: Any, model: str, where: dict[str, Any] | None) -> int:
    """Matches of `where` (a where object, or a filter holding one under "where")."""
    where = where or {}
    if set(where) == {"where"} and isinstance(where["where"], dict):
        where = where["where"]
    f = compile_filter(model_name(model), {"where": where})
    proj = projection(gw)
    now = instant(gw.clock())
    if f.model == "Instrument":
        return len(_instruments(proj, f, now, gw.techniques, paged=False))
    p = plan(f, gw.techniques, now)
    conds = ["items.model = ?", VISIBLE, *p.conditions]
    args = [f.model, now, *p.args]
    if p.exact:
        return proj.rows(f"SELECT count(*) FROM items WHERE {' AND '.join(conds)}", args)[0][0]
    return len(_items(proj, f, now, gw.techniques, paged=False))


def find_by_id(gw: Any, model: str, pid: str, raw: dict[str, Any] | None = None,
               ) -> dict[str, Any] | None:
    """The public item with this pid (includes embed, they do not remove it), or None."""
    raw = dict(raw or {})
    extra = set(raw) - {"include", "fields"}
    if extra:
        raise FilterError(f"filter: only include and fields apply to one item "
                          f"(not {', '.join(sorted(extra))})")
    f = compile_filter(model_name(model), raw)
    check_text(pid, "pid")
    proj = projection(gw)
    now = instant(gw.clock())
    if f.model == "Instrument":
        found = [i for i in _instrument_objects(proj, now, f) if fold(i["pid"]) == fold(pid)]
    else:
        found = [_full(proj, f, item, body, now) for item, body in proj.rows(
            "SELECT items.id, items.body FROM items WHERE items.model = ? AND "
            f"items.pid_key = ? AND {VISIBLE} ORDER BY items.rid LIMIT 1",
            [f.model, fold(pid), now])]
    if not found:
        return None
    out = select(f.model, found[0], None, f.include, gw.techniques, semijoin=False)
    return None if out is None else _finish(f, out, NEUTRAL_SCORE)


def files(gw: Any, pid: str, raw: dict[str, Any] | None = None, *,
          count_only: bool = False) -> list[dict[str, Any]] | int:
    """The files of the public dataset `pid` matching the filter (for `count_only`, a
    where); NotFound if there is no such dataset."""
    check_text(pid, "pid")
    proj = projection(gw)
    now = instant(gw.clock())
    rows = proj.rows("SELECT items.body FROM items WHERE items.model = 'Dataset' AND "
                     f"items.pid_key = ? AND {VISIBLE} ORDER BY items.rid LIMIT 1",
                     [fold(pid), now])
    if not rows:
        raise NotFound("Dataset", pid)
    items = json.loads(rows[0][0]).get("files", [])
    if count_only:
        where = raw or {}
        if set(where) == {"where"} and isinstance(where["where"], dict):
            where = where["where"]
        f = compile_filter("File", {"where": where})
    else:
        f = compile_filter("File", raw or {})
    kept = [o for o in (select("File", i, f.where, f.include, gw.techniques) for i in items)
            if o is not None]
    if count_only:
        return len(kept)
    kept = _sorted(f, [(o, "", "") for o in kept])
    return [o for o, _, _ in kept[f.skip:f.skip + f.limit]]


# --- datasets and documents ---------------------------------------------------------------

def _items(proj: Projection, f: Filter, now: str | None, vocab: Vocabulary, *,
           paged: bool = True) -> list[dict[str, Any]]:
    p = plan(f, vocab, now, includes=paged)
    conds = ["items.model = ?", VISIBLE, *p.conditions]
    args: list[Any] = [f.model, now, *p.args]
    match = _fts(f.query) if f.query else None
    join, score = "", "1.0"
    if match:
        join = ("JOIN (SELECT rowid AS hit, -bm25(fts, 4.0, 1.0) AS s FROM fts "
                "WHERE fts MATCH ?) m ON m.hit = items.id")
        args.insert(0, match)
        score = "m.s"
    where = " AND ".join(conds)
    order = order_sql(f)
    if p.exact and order is not None and paged:
        if match:
            order = f"m.s DESC, {order}"
        page = proj.rows(f"SELECT items.id, {score} FROM items {join} WHERE {where} "
                         f"ORDER BY {order} LIMIT ? OFFSET ?", [*args, f.limit, f.skip])
        best = 1.0
        if match and page:
            best = page[0][1] if f.skip == 0 else proj.rows(
                f"SELECT m.s FROM items {join} WHERE {where} ORDER BY m.s DESC LIMIT 1",
                args)[0][0]
        bodies = dict(proj.rows(f"SELECT id, body FROM items WHERE id IN "
                                f"({','.join('?' * len(page))})", [i for i, _ in page]))
        out = []
        for item, s in page:
            obj = select(f.model, _full(proj, f, item, bodies[item], now), f.where, f.include,
                         vocab)
            if obj is not None:
                out.append(_finish(f, obj, scaled(s, best) if match else NEUTRAL_SCORE))
        return out
    base = (f"SELECT items.id, items.rid, items.pid_key, items.body, {score} FROM items {join} "
            f"WHERE {where}")
    kept, scores = [], {}
    for item, rid, pid_key, body, s in proj.rows(base, args):
        obj = select(f.model, _full(proj, f, item, body, now), f.where,
                     f.include if paged else (), vocab)
        if obj is not None:
            kept.append((obj, rid, pid_key))
            scores[id(obj)] = s
    if not paged:
        return [k[0] for k in kept]
    best = max(scores.values(), default=1.0)
    scores = {k: scaled(s, best) for k, s in scores.items()}
    ranked = _sorted(f, kept, scores=scores if match else None)
    return [_finish(f, o, scores[id(o)] if match else NEUTRAL_SCORE)
            for o, _, _ in ranked[f.skip:f.skip + f.limit]]


def _full(proj: Projection, f: Filter, item: int, body: str, now: str | None,
          ) -> dict[str, Any]:
    """The stored object with what is joined at query time: `isPublic` (only public
    items are answered) and a Document's public datasets when an include needs them."""
    obj = json.loads(body)
    obj["isPublic"] = True
    if f.model == "Document" and _needs(f.include, "datasets"):
        obj["datasets"] = _datasets_of(proj, item, now)
    return obj


def _needs(includes: tuple[Include, ...], relation: str) -> bool:
    return any(i.relation == relation for i in includes)


def _datasets_of(proj: Projection, item: int, now: str | None) -> list[dict[str, Any]]:
    """The public datasets that name the document (its record id, PID or DOI) IsPartOf."""
    rows = proj.rows(
        "SELECT items.id, items.pid_key, items.rid, items.body FROM items WHERE items.id IN ("
        "SELECT pa.item FROM doc_keys dk JOIN parents pa ON pa.target = dk.key "
        f"WHERE dk.item = ?) AND items.model = 'Dataset' AND {VISIBLE} "
        "ORDER BY items.pid_key, items.rid", [item, now])
    out = []
    for row in rows:
        ds = json.loads(row[3])
        ds["isPublic"] = True
        out.append(ds)
    return out


# --- instruments --------------------------------------------------------------------------

def _instrument_objects(proj: Projection, now: str | None, f: Filter) -> list[dict[str, Any]]:
    """Every instrument of a public record (its name and facility as the lowest record
    id states them), with its public datasets when an include needs them."""
    rows = proj.rows(
        "SELECT inst_pid, inst_name, inst_facility FROM items WHERE id IN ("
        f"SELECT min(items.id) FROM items WHERE inst_pid IS NOT NULL AND {VISIBLE} "
        "GROUP BY inst_pid)", [now])
    out = []
    for pid, name, facility in rows:
        obj: dict[str, Any] = {"pid": pid, "name": name, "facility": facility}
        if _needs(f.include, "datasets"):
            obj["datasets"] = [
                {**json.loads(b), "isPublic": True} for (b,) in proj.rows(
                    "SELECT items.body FROM items WHERE items.model = 'Dataset' AND "
                    f"items.inst_pid = ? AND {VISIBLE} ORDER BY items.pid_key, items.rid",
                    [pid, now])]
        out.append(obj)
    return out


def _instruments(proj: Projection, f: Filter, now: str | None, vocab: Vocabulary, *,
                 paged: bool = True) -> list[dict[str, Any]]:
    wanted = words(f.query) if f.query else []
    kept = []
    for obj in _instrument_objects(proj, now, f):
        out = select("Instrument", obj, f.where, f.include if paged else (), vocab)
        if out is None:
            continue
        if wanted:
            have = set(words(f"{obj['name']} {obj['facility']}"))
            share = sum(w in have for w in wanted) / len(wanted)
            if share == 0:
                continue
            out["score"] = scaled(share, 1.0)
        kept.append(out)
    if not paged:
        return kept
    scores = {id(o): o.pop("score") for o in kept if "score" in o}
    ranked = _sorted(f, [(o, "", fold(o["pid"])) for o in kept],
                     scores=scores if wanted else None)
    return [_finish(f, o, scores.get(id(o), NEUTRAL_SCORE))
            for o, _, _ in ranked[f.skip:f.skip + f.limit]]


# --- ordering and output ------------------------------------------------------------------

def _sorted(f: Filter, items: list[tuple[dict[str, Any], str, str]], *,
            scores: dict[int, float] | None = None) -> list[tuple[dict[str, Any], str, str]]:
    """Items in the filter's order (NULLs first ascending, last descending, as SQLite),
    then pid and record id; with scores, by score first."""
    out = sorted(items, key=lambda t: (t[2] or fold(t[0].get("pid", "")), t[1]))
    for name, desc in reversed(f.order):
        out.sort(key=lambda t: sort_key(t[0].get(name)), reverse=desc)
    if scores is not None:
        out.sort(key=lambda t: scores[id(t[0])], reverse=True)
    return out


def scaled(s: float, best: float) -> float:
    """A relevance `s` relative to the best one, strictly inside (0, 1)."""
    return min(TOP_SCORE, max(MIN_SCORE, TOP_SCORE * (s / best))) if best > 0 else MIN_SCORE


def _finish(f: Filter, obj: dict[str, Any], score: float) -> dict[str, Any]:
    """The answer for one item: the `fields` projection, then `score`."""
    if f.fields is not None:
        names, keep = f.fields
        obj = {k: v for k, v in obj.items() if (k in names) == keep}
    obj["score"] = score
    return obj

