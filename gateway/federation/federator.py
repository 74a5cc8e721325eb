"""The fan-out: every provider asked at once, each within its own timeout and behind its
own circuit breaker, with a status per provider.

Each call runs in a thread of its own, and each provider may have at most `PROVIDER_CALLS`
calls running: a call waits for a free slot of its provider until the provider's deadline.
One that never got a slot never started: it is `skipped` (busy), which is not held against
the provider's health. So a slow partner can only starve itself, never this gateway's own
index or another partner. A request waits for each provider until its timeout and then
reports it `timeout`; the abandoned call ends by itself, since an HTTP partner's answer is
read under that same deadline and size cap (`providers.MAX_ANSWER_BYTES`), overrunning it
by one socket read at most. So a request takes about as long as its slowest healthy
provider, and threads do not pile up: every one ends by its deadline or soon after.

A local provider's `FilterRefused` (the client's filter is invalid) ends the request at once
with that error (400 in the views), and counts for no provider's health.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass
from typing import Any, Callable

from ..config import redact_url
from .breaker import CircuitBreaker
from .merge import Answer, merge, page, repeats
from .plan import FindPlan
from .providers import FilterRefused, Provider, ProviderError, call_deadline

OK, TIMEOUT, ERROR, SKIPPED = "ok", "timeout", "error", "skipped"
PROVIDER_CALLS = 8  # calls to one provider running at once (its HTTP pool size)


@dataclass
class Status:
    """One provider's part in one federated request (the `X-Federation-Status` entries)."""
    name: str
    status: str
    latency_ms: float | None = None
    count: int | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    status: Status
    value: Any = None

    @property
    def ok(self) -> bool:
        return self.status.status == OK


class Federation:
    """The configured providers (local first, then partners in configuration order)."""

    def __init__(self, providers: list[Provider], *, failure_threshold: int, cooldown: float,
                 clock: Callable[[], float] = time.monotonic):
        self.providers = providers
        self.breakers = {p.name: CircuitBreaker(failure_threshold, cooldown, clock)
                         for p in providers}
        self.slots = {p.name: threading.BoundedSemaphore(PROVIDER_CALLS) for p in providers}
        self.last: dict[str, Status] = {}  # each provider's latest status, for the status page

    def find(self, model: str, plan: FindPlan) -> tuple[list[dict[str, Any]], list[Status]]:
        """The merged page, and every provider's status.

        Each answer is cut to the `limit` sent (a partner ignoring it costs nothing more).
        Global paging needs each provider's window to hold `skip + limit` distinct items; a
        full window holding the same pid/DOI twice holds fewer, so that provider is asked
        again for as many more as it repeated (then, if still short, for the most the
        federation fetches, `plan.max_window`; short even then, its status says so)."""
        window = plan.provider_filter["limit"]
        sent = {p.name: window for p in self.providers}

        def ask(p: Provider) -> list[dict[str, Any]]:
            limit = sent[p.name]
            return p.find(model, {**plan.provider_filter, "limit": limit})[:limit]

        outcomes = dict(zip((p.name for p in self.providers), self.fan_out(ask, len)))
        for attempt in range(2):
            short = [p for p in self.providers if outcomes[p.name].ok
                     and _short(outcomes[p.name].value, sent[p.name], window)
                     and sent[p.name] < plan.max_window]
            if not short:
                break
            for p in short:
                again = window + repeats(outcomes[p.name].value)
                sent[p.name] = min(plan.max_window, again if attempt == 0 else plan.max_window)
            for p, outcome in zip(short, self.fan_out(ask, len, short)):
                outcomes[p.name] = _after(outcomes[p.name], outcome)
        ordered = [outcomes[p.name] for p in self.providers]
        for o in ordered:
            if o.ok and _short(o.value, sent[o.status.name], window):
                o.status.message = (f"{repeats(o.value)} repeated items among its first "
                                    f"{len(o.value)}: the page may lack some of its items")
        answers = [Answer(p.name, o.value) for p, o in zip(self.providers, ordered) if o.ok]
        merged = merge(answers, plan.orders, scored=plan.scored)
        return page(merged, plan.skip, plan.limit), [o.status for o in ordered]

    def count(self, model: str, where: dict[str, Any]) -> tuple[int, list[Status]]:
        """The sum of the counts of the providers that answered."""
        outcomes = self.fan_out(lambda p: p.count(model, where), lambda n: n)
        return sum(o.value for o in outcomes if o.ok), [o.status for o in outcomes]

    def find_by_id(self, model: str, pid: str, filter: dict[str, Any]
                   ) -> tuple[dict[str, Any] | None, list[Status]]:
        """The first answering provider's copy, in configuration order (local first),
        tagged with `provider` and `providers` (all that have it)."""
        outcomes = self.fan_out(lambda p: p.find_by_id(model, pid, filter),
                                lambda item: int(item is not None))
        found = [(p.name, o.value) for p, o in zip(self.providers, outcomes)
                 if o.ok and o.value is not None]
        if not found:
            return None, [o.status for o in outcomes]
        item = dict(found[0][1])
        item["provider"], item["providers"] = found[0][0], [name for name, _ in found]
        return item, [o.status for o in outcomes]

    def fan_out(self, call: Callable[[Provider], Any], size: Callable[[Any], int],
                providers: list[Provider] | None = None) -> list[Outcome]:
        """`call` on every provider (or those given) at once; outcomes in that order. `size`
        gives the status's `count` from a provider's value. Raises `FilterRefused` as soon
        as a provider refuses the client's filter."""
        providers = self.providers if providers is None else providers
        start = time.monotonic()
        outcomes: dict[str, Outcome] = {}
        futures: dict[Future, Provider] = {}
        for p in providers:
            future, skipped = self._start(call, p, start + p.timeout)
            if future is None:
                outcomes[p.name] = Outcome(Status(p.name, SKIPPED, message=skipped))
            else:
                futures[future] = p
        pending = set(futures)
        while pending:
            wait_for = min(start + futures[f].timeout for f in pending) - time.monotonic()
            done, pending = wait(pending, timeout=max(0.0, wait_for),
                                 return_when=FIRST_COMPLETED)
            refused = [f.result()[1] for f in done if isinstance(f.result()[1], FilterRefused)]
            if refused:  # the client's mistake: no verdict on any provider still unsettled
                for f in done | pending:
                    f.cancel()
                    self.breakers[futures[f].name].release()
                raise refused[0]
            for f in done:
                outcomes[futures[f].name] = self._settle(futures[f], *f.result(), size)
            for f in [f for f in pending if time.monotonic() >= start + futures[f].timeout]:
                pending.discard(f)
                p = futures[f]
                if f.cancel():  # never started: every slot was taken; no verdict
                    self.breakers[p.name].release()
                    outcomes[p.name] = Outcome(Status(p.name, SKIPPED, message=(
                        f"busy: its {PROVIDER_CALLS} concurrent calls were all running")))
                    continue
                self.breakers[p.name].failure()
                outcomes[p.name] = Outcome(Status(p.name, TIMEOUT, round(p.timeout * 1000, 1),
                                                  message=f"no answer within {p.timeout:g} s"))
        self.last.update({name: o.status for name, o in outcomes.items()})
        return [outcomes[p.name] for p in providers]

    def _start(self, call: Callable[[Provider], Any], p: Provider, deadline: float
               ) -> tuple[Future | None, str | None]:
        """`call` on `p` in a thread of its own, if its circuit lets it through (else None
        and why it was skipped). The call waits for one of `p`'s slots until `deadline`;
        a future still pending then never started (and can be cancelled)."""
        if not self.breakers[p.name].allow():
            return None, self._skip_note(p)
        slots = self.slots[p.name]
        future: Future = Future()

        def run() -> None:
            if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return  # never started: the waiter cancels it
            try:
                if future.set_running_or_notify_cancel():
                    call_deadline.set(deadline)  # this thread's own context
                    future.set_result(_timed(call, p))
            finally:
                slots.release()
        threading.Thread(target=run, name=f"federation-{p.name}", daemon=True).start()
        return future, None

    def _settle(self, p: Provider, value: Any, error: ProviderError | None, seconds: float,
                size: Callable[[Any], int]) -> Outcome:
        ms = round(seconds * 1000, 1)
        breaker = self.breakers[p.name]
        if error is None:
            breaker.success()
            return Outcome(Status(p.name, OK, ms, size(value)), value)
        if error.health:
            breaker.failure()
        else:
            breaker.release()
        return Outcome(Status(p.name, TIMEOUT if error.timeout else ERROR, ms,
                              message=str(error)))

    def _skip_note(self, p: Provider) -> str:
        retry = self.breakers[p.name].retry_in()
        note = f"circuit open after {self.breakers[p.name].failures} consecutive failures"
        return note + (f"; next try in {retry:.0f} s" if retry is not None else "")

    def describe(self) -> list[dict[str, Any]]:
        """Every provider with its breaker state and latest status, for `GET /federation`."""
        return [p.describe() | {"state": self.breakers[p.name].state,
                                "consecutive_failures": self.breakers[p.name].failures,
                                "last": self.last[p.name].to_json() if p.name in self.last
                                else None}
                for p in self.providers]

    def close(self) -> None:
        """Close the partners' HTTP sessions (calls still running end by their deadline)."""
        for p in self.providers:
            getattr(p, "close", lambda: None)()


def _short(items: list[dict[str, Any]], sent: int, window: int) -> bool:
    """Whether a provider's answer may lack an item of the merged window: it filled the
    `sent` limit (more may follow) yet holds fewer than `window` distinct items, because
    it repeated some (each repeat pushed one item beyond what was fetched)."""
    return len(items) >= sent and len(items) - repeats(items) < window


def _after(first: Outcome, again: Outcome) -> Outcome:
    """A provider's outcome once asked again for a longer window: the longer answer (its
    latency the sum of both calls'), or the failure of the second call."""
    if not again.ok:
        return again
    again.status.latency_ms = round((first.status.latency_ms or 0)
                                    + (again.status.latency_ms or 0), 1)
    return again


def _timed(call: Callable[[Provider], Any], p: Provider
           ) -> tuple[Any, ProviderError | None, float]:
    start = time.perf_counter()
    try:
        return call(p), None, time.perf_counter() - start
    except ProviderError as exc:
        return None, exc, time.perf_counter() - start
    except Exception as exc:  # a provider's bug is that provider's error, not the request's
        message = redact_url(f"{type(exc).__name__}: {exc}")
        return None, ProviderError(message), time.perf_counter() - start
