"""Merging providers' answers into one globally ordered, deduplicated list. Pure: no I/O.

Why the result is exact (docs/federation.md, "Global paging"): every provider is asked for
the first `skip + limit` items in the same order (with a `pid` tiebreak), the copies are
sorted together, the first copy of each pid/DOI is kept, and only then is the page cut.
An item on the merged page has fewer than `skip + limit` distinct items above it, so its
best-placed copy is within its provider's first `skip + limit` plus the repeats (`repeats`)
above it there: the page equals the same page of a merge of every provider's full answer
once each provider's window holds `skip + limit` distinct items (the federator asks a
provider that repeated itself again for more).

Scores (`query`): rank-based (reciprocal rank fusion, k = 60, rescaled so that a provider's
first item scores 1): a provider's raw scores are not comparable with another's (TF-IDuF
per facility, -1 or 0 when unscored, sometimes exactly 1), but its order is. A fused score
depends only on the item's rank in its provider, so it is the same whatever window was
fetched. The raw score is kept as `providerScore`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cmp_to_key
from typing import Any

from mappings.rights import normalise_doi

from .ordering import OrderBy, comparator, with_tiebreak

RRF_K = 60


@dataclass(frozen=True)
class Answer:
    """One provider's items, in the provider's own order."""
    provider: str
    items: list[dict[str, Any]]


@dataclass
class _Copy:
    item: dict[str, Any]
    provider: str
    position: int  # the provider's place in the configuration (local first)
    score: float
    providers: list[str] = field(default_factory=list)


def fused_score(rank: int) -> float:
    """The score of a provider's `rank`-th item (1-based): 1 for the first, in (0, 1]."""
    return (RRF_K + 1) / (RRF_K + rank)


def identity(item: dict[str, Any]) -> tuple[str, str] | None:
    """What makes two copies the same thing: the DOI (of `pid`, else of `doi`), compared
    without resolver prefix and case-insensitively as DOIs are; else the `pid` as given.
    None (never merged) when there is no pid."""
    for value in (item.get("pid"), item.get("doi")):
        if isinstance(value, str):
            bare = normalise_doi(value.strip().lower())
            if bare:
                return ("doi", bare)
    pid = item.get("pid")
    return ("pid", str(pid)) if pid is not None else None


def repeats(items: list[dict[str, Any]]) -> int:
    """How many of one provider's items repeat an identity given earlier in its list (two
    harvested records sharing a DOI): each takes a place in the provider's window, so the
    window holds that many fewer distinct items."""
    seen: set[tuple[str, str]] = set()
    n = 0
    for item in items:
        key = identity(item)
        if key in seen:
            n += 1
        elif key:
            seen.add(key)
    return n


def merge(answers: list[Answer], orders: tuple[OrderBy, ...], *,
          scored: bool) -> list[dict[str, Any]]:
    """Every answer's items in one list, deduplicated, in the merge order: `orders` (then
    pid, then provider position) when given; else, with `scored` (a query), fused score
    descending (then pid, provider); else pid ascending. Each item gets `score` (`_score`),
    `provider` (whose copy it is: the best placed, ties to the provider listed first) and
    `providers` (every provider whose answer had it)."""
    copies = [_Copy(item, a.provider, position, _score(item, rank, scored, bool(orders)))
              for position, a in enumerate(answers)
              for rank, item in enumerate(a.items, 1)]
    copies.sort(key=cmp_to_key(_copy_comparator(orders, scored)))
    kept: dict[tuple[str, str], _Copy] = {}
    out: list[_Copy] = []
    for copy in copies:
        key = identity(copy.item)
        first = kept.get(key) if key else None
        if first is None:
            copy.providers.append(copy.provider)
            out.append(copy)
            if key:
                kept[key] = copy
        elif copy.provider not in first.providers:
            first.providers.append(copy.provider)
    return [_output(c, answers) for c in out]


def _score(item: dict[str, Any], rank: int, scored: bool, ordered: bool) -> float:
    """The fused score with a query; with a query and an order (the provider's list is not
    in relevance order), the provider's own score when it lies in (0, 1], else 1; without
    a query, 1 (every item matches the filter exactly)."""
    if not scored:
        return 1.0
    if not ordered:
        return fused_score(rank)
    raw = item.get("score")
    calibrated = isinstance(raw, (int, float)) and not isinstance(raw, bool) and 0 < raw <= 1
    return float(raw) if calibrated else 1.0


def _copy_comparator(orders: tuple[OrderBy, ...], scored: bool):
    by_item = comparator(with_tiebreak(orders))
    by_score = scored and not orders

    def cmp(a: _Copy, b: _Copy) -> int:
        if by_score and a.score != b.score:
            return -1 if a.score > b.score else 1
        return by_item(a.item, b.item) or (a.position - b.position)
    return cmp


def _output(copy: _Copy, answers: list[Answer]) -> dict[str, Any]:
    order = [a.provider for a in answers]
    out = dict(copy.item)
    raw = out.get("score")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        out["providerScore"] = raw
    out["score"] = copy.score
    out["provider"] = copy.provider
    out["providers"] = sorted(copy.providers, key=order.index)
    return out


def page(items: list[dict[str, Any]], skip: int, limit: int) -> list[dict[str, Any]]:
    return items[skip:skip + limit]
