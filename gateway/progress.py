"""Harvest progress: a live status line on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from .harvest import RunReport


class Progress:
    """Reports a running harvest to `stream` at most every `interval` seconds."""

    def __init__(self, stream: IO[str] | None = None, *, interval: float | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if interval is not None else (0.1 if self.tty else 5.0)
        self._start = self._last = time.monotonic()
        self._spin = 0

    def _line(self, report: "RunReport") -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        return (f"{report.source}: {report.seen} records seen ({report.seen / elapsed:.0f}/s), "
                f"{report.new} new, {report.changed} changed, {report.failed} failed")

    def update(self, report: "RunReport") -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            self._spin = (self._spin + 1) % 4
            bar = "|/-\\"[self._spin]
            self.stream.write(f"\r\x1b[2K{bar} {self._line(report)}")
        else:
            self.stream.write(f"harvest progress {self._line(report)}\n")
        self.stream.flush()

    def close(self, report: "RunReport") -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(f"harvest done {report.summary()}\n")
        for failure in report.failures[:20]:
            self.stream.write(f"  failed {failure['ref']}: {failure['reason']}\n")
        if report.failed > 20:
            self.stream.write(f"  ... and {report.failed - 20} more (see `fairgate status`)\n")
        if report.error:
            self.stream.write(f"  error: {report.error}\n")
        self.stream.flush()
