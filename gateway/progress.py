"""Harvest progress: a live progress bar on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from .harvest import RunReport

BAR_WIDTH = 30


class Progress:
    """Reports a running harvest to `stream` at most every `interval` seconds.

    On a terminal: one redrawn line with a bar when the harvester announced its size
    (`Planned`), a spinner otherwise. Elsewhere (logs, CI): a plain line every 5 s."""

    def __init__(self, stream: IO[str] | None = None, *, interval: float | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if interval is not None else (0.1 if self.tty else 5.0)
        self._start = self._last = time.monotonic()
        self._spin = 0

    def line(self, report: "RunReport") -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        counts = (f"{report.seen} records ({report.seen / elapsed:.0f}/s), {report.new} new, "
                  f"{report.changed} changed, {report.failed} failed")
        if report.planned:
            return f"{report.source}: {report.units_done}/{report.planned} units, {counts}"
        return f"{report.source}: {counts}"

    def bar(self, report: "RunReport") -> str:
        if not report.planned:
            self._spin = (self._spin + 1) % 4
            return "|/-\\"[self._spin]
        frac = min(report.units_done / report.planned, 1.0)
        full = int(frac * BAR_WIDTH)
        return f"[{'#' * full}{'.' * (BAR_WIDTH - full)}] {frac:4.0%}"

    def update(self, report: "RunReport") -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            self.stream.write(f"\r\x1b[2K{self.bar(report)} {self.line(report)}")
        else:
            self.stream.write(f"harvest progress {self.line(report)}\n")
        self.stream.flush()

    def close(self, report: "RunReport") -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(f"harvest done {report.summary()}\n")
        for failure in report.failures[:20]:
            self.stream.write(f"  failed {failure['ref']}: {failure['reason']}\n")
        if report.failed > 20:
            self.stream.write(f"  ... and {report.failed - 20} more (see `fairgate status --json`)\n")
        if report.error:
            self.stream.write(f"  error: {report.error}\n")
        self.stream.flush()
