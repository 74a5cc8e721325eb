"""The semantics of a filter, evaluated on PaNOSC objects (dicts): what matches and what an
`include` embeds. The SQL planner (`plan.py`) narrows the candidates; this decides.

Rules (docs/panosc.md states them for users):

- Comparison: strings ignore case; a number and a numeric string compare as numbers
  (`"930"` equals `930`); date fields compare as instants; `like`/`ilike` are SQL patterns
  over the whole value (`like` keeps case), `regexp` searches. A field holding a list (a
  Document's `keywords`) matches a positive operator when one element does, a negative one
  (`neq`, `nin`, `nlike`, `nilike`) when no element matches its positive twin; a missing
  value matches only `eq null` and the negative operators.
- `text`: `ilike %v%` over the model's text fields, OR-ed.
- `include` with a `scope.where` (or a nested include that filters) is a semi-join: the
  parent stays only if the filtered relation is not empty, and embeds only what matched.
  Several includes of one relation are AND-ed; what they embed is merged.
- Parameters: the conditions of one include apply to the same parameter. A `unit` equality
  with a unit `mappings.units` knows turns on SI comparison for the `value` conditions
  next to it: `value` is compared in SI (to a relative 1e-9), `unit` matches any parameter
  of the same dimension, and the embedded parameters are shown in the query's unit. A
  name `N` with a value range also matches a parent whose parameters `N_min` and `N_max`
  overlap the range.
- Techniques are deep (PaNET hierarchy) and judged on the parent's set of techniques, as in
  the PaNOSC requirements: `eq`/`inq` on `pid`, `panetId` or `name` = some technique in the
  descendants, `neq`/`nin` = none of them; `and`/`or` combine those. The include embeds the
  techniques that satisfy the condition on their own, else all of the parent's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Protocol

from mappings.units import from_si, number, si_unit, to_si

from .filters import And, Atom, Include, Node, Or, Text, parse_date
from .models import MODELS

TOLERANCE = 1e-9
POSITIVE_OF = {"neq": "eq", "nin": "inq", "nlike": "like", "nilike": "ilike"}
TECHNIQUE_DEEP_FIELDS = ("pid", "panetId", "name")


class Vocabulary(Protocol):
    """What matching needs of `gateway.vocabulary.Techniques`."""

    def descendants(self, iri: str) -> frozenset[str]: ...

    def find(self, term: str) -> frozenset[str]: ...


# --- scalar comparison -----------------------------------------------------------------

def _fold(value: Any) -> str:
    return str(value).casefold()


def _eq(value: Any, operand: Any) -> bool:
    if value is None or operand is None:
        return value is None and operand is None
    if isinstance(value, bool) or isinstance(operand, bool):
        return value is operand
    if isinstance(operand, datetime):
        when = parse_date(value)
        return when is not None and when == operand
    a, b = number(value), number(operand)
    if a is not None and b is not None:
        return a == b
    return _fold(value) == _fold(operand)


def _order(value: Any, operand: Any) -> int | None:
    """-1, 0, 1 comparing value with operand, None when they do not compare."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(operand, datetime):
        when = parse_date(value)
        if when is None:
            return None
        return (when > operand) - (when < operand)
    a, b = number(value), number(operand)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    if isinstance(operand, str) and not isinstance(value, (int, float)):
        x, y = _fold(value), _fold(operand)
        return (x > y) - (x < y)
    return None


def positive(op: str, value: Any, operand: Any) -> bool:
    """A positive operator on one scalar value."""
    if op == "eq":
        return _eq(value, operand)
    if op == "inq":
        return any(_eq(value, o) for o in operand)
    if op in ("like", "ilike"):
        return value is not None and operand.matches(str(value))
    if op == "regexp":
        return value is not None and operand.search(str(value)) is not None
    if op == "between":
        lo, hi = _order(value, operand[0]), _order(value, operand[1])
        return lo is not None and hi is not None and lo >= 0 and hi <= 0
    c = _order(value, operand)
    if c is None:
        return False
    return {"gt": c > 0, "gte": c >= 0, "lt": c < 0, "lte": c <= 0}[op]


def atom_matches(atom: Atom, value: Any) -> bool:
    """An atom on a field value (a scalar or a list), with list and negation rules."""
    op = POSITIVE_OF.get(atom.op, atom.op)
    values = value if isinstance(value, list) else [value]
    hit = any(positive(op, v, atom.operand) for v in values)
    return not hit if atom.negative else hit


def text_matches(model: str, value: str, obj: dict[str, Any]) -> bool:
    needle = value.casefold()
    for name in MODELS[model].text:
        v = obj.get(name)
        for item in (v if isinstance(v, list) else [v]):
            if item is not None and needle in str(item).casefold():
                return True
    return False


def matches(model: str, node: Node, obj: dict[str, Any]) -> bool:
    """A `where` tree on one object of `model` (no relations involved)."""
    if isinstance(node, Atom):
        return atom_matches(node, obj.get(node.field))
    if isinstance(node, Text):
        return text_matches(model, node.value, obj)
    if isinstance(node, And):
        return all(matches(model, n, obj) for n in node.items)
    return any(matches(model, n, obj) for n in node.items)


# --- parameters: SI comparison --------------------------------------------------------

@dataclass(frozen=True)
class UnitContext:
    unit: str          # the unit the query's values are in
    name: str | None   # the query's parameter name (reads C, F, A), if it gave one
    si: str            # SI unit of `unit`


def unit_context(node: Node, inherited: UnitContext | None) -> UnitContext | None:
    """The unit a conjunction's `value` conditions are in: its own `unit` equality when
    the unit is known, else the enclosing one."""
    atoms = [node] if isinstance(node, Atom) else [
        n for n in node.items if isinstance(n, Atom)] if isinstance(node, And) else []
    names = [a.operand for a in atoms if a.field == "name" and a.op == "eq"
             and isinstance(a.operand, str)]
    for a in atoms:
        if a.field == "unit" and a.op == "eq" and isinstance(a.operand, str):
            name = names[0] if names else None
            si = si_unit(a.operand, name=name or "")
            if si is not None:
                return UnitContext(a.operand, name, si)
    return inherited


def si_bounds(op: str, operand: Any, ctx: UnitContext, pname: str) -> Any:
    """The query operand(s) in SI; None where a value is not a number."""
    def one(v: Any) -> float | None:
        si = to_si(v, ctx.unit, name=ctx.name or pname) if v is not None else None
        return si[0] if si and si[1] == ctx.si else None
    if isinstance(operand, tuple):
        return tuple(one(v) for v in operand)
    return one(operand)


def si_compare(op: str, a: float, b: Any) -> bool:
    """`a op b` for SI values with a relative tolerance on the operand side (the same
    bounds the SQL planner computes)."""
    if op == "between":
        return b[0] is not None and b[1] is not None and \
            si_compare("gte", a, b[0]) and si_compare("lte", a, b[1])
    if op == "inq":
        return any(v is not None and si_compare("eq", a, v) for v in b)
    if b is None:
        return False
    slack = abs(b) * TOLERANCE
    return {"eq": b - slack <= a <= b + slack, "gt": a > b + slack, "gte": a >= b - slack,
            "lt": a < b - slack, "lte": a <= b + slack}.get(op, False)


SI_OPS = frozenset({"eq", "inq", "between", "gt", "gte", "lt", "lte"})


def parameter_matches(node: Node, p: dict[str, Any], ctx: UnitContext | None = None) -> bool:
    ctx = unit_context(node, ctx) if isinstance(node, (And, Atom)) else ctx
    if isinstance(node, And):
        return all(parameter_matches(n, p, ctx) for n in node.items)
    if isinstance(node, Or):
        return any(parameter_matches(n, p, ctx) for n in node.items)
    if isinstance(node, Text):
        return text_matches("Parameter", node.value, p)
    if ctx is not None and node.field == "unit" and node.op == "eq":
        return si_unit(p.get("unit"), name=p.get("name") or "") == ctx.si
    op = POSITIVE_OF.get(node.op, node.op)
    if ctx is not None and node.field == "value" and op in SI_OPS:
        si = to_si(p.get("value"), p.get("unit"), name=p.get("name") or "") \
            if p.get("unit") else None
        hit = si is not None and si[1] == ctx.si and si_compare(
            op, si[0], si_bounds(op, node.operand, ctx, p.get("name") or ""))
        return not hit if node.negative else hit
    return atom_matches(node, p.get(node.field))


@dataclass(frozen=True)
class Range:
    name: str
    lo: float | None
    hi: float | None
    lo_open: bool
    hi_open: bool
    ctx: UnitContext | None


def range_query(node: Node) -> Range | None:
    """The (name, value range) an include asks for when it is exactly that: a name
    equality, value bounds and an optional unit; else None."""
    atoms = [node] if isinstance(node, Atom) else list(node.items) \
        if isinstance(node, And) else []
    if not atoms or not all(isinstance(a, Atom) for a in atoms):
        return None
    names = [a for a in atoms if a.field == "name"]
    values = [a for a in atoms if a.field == "value"]
    units = [a for a in atoms if a.field == "unit"]
    if len(names) != 1 or names[0].op != "eq" or not isinstance(names[0].operand, str) \
            or not values or len(units) > 1 or len(names) + len(values) + len(units) != len(atoms):
        return None
    name = names[0].operand
    if name.casefold().endswith(("_min", "_max")):
        return None
    ctx = unit_context(node, None)
    if units and ctx is None:
        return None
    lo: float | None = None
    hi: float | None = None
    lo_open = hi_open = False
    for a in values:
        if a.op not in ("eq", "between", "gt", "gte", "lt", "lte"):
            return None
        bounds = si_bounds(a.op, a.operand, ctx, name) if ctx else (
            tuple(number(v) for v in a.operand) if isinstance(a.operand, tuple)
            else number(a.operand))
        pairs = {"eq": [("lo", bounds, False), ("hi", bounds, False)],
                 "between": [("lo", bounds[0] if isinstance(bounds, tuple) else None, False),
                             ("hi", bounds[1] if isinstance(bounds, tuple) else None, False)],
                 "gt": [("lo", bounds, True)], "gte": [("lo", bounds, False)],
                 "lt": [("hi", bounds, True)], "lte": [("hi", bounds, False)]}[a.op]
        for side, v, open_ in pairs:
            if v is None:
                return None
            if side == "lo" and (lo is None or v > lo or (v == lo and open_)):
                lo, lo_open = v, open_
            if side == "hi" and (hi is None or v < hi or (v == hi and open_)):
                hi, hi_open = v, open_
    return Range(name, lo, hi, lo_open, hi_open, ctx)


def _param_number(p: dict[str, Any], ctx: UnitContext | None) -> float | None:
    if ctx is None:
        return number(p.get("value"))
    si = to_si(p.get("value"), p.get("unit"), name=p.get("name") or "") if p.get("unit") \
        else None
    return si[0] if si and si[1] == ctx.si else None


def overlapping(r: Range, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `N_min` and `N_max` parameters whose interval overlaps the range (empty if no
    pair does)."""
    key = r.name.casefold()
    mins = [(p, v) for p in params if _fold(p.get("name")) == key + "_min"
            and (v := _param_number(p, r.ctx)) is not None]
    maxs = [(p, v) for p in params if _fold(p.get("name")) == key + "_max"
            and (v := _param_number(p, r.ctx)) is not None]
    out: list[dict[str, Any]] = []
    for pmin, vmin in mins:
        for pmax, vmax in maxs:
            below = r.hi is None or (si_compare("lt" if r.hi_open else "lte", vmin, r.hi)
                                     if r.ctx else (vmin < r.hi if r.hi_open else vmin <= r.hi))
            above = r.lo is None or (si_compare("gt" if r.lo_open else "gte", vmax, r.lo)
                                     if r.ctx else (vmax > r.lo if r.lo_open else vmax >= r.lo))
            if below and above:
                out += [p for p in (pmin, pmax) if not any(p is q for q in out)]
    return out


def in_unit(p: dict[str, Any], ctx: UnitContext | None) -> dict[str, Any]:
    """An embedded parameter in the unit the query gave (its top-level `unit` equality),
    when it has another unit of the same dimension: value rounded to 12 significant
    digits, `unit` as the query wrote it. Others are shown as recorded."""
    unit = p.get("unit")
    if ctx is None or not unit or _fold(unit) == _fold(ctx.unit):
        return p
    si = to_si(p.get("value"), unit, name=p.get("name") or "")
    if si is None or si[1] != ctx.si:
        return p
    value = from_si(si[0], ctx.unit, name=ctx.name or p.get("name") or "")
    if value is None:
        return p
    return {**p, "value": float(f"{value:.12g}"), "unit": ctx.unit}


# --- techniques: deep, on the parent's set ----------------------------------------------

@lru_cache(maxsize=512)
def technique_sets(atom: Atom, vocab: Vocabulary) -> tuple[frozenset[str], tuple[str, ...]]:
    """(IRIs, literal values) a deep technique atom (eq/inq/neq/nin on pid, panetId or
    name) accepts: the descendants of every IRI the operands name, and the operands
    themselves (for tags outside the vocabulary)."""
    operands = atom.operand if isinstance(atom.operand, tuple) else (atom.operand,)
    iris: set[str] = set()
    literals = tuple(_fold(o) for o in operands if o is not None)
    for o in operands:
        if not isinstance(o, str):
            continue
        found = set(vocab.find(o))
        if atom.field != "name":
            found.add(o)
        for iri in found:
            iris |= vocab.descendants(iri)
    return frozenset(iris), literals


def is_deep(atom: Atom) -> bool:
    return atom.field in TECHNIQUE_DEEP_FIELDS and atom.op in ("eq", "inq", "neq", "nin")


def _tag_positive(atom: Atom, tag: dict[str, Any], vocab: Vocabulary) -> bool:
    if is_deep(atom):
        iris, literals = technique_sets(atom, vocab)
        value = tag.get(atom.field)
        return tag.get("pid") in iris or tag.get("panetId") in iris or (
            value is not None and _fold(value) in literals)
    op = POSITIVE_OF.get(atom.op, atom.op)
    return positive(op, tag.get(atom.field), atom.operand)


def techniques_match(node: Node, tags: list[dict[str, Any]], vocab: Vocabulary) -> bool:
    """The technique condition on a parent's technique set (see the module docstring)."""
    if isinstance(node, And):
        return all(techniques_match(n, tags, vocab) for n in node.items)
    if isinstance(node, Or):
        return any(techniques_match(n, tags, vocab) for n in node.items)
    if isinstance(node, Text):
        return any(text_matches("Technique", node.value, t) for t in tags)
    hit = any(_tag_positive(node, t, vocab) for t in tags)
    return not hit if node.negative else hit


def technique_matches(node: Node, tag: dict[str, Any], vocab: Vocabulary) -> bool:
    """The technique condition on one technique (what an include embeds)."""
    if isinstance(node, And):
        return all(technique_matches(n, tag, vocab) for n in node.items)
    if isinstance(node, Or):
        return any(technique_matches(n, tag, vocab) for n in node.items)
    if isinstance(node, Text):
        return text_matches("Technique", node.value, tag)
    hit = _tag_positive(node, tag, vocab)
    return not hit if node.negative else hit


# --- objects with their relations -----------------------------------------------------

def select(model: str, obj: dict[str, Any], where: Node | None,
           includes: Iterable[Include], vocab: Vocabulary, *,
           semijoin: bool = True) -> dict[str, Any] | None:
    """`obj` (a full object: every relation present) as the answer shows it: its own
    fields and the included relations, filtered; None if it does not match. Without
    `semijoin` (one object asked for by id) an empty filtered relation removes nothing."""
    if where is not None and not matches(model, where, obj):
        return None
    m = MODELS[model]
    out = {k: v for k, v in obj.items() if k in m.fields}
    groups: dict[str, list[Include]] = {}
    for inc in includes:
        groups.setdefault(inc.relation, []).append(inc)
    for relation, incs in groups.items():
        children = obj.get(relation)
        if not m.relations[relation].many:
            children = [children] if children is not None else []
        embedded: dict[int, dict[str, Any]] = {}
        for inc in incs:
            kept = _children(inc, children, vocab)
            if not kept and inc.filtering and semijoin:
                return None
            for i, child in kept:
                embedded.setdefault(i, child)
        if m.relations[relation].many:
            out[relation] = [embedded[i] for i in sorted(embedded)]
        elif embedded:
            out[relation] = embedded[0]
    return out


def _own(model: str, obj: dict[str, Any]) -> dict[str, Any]:
    fields = MODELS[model].fields
    return {k: v for k, v in obj.items() if k in fields}


def _children(inc: Include, children: list[dict[str, Any]], vocab: Vocabulary,
              ) -> list[tuple[int, dict[str, Any]]]:
    """(position, child as embedded) of the children one include keeps."""
    if inc.model == "Technique" and inc.where is not None:
        if not children or not techniques_match(inc.where, children, vocab):
            return []
        own = [(i, t) for i, t in enumerate(children) if technique_matches(inc.where, t, vocab)]
        return [(i, _own("Technique", t)) for i, t in (own or list(enumerate(children)))]
    if inc.model == "Parameter" and inc.where is not None:
        kept = {i for i, p in enumerate(children) if parameter_matches(inc.where, p)}
        r = range_query(inc.where)
        if r is not None:
            extra = overlapping(r, children)
            kept |= {i for i, p in enumerate(children) if any(p is q for q in extra)}
        ctx = unit_context(inc.where, None)
        return [(i, in_unit(_own("Parameter", children[i]), ctx)) for i in sorted(kept)]
    out = []
    for i, c in enumerate(children):
        s = select(inc.model, c, inc.where, inc.include, vocab)
        if s is not None:
            out.append((i, s))
    return out
