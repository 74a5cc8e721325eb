"""Federation core without HTTP: order parsing, planning, and merged pages checked against
a brute-force oracle (every provider's full answer, merged and cut here independently of
gateway.federation.merge), for many skip/limit/order/query combinations."""
from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from gateway.federation.federator import Federation
from gateway.federation.merge import fused_score, identity, repeats
from gateway.federation.ordering import OrderBy, OrderError, compare_values, parse_order
from gateway.federation.plan import PlanError, plan_find, plan_where

from .panosc_partner import Partner

WORDS = ["cerium", "oxide", "lysozyme", "zeolite", "battery", "film", "Alpha", "alpha", "beta"]


class InProcess:
    """A provider given as plain Python calls on a stand-in partner (no HTTP)."""

    def __init__(self, name: str, partner: Partner, timeout: float = 5.0):
        self.name, self.partner, self.timeout = name, partner, timeout
        self.asked: list[dict] = []  # every find filter, as sent

    def find(self, model: str, filter: dict) -> list[dict]:
        self.asked.append(json.loads(json.dumps(filter)))
        return self.partner.find(model, self.asked[-1])

    def count(self, model: str, where: dict) -> int:
        return len(self.partner.find(model, {"where": where}))

    def find_by_id(self, model: str, pid: str, filter: dict) -> dict | None:
        return next((i for i in self.partner.items[model] if i["pid"] == pid), None)

    def describe(self) -> dict:
        return {"name": self.name}


def make_items(seed: int, n: int, shared: list[str], *,
               repeats: bool = False) -> list[dict[str, Any]]:
    """n datasets; some carry one of the `shared` DOIs (written in another form), some
    have no title or no size; titles repeat (ties). With `repeats`, a provider may hold
    the same DOI more than once (two harvested records sharing a DOI)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        pid = f"p{seed}-{i:03d}"
        if shared and rnd.random() < 0.3:
            doi = rnd.choice(shared)
            pid = rnd.choice([doi, doi.upper(), f"https://doi.org/{doi}", f"doi:{doi}"])
        elif repeats and rnd.random() < 0.4:  # its own DOIs, each held several times
            pid = f"10.5072/own-{seed}-{rnd.randrange(4)}"
        item: dict[str, Any] = {"pid": pid, "isPublic": True,
                                "creationDate": f"202{rnd.randrange(5)}-0{rnd.randrange(1, 9)}-01"}
        if rnd.random() > 0.1:
            item["title"] = " ".join(rnd.sample(WORDS, 2))
        if rnd.random() > 0.2:
            item["size"] = rnd.choice([10, 20, 30, 1.5])
        out.append(item)
    if repeats:
        return out
    seen, unique = set(), []
    for item in out:
        if doi_key(item["pid"]) not in seen:
            seen.add(doi_key(item["pid"]))
            unique.append(item)
    return unique


def fold(value: Any) -> tuple[bool, Any]:
    """Strings after numbers, case-insensitively (as the gateway's /api orders)."""
    return (True, value.casefold()) if isinstance(value, str) else (False, value)


def doi_key(pid: str) -> str:
    bare = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", pid, flags=re.I).lower()
    return bare if bare.startswith("10.") else pid


SHARED = [f"10.5072/shared-{k}" for k in range(12)]


@pytest.fixture(scope="module")
def partners() -> list[tuple[str, Partner]]:
    """Three providers; beta repeats DOIs within its own answer."""
    return [(name, Partner({"Datasets": make_items(seed, n, SHARED, repeats=name == "beta")}))
            for name, seed, n in [("local", 1, 60), ("alpha", 2, 45), ("beta", 3, 70)]]


def test_one_provider_does_repeat_itself(partners):
    beta = partners[2][1].items["Datasets"]
    own = [i for i in beta if "own" in i["pid"]]
    assert repeats(beta) >= 10 and len(own) - len({i["pid"] for i in own}) >= 5


@pytest.fixture(scope="module")
def fed(partners):
    fed = Federation([InProcess(n, p) for n, p in partners], failure_threshold=3, cooldown=30)
    yield fed
    fed.close()


def brute_force(partners, filter: dict, skip: int, limit: int) -> list[tuple[str, str]]:
    """(pid, provider) of the page, from every stand-in provider's full answer."""
    full = [(name, partner.find("Datasets", {k: v for k, v in filter.items()
                                             if k in ("where", "query")}))
            for name, partner in partners]
    return brute_force_merge(full, filter, skip, limit)


def brute_force_merge(full: list[tuple[str, list[dict]]], filter: dict, skip: int,
                      limit: int) -> list[tuple[str, str]]:
    """(pid, provider) of the page of the merge of every provider's full answer (given in
    each provider's order): sorted by the filter's order (nulls first ascending), else by
    rank-fused score with a query, else by pid; ties by pid, then provider; first copy of
    each DOI kept."""
    clauses = filter.get("order") or []
    clauses = [clauses] if isinstance(clauses, str) else clauses
    query = filter.get("query")
    rows = []
    for position, (name, items) in enumerate(full):
        for rank, item in enumerate(items, 1):
            rows.append({**item, "_p": position, "_name": name,
                         "_s": (61 / (60 + rank)) if query and not clauses else 1.0})
    rows.sort(key=lambda r: r["_p"])
    rows.sort(key=lambda r: r["pid"].casefold())
    if query and not clauses:
        rows.sort(key=lambda r: -r["_s"])
    for clause in reversed(clauses):
        field, _, direction = clause.partition(" ")
        desc = direction.upper() == "DESC"
        present = sorted([r for r in rows if r.get(field) is not None],
                         key=lambda r: fold(r[field]), reverse=desc)
        missing = [r for r in rows if r.get(field) is None]
        rows = present + missing if desc else missing + present
    seen, merged = set(), []
    for r in rows:
        if doi_key(r["pid"]) not in seen:
            seen.add(doi_key(r["pid"]))
            merged.append((r["pid"], r["_name"]))
    return merged[skip:skip + limit]


CASES = [
    ({}, 0, 10), ({}, 3, 3), ({}, 95, 20), ({}, 150, 50),
    ({"order": "title ASC"}, 0, 7), ({"order": "title DESC"}, 5, 13),
    ({"order": "title"}, 40, 25), ({"order": ["size DESC", "title ASC"]}, 2, 30),
    ({"order": ["size ASC", "creationDate DESC"]}, 17, 9), ({"order": "pid DESC"}, 11, 11),
    ({"order": ["creationDate DESC"]}, 60, 40),
    ({"query": "cerium"}, 0, 10), ({"query": "alpha zeolite"}, 4, 8),
    ({"query": "oxide film"}, 20, 30), ({"query": "beta", "order": "title DESC"}, 3, 12),
    ({"where": {"text": "alpha"}, "order": "title ASC"}, 2, 6),
    ({"where": {"size": 10}}, 1, 5), ({"order": "pid ASC"}, 150, 10),
    ({"order": "pid DESC"}, 0, 150),
]


@pytest.mark.parametrize("filter,skip,limit", CASES)
def test_merged_page_equals_brute_force(fed, partners, filter, skip, limit):
    plan = plan_find({**filter, "skip": skip, "limit": limit}, default_limit=100,
                     max_window=1000)
    items, statuses = fed.find("Datasets", plan)
    assert [s.status for s in statuses] == ["ok"] * 3
    assert [(i["pid"], i["provider"]) for i in items] == brute_force(partners, filter, skip,
                                                                      limit)
    assert all(0 < i["score"] <= 1 for i in items)


def test_pages_tile_the_whole_merge(fed, partners):
    """Consecutive pages, each fetched on its own, are the whole merge without gap or
    repeat (the production federator loses items here)."""
    whole = brute_force(partners, {"order": "title DESC"}, 0, 1000)
    paged = []
    for skip in range(0, len(whole) + 7, 7):
        plan = plan_find({"order": "title DESC", "skip": skip, "limit": 7},
                         default_limit=100, max_window=1000)
        paged += [(i["pid"], i["provider"]) for i in fed.find("Datasets", plan)[0]]
    assert paged == whole
    assert len({doi_key(p) for p, _ in paged}) == len(paged)


def test_duplicates_keep_provenance(fed):
    plan = plan_find({"limit": 300}, default_limit=100, max_window=1000)
    items, _ = fed.find("Datasets", plan)
    shared = [i for i in items if identity(i)[0] == "doi"]
    assert shared and all(len(i["providers"]) >= 1 for i in shared)
    assert any(len(i["providers"]) > 1 for i in shared)
    for item in items:
        assert item["provider"] in item["providers"]
        order = ["local", "alpha", "beta"]
        assert item["providers"] == sorted(item["providers"], key=order.index)


def test_a_provider_repeating_a_pid_is_asked_again_and_no_item_is_lost():
    """Two records sharing a DOI in one provider ([1, 2, 3, 31, 31, 4]): the window of
    skip + limit = 5 holds only 4 distinct items, so the provider is asked for one more."""
    pids = ["d1", "d2", "d3", "d31", "d31", "d4"]
    provider = InProcess("local", Partner({"Datasets": [{"pid": p} for p in pids]}))
    fed = Federation([provider], failure_threshold=3, cooldown=30)
    try:
        got, statuses = fed.find("Datasets", plan_find({"skip": 3, "limit": 2},
                                                        default_limit=10, max_window=100))
        whole, _ = fed.find("Datasets", plan_find({"limit": 5}, default_limit=10,
                                                  max_window=100))
    finally:
        fed.close()
    assert [i["pid"] for i in got] == ["d31", "d4"]
    assert [i["pid"] for i in whole] == ["d1", "d2", "d3", "d31", "d4"]
    assert [f["limit"] for f in provider.asked] == [5, 6, 5, 6]
    assert statuses[0].count == 6


def test_values_compare_as_the_local_api_orders_them():
    """Dates as instants (not as text), then booleans < numbers < strings < lists."""
    assert compare_values("2020-01-01T00:30:00+01:00", "2020-01-01T00:00:00Z") < 0
    assert compare_values("2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z") == 0
    assert compare_values("Beta", "alpha") > 0 and compare_values("ALPHA", "alpha") == 0
    ordered = [None, False, True, -1, 2.5, 10, "a", "B", [1], {"x": 1}]
    for a, b in zip(ordered, ordered[1:]):
        assert compare_values(a, b) < 0, (a, b)


def test_fused_scores_are_in_range_and_first_rank_is_one():
    assert fused_score(1) == 1.0
    assert 0 < fused_score(10_000) < fused_score(2) < 1


def test_uncalibrated_scores_are_kept():
    """Providers scoring 0 (reference implementation) or exactly 1 are not dropped, unlike
    the production federator; their raw score stays as providerScore."""
    zero = Partner({"Datasets": [{"pid": "z1", "title": "cerium"}]}, scores="zero")
    one = Partner({"Datasets": [{"pid": "o1", "title": "cerium oxide"}]}, scores="one")
    fed = Federation([InProcess("z", zero), InProcess("o", one)], failure_threshold=3,
                     cooldown=30)
    try:
        for filter in ({"query": "cerium"}, {}):
            plan = plan_find(filter, default_limit=10, max_window=100)
            items, _ = fed.find("Datasets", plan)
            assert {i["pid"]: i["providerScore"] for i in items} == {"z1": 0.0, "o1": 1.0}
            assert all(i["score"] == 1.0 for i in items)
    finally:
        fed.close()


def test_with_a_query_and_an_order_calibrated_scores_are_kept():
    """Ordered by title, a provider's rank is not relevance: its own score in (0, 1] is
    kept, anything else becomes 1."""
    providers = [InProcess(name, Partner({"Datasets": [{"pid": name, "title": "cerium"}]},
                                         scores=name)) for name in ("calibrated", "zero")]
    fed = Federation(providers, failure_threshold=3, cooldown=30)
    try:
        plan = plan_find({"query": "cerium", "order": "title ASC"}, default_limit=10,
                         max_window=100)
        items, _ = fed.find("Datasets", plan)
    finally:
        fed.close()
    assert {i["pid"]: i["score"] for i in items} == {"calibrated": 0.9, "zero": 1.0}


@pytest.mark.parametrize("a,b", [
    ("10.5072/ABC", "https://doi.org/10.5072/abc"),
    ("doi:10.5072/x", "http://dx.doi.org/10.5072/X"),
])
def test_doi_forms_are_one_identity(a, b):
    assert identity({"pid": a}) == identity({"pid": b})


def test_document_doi_field_is_an_identity():
    assert identity({"pid": "esrf:document:1", "doi": "10.15151/ESRF-ES-1"}) == \
        identity({"pid": "10.15151/esrf-es-1"})
    assert identity({"pid": "a"}) != identity({"pid": "A"})
    assert identity({}) is None


def test_parse_order():
    assert parse_order("title DESC") == (OrderBy("title", True),)
    assert parse_order(["a ASC", "b"]) == (OrderBy("a"), OrderBy("b"))
    assert parse_order(None) == ()
    for bad in ("title DOWN", "ti tle", 5, ["a", 3], "x;drop", "title, size DESC"):
        with pytest.raises(OrderError):
            parse_order(bad)


def test_plan_asks_every_provider_for_the_window_with_a_tiebreak():
    plan = plan_find({"where": {"x": 1}, "skip": 20, "limit": 5, "order": "title DESC",
                      "include": [{"relation": "techniques"}]}, default_limit=100,
                     max_window=1000)
    assert plan.provider_filter == {"where": {"x": 1}, "skip": 0, "limit": 25,
                                    "order": ["title DESC", "pid ASC"],
                                    "include": [{"relation": "techniques"}]}
    assert (plan.skip, plan.limit) == (20, 5)
    assert plan_find({}, default_limit=100, max_window=1000).provider_filter == \
        {"skip": 0, "limit": 100, "order": ["pid ASC"]}
    scored = plan_find({"query": "beam", "offset": 3, "limit": "4"}, default_limit=100,
                       max_window=1000)
    assert scored.provider_filter == {"query": "beam", "skip": 0, "limit": 7}
    assert scored.scored and scored.skip == 3


@pytest.mark.parametrize("filter,message", [
    ({"skip": 990, "limit": 20}, "first 1000"), ({"limit": -1}, "limit"),
    ({"skip": -1}, "skip"), ({"limit": "ten"}, "limit"), ({"limit": True}, "limit"),
    ({"order": "title SIDEWAYS"}, "order"), ({"query": 3}, "query"),
    ({"fields": {"title": True}}, "fields"),
])
def test_plan_refuses_what_it_cannot_serve(filter, message):
    with pytest.raises(PlanError, match=message):
        plan_find(filter, default_limit=100, max_window=1000)


def test_plan_where_accepts_both_forms():
    assert plan_where({"title": "a"}) == {"title": "a"}
    assert plan_where({"where": {"title": "a"}}) == {"title": "a"}
    with pytest.raises(PlanError):
        plan_where([1])


def test_a_provider_repeating_itself_beyond_the_largest_window_is_flagged():
    provider = InProcess("local", Partner({"Datasets": [{"pid": "same"}] * 8 + [{"pid": "z"}]}))
    fed = Federation([provider], failure_threshold=3, cooldown=30)
    try:
        got, statuses = fed.find("Datasets", plan_find({"limit": 2}, default_limit=2,
                                                        max_window=6))
    finally:
        fed.close()
    assert [f["limit"] for f in provider.asked] == [2, 3, 6]  # window + repeats, then most
    assert [i["pid"] for i in got] == ["same"]
    assert statuses[0].status == "ok" and "5 repeated items among its first 6" in \
        statuses[0].message
