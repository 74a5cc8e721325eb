"""The fan-out over real HTTP: stand-in partners on 127.0.0.1, a slow one and failing ones;
per-provider timeouts and statuses, the filter passed through, the circuit breaker on a
controlled clock, and no credentials in anything shown."""
from __future__ import annotations

import socket
import time
from contextlib import ExitStack

import pytest

from gateway.federation.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from gateway.federation.federator import Federation
from gateway.federation.plan import plan_find
from gateway.federation.providers import HttpProvider

from .panosc_partner import Partner, serve


def items(prefix: str, n: int) -> list[dict]:
    return [{"pid": f"{prefix}-{i}", "title": f"{prefix} item {i}", "isPublic": True,
             "creationDate": "2024-01-01"} for i in range(n)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def partners():
    parts = {
        "a": Partner({"Datasets": items("a", 4) + [{"pid": "10.5072/Both", "title": "shared"}],
                      "Instruments": []}),
        "b": Partner({"Datasets": items("b", 4) + [{"pid": "https://doi.org/10.5072/both",
                                                    "title": "shared"}]}),
        "slow": Partner({"Datasets": items("s", 2)}, delay=1.0),
        "broken": Partner({"Datasets": []}, fail="500"),
        "garbled": Partner({"Datasets": []}, fail="invalid-json"),
        "shapeless": Partner({"Datasets": []}, fail="not-array"),
    }
    with ExitStack() as stack:
        urls = {name: stack.enter_context(serve(p)) + "/api" for name, p in parts.items()}
        yield parts, urls


def federation(urls: dict[str, str], names: list[str], clock=time.monotonic, **timeouts):
    providers = [HttpProvider(n, urls[n], timeouts.get(n, 0.4)) for n in names]
    return Federation(providers, failure_threshold=2, cooldown=10, clock=clock)


def find(fed, **filter):
    return fed.find("Datasets", plan_find(filter, default_limit=100, max_window=1000))


def test_statuses_and_partial_results(partners):
    parts, urls = partners
    urls = dict(urls, refused=f"http://127.0.0.1:{closed_port()}/api")
    fed = federation(urls, ["a", "b", "slow", "broken", "garbled", "shapeless", "refused"])
    try:
        start = time.monotonic()
        got, statuses = find(fed, order="title ASC", limit=50)
        elapsed = time.monotonic() - start
    finally:
        fed.close()
    by = {s.name: s for s in statuses}
    assert {n: s.status for n, s in by.items()} == {
        "a": "ok", "b": "ok", "slow": "timeout", "broken": "error", "garbled": "error",
        "shapeless": "error", "refused": "error"}
    assert by["a"].count == 5 and by["slow"].message == "no answer within 0.4 s"
    assert by["broken"].message == "HTTP 500" and "not JSON" in by["garbled"].message
    assert "not a JSON array" in by["shapeless"].message
    assert "unreachable" in by["refused"].message
    assert 0.4 <= elapsed < 0.85  # the slow partner's timeout, not its 1 s
    assert len(got) == 9  # 4 + 4 + the shared DOI once
    shared = [i for i in got if i["title"] == "shared"]
    assert len(shared) == 1 and shared[0]["providers"] == ["a", "b"]
    assert shared[0]["pid"] == "10.5072/Both"  # equal keys: the first provider's copy


def test_filter_reaches_partners_faithfully(partners):
    parts, urls = partners
    fed = federation(urls, ["a", "b"])
    try:
        filter = {"where": {"text": "item"}, "skip": 3, "limit": 2, "order": "title DESC"}
        got, _ = find(fed, **filter)
        n, statuses = fed.count("Datasets", {"text": "item"})
    finally:
        fed.close()
    sent = {"where": {"text": "item"}, "skip": 0, "limit": 5, "order": ["title DESC", "pid ASC"]}
    assert parts["a"].received[0] == ("find", sent) and parts["b"].received[0] == ("find", sent)
    assert [i["pid"] for i in got] == ["b-0", "a-3"]  # b item 3..0, a item 3..0: 4th, 5th
    assert n == 8 and parts["a"].received[-1] == ("count", {"text": "item"})
    assert [s.count for s in statuses] == [4, 4]


def test_find_by_id_is_deterministic(partners):
    parts, urls = partners
    parts["b"].items["Datasets"].append({"pid": "a-1", "title": "b's copy"})
    fed = federation(urls, ["b", "a"])
    try:
        item, _ = fed.find_by_id("Datasets", "a-1", {})
        missing, statuses = fed.find_by_id("Datasets", "nowhere", {})
        slash, _ = fed.find_by_id("Datasets", "10.5072/Both", {})
    finally:
        fed.close()
    assert item["title"] == "b's copy" and item["provider"] == "b"
    assert item["providers"] == ["b", "a"]
    assert missing is None and [s.status for s in statuses] == ["ok", "ok"]
    assert slash["provider"] == "a"  # the pid's "/" travelled URL-encoded


def test_circuit_breaker_skips_a_failing_partner_then_tries_again(partners):
    parts, urls = partners
    now = [1000.0]
    fed = federation(urls, ["a", "broken"], clock=lambda: now[0])
    broken = parts["broken"]
    hits = []
    respond = broken.respond
    broken.respond = lambda request: hits.append(1) or respond(request)
    try:
        for _ in range(2):
            assert [s.status for s in find(fed)[1]] == ["ok", "error"]
        assert fed.describe()[1]["state"] == OPEN
        _, statuses = find(fed)
        assert statuses[1].status == "skipped" and "next try in 10 s" in statuses[1].message
        assert len(hits) == 2  # skipped: nothing was sent
        now[0] += 10
        assert fed.describe()[1]["state"] == HALF_OPEN
        assert find(fed)[1][1].status == "error" and len(hits) == 3  # one trial, failed
        assert find(fed)[1][1].status == "skipped"
        broken.fail = None
        now[0] += 10
        assert find(fed)[1][1].status == "ok" and len(hits) == 4
        assert fed.describe()[1]["state"] == CLOSED
    finally:
        fed.close()


def test_breaker_states_on_a_controlled_clock():
    now = [0.0]
    b = CircuitBreaker(threshold=3, cooldown=5, clock=lambda: now[0])
    b.failure(), b.failure()
    assert b.allow() and b.state == CLOSED
    b.success()
    b.failure(), b.failure()
    assert b.state == CLOSED  # consecutive failures only
    b.failure()
    assert b.state == OPEN and not b.allow() and b.retry_in() == 5
    now[0] = 4.9
    assert not b.allow()
    now[0] = 5.0
    assert b.allow() and not b.allow()  # one trial at a time
    b.release()  # a 4xx: no verdict, the next call is a trial again
    assert b.allow()
    b.failure()
    assert b.state == OPEN and not b.allow()
    now[0] = 10.0
    assert b.allow()
    b.success()
    assert b.state == CLOSED and b.allow() and b.allow()


def test_a_4xx_does_not_trip_the_breaker(partners):
    parts, urls = partners
    fed = federation(urls, ["a"])
    try:
        for _ in range(4):
            _, statuses = fed.find("Documents", plan_find({}, default_limit=5, max_window=10))
            assert statuses[0].status == "error" and statuses[0].message == "HTTP 404"
        assert fed.describe()[0]["state"] == CLOSED
    finally:
        fed.close()


def test_credentials_in_partner_urls_are_never_shown(partners):
    _, urls = partners
    port = closed_port()
    provider = HttpProvider("x", f"http://user:s3cret@127.0.0.1:{port}/api", 0.5)
    fed = Federation([provider], failure_threshold=3, cooldown=1)
    try:
        _, statuses = find(fed)
        shown = f"{fed.describe()} {statuses}"
    finally:
        fed.close()
    assert statuses[0].status == "error" and str(port) in shown
    assert "s3cret" not in shown and "user" not in shown


def test_providers_are_asked_at_once():
    """Three partners taking 0.3 s each answer in about 0.3 s together, not 0.9 s."""
    with ExitStack() as stack:
        urls = {f"p{i}": stack.enter_context(serve(Partner(
            {"Datasets": items(f"p{i}", 3)}, delay=0.3))) + "/api" for i in range(3)}
        fed = federation(urls, list(urls), **{name: 2.0 for name in urls})
        try:
            start = time.monotonic()
            got, statuses = find(fed)
            elapsed = time.monotonic() - start
        finally:
            fed.close()
    assert [s.status for s in statuses] == ["ok"] * 3 and len(got) == 9
    assert all(s.latency_ms >= 300 for s in statuses)
    assert elapsed < 0.6
