"""User search text -> a safe FTS5 MATCH expression.

Users type words, "quoted phrases" and `prefix*` words. Every token is re-quoted, so no
input can reach FTS5's query syntax (operators, column filters, unbalanced quotes): any
string gives either a valid expression or None (nothing to search: match everything).
"""
from __future__ import annotations

import re

_PART = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")
MAX_TERMS = 32       # more words than this is a 400, not minutes of CPU
MAX_PHRASE = 16      # tokens kept of one phrase
MIN_PREFIX = 2       # characters before a '*'; shorter prefixes are searched as words


class TooManyTerms(ValueError):
    pass


def terms(text: str) -> list[tuple[list[str], bool]]:
    """[(tokens of a phrase or word, is_prefix)], in order, each once; empty pieces dropped.
    Raises TooManyTerms beyond MAX_TERMS distinct terms."""
    out: dict[tuple[tuple[str, ...], bool], None] = {}
    for phrase, word in _PART.findall(text):
        tokens = tuple(t.casefold() for t in _WORD.findall(phrase or word))[:MAX_PHRASE]
        if tokens:
            prefix = bool(word) and word.endswith("*") and len(tokens[-1]) >= MIN_PREFIX
            out[(tokens, prefix)] = None
            if len(out) > MAX_TERMS:
                raise TooManyTerms(f"at most {MAX_TERMS} search terms")
    return [(list(tokens), prefix) for tokens, prefix in out]


def to_fts(text: str) -> str | None:
    parts = []
    for tokens, prefix in terms(text):
        quoted = '"' + " ".join(tokens) + '"'
        parts.append(quoted + "*" if prefix else quoted)
    return " AND ".join(parts) or None
