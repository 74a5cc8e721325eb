"""The fan-out: every provider asked at once in a thread pool, each within its own timeout
and behind its own circuit breaker, with a status per provider.

A call that overruns its provider's timeout is abandoned (reported `timeout`; its thread
ends when the HTTP client's own timeout, the same number, fires), so a request takes about
as long as its slowest healthy provider.
"""
from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any, Callable

from ..config import redact_url
from .breaker import CircuitBreaker
from .merge import Answer, merge, page
from .plan import FindPlan
from .providers import Provider, ProviderError

OK, TIMEOUT, ERROR, SKIPPED = "ok", "timeout", "error", "skipped"


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
        self.last: dict[str, Status] = {}  # each provider's latest status, for the status page
        self.pool = ThreadPoolExecutor(max_workers=max(8, 4 * len(providers)),
                                       thread_name_prefix="federation")

    def find(self, model: str, plan: FindPlan) -> tuple[list[dict[str, Any]], list[Status]]:
        """The merged page, and every provider's status."""
        outcomes = self.fan_out(lambda p: p.find(model, plan.provider_filter), len)
        answers = [Answer(p.name, o.value) for p, o in zip(self.providers, outcomes) if o.ok]
        merged = merge(answers, plan.orders, scored=plan.scored)
        return page(merged, plan.skip, plan.limit), [o.status for o in outcomes]

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

    def fan_out(self, call: Callable[[Provider], Any],
                size: Callable[[Any], int]) -> list[Outcome]:
        """`call` on every provider at once; outcomes in provider order. `size` gives the
        status's `count` from a provider's value."""
        start = time.monotonic()
        outcomes: dict[str, Outcome] = {}
        futures: dict[Future, Provider] = {}
        for p in self.providers:
            if self.breakers[p.name].allow():
                futures[self.pool.submit(_timed, call, p)] = p
            else:
                outcomes[p.name] = Outcome(Status(p.name, SKIPPED, message=self._skip_note(p)))
        pending = set(futures)
        while pending:
            wait_for = min(start + futures[f].timeout for f in pending) - time.monotonic()
            done, pending = wait(pending, timeout=max(0.0, wait_for),
                                 return_when=FIRST_COMPLETED)
            for f in done:
                outcomes[futures[f].name] = self._settle(futures[f], *f.result(), size)
            for f in [f for f in pending if time.monotonic() >= start + futures[f].timeout]:
                pending.discard(f)
                f.cancel()
                p = futures[f]
                self.breakers[p.name].failure()
                outcomes[p.name] = Outcome(Status(p.name, TIMEOUT, round(p.timeout * 1000, 1),
                                                  message=f"no answer within {p.timeout:g} s"))
        self.last.update({name: o.status for name, o in outcomes.items()})
        return [outcomes[p.name] for p in self.providers]

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
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in self.providers:
            getattr(p, "close", lambda: None)()


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
