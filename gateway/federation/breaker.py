"""A circuit breaker per provider: a partner that keeps failing is skipped for a while.

closed    every call goes through; `threshold` consecutive failures open the circuit.
open      calls are skipped (status `skipped`) until `cooldown` seconds have passed.
half-open one trial call goes through (others are still skipped): success closes the
          circuit, failure opens it for another cool-down.

The clock is a parameter (seconds, monotonic) so tests control time. Thread-safe.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown: float,
                 clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0  # consecutive
        self._state = CLOSED
        self._opened_at = 0.0
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._cooled_down():
                return HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial call at a time."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN and not self._cooled_down():
                return False
            if self._trial_running:
                return False
            self._state, self._trial_running = HALF_OPEN, True
            return True

    def success(self) -> None:
        with self._lock:
            self.failures, self._state, self._trial_running = 0, CLOSED, False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._state == HALF_OPEN or self.failures >= self.threshold:
                self._state, self._opened_at = OPEN, self.clock()
            self._trial_running = False

    def release(self) -> None:
        """A call ended with neither success nor failure (the partner refused the query
        itself, 4xx): a half-open trial is over without a verdict."""
        with self._lock:
            if self._state == HALF_OPEN:
                self._state, self._opened_at = OPEN, self.clock() - self.cooldown
            self._trial_running = False

    def retry_in(self) -> float | None:
        """Seconds until an open circuit is tried again (None unless open)."""
        with self._lock:
            if self._state != OPEN:
                return None
            return max(0.0, self._opened_at + self.cooldown - self.clock())

    def _cooled_down(self) -> bool:
        return self.clock() - self._opened_at >= self.cooldown
