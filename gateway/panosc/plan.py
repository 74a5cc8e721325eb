"""From a `Filter` to SQL over the projection: conditions that select a superset of the
matching items, and whether they select exactly the matching items.

Exact translations (the common queries): `pid`/`title` equality and a Dataset's `text`,
deep technique includes (`eq`/`inq`/`neq`/`nin` on pid, panetId or name, with and/or),
parameter includes made of a name, value bounds and a unit (SI comparison and
`_min`/`_max` overlap included), `text` and name equality on samples, files and the
instrument, a Document's `datasets` include (its own plan, nested), and `query`. When
every part is exact the database also orders and pages; otherwise `match.select` decides
on the candidates. Each translation mirrors a rule of `match.py`;
tests/test_panosc_oracle.py holds the two to the same answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mappings.units import number

from .filters import TRUE, And, Atom, Filter, Include, Node, Or, Text
from .match import (SI_OPS, TOLERANCE, UnitContext, Vocabulary, is_deep, si_bounds,
                    range_query, technique_sets, unit_context)

ORDER_COLUMNS = {"Dataset": {"pid": "pid_key", "title": "title_key", "creationDate": "sort_date",
                             "size": "size"},
                 "Document": {"pid": "pid_key", "title": "title_key", "startDate": "sort_date"}}


@dataclass
class Plan:
    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    exact: bool = True

    def add(self, sql: str | None, args: list[Any], exact: bool = True) -> None:
        """AND a condition (None: none could be written, so no longer exact)."""
        if sql is None:
            self.exact = False
        else:
            self.conditions.append(sql)
            self.args += args
            self.exact = self.exact and exact

    def sql(self, alias: str = "items") -> str:
        """The conditions AND-ed, on the items table named `alias`."""
        text = " AND ".join(self.conditions) or "1"
        return text if alias == "items" else text.replace("items.", f"{alias}.")


Sql = tuple[str, list[Any]] | None


def plan(f: Filter, vocab: Vocabulary, now: str | None, *, includes: bool = True) -> Plan:
    """The SQL for `f.where` and (with `includes`) its filtering includes, for items
    public at `now` (nested datasets are checked for visibility too)."""
    return _plan(f.model, f.where, f.include if includes else (), vocab, now)


def _plan(model: str, where: Node, includes: tuple[Include, ...], vocab: Vocabulary,
          now: str | None) -> Plan:
    p = Plan()
    sql, exact = _where(where, model)
    p.add(*(sql or ("1", [])), exact=exact)
    for inc in includes:
        if inc.filtering:
            if inc.model == "Dataset":
                p.add(*_datasets(inc, vocab, now))
            else:
                p.add(*(_include(inc, vocab) or (None, [])))
    return p


# a document's public datasets, by the keys they name it by (see projection.link_key)
LINKED = ("items.id IN (SELECT dk.item FROM doc_keys dk WHERE dk.key IN ("
          "SELECT pa.target FROM items ds JOIN parents pa ON pa.item = ds.id WHERE "
          "+ds.model = 'Dataset' AND (ds.release IS NULL OR ds.release <= ?) AND {conditions}))")
# (`+ds.model`: not by the model index, so SQLite starts from the conditions' sub-selects)


def _datasets(inc: Include, vocab: Vocabulary, now: str | None,
              ) -> tuple[str, list[Any], bool]:
    """A Document's `datasets` include: documents with a public dataset that passes the
    include's own plan (exact when that plan is)."""
    sub = _plan("Dataset", inc.where or TRUE, inc.include, vocab, now)
    return LINKED.format(conditions=sub.sql("ds")), [now, *sub.args], sub.exact


def _where(node: Node, model: str) -> tuple[Sql, bool]:
    """(a condition selecting a superset of the matches, or None; whether exactly them)."""
    if isinstance(node, And):
        parts = [_where(n, model) for n in node.items]
        kept = [s for s, _ in parts if s is not None]
        return _join(" AND ", kept, "1"), all(exact for _, exact in parts)
    if isinstance(node, Or):
        parts = [_where(n, model) for n in node.items]
        if any(s is None for s, _ in parts):
            return None, False
        conds = [s for s, _ in parts if s is not None]
        return _join(" OR ", conds, "0"), all(e for _, e in parts)
    if isinstance(node, Atom) and node.field in ("pid", "title") and node.op in ("eq", "inq"):
        values = node.operand if isinstance(node.operand, tuple) else (node.operand,)
        if all(isinstance(v, str) and number(v) is None for v in values):
            column = "pid_key" if node.field == "pid" else "title_key"
            return (f"items.{column} IN ({_marks(values)})", [v.casefold() for v in values]), True
    if isinstance(node, Text) and model == "Dataset":  # a Dataset's text field is its title
        return ("instr(items.title_key, ?) > 0", [node.value.casefold()]), True
    return None, False


def _join(sep: str, parts: list[tuple[str, list[Any]]], empty: str) -> tuple[str, list[Any]]:
    if not parts:
        return empty, []
    return "(" + sep.join(s for s, _ in parts) + ")", [a for _, args in parts for a in args]


def _marks(values: Any) -> str:
    return ",".join("?" * len(values))


def _include(inc: Include, vocab: Vocabulary) -> Sql:
    if inc.include or inc.where is None:
        return None
    if inc.model == "Technique":
        inner = _techniques(inc.where, vocab)
        if inner is None:
            return None
        return (f"(items.id IN (SELECT item FROM techniques) AND {inner[0]})", inner[1])
    if inc.model == "Parameter":
        return _parameters(inc.where)
    if inc.relation in ("samples", "files", "instrument"):
        row = _kid(inc.where)
        if row is not None:
            return (f"items.id IN (SELECT k.item FROM kids k WHERE k.relation = ? AND {row[0]})",
                    [inc.relation, *row[1]])
    return None


def _kid(node: Node) -> Sql:
    """A condition on one sample, file or instrument row of `kids`: `text`, and `name`
    equality (eq, inq, neq, nin with strings that are not numbers), with and/or."""
    if isinstance(node, (And, Or)):
        parts = [_kid(n) for n in node.items]
        if any(p is None for p in parts):
            return None
        return _join(" AND " if isinstance(node, And) else " OR ", parts,  # type: ignore[arg-type]
                     "1" if isinstance(node, And) else "0")
    if isinstance(node, Text):
        if "\n" in node.value:
            return None
        return "instr(k.text_key, ?) > 0", [node.value.casefold()]
    if node.field != "name" or node.op not in ("eq", "inq", "neq", "nin"):
        return None
    values = node.operand if isinstance(node.operand, tuple) else (node.operand,)
    if not all(isinstance(v, str) and number(v) is None for v in values):
        return None
    return (f"k.name_key {'NOT IN' if node.negative else 'IN'} ({_marks(values)})",
            [v.casefold() for v in values])


def _techniques(node: Node, vocab: Vocabulary) -> Sql:
    if isinstance(node, (And, Or)):
        parts = [_techniques(n, vocab) for n in node.items]
        if any(p is None for p in parts):
            return None
        return _join(" AND " if isinstance(node, And) else " OR ", parts,  # type: ignore[arg-type]
                     "1" if isinstance(node, And) else "0")
    if not isinstance(node, Atom) or not is_deep(node):
        return None
    operands = node.operand if isinstance(node.operand, tuple) else (node.operand,)
    if not all(isinstance(o, str) for o in operands):
        return None
    iris, literals = technique_sets(node, vocab)
    column = "name_key" if node.field == "name" else "iri_key"
    sql = (f"items.id {'NOT IN' if node.negative else 'IN'} (SELECT t.item FROM techniques t "
           f"WHERE t.iri IN ({_marks(iris)}) OR t.{column} IN ({_marks(literals)}))")
    return sql, [*sorted(iris), *literals]


def _parameters(node: Node) -> Sql:
    """A `params` subquery for a name + value bounds + unit conjunction, else None."""
    atoms = [node] if isinstance(node, Atom) else list(node.items) \
        if isinstance(node, And) else []
    if not atoms or not all(isinstance(a, Atom) and not a.negative for a in atoms):
        return None
    names = [a for a in atoms if a.field == "name"]
    units = [a for a in atoms if a.field == "unit"]
    values = [a for a in atoms if a.field == "value"]
    if len(names) != 1 or len(units) > 1 or len(names) + len(units) + len(values) != len(atoms):
        return None
    name = names[0]
    if name.op != "eq" or not isinstance(name.operand, str) or number(name.operand) is not None:
        return None
    ctx = unit_context(node, None)
    conds, args = ["p.name_key = ?"], [name.operand.casefold()]
    if units:
        unit = units[0]
        if unit.op != "eq" or not isinstance(unit.operand, str):
            return None
        if ctx is not None:
            conds.append("p.si_unit = ?")
            args.append(ctx.si)
        elif number(unit.operand) is None:
            conds.append("p.unit_key = ?")
            args.append(unit.operand.casefold())
        else:
            return None
    for a in values:
        sql = _value(a, ctx, name.operand)
        if sql is None:
            return None
        conds.append(sql[0])
        args += sql[1]
    found = ("items.id IN (SELECT p.item FROM params p WHERE " + " AND ".join(conds) + ")",
             args)
    r = range_query(node)
    if r is None:
        return found
    lo_sql = _bound(r.ctx, r.name + "_min", "lt" if r.hi_open else "lte", r.hi)
    hi_sql = _bound(r.ctx, r.name + "_max", "gt" if r.lo_open else "gte", r.lo)
    return (f"({found[0]} OR ({lo_sql[0]} AND {hi_sql[0]}))",
            [*found[1], *lo_sql[1], *hi_sql[1]])


_SQL_OPS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _si_condition(op: str, bound: Any) -> tuple[str, list[Any]]:
    """`match.si_compare` in SQL (the same slack)."""
    if op == "between":
        if bound[0] is None or bound[1] is None:
            return "0", []
        lo, hi = _si_condition("gte", bound[0]), _si_condition("lte", bound[1])
        return f"({lo[0]} AND {hi[0]})", lo[1] + hi[1]
    if op == "inq":
        parts = [_si_condition("eq", b) for b in bound if b is not None]
        return _join(" OR ", parts, "0")
    if bound is None:
        return "0", []
    slack = abs(bound) * TOLERANCE
    return {"eq": ("p.si BETWEEN ? AND ?", [bound - slack, bound + slack]),
            "gt": ("p.si > ?", [bound + slack]), "gte": ("p.si >= ?", [bound - slack]),
            "lt": ("p.si < ?", [bound - slack]), "lte": ("p.si <= ?", [bound + slack])}[op]


def _value(a: Atom, ctx: UnitContext | None, name: str) -> Sql:
    if a.op not in SI_OPS:
        return None
    if ctx is not None:
        return _si_condition(a.op, si_bounds(a.op, a.operand, ctx, name))
    operands = a.operand if isinstance(a.operand, tuple) else (a.operand,)
    if any(o is None or isinstance(o, bool) for o in operands):
        return None
    nums = [number(o) for o in operands]
    if a.op in ("eq", "inq"):
        ns = [n for n in nums if n is not None]
        texts = [o.casefold() for o, n in zip(operands, nums) if n is None]
        return (f"(p.num IN ({_marks(ns)}) OR p.text_key IN ({_marks(texts)}))", [*ns, *texts])
    if any(n is None for n in nums):
        return None
    if a.op == "between":
        return "p.num BETWEEN ? AND ?", nums
    return f"p.num {_SQL_OPS[a.op]} ?", nums


def _bound(ctx: UnitContext | None, name: str, op: str, value: float | None,
           ) -> tuple[str, list[Any]]:
    """Items with a `name` parameter whose value is `op value` (no bound: any value)."""
    conds, args = ["p.name_key = ?"], [name.casefold()]
    if ctx is not None:
        conds.append("p.si_unit = ?")
        args.append(ctx.si)
        if value is not None:
            sql, more = _si_condition(op, value)
            conds.append(sql)
            args += more
        else:
            conds.append("p.si IS NOT NULL")
    else:
        conds.append("p.num IS NOT NULL")
        if value is not None:
            conds.append(f"p.num {_SQL_OPS[op]} ?")
            args.append(value)
    return "items.id IN (SELECT p.item FROM params p WHERE " + " AND ".join(conds) + ")", args


def order_sql(f: Filter) -> str | None:
    """ORDER BY for `f.order` (then pid, then record id), or None if a field is not a
    column (the evaluator sorts then)."""
    columns = ORDER_COLUMNS.get(f.model, {})
    parts = []
    for name, desc in f.order:
        if name not in columns:
            return None
        parts.append(f"items.{columns[name]} {'DESC' if desc else 'ASC'}")
    return ", ".join([*parts, "items.pid_key ASC", "items.rid ASC"])

