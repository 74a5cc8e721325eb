"""ICAT's JPQL dialect: tokenizer, recursive-descent parser and an evaluator over the `Store`.

Grammar (icat-rest.md §3)::

    query   := SELECT [DISTINCT] item {, item} FROM from {(, from) | join}
               [WHERE cond] [GROUP BY path {, path}] [ORDER BY path [ASC|DESC] {, ...}]
               ([include] [limit] | [limit] [include])
    item    := path | (COUNT|MIN|MAX|AVG|SUM) ( [DISTINCT] path )
    from    := Entity [AS] var | path [AS] var
    join    := [LEFT [OUTER] | INNER] JOIN path [AS] var
    cond    := term {OR term};  term := factor {AND factor};  factor := NOT factor | pred
    pred    := ( cond ) | operand (cmp operand | [NOT] LIKE operand [ESCAPE 'c']
               | [NOT] IN ( literal {, literal} ) | IS [NOT] NULL | [NOT] BETWEEN operand AND operand)
    operand := path | literal | :user | CURRENT_TIMESTAMP
    literal := integer | decimal | 'string' | TRUE | FALSE | {ts yyyy-mm-dd hh:mm:ss}
               | org.icatproject.<Enum>.<VALUE>
    include := INCLUDE 1 | INCLUDE path [[AS] var] {, path [[AS] var]}
    limit   := LIMIT offset , count

Semantics follow JPQL on a SQL database: path navigation through a many-to-one relation is an
inner join (a null relation drops the row), SQL three-valued logic for NULL, NULLs sort first in
ascending order (MySQL/MariaDB). Timestamps without a zone are read in the server zone.
Anything else (subqueries, arithmetic, functions, HAVING, MEMBER OF, ...) -> BAD_PARAMETER.
"""
from __future__ import annotations

import bisect
import math
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator

from .errors import IcatError, bad
from .schema import DATE, DOUBLE, ENUM, INT, STRING, Entity
from .timefmt import parse_datetime

# --------------------------------------------------------------------------------- tokenizer

KEYWORDS = {
    "SELECT", "DISTINCT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "ESCAPE", "IN", "IS",
    "NULL", "BETWEEN", "ORDER", "BY", "ASC", "DESC", "INCLUDE", "LIMIT", "JOIN", "LEFT", "OUTER",
    "INNER", "FETCH", "AS", "COUNT", "MIN", "MAX", "AVG", "SUM", "TRUE", "FALSE",
    "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "GROUP", "HAVING", "MEMBER", "OF",
    "EMPTY", "EXISTS", "ALL", "ANY", "SOME", "UPPER", "LOWER", "LENGTH", "CONCAT", "SUBSTRING",
    "TRIM", "LOCATE", "ABS", "SQRT", "MOD", "SIZE", "NEW", "UPDATE", "DELETE", "SET", "CASE",
    "WHEN", "THEN", "ELSE", "END", "TYPE", "KEY", "VALUE", "ENTRY", "TREAT", "FUNCTION"}
# keywords that may not be used as identification variables but that we do not implement
UNSUPPORTED = {"HAVING": "HAVING", "MEMBER": "MEMBER OF", "EMPTY": "IS EMPTY", "EXISTS": "EXISTS",
               "ALL": "ALL", "ANY": "ANY", "SOME": "SOME", "UPPER": "UPPER()", "LOWER": "LOWER()",
               "LENGTH": "LENGTH()", "CONCAT": "CONCAT()", "SUBSTRING": "SUBSTRING()",
               "TRIM": "TRIM()", "LOCATE": "LOCATE()", "ABS": "ABS()", "SQRT": "SQRT()",
               "MOD": "MOD()", "SIZE": "SIZE()", "NEW": "NEW", "CASE": "CASE",
               "CURRENT_DATE": "CURRENT_DATE", "CURRENT_TIME": "CURRENT_TIME",
               "FUNCTION": "FUNCTION()", "TREAT": "TREAT()"}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<ts>\{\s*ts\s+(?P<tsv>[^}]*)\})
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
  | (?P<param>:[A-Za-z_]\w*)
  | (?P<name>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<minus>-)
""", re.X)


@dataclass
class Tok:
    kind: str       # KW NAME NUM STR TS PARAM OP PUNCT
    value: Any
    pos: int
    text: str


def tokenize(query: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    n = len(query)
    while pos < n:
        m = _TOKEN.match(query, pos)
        if not m:
            ch = query[pos]
            if ch == "'":
                raise bad(f"Unterminated string starting at position {pos} in {query!r}")
            raise bad(f"Unexpected character '{ch}' at position {pos} in {query!r}")
        kind = m.lastgroup
        text = m.group(0)
        if kind == "ws":
            pass
        elif kind == "ts":
            toks.append(Tok("TS", m.group("tsv").strip(), pos, text))
        elif kind == "str":
            toks.append(Tok("STR", text[1:-1].replace("''", "'"), pos, text))
        elif kind == "num":
            value: Any = float(text) if any(c in text for c in ".eE") else int(text)
            if toks and toks[-1].kind == "MINUS":
                toks.pop()
                value = -value
            toks.append(Tok("NUM", value, pos, text))
        elif kind == "param":
            toks.append(Tok("PARAM", text[1:], pos, text))
        elif kind == "name":
            up = text.upper()
            if "." not in text and up in KEYWORDS:
                toks.append(Tok("KW", up, pos, text))
            else:
                toks.append(Tok("NAME", text, pos, text))
        elif kind == "op":
            toks.append(Tok("OP", "<>" if text == "!=" else text, pos, text))
        elif kind == "punct":
            toks.append(Tok("PUNCT", text, pos, text))
        elif kind == "minus":
            prev = toks[-1] if toks else None
            if prev is not None and (prev.kind in ("NAME", "NUM", "STR", "PARAM", "TS")
                                     or (prev.kind == "PUNCT" and prev.value == ")")):
                raise bad(f"Arithmetic is not supported (at position {pos})")
            toks.append(Tok("MINUS", "-", pos, text))
        pos = m.end()
    if toks and toks[-1].kind == "MINUS":
        raise bad("Unexpected '-' at end of query")
    return toks


# --------------------------------------------------------------------------------- AST

@dataclass
class PathRef:
    text: str
    var: str                 # upper-case identification variable
    fields: list[str]


@dataclass
class Lit:
    value: Any
    kind: str                # int float str bool ts enum


@dataclass
class Param:
    name: str


@dataclass
class CurTs:
    pass


@dataclass
class Cmp:
    op: str
    left: Any
    right: Any


@dataclass
class Logic:
    op: str                  # AND OR
    parts: list


@dataclass
class Not:
    part: Any


@dataclass
class Like:
    operand: Any
    pattern: Any
    escape: str | None
    negated: bool


@dataclass
class InList:
    operand: Any
    values: list
    negated: bool


@dataclass
class IsNull:
    operand: Any
    negated: bool


@dataclass
class Between:
    operand: Any
    low: Any
    high: Any
    negated: bool


@dataclass
class Agg:
    func: str
    distinct: bool
    arg: PathRef


@dataclass
class FromItem:
    var: str
    entity: str | None = None        # root
    path: PathRef | None = None      # join / comma-path
    left: bool = False


@dataclass
class Query:
    distinct: bool
    select: list                     # PathRef | Agg
    froms: list[FromItem]
    where: Any = None
    group_by: list = field(default_factory=list)
    order: list = field(default_factory=list)       # (PathRef, desc)
    include: Any = None              # None | "ONE" | list[(PathRef, alias|None)]
    limit: tuple[int, int] | None = None
    select_text: str = ""


@dataclass
class GetQuery:
    entity: str
    var: str | None
    include: Any


# --------------------------------------------------------------------------------- parser

class Parser:
    def __init__(self, query: str, entities: dict[str, Entity]) -> None:
        self.query = query
        self.toks = tokenize(query)
        self.i = 0
        self.entities = entities

    # token helpers
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at_kw(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "KW" and t.value in words

    def at_punct(self, p: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "PUNCT" and t.value == p

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise bad(f"Unexpected end of query: {self.query!r}")
        self.i += 1
        return t

    def expect_kw(self, word: str) -> None:
        t = self.peek()
        if t is None or t.kind != "KW" or t.value != word:
            self.fail(f"Expected {word}")
        self.i += 1

    def expect_punct(self, p: str) -> None:
        if not self.at_punct(p):
            self.fail(f"Expected '{p}'")
        self.i += 1

    def fail(self, what: str) -> None:
        t = self.peek()
        if t is not None and t.kind == "KW" and t.value in UNSUPPORTED:
            raise bad(f"{UNSUPPORTED[t.value]} is not supported by this server "
                      f"(position {t.pos}) in {self.query!r}")
        where = f"'{t.text}' at position {t.pos}" if t else "end of query"
        raise bad(f"{what} but found {where} in {self.query!r}")

    def path(self) -> PathRef:
        t = self.peek()
        if t is None or t.kind != "NAME":
            self.fail("Expected a path")
        self.i += 1
        parts = t.value.split(".")
        return PathRef(t.value, parts[0].upper(), parts[1:])

    # SELECT ...
    def parse_search(self) -> Query:
        self.expect_kw("SELECT")
        start = self.peek()
        distinct = False
        if self.at_kw("DISTINCT"):
            self.take()
            distinct = True
        select = [self.select_item()]
        while self.at_punct(","):
            self.take()
            select.append(self.select_item())
        end = self.peek()
        select_text = self.query[start.pos:end.pos].strip() if start and end else ""
        self.expect_kw("FROM")
        froms = [self.from_root()]
        while True:
            if self.at_punct(","):
                self.take()
                froms.append(self.from_root())
            elif self.at_kw("JOIN", "LEFT", "INNER"):
                froms.append(self.join())
            else:
                break
        q = Query(distinct, select, froms, select_text=select_text)
        if self.at_kw("WHERE"):
            self.take()
            q.where = self.cond()
        if self.at_kw("GROUP"):
            self.take()
            self.expect_kw("BY")
            q.group_by = [self.path()]
            while self.at_punct(","):
                self.take()
                q.group_by.append(self.path())
        if self.at_kw("ORDER"):
            self.take()
            self.expect_kw("BY")
            q.order = [self.order_item()]
            while self.at_punct(","):
                self.take()
                q.order.append(self.order_item())
        for _ in range(2):
            if self.at_kw("INCLUDE") and q.include is None:
                self.take()
                q.include = self.include_clause()
            elif self.at_kw("LIMIT") and q.limit is None:
                self.take()
                q.limit = self.limit_clause()
        if self.peek() is not None:
            self.fail("Expected end of query")
        return q

    def select_item(self):
        if self.at_kw("COUNT", "MIN", "MAX", "AVG", "SUM"):
            func = self.take().value
            self.expect_punct("(")
            distinct = False
            if self.at_kw("DISTINCT"):
                self.take()
                distinct = True
            arg = self.path()
            self.expect_punct(")")
            return Agg(func, distinct, arg)
        return self.path()

    def ident_var(self) -> str:
        if self.at_kw("AS"):
            self.take()
        t = self.peek()
        if t is None or t.kind != "NAME" or "." in t.value:
            self.fail("Expected an identification variable")
        self.i += 1
        return t.value.upper()

    def from_root(self) -> FromItem:
        t = self.peek()
        if t is not None and t.kind == "KW" and t.value == "IN":   # IN(path) var
            self.take()
            self.expect_punct("(")
            p = self.path()
            self.expect_punct(")")
            return FromItem(self.ident_var(), path=p)
        if t is None or t.kind != "NAME":
            self.fail("Expected an entity name")
        if "." in t.value:
            p = self.path()
            return FromItem(self.ident_var(), path=p)
        self.i += 1
        if t.value not in self.entities:
            raise bad(f"'{t.value}' is not an ICAT entity (in the FROM clause of {self.query!r})")
        return FromItem(self.ident_var(), entity=t.value)

    def join(self) -> FromItem:
        left = False
        if self.at_kw("LEFT"):
            self.take()
            left = True
            if self.at_kw("OUTER"):
                self.take()
        elif self.at_kw("INNER"):
            self.take()
        self.expect_kw("JOIN")
        if self.at_kw("FETCH"):
            raise bad("The FETCH keyword is not permitted")
        p = self.path()
        return FromItem(self.ident_var(), path=p, left=left)

    def order_item(self):
        p = self.path()
        desc = False
        if self.at_kw("ASC", "DESC"):
            desc = self.take().value == "DESC"
        return (p, desc)

    def include_clause(self):
        t = self.peek()
        if t is not None and t.kind == "NUM" and t.value == 1:
            self.take()
            return "ONE"
        items = [self.include_item()]
        while self.at_punct(","):
            self.take()
            items.append(self.include_item())
        return items

    def include_item(self):
        p = self.path()
        alias = None
        t = self.peek()
        if self.at_kw("AS") or (t is not None and t.kind == "NAME" and "." not in t.value):
            alias = self.ident_var()
        return (p, alias)

    def limit_clause(self):
        a = self.take()
        if a.kind != "NUM" or not isinstance(a.value, int):
            raise bad(f"LIMIT needs two integers: offset, count in {self.query!r}")
        self.expect_punct(",")
        b = self.take()
        if b.kind != "NUM" or not isinstance(b.value, int):
            raise bad(f"LIMIT needs two integers: offset, count in {self.query!r}")
        return (a.value, b.value)

    # conditions
    def cond(self):
        parts = [self.term()]
        while self.at_kw("OR"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Logic("OR", parts)

    def term(self):
        parts = [self.factor()]
        while self.at_kw("AND"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Logic("AND", parts)

    def factor(self):
        if self.at_kw("NOT"):
            self.take()
            return Not(self.factor())
        return self.predicate()

    def predicate(self):
        if self.at_punct("("):
            self.take()
            if self.at_kw("SELECT"):
                raise bad("Subqueries are not supported by this server")
            c = self.cond()
            self.expect_punct(")")
            return c
        left = self.operand()
        t = self.peek()
        if t is not None and t.kind == "OP":
            self.take()
            return Cmp(t.value, left, self.operand())
        negated = False
        if self.at_kw("NOT"):
            self.take()
            negated = True
        if self.at_kw("LIKE"):
            self.take()
            pat = self.operand()
            esc = None
            if self.at_kw("ESCAPE"):
                self.take()
                e = self.take()
                if e.kind != "STR" or len(e.value) != 1:
                    raise bad("ESCAPE needs a one-character string")
                esc = e.value
            return Like(left, pat, esc, negated)
        if self.at_kw("IN"):
            self.take()
            self.expect_punct("(")
            if self.at_kw("SELECT"):
                raise bad("Subqueries are not supported by this server")
            values = [self.operand()]
            while self.at_punct(","):
                self.take()
                values.append(self.operand())
            self.expect_punct(")")
            return InList(left, values, negated)
        if self.at_kw("BETWEEN"):
            self.take()
            low = self.operand()
            self.expect_kw("AND")
            return Between(left, low, self.operand(), negated)
        if not negated and self.at_kw("IS"):
            self.take()
            neg = False
            if self.at_kw("NOT"):
                self.take()
                neg = True
            if self.at_kw("NULL"):
                self.take()
                return IsNull(left, neg)
            self.fail("Expected NULL")
        self.fail("Expected a comparison operator, LIKE, IN, BETWEEN or IS")

    def operand(self):
        t = self.peek()
        if t is None:
            self.fail("Expected an operand")
        if t.kind == "NAME":
            if t.value.startswith("org.icatproject."):
                self.take()
                return Lit(t.value.rsplit(".", 1)[1], "enum")
            return self.path()
        self.take()
        if t.kind == "NUM":
            return Lit(t.value, "float" if isinstance(t.value, float) else "int")
        if t.kind == "STR":
            return Lit(t.value, "str")
        if t.kind == "TS":
            return Lit(t.value, "ts")
        if t.kind == "PARAM":
            if t.value != "user":
                raise bad(f"Unknown parameter :{t.value}")
            return Param(t.value)
        if t.kind == "KW":
            if t.value in ("TRUE", "FALSE"):
                return Lit(t.value == "TRUE", "bool")
            if t.value == "CURRENT_TIMESTAMP":
                return CurTs()
            if t.value == "NULL":
                return Lit(None, "null")
        self.i -= 1
        self.fail("Expected an operand")

    # get-by-id: "Dataset [ds] [INCLUDE ...]"
    def parse_get(self) -> GetQuery:
        t = self.take()
        if t.kind != "NAME" or "." in t.value:
            raise bad(f"Expected an entity name in get query {self.query!r}")
        if t.value not in self.entities:
            raise bad(f"'{t.value}' is not an ICAT entity")
        var = None
        if self.peek() is not None and self.peek().kind == "NAME":
            var = self.ident_var()
        include = None
        if self.at_kw("INCLUDE"):
            self.take()
            include = self.include_clause()
        if self.peek() is not None:
            self.fail("Expected INCLUDE or end of query")
        return GetQuery(t.value, var, include)


# --------------------------------------------------------------------------------- evaluation

class NullNav(Exception):
    """Navigation through a null many-to-one relation: the row is dropped (inner join)."""


_EMPTY: dict = {}
_OPS = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


@dataclass
class Include:
    """Tree of INCLUDEd relations: field -> child Include."""
    entity: str
    children: dict[str, "Include"] = field(default_factory=dict)


class Context:
    """Per-request evaluation context."""

    def __init__(self, store, *, user: str, now: datetime, readable: Callable | None) -> None:
        self.store = store
        self.user = user
        self.now = now
        self.readable = readable     # (etype, row) -> bool; None = sees everything


@dataclass
class ResolvedPath:
    slot: int
    nav: list[tuple[str, str]]       # many-to-one steps: (field, target type)
    last: str | None                 # attribute name, or None when the path ends on an entity
    etype: str                       # entity type owning `last` (or the entity reached)
    kind: str | None                 # attribute kind, "entity" when last is None


class Compiled:
    """A parsed query bound to the schema, ready to run against a Context."""

    def __init__(self, q: Query, store) -> None:
        self.q = q
        self.store = store
        self.schema = store.schema
        self.slots: dict[str, int] = {}
        self.types: list[str] = []
        self.joins: list[tuple] = []     # per slot: ("root", etype) | ("join", src, nav, final, many, left)
        for item in q.froms:
            if item.var in self.slots:
                raise bad(f"JPQL identification variable {item.var} has already been defined "
                          "in the FROM clause")
            if item.entity is not None:
                self.joins.append(("root", item.entity))
                etype = item.entity
            else:
                p = item.path
                if p.var not in self.slots:
                    raise bad(f"idVar '{p.var}' referenced in the FROM clause is not defined.")
                if not p.fields:
                    raise bad(f"Expected a relationship path after {p.text}")
                src = self.slots[p.var]
                etype = self.types[src]
                nav = []
                for f in p.fields[:-1]:
                    ent = self.schema[etype]
                    if f not in ent.m2o:
                        raise bad(f"{etype} has no many-to-one relationship field {f}")
                    etype = ent.m2o[f]
                    nav.append((f, etype))
                ent = self.schema[etype]
                f = p.fields[-1]
                if f in ent.o2m:
                    many = True
                    final = (f, ent.o2m[f][0])
                elif f in ent.m2o:
                    many = False
                    final = (f, ent.m2o[f])
                else:
                    raise bad(f"{etype} has no relationship field {f}")
                self.joins.append(("join", src, nav, final, many, item.left))
                etype = final[1]
            self.slots[item.var] = len(self.types)
            self.types.append(etype)
        # select
        self.aggs = [s for s in q.select if isinstance(s, Agg)]
        if self.aggs and len(self.aggs) != len(q.select) and not q.group_by:
            raise bad("Aggregate and non-aggregate expressions in SELECT need a GROUP BY")
        self.select_paths = [self.resolve(s.arg if isinstance(s, Agg) else s) for s in q.select]
        self.authz = self._authz_paths()
        self.where = self.compile_cond(q.where) if q.where is not None else None
        self.group = [self.value_fn(self.resolve(p)) for p in q.group_by]
        self.order = [(self.value_fn(self.resolve(p), entity_id=True), desc) for p, desc in q.order]
        self.include: Include | None = None
        single_entity = len(q.select) == 1 and not self.aggs and self.select_paths[0].last is None
        if q.include is not None and single_entity:
            self.include = build_include(self.schema, self.select_paths[0].etype, q.include,
                                         _select_names(q.select[0]))

    # --- paths
    def resolve(self, p: PathRef) -> ResolvedPath:
        if p.var not in self.slots:
            raise bad(f"idVar '{p.var}' is not defined in the FROM clause")
        slot = self.slots[p.var]
        etype = self.types[slot]
        nav = []
        fields = p.fields
        for i, f in enumerate(fields):
            ent = self.schema[etype]
            last = i == len(fields) - 1
            if f in ent.m2o:
                if last:
                    nav.append((f, ent.m2o[f]))
                    return ResolvedPath(slot, nav, None, ent.m2o[f], "entity")
                nav.append((f, ent.m2o[f]))
                etype = ent.m2o[f]
            elif ent.kind(f) is not None:
                if not last:
                    raise bad(f"{etype}.{f} is not a relationship and cannot be navigated "
                              f"in {p.text}")
                return ResolvedPath(slot, nav, f, etype, ent.kind(f))
            elif f in ent.o2m:
                raise bad(f"{p.text}: the collection-valued field {etype}.{f} needs a JOIN")
            else:
                raise bad(f"{etype} has no field {f} (in {p.text})")
        return ResolvedPath(slot, nav, None, etype, "entity")

    def value_fn(self, rp: ResolvedPath, *, entity_id: bool = False,
                 null_final: bool = False) -> Callable:
        """Closure binding -> value. Entities come back as row dicts (or their id)."""
        rows = self.store.rows
        slot, nav, last = rp.slot, rp.nav, rp.last
        if last is None and nav and null_final:
            # "x.rel IS NULL": test the foreign key without joining the final relation
            owner_nav, (fk, _) = nav[:-1], nav[-1]
            owner = ResolvedPath(slot, owner_nav, fk, "", INT)
            return self.value_fn(owner)
        if not nav:
            if last is None:
                if entity_id:
                    return lambda b: None if b[slot] is None else b[slot]["id"]
                return lambda b: b[slot]
            return lambda b: (b[slot] or _EMPTY).get(last)

        def fn(b):
            row = b[slot]
            if row is None:
                return None
            for f, target in nav:
                rid = row[f]
                if rid is None:
                    raise NullNav
                row = rows[target][rid]
            if last is None:
                return row["id"] if entity_id else row
            return row.get(last)
        return fn

    def _authz_paths(self) -> list[tuple[int, list, str]]:
        """Like ICAT's FromClause.authzMap: every entity whose field or self is selected."""
        out = {}
        for s in self.q.select:
            p = s.arg if isinstance(s, Agg) else s
            rp = self.resolve(p)
            nav = rp.nav if rp.last is None else rp.nav
            etype = rp.etype
            key = (rp.slot, tuple(f for f, _ in nav))
            out[key] = (rp.slot, list(nav), etype)
        return list(out.values())

    # --- conditions
    def operand_fn(self, node, kind_hint: str | None) -> tuple[Callable, str | None]:
        if isinstance(node, PathRef):
            rp = self.resolve(node)
            return self.value_fn(rp, entity_id=True), (rp.kind if rp.last else INT)
        if isinstance(node, Lit):
            v = coerce_literal(node, kind_hint, self.store.zone)
            return (lambda b: v), None
        if isinstance(node, Param):
            ctx_user = self  # resolved at run time through self.ctx
            return (lambda b: ctx_user.ctx.user), STRING
        if isinstance(node, CurTs):
            me = self
            return (lambda b: me.ctx.now), DATE
        raise bad("Unsupported operand")

    def _kind_of(self, node) -> str | None:
        if isinstance(node, PathRef):
            rp = self.resolve(node)
            return rp.kind if rp.last else INT
        if isinstance(node, CurTs):
            return DATE
        return None

    def compile_cond(self, node) -> Callable:
        if isinstance(node, Logic):
            parts = [self.compile_cond(p) for p in node.parts]
            if node.op == "AND":
                def f_and(b):
                    res = True
                    for p in parts:
                        v = p(b)
                        if v is False:
                            return False
                        if v is None:
                            res = None
                    return res
                return f_and

            def f_or(b):
                res = False
                for p in parts:
                    v = p(b)
                    if v is True:
                        return True
                    if v is None:
                        res = None
                return res
            return f_or
        if isinstance(node, Not):
            inner = self.compile_cond(node.part)

            def f_not(b):
                v = inner(b)
                return None if v is None else not v
            return f_not
        if isinstance(node, Cmp):
            hint = self._kind_of(node.left) or self._kind_of(node.right)
            lf, _ = self.operand_fn(node.left, hint)
            rf, _ = self.operand_fn(node.right, hint)
            op = _OPS[node.op]

            def f_cmp(b):
                lv = lf(b)
                if lv is None:
                    return None
                rv = rf(b)
                if rv is None:
                    return None
                try:
                    return op(lv, rv)
                except TypeError:
                    raise bad(f"Cannot compare {lv!r} with {rv!r}") from None
            return f_cmp
        if isinstance(node, Like):
            vf, _ = self.operand_fn(node.operand, STRING)
            if not isinstance(node.pattern, Lit) or not isinstance(node.pattern.value, str):
                raise bad("LIKE needs a string literal pattern")
            rx = like_regex(node.pattern.value, node.escape)
            neg = node.negated

            def f_like(b):
                v = vf(b)
                if v is None:
                    return None
                return (rx.fullmatch(str(v)) is None) if neg else (rx.fullmatch(str(v)) is not None)
            return f_like
        if isinstance(node, InList):
            hint = self._kind_of(node.operand)
            vf, _ = self.operand_fn(node.operand, hint)
            if not all(isinstance(v, Lit) for v in node.values):
                raise bad("IN needs a list of literals")
            values = {coerce_literal(v, hint, self.store.zone) for v in node.values}
            neg = node.negated

            def f_in(b):
                v = vf(b)
                if v is None:
                    return None
                return (v not in values) if neg else (v in values)
            return f_in
        if isinstance(node, IsNull):
            if not isinstance(node.operand, PathRef):
                raise bad("IS NULL needs a path")
            vf = self.value_fn(self.resolve(node.operand), entity_id=True, null_final=True)
            neg = node.negated
            return (lambda b: vf(b) is not None) if neg else (lambda b: vf(b) is None)
        if isinstance(node, Between):
            lo = Logic("AND", [Cmp(">=", node.operand, node.low), Cmp("<=", node.operand, node.high)])
            return self.compile_cond(Not(lo) if node.negated else lo)
        if isinstance(node, (Lit, PathRef)):
            vf, _ = self.operand_fn(node, None)
            return lambda b: vf(b)
        raise bad("Unsupported condition")

    # --- execution
    def id_candidates(self) -> tuple[list[int] | None, bool]:
        """Ids of the first root allowed by `root.id` conjuncts of the WHERE (None = all)."""
        if self.joins[0][0] != "root":
            return None, False
        ids = self.store.ids[self.types[0]]
        conj = []
        w = self.q.where
        if isinstance(w, Logic) and w.op == "AND":
            conj = w.parts
        elif w is not None:
            conj = [w]
        root = next(v for v, s in self.slots.items() if s == 0)
        lo, hi = 0, len(ids)
        explicit = None
        for c in conj:
            if isinstance(c, Cmp) and isinstance(c.left, PathRef) and c.left.var == root \
                    and c.left.fields == ["id"] and isinstance(c.right, Lit) \
                    and c.right.kind == "int":
                n = c.right.value
                if c.op == ">":
                    lo = max(lo, bisect.bisect_right(ids, n))
                elif c.op == ">=":
                    lo = max(lo, bisect.bisect_left(ids, n))
                elif c.op == "<":
                    hi = min(hi, bisect.bisect_left(ids, n))
                elif c.op == "<=":
                    hi = min(hi, bisect.bisect_right(ids, n))
                elif c.op == "=":
                    explicit = {n} if explicit is None else explicit & {n}
            elif isinstance(c, InList) and not c.negated and isinstance(c.operand, PathRef) \
                    and c.operand.var == root and c.operand.fields == ["id"] \
                    and all(isinstance(v, Lit) and v.kind == "int" for v in c.values):
                vals = {v.value for v in c.values}
                explicit = vals if explicit is None else explicit & vals
        if explicit is not None:
            rows = self.store.rows[self.types[0]]
            cand = sorted(i for i in explicit if i in rows)
            if lo > 0 or hi < len(ids):
                lo_id = ids[lo] if lo < len(ids) else math.inf
                hi_id = ids[hi - 1] if hi > 0 else -math.inf
                cand = [i for i in cand if lo_id <= i <= hi_id]
            return cand, True
        if lo == 0 and hi == len(ids):
            return None, False
        return ids[lo:hi], True

    def bindings(self, ctx: Context, reverse_root: bool = False,
                 fixed_root: dict | None = None) -> Iterator[list]:
        rows = self.store.rows
        store = self.store
        nslots = len(self.types)
        root_type = self.types[0]
        root_rows = rows[root_type]
        if fixed_root is not None:
            root_ids = [fixed_root["id"]]
        else:
            cand, _ = self.id_candidates()
            root_ids = cand if cand is not None else store.ids[root_type]
            if reverse_root:
                root_ids = list(reversed(root_ids))
            else:
                root_ids = list(root_ids)   # snapshot

        def expand(b: list, k: int) -> Iterator[list]:
            if k == nslots:
                yield b
                return
            spec = self.joins[k]
            if spec[0] == "root":
                for rid in list(store.ids[spec[1]]):
                    b[k] = rows[spec[1]][rid]
                    yield from expand(b, k + 1)
                b[k] = None
                return
            _, src, nav, (f, target), many, left = spec
            row = b[src]
            if row is not None:
                for nf, nt in nav:
                    nid = row[nf]
                    if nid is None:
                        row = None
                        break
                    row = rows[nt][nid]
            if row is None:
                if left:
                    b[k] = None
                    yield from expand(b, k + 1)
                return
            if many:
                owner_type = self.types[src] if not nav else nav[-1][1]
                kids = store.children(owner_type, row["id"], f)
                if not kids:
                    if left:
                        b[k] = None
                        yield from expand(b, k + 1)
                    return
                trows = rows[target]
                for cid in list(kids):
                    b[k] = trows[cid]
                    yield from expand(b, k + 1)
                b[k] = None
            else:
                rid = row[f]
                if rid is None:
                    if left:
                        b[k] = None
                        yield from expand(b, k + 1)
                    return
                b[k] = rows[target][rid]
                yield from expand(b, k + 1)

        b: list = [None] * nslots
        if nslots == 1:
            for rid in root_ids:
                row = root_rows.get(rid)
                if row is not None:
                    b[0] = row
                    yield b
            return
        for rid in root_ids:
            row = root_rows.get(rid)
            if row is None:
                continue
            b[0] = row
            yield from expand(b, 1)

    def matches(self, row: dict, ctx: Context) -> bool:
        """Rule check: does some binding with `row` as the first variable satisfy the WHERE?"""
        self.ctx = ctx
        if all(j[0] == "join" and not j[4] for j in self.joins[1:]):
            # only many-to-one joins: one binding at most, built without generators
            rows = self.store.rows
            b = [row] + [None] * (len(self.joins) - 1)
            for k, (_, src, nav, (f, target), _many, left) in enumerate(self.joins[1:], 1):
                r = b[src]
                if r is not None:
                    for nf, nt in nav:
                        nid = r[nf]
                        r = None if nid is None else rows[nt][nid]
                        if r is None:
                            break
                if r is not None:
                    rid = r[f]
                    r = None if rid is None else rows[target][rid]
                if r is None and not left:
                    return False
                b[k] = r
            try:
                return self.where is None or self.where(b) is True
            except NullNav:
                return False
        for _ in self.filtered(ctx, fixed_root=row, authz=False):
            return True
        return False

    def filtered(self, ctx: Context, reverse_root: bool = False, fixed_root: dict | None = None,
                 authz: bool = True) -> Iterator[list]:
        where = self.where
        rows = self.store.rows
        readable = ctx.readable
        authz = self.authz if (readable is not None and authz) else []
        for b in self.bindings(ctx, reverse_root, fixed_root):
            try:
                if where is not None and where(b) is not True:
                    continue
                ok = True
                for slot, nav, etype in authz:
                    row = b[slot]
                    if row is None:
                        continue
                    for f, target in nav:
                        rid = row[f]
                        if rid is None:
                            raise NullNav
                        row = rows[target][rid]
                    if not readable(etype, row):
                        ok = False
                        break
                if not ok:
                    continue
                yield b
            except NullNav:
                continue

    def run(self, ctx: Context, max_entities: int) -> tuple[list, bool]:
        """Rows of the result (entity rows as dicts) and whether they are entities."""
        self.ctx = ctx
        q = self.q
        offset, number = q.limit if q.limit is not None else (0, None)
        cap = number if number is not None and number <= max_entities else max_entities + 1
        projs = [self.value_fn(rp) for rp in self.select_paths]
        entity_result = len(projs) == 1 and not self.aggs and self.select_paths[0].last is None

        if self.aggs and not q.group_by:
            accs = [_Acc(a) for a in q.select]
            for b in self.filtered(ctx):
                try:
                    vals = [p(b) for p in projs]
                except NullNav:
                    continue
                for acc, v in zip(accs, vals):
                    acc.add(v)
            out = [[acc.result() for acc in accs]]
            out = out[offset:offset + number] if number is not None else out[offset:]
            return [r[0] if len(r) == 1 else r for r in out], False

        if q.group_by:
            groups: dict = {}
            for b in self.filtered(ctx):
                try:
                    key = tuple(_ident(g(b)) for g in self.group)
                    vals = [p(b) for p in projs]
                except NullNav:
                    continue
                accs = groups.get(key)
                if accs is None:
                    accs = groups[key] = [(_Acc(s) if isinstance(s, Agg) else _First())
                                          for s in q.select]
                for acc, v in zip(accs, vals):
                    acc.add(v)
            out = [[acc.result() for acc in accs] for accs in groups.values()]
            if q.order:
                raise bad("ORDER BY together with GROUP BY is not supported by this server")
            out = out[offset:]
            out = out[:number] if number is not None else out
            return _finish(out, max_entities), False

        stream_order = None
        if not q.order:
            stream_order = False
        elif len(q.order) == 1 and self.q.order[0][0].var == _root_var(self) \
                and self.q.order[0][0].fields == ["id"]:
            stream_order = self.q.order[0][1]   # desc?
        results = []
        seen = set() if q.distinct else None
        if stream_order is not None:
            source = self.filtered(ctx, reverse_root=stream_order)
            need = offset + cap
            for b in source:
                try:
                    vals = tuple(p(b) for p in projs)
                except NullNav:
                    continue
                if seen is not None:
                    key = tuple(_ident(v) for v in vals)
                    if key in seen:
                        continue
                    seen.add(key)
                results.append(vals)
                if len(results) >= need:
                    break
        else:
            keyed = []
            for b in self.filtered(ctx):
                try:
                    keys = [o(b) for o, _ in self.order]
                    vals = tuple(p(b) for p in projs)
                except NullNav:
                    continue
                keyed.append((keys, vals))
            for i in range(len(self.order) - 1, -1, -1):
                desc = self.order[i][1]
                keyed.sort(key=lambda kv: _sortkey(kv[0][i]), reverse=desc)
            for _, vals in keyed:
                if seen is not None:
                    key = tuple(_ident(v) for v in vals)
                    if key in seen:
                        continue
                    seen.add(key)
                results.append(vals)
        results = results[offset:offset + cap]
        if len(results) > max_entities:
            raise IcatError("VALIDATION", f"attempt to process more than {max_entities} entities")
        if len(projs) == 1:
            return [r[0] for r in results], entity_result
        return [list(r) for r in results], False


def _root_var(c: Compiled) -> str:
    return next(v for v, s in c.slots.items() if s == 0)


def _finish(out, max_entities):
    if len(out) > max_entities:
        raise IcatError("VALIDATION", f"attempt to process more than {max_entities} entities")
    return [r[0] if len(r) == 1 else r for r in out]


def _ident(v):
    if isinstance(v, dict):
        return ("#", v["id"])
    return v


def _sortkey(v):
    if isinstance(v, dict):
        v = v["id"]
    return (v is not None, v if v is not None else 0)


class _First:
    def __init__(self):
        self.v = None
        self.set = False

    def add(self, v):
        if not self.set:
            self.v, self.set = v, True

    def result(self):
        return self.v


class _Acc:
    def __init__(self, agg: Agg):
        self.func = agg.func
        self.distinct = agg.distinct
        self.values: list = []
        self.seen: set = set()

    def add(self, v):
        if v is None:
            return
        if isinstance(v, dict):
            v = ("#", v["id"]) if self.func == "COUNT" else v["id"]
        if self.distinct:
            if v in self.seen:
                return
            self.seen.add(v)
        self.values.append(v)

    def result(self):
        vals = self.values
        if self.func == "COUNT":
            return len(vals)
        if not vals:
            return None
        if self.func == "MIN":
            return min(vals)
        if self.func == "MAX":
            return max(vals)
        if self.func == "SUM":
            return sum(vals)
        return float(sum(vals)) / len(vals)   # AVG


def like_regex(pattern: str, escape: str | None) -> re.Pattern:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape is not None and c == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def coerce_literal(node: Lit, kind: str | None, zone) -> Any:
    v = node.value
    if node.kind == "null":
        return None
    if node.kind == "ts" or (kind == DATE and node.kind == "str"):
        try:
            return parse_datetime(v, zone)
        except ValueError:
            raise bad(f"Badly formatted timestamp '{v}'") from None
    if kind == DATE:
        raise bad(f"Cannot compare a date with {v!r}")
    if kind in (DOUBLE, INT) and node.kind == "str":
        try:
            return float(v)
        except ValueError:
            raise bad(f"Cannot compare a number with '{v}'") from None
    if kind in (STRING, ENUM) and node.kind in ("int", "float"):
        return str(v)
    return v


def _select_names(p) -> set[str]:
    names = {p.var}
    if isinstance(p, PathRef) and p.fields:
        names.add(p.text.upper())
    return names


def build_include(schema, etype: str, spec, root_names: set[str]) -> Include:
    top = Include(etype)
    if spec == "ONE":
        for f, target in schema[etype].m2o.items():
            top.children[f] = Include(target)
        return top
    aliases: dict[str, Include] = {n: top for n in root_names}
    for p, alias in spec:
        node = aliases.get(p.var)
        if node is None:
            raise bad(f"INCLUDE path {p.text} does not start with the selected variable or "
                      "a variable defined earlier in the INCLUDE clause")
        if not p.fields:
            raise bad(f"INCLUDE {p.text} names no relationship")
        for f in p.fields:
            ent = schema[node.entity]
            if f in ent.m2o:
                target = ent.m2o[f]
            elif f in ent.o2m:
                target = ent.o2m[f][0]
            else:
                raise bad(f"INCLUDE {p.text}: {node.entity} has no relationship field {f}")
            node = node.children.setdefault(f, Include(target))
        if alias is not None:
            if alias in aliases:
                raise bad(f"INCLUDE variable {alias} is already defined")
            aliases[alias] = node
    return top


def parse(query: str, entities) -> Query:
    return Parser(query, entities).parse_search()


def parse_get(query: str, entities) -> GetQuery:
    return Parser(query, entities).parse_get()
