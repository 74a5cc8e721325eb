"""The LoopBack 3 filter of the PaNOSC Search API: parsed, checked against the models and
turned into a small tree (`Filter`, `Include`, `And`, `Or`, `Atom`, `Text`) that the
evaluator and the SQL planner walk. Anything malformed raises `FilterError` with a message
that names the place (`include[0].scope.where.value`) and the problem.

Operands are normalised here, once: numbers given as strings become floats for number
fields, date operands become aware datetimes, `regexp` operands compiled patterns (refused
when they could backtrack catastrophically), `like` patterns `LikePattern`s.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from re import _constants as _sre  # the parse tree's opcodes
from re import _parser as _sre_parser  # to refuse slow patterns before running them
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Union

from mappings.record import parse_iso
from mappings.units import number

from ..index.textquery import MAX_TERMS

from .models import MODELS, Model

OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "between", "inq", "nin", "like", "nlike",
             "ilike", "nilike", "regexp")
NEGATIVE = frozenset({"neq", "nin", "nlike", "nilike"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_FILTER_CHARS = 20_000
MAX_DEPTH = 12
MAX_REGEXP_CHARS = 200  # bounds the cost of a pattern run over every candidate
MAX_SKIP = 2**63 - 1    # SQLite's largest integer (OFFSET); any larger skip is a 400
MAX_QUERY_WORDS = MAX_TERMS  # the native API's limit: more is a 400, not minutes of CPU
_WORD = re.compile(r"[^\W_]+")
TOP_KEYS = ("where", "include", "limit", "skip", "offset", "order", "query", "fields")
Scalar = Union[str, float, int, bool, None]


class FilterError(ValueError):
    """A filter that cannot be evaluated; the message says where and why (HTTP 400)."""


@dataclass(frozen=True)
class Atom:
    field: str
    op: str
    operand: Any          # normalised: float, str, datetime, pattern, tuple of these
    raw: Any = None       # as the client wrote it (numbers-as-strings, unit-less)

    @property
    def negative(self) -> bool:
        return self.op in NEGATIVE


@dataclass(frozen=True)
class Text:
    value: str            # `text`: ilike %value% over the model's text fields


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


Node = Union[Atom, Text, And, Or]
TRUE = And(())


@dataclass(frozen=True)
class Include:
    relation: str
    model: str
    where: Node | None = None
    include: tuple["Include", ...] = ()

    @property
    def filtering(self) -> bool:
        """Whether the include removes parents (a semi-join): a `scope.where`, or a nested
        include that does."""
        return self.where is not None or any(i.filtering for i in self.include)


@dataclass(frozen=True)
class Filter:
    model: str
    where: Node = TRUE
    include: tuple[Include, ...] = ()
    limit: int = DEFAULT_LIMIT
    skip: int = 0
    order: tuple[tuple[str, bool], ...] = ()   # (field, descending)
    query: str = ""
    fields: tuple[tuple[str, ...], bool] | None = None  # (names, keep) projection


def parse_filter(text: str | None) -> dict[str, Any]:
    """The JSON object of a `filter` (or `where`) query parameter; {} when absent."""
    if text is None or not text.strip():
        return {}
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"filter: longer than {MAX_FILTER_CHARS} characters")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise FilterError(f"filter: not valid JSON ({exc})") from None
    except RecursionError:
        raise FilterError("filter: JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise FilterError(f"filter: a JSON object expected, got {type(value).__name__}")
    return value


def compile_filter(model: str, raw: dict[str, Any], *, query: str | None = None) -> Filter:
    """The checked `Filter` of `raw` (a parsed filter object) for `model` ("Dataset", ...).
    `query` (the `?query=` parameter) is used when the filter has none."""
    if not isinstance(raw, dict):
        raise FilterError("filter: a JSON object expected")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise FilterError(f"filter: unknown key(s) {', '.join(map(repr, unknown))} "
                          f"(allowed: {', '.join(TOP_KEYS)})")
    _check_unicode(raw, "filter")
    m = MODELS[model]
    q = raw.get("query", query)
    if q is not None and not isinstance(q, str):
        raise FilterError("filter.query: a string expected")
    if q is not None:
        _check_unicode(q, "filter.query")
        if len(set(words(q))) > MAX_QUERY_WORDS:
            raise FilterError(f"filter.query: at most {MAX_QUERY_WORDS} words")
    return Filter(
        model=model, where=compile_where(m, raw.get("where"), "where"),
        include=_includes(m, raw.get("include"), "include", 0),
        limit=_count(raw.get("limit"), "limit", DEFAULT_LIMIT, MAX_LIMIT),
        skip=_count(raw.get("skip", raw.get("offset")), "skip", 0, MAX_SKIP),
        order=_order(m, raw.get("order")), query=(q or "").strip(),
        fields=_fields(m, raw.get("fields")))


def words(text: str) -> list[str]:
    """The query's words, case and accents folded, as FTS5's unicode61 tokenizer (with
    remove_diacritics) splits them: letters and digits, `_` a separator. (The native
    API's `gateway.index.textquery` keeps `_` and reads phrases and prefixes; a PaNOSC
    `query` is a bag of OR-ed words.)"""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                    if not unicodedata.combining(c))
    return _WORD.findall(plain)


def _check_unicode(value: Any, path: str) -> None:
    """FilterError naming the first string (key or value) holding a lone surrogate such
    as JSON's `"\\ud800"`: not text, and no database or encoder accepts it."""
    stack = [(path, value)]
    while stack:
        at, v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                check_text(k, f"{at}.{k!r}")
                stack.append((f"{at}.{k}", x))
        elif isinstance(v, list):
            stack.extend((f"{at}[{i}]", x) for i, x in enumerate(v))
        elif isinstance(v, str):
            check_text(v, at)


def check_text(text: str, path: str) -> None:
    """FilterError if `text` holds a lone surrogate (see `_check_unicode`)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FilterError(f"{path}: not valid Unicode (a lone surrogate such as \\ud800)"
                          ) from None


def compile_where(m: Model, where: Any, path: str, depth: int = 0) -> Node:
    """A `where` object as a tree; None or {} is TRUE."""
    if where is None:
        return TRUE
    if depth > MAX_DEPTH:
        raise FilterError(f"{path}: nested too deeply")
    if not isinstance(where, dict):
        raise FilterError(f"{path}: a JSON object expected, got {type(where).__name__}")
    items: list[Node] = []
    for key, cond in where.items():
        at = f"{path}.{key}"
        if key in ("and", "or"):
            if not isinstance(cond, list) or not cond:
                raise FilterError(f"{at}: a non-empty list of conditions expected")
            subs = tuple(compile_where(m, c, f"{at}[{i}]", depth + 1) for i, c in enumerate(cond))
            items.append(And(subs) if key == "and" else Or(subs))
        elif key == "text":
            if not isinstance(cond, str):
                raise FilterError(f"{at}: the text operator takes a string")
            items.append(Text(cond))
        elif key in m.fields:
            items.extend(_atoms(m, key, cond, at))
        else:
            known = ", ".join(sorted(m.fields | {"and", "or", "text"}))
            raise FilterError(f"{at}: {m.name} has no field {key!r} (fields: {known})")
    return items[0] if len(items) == 1 else And(tuple(items))


def _atoms(m: Model, name: str, cond: Any, path: str) -> list[Atom]:
    if not isinstance(cond, dict):
        return [_atom(m, name, "eq", cond, path)]
    if not cond:
        raise FilterError(f"{path}: an empty condition")
    options = cond.get("options")
    ops = {k: v for k, v in cond.items() if k != "options"}
    bad = [k for k in ops if k not in OPERATORS]
    if bad:
        raise FilterError(f"{path}: unknown operator {bad[0]!r} "
                          f"(operators: {', '.join(OPERATORS)})")
    if options is not None and (options not in ("i", "") or not any(
            k in ("like", "nlike", "regexp") for k in ops)):
        raise FilterError(f"{path}.options: only \"i\" with like, nlike or regexp")
    out = []
    for op, operand in ops.items():
        if options == "i" and op in ("like", "nlike"):
            op = "i" + op
        out.append(_atom(m, name, op, operand, f"{path}.{op}",
                         ignore_case=options == "i"))
    return out


def _atom(m: Model, name: str, op: str, operand: Any, path: str, *,
          ignore_case: bool = False) -> Atom:
    if op in ("between", "inq", "nin"):
        if not isinstance(operand, list) or (op == "between" and len(operand) != 2):
            raise FilterError(f"{path}: " + ("a list of two values expected" if op == "between"
                                             else "a list of values expected"))
        values = tuple(_value(m, name, op, v, f"{path}[{i}]") for i, v in enumerate(operand))
        return Atom(name, op, values, tuple(operand))
    if op in ("like", "nlike", "ilike", "nilike"):
        if not isinstance(operand, str):
            raise FilterError(f"{path}: a string pattern expected")
        return Atom(name, op, like_pattern(operand, op.endswith("ilike")), operand)
    if op == "regexp":
        return Atom(name, op, _regexp(operand, path, ignore_case), operand)
    if isinstance(operand, (dict, list)):
        raise FilterError(f"{path}: a single value expected")
    if op in ("gt", "gte", "lt", "lte") and (operand is None or isinstance(operand, bool)):
        raise FilterError(f"{path}: a number, string or date expected")
    return Atom(name, op, _value(m, name, op, operand, path), operand)


def _value(m: Model, name: str, op: str, v: Any, path: str) -> Any:
    if isinstance(v, (dict, list)):
        raise FilterError(f"{path}: a single value expected")
    if v is None or isinstance(v, bool):
        return v
    if name in m.dates:
        when = parse_date(v)
        if when is None:
            raise FilterError(f"{path}: {v!r} is not a date (ISO 8601 expected)")
        return when
    if name in m.numbers:
        x = number(v)
        if x is None:
            raise FilterError(f"{path}: {v!r} is not a number")
        return x
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        return v
    raise FilterError(f"{path}: unsupported value {v!r}")


def parse_date(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 date or date-time (naive = UTC), else None. A
    year ("2020") or year-month ("2020-05") is the start of that period, as LoopBack's
    JavaScript `Date` reads it."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _YEAR.fullmatch(text):
        text += "-01-01"
    elif _MONTH.fullmatch(text):
        text += "-01"
    try:
        when = parse_iso(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


_YEAR, _MONTH = re.compile(r"\d{4}"), re.compile(r"\d{4}-\d{2}")


ANY_ONE, ANY_RUN = object(), object()   # `_` and `%` in a LikePattern


@dataclass(frozen=True)
class LikePattern:
    """SQL LIKE over the whole value: `%` any run, `_` one character, `\\%`, `\\_` and
    `\\\\` literal. Matched by the greedy two-pointer wildcard algorithm, which never
    backtracks more than to the last `%`: O(len(value) x len(pattern)) at worst, where a
    regular expression took exponential time (`%_%_%_%_%_%_%_%Z`)."""
    tokens: tuple[Any, ...]   # characters (folded if ignore_case), ANY_ONE, ANY_RUN
    ignore_case: bool

    def matches(self, value: str) -> bool:
        text = [_fold_char(c) for c in value] if self.ignore_case else value
        toks, t, p = self.tokens, 0, 0
        star, mark = -1, 0           # the last `%` seen, and where its run now ends
        while t < len(text):
            if p < len(toks) and (toks[p] is ANY_ONE or toks[p] == text[t]):
                t, p = t + 1, p + 1
            elif p < len(toks) and toks[p] is ANY_RUN:
                star, mark, p = p, t, p + 1
            elif star >= 0:
                mark += 1            # let the last `%` take one more character
                t, p = mark, star + 1
            else:
                return False
        return all(tok is ANY_RUN for tok in toks[p:])


def _fold_char(c: str) -> str:
    """One character in lower case, kept one character (so `_` still counts one)."""
    low = c.lower()
    return low if len(low) == 1 else c


def like_pattern(pattern: str, ignore_case: bool) -> LikePattern:
    tokens: list[Any] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_\\":
            tokens.append(_fold_char(pattern[i + 1]) if ignore_case else pattern[i + 1])
            i += 2
            continue
        if c == "%":
            if not tokens or tokens[-1] is not ANY_RUN:   # `%%` is `%`
                tokens.append(ANY_RUN)
        else:
            tokens.append(ANY_ONE if c == "_" else _fold_char(c) if ignore_case else c)
        i += 1
    return LikePattern(tuple(tokens), ignore_case)


REGEXP_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "u": 0, "g": 0}
MAX_OPTIONAL = 3   # `?` quantifiers besides the one repetition


def _regexp(operand: Any, path: str, ignore_case: bool) -> re.Pattern[str]:
    """A JavaScript-style `/pattern/flags` or a bare pattern (searched, not anchored).
    Flags: i, m and s as in JavaScript; g and u change nothing here (every match counts,
    Python patterns are Unicode); y (sticky) has no meaning for a search and is refused.
    Python's `re` backtracks, so patterns that can take exponential or high-polynomial
    time are refused (see `_check_backtracking`)."""
    if not isinstance(operand, str) or len(operand) > MAX_REGEXP_CHARS:
        raise FilterError(f"{path}: a regular expression string of at most "
                          f"{MAX_REGEXP_CHARS} characters expected")
    flags = re.IGNORECASE if ignore_case else 0
    text = operand
    m = re.fullmatch(r"/(.*)/([a-z]*)", operand, re.DOTALL)
    if m:
        text = m.group(1)
        unknown = set(m.group(2)) - set(REGEXP_FLAGS)
        if unknown:
            raise FilterError(f"{path}: unsupported regexp flag(s) {''.join(sorted(unknown))} "
                              f"(supported: {', '.join(REGEXP_FLAGS)})")
        for flag in m.group(2):
            flags |= REGEXP_FLAGS[flag]
    try:
        parsed = _sre_parser.parse(text, flags)
        compiled = re.compile(text, flags)
    except re.error as exc:
        raise FilterError(f"{path}: invalid regular expression ({exc})") from None
    repeats, optional = _check_backtracking(parsed, path)
    if repeats > 1 or optional > MAX_OPTIONAL:
        raise FilterError(f"{path}: at most one repetition (*, +, {{m,n}}) and "
                          f"{MAX_OPTIONAL} optional parts (?) per regular expression "
                          "(more can take polynomial or exponential time)")
    return compiled


_REPEATS = frozenset({_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT})
_REFUSED = {_sre.GROUPREF: "backreferences", _sre.GROUPREF_EXISTS: "conditional groups",
            _sre.ASSERT: "lookarounds", _sre.ASSERT_NOT: "lookarounds"}


def _check_backtracking(items: Any, path: str) -> tuple[int, int]:
    """(repetitions, `?`s) in a parsed pattern; FilterError for what
    makes a backtracking matcher slow: backreferences, lookarounds, conditionals, and a
    quantifier around a group that holds another quantifier or an alternation
    (`(a+)+`, `(.|.)*`)."""
    repeats = optional = 0
    for op, av in items:
        if op in _REFUSED:
            raise FilterError(f"{path}: {_REFUSED[op]} are not supported in regexp")
        if op in _REPEATS:
            lo, hi, body = av
            if hi != lo and hi > 1 and _has_choice(body):
                raise FilterError(f"{path}: a quantifier around a group with a quantifier "
                                  "or an alternation is not supported in regexp (it can "
                                  "take exponential time)")
            if hi != lo:
                if hi > 1:
                    repeats += 1
                else:
                    optional += 1
            r, o = _check_backtracking(body, path)
        elif op == _sre.SUBPATTERN:
            r, o = _check_backtracking(av[3], path)
        elif op == _sre.ATOMIC_GROUP:
            r, o = _check_backtracking(av, path)
        elif op == _sre.BRANCH:
            counts = [_check_backtracking(alt, path) for alt in av[1]]
            r, o = sum(c[0] for c in counts), sum(c[1] for c in counts)
        else:
            continue
        repeats, optional = repeats + r, optional + o
    return repeats, optional


def _has_choice(items: Any) -> bool:
    """Whether a parsed pattern holds a variable quantifier or an alternation."""
    for op, av in items:
        if op == _sre.BRANCH or (op in _REPEATS and av[0] != av[1]):
            return True
        body = av[3] if op == _sre.SUBPATTERN else av if op == _sre.ATOMIC_GROUP else \
            av[2] if op in _REPEATS else None
        if body is not None and _has_choice(body):
            return True
    return False


def _includes(m: Model, raw: Any, path: str, depth: int) -> tuple[Include, ...]:
    if raw is None:
        return ()
    if depth > MAX_DEPTH:
        raise FilterError(f"{path}: nested too deeply")
    if isinstance(raw, str):
        return (_include(m, raw, None, path, depth),)
    if isinstance(raw, list):
        out: list[Include] = []
        for i, item in enumerate(raw):
            out.extend(_includes(m, item, f"{path}[{i}]", depth))
        return tuple(out)
    if isinstance(raw, dict):
        if "relation" in raw:
            unknown = set(raw) - {"relation", "scope"}
            if unknown:
                raise FilterError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} "
                                  "(relation, scope)")
            if not isinstance(raw["relation"], str):
                raise FilterError(f"{path}.relation: a relation name expected")
            return (_include(m, raw["relation"], raw.get("scope"), path, depth),)
        # LoopBack's short form {"members": "person"}: a relation and what it includes
        return tuple(_include(m, rel, {"include": sub}, f"{path}.{rel}", depth)
                     for rel, sub in raw.items())
    raise FilterError(f"{path}: a relation name, an object or a list expected")


def _include(m: Model, relation: str, scope: Any, path: str, depth: int) -> Include:
    rel = m.relation(relation)
    if rel is None:
        known = ", ".join(sorted(m.relations)) or "none"
        raise FilterError(f"{path}: {m.name} has no relation {relation!r} (relations: {known})")
    target = MODELS[rel.model]
    if scope is None:
        return Include(relation, rel.model)
    if not isinstance(scope, dict):
        raise FilterError(f"{path}.scope: a JSON object expected")
    unknown = set(scope) - {"where", "include"}
    if unknown:
        raise FilterError(f"{path}.scope: unsupported key(s) {', '.join(sorted(unknown))} "
                          "(where, include)")
    where = scope.get("where")
    return Include(relation, rel.model,
                   compile_where(target, where, f"{path}.scope.where") if where else None,
                   _includes(target, scope.get("include"), f"{path}.scope.include", depth + 1))


def _count(raw: Any, name: str, default: int, maximum: int) -> int:
    if raw is None:
        return default
    value = number(raw) if not isinstance(raw, bool) else None
    if value is None or not math.isfinite(value) or value != int(value) or value < 0:
        raise FilterError(f"filter.{name}: a whole number of 0 or more expected, got {raw!r}")
    if name == "limit" and value == 0:
        return default
    if value > maximum:
        raise FilterError(f"filter.{name}: at most {maximum}")
    return int(value)


def _order(m: Model, raw: Any) -> tuple[tuple[str, bool], ...]:
    if raw is None or raw == "" or raw == []:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if not isinstance(item, str):
            raise FilterError("filter.order: \"field ASC|DESC\" strings expected")
        parts = item.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper()
                                            not in ("ASC", "DESC")):
            raise FilterError(f"filter.order: {item!r} is not \"field ASC\" or \"field DESC\"")
        if parts[0] not in m.fields:
            raise FilterError(f"filter.order: {m.name} has no field {parts[0]!r}")
        out.append((parts[0], len(parts) == 2 and parts[1].upper() == "DESC"))
    return tuple(out)


def _fields(m: Model, raw: Any) -> tuple[tuple[str, ...], bool] | None:
    if raw is None:
        return None
    if isinstance(raw, list) and all(isinstance(f, str) for f in raw):
        names, keep = tuple(raw), True
    elif isinstance(raw, dict) and all(isinstance(v, bool) for v in raw.values()):
        keep = any(raw.values())
        names = tuple(k for k, v in raw.items() if v == keep)
    else:
        raise FilterError("filter.fields: a list of field names or {\"field\": true} expected")
    bad = [f for f in names if f not in m.fields and f not in m.relations]
    if bad:
        raise FilterError(f"filter.fields: {m.name} has no field {bad[0]!r}")
    return names, keep
