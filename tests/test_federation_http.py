"""The fan-out over real HTTP: stand-in partners on 127.0.0.1, a slow one, failing ones and
a dripping one; per-provider timeouts (over the whole answer) and statuses, per-provider
capacity, answers cut to the limit sent and to the size cap, the filter passed through,
the circuit breaker on a controlled clock, and no credentials in anything shown."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Iterator

import pytest

from gateway.federation import providers
from gateway.federation.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from gateway.federation.federator import PROVIDER_CALLS, Federation
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


@contextmanager
def dripping() -> Iterator[str]:
    """A partner that sends its headers, then one byte every 0.1 s for ever: each socket
    read succeeds, so only a deadline over the whole answer ends the call."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n[")
                while not stop.wait(0.1):
                    conn.sendall(b" ")
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/api"
    finally:
        stop.set()
        server.close()


def drip_threads() -> int:
    return sum(t.name == "federation-drip" for t in threading.enumerate())


def test_a_dripping_partner_is_cut_at_its_deadline_and_cannot_starve_others(partners):
    """Every drip call ends at its deadline (its thread too); while its calls are all
    running it is skipped as busy (not a failure), and the other provider answers every
    request, however many run at once."""
    _, urls = partners
    with dripping() as drip:
        fed = Federation([HttpProvider("a", urls["a"], 2.0), HttpProvider("drip", drip, 0.5)],
                         failure_threshold=1000, cooldown=10)
        try:
            n = PROVIDER_CALLS + 3
            with ThreadPoolExecutor(n) as pool:
                runs = list(pool.map(lambda _: timed(find, fed), range(n)))
            ended = time.monotonic() + 2  # a call past its deadline ends within one read
            while drip_threads() and time.monotonic() < ended:
                time.sleep(0.05)
            assert drip_threads() == 0
            later, later_statuses = find(fed)
        finally:
            fed.close()
    drip = [statuses[1] for (_, statuses), _ in runs]
    assert all(statuses[0].status == "ok" for (_, statuses), _ in runs)
    assert all(seconds < 1.5 for _, seconds in runs)  # 0.5 s, on a loaded machine
    timeouts = sum(s.status == "timeout" for s in drip)
    assert timeouts >= PROVIDER_CALLS
    assert all(s.status == "skipped" and "busy" in s.message for s in drip
               if s.status != "timeout")
    assert fed.describe()[1]["consecutive_failures"] == timeouts + 1  # busy: no verdict
    assert [s.status for s in later_statuses] == ["ok", "timeout"] and len(later) == 5


class Blocking:
    """An in-process provider whose calls wait until `go` is set."""

    def __init__(self, name: str, timeout: float):
        self.name, self.timeout, self.go = name, timeout, threading.Event()

    def find(self, model: str, filter: dict) -> list[dict]:
        self.go.wait(5)
        return [{"pid": f"{self.name}-1"}]

    def describe(self) -> dict:
        return {"name": self.name}


def test_a_call_that_never_got_a_slot_is_skipped_not_failed():
    """With every slot of a provider taken, its next call waits for one until the
    provider's deadline, never starts, and is `skipped` (busy) with no verdict on the
    provider's health; once slots free up, calls go through again."""
    stuck, free = Blocking("stuck", 0.3), Blocking("free", 2.0)
    free.go.set()
    fed = Federation([stuck, free], failure_threshold=1000, cooldown=10)
    try:
        with ThreadPoolExecutor(PROVIDER_CALLS) as pool:
            first = list(pool.map(lambda _: find(fed), range(PROVIDER_CALLS)))
            assert {r[1][0].status for r in first} == {"timeout"}  # all 8 still running
            start = time.monotonic()
            got, statuses = find(fed)
            waited = time.monotonic() - start
            failures = fed.describe()[0]["consecutive_failures"]
            stuck.go.set()
        again, again_statuses = find(fed)
    finally:
        fed.close()
    assert statuses[0].status == "skipped" and "busy" in statuses[0].message
    assert statuses[1].status == "ok" and [i["pid"] for i in got] == ["free-1"]
    assert 0.3 <= waited < 1.0 and failures == PROVIDER_CALLS  # the 8 timeouts, not more
    assert [s.status for s in again_statuses] == ["ok", "ok"] and len(again) == 2


def timed(call, *args):
    start = time.monotonic()
    return call(*args), time.monotonic() - start


def test_a_partner_ignoring_limit_is_cut_to_it(partners):
    many = Partner({"Datasets": items("m", 3000)}, ignore_limit=True)
    with serve(many) as url:
        fed = Federation([HttpProvider("many", url + "/api", 5.0)], failure_threshold=3,
                         cooldown=10)
        try:
            got, statuses = find(fed, skip=2, limit=3)
        finally:
            fed.close()
    assert statuses[0].count == 5  # the window sent (skip + limit), not 3000
    assert [i["pid"] for i in got] == ["m-10", "m-100", "m-1000"]  # pid order, as text


def test_an_answer_over_the_size_cap_is_refused(partners, monkeypatch):
    _, urls = partners
    monkeypatch.setattr(providers, "MAX_ANSWER_BYTES", 300)
    fed = federation(urls, ["a"])
    try:
        small, ok = find(fed, limit=1)
        _, refused = find(fed, limit=5)
    finally:
        fed.close()
    assert ok[0].status == "ok" and len(small) == 1
    assert refused[0].status == "error" and "larger than 300 bytes" in refused[0].message
