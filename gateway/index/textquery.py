"""User search text -> a safe FTS5 MATCH expression.

Users type words, "quoted phrases" and `prefix*` words. Every token is re-quoted, so no
input can reach FTS5's query syntax (operators, column filters, unbalanced quotes): any
string gives either a valid expression or None (nothing to search: match everything).
"""
from __future__ import annotations

import re

_PART = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


def terms(text: str) -> list[tuple[list[str], bool]]:
    """[(tokens of a phrase or word, is_prefix)], in order; empty pieces dropped."""
    out = []
    for phrase, word in _PART.findall(text):
        piece = phrase if phrase else word
        tokens = _WORD.findall(piece)
        if tokens:
            out.append((tokens, bool(word) and word.endswith("*")))
    return out


def to_fts(text: str) -> str | None:
    parts = []
    for tokens, prefix in terms(text):
        quoted = '"' + " ".join(tokens) + '"'
        parts.append(quoted + "*" if prefix else quoted)
    return " AND ".join(parts) or None
