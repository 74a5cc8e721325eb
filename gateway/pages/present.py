"""Pure helpers that turn record values into what a page shows: a citation line, sizes,
dates, highlighted search matches, JSON-LD safe to embed in HTML."""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from mappings.derived import truncate
from mappings.record import Record
from mappings.render import Context
from mappings.rights import day, family_given, publication_year

from .signposting import cite_as

_WORD = re.compile(r"\w+")
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def citation(record: Record, context: Context) -> str:
    """DataCite's recommended form: Creators (Year). Title. Publisher. Identifier."""
    names = "; ".join(family_given(p) for p in record.creators)
    publisher = record.facility.name if record.facility else context.catalog_name
    head = f"{names} ({publication_year(record, context.now)})" if names else (
        f"({publication_year(record, context.now)})")
    title = record.title.rstrip(".")
    return f"{head}. {title}. {publisher}. {cite_as(record, context)}"


def size(n: int | None) -> str | None:
    """Bytes in decimal units, as storage vendors and DataCite `sizes` count them."""
    if n is None:
        return None
    value, unit = float(n), "B"
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            break
        value /= 1000
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"


def when(dt: datetime | None) -> str | None:
    """A date-time as the page shows it: UTC, to the minute."""
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else None


def date(dt: datetime | None) -> str | None:
    return day(dt) if dt else None


def embed_json(data: Any) -> Markup:
    """JSON for a `<script type="application/ld+json">`: `<`, `>` and `&` as \\u escapes, so
    no value can close the script element or open a comment (JSON-LD readers decode them)."""
    return Markup(json.dumps(data, ensure_ascii=False, indent=2).translate(_JSON_IN_HTML))


def _fold(word: str) -> str:
    """Case and accents folded, as the search index compares words."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def highlight(text: str, terms: list[tuple[list[str], bool]]) -> Markup:
    """`text` escaped, with each word that a search term matches in `<mark>`. `terms` as
    `gateway.index.textquery.terms` gives them: (tokens, is_prefix); every token of a
    phrase is marked where it occurs."""
    words = {_fold(t) for tokens, _ in terms for t in tokens}
    prefixes = {_fold(tokens[-1]) for tokens, prefix in terms if prefix}
    out, last = [], 0
    for m in _WORD.finditer(text):
        word = _fold(m.group())
        if word in words or any(word.startswith(p) for p in prefixes):
            out += [str(escape(text[last:m.start()])), "<mark>", str(escape(m.group())),
                    "</mark>"]
            last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def snippet(text: str | None, limit: int = 300) -> str:
    """The start of a description for a result list, cut at a word boundary."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else truncate(text, limit)
