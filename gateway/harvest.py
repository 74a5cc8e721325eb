"""The harvest runner: source -> records -> store (batched, transactional) -> index.

A harvester yields events unit by unit (a file, a page), each unit closed by a `Mark`.
The runner keeps the events of the open unit aside and commits only whole units, with
their marks, in one store transaction; then the index catches up from the store's
sequence numbers. A crash (even SIGKILL) loses at most the uncommitted units, which the
next run harvests again: no duplicates, no lost records, and the checkpoint never runs
ahead of the records it covers.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable

from harvesters.events import (UNIT_ENDS, Delete, Event, Failure, Harvester, Mark, Planned,
                               Unchanged, Upsert)
from mappings.record import iso
from mappings.validation import RecordInvalid, validate

from .clock import utcnow
from .index import IndexUnavailable, SearchIndex, catch_up
from .progress import Progress
from .store import Batch, Store

MAX_LISTED_FAILURES = 1000
INDEX_RETRY_S = 30.0  # after the index failed, skip catch-ups this long (harvest goes on)


@dataclass
class RunReport:
    source: str
    status: str = "running"  # ok | failed | interrupted
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    planned: int | None = None  # units (files, pages) the harvester announced, if it knew
    units_done: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    index_lag: int = 0  # store changes the index had not applied when the run ended
    index_error: str | None = None  # why, if the index could not be reached
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return summary_line(self.to_dict())

    def fail(self, ref: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append({"ref": ref, "reason": reason})


def summary_line(report: dict) -> str:
    """One line for a run report (as stored in the runs table)."""
    return (f"{report['source']}: {report['status']}; seen {report['seen']}, "
            f"new {report['new']}, changed {report['changed']}, "
            f"unchanged {report['unchanged']}, deleted {report['deleted']}, "
            f"failed {report['failed']} in {report['duration_s']:.1f} s"
            + (f"; index behind by {report['index_lag']} changes" if report.get("index_lag")
               else ""))


class Runner:
    """Runs one harvester into a store and an index."""

    def __init__(self, store: Store, index: SearchIndex, *, batch_size: int = 500,
                 clock: Callable[[], datetime] = utcnow, progress: Progress | None = None):
        self.store, self.index = store, index
        self.batch_size, self.clock = batch_size, clock
        self.progress = progress
        self._index_retry_at, self._index_seen = 0.0, 0

    def run(self, harvester: Harvester) -> RunReport:
        started = time.monotonic()
        report = RunReport(source=harvester.name, started_at=iso(self.clock()))
        run_id = self.store.start_run(harvester.name, self.clock())
        self._index_retry_at = 0.0
        try:
            self._catch_up(report)  # finish what a crashed run left unindexed
            self._consume(harvester, report)
            report.status = "ok"
        except KeyboardInterrupt:
            report.status, report.error = "interrupted", "interrupted by the user"
            raise
        except Exception as exc:  # a broken source ends the run, never the stored data
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if report.index_error:
                self._catch_up(report, force=True)  # one last try before reporting
            report.duration_s = round(time.monotonic() - started, 3)
            report.finished_at = iso(self.clock())
            self.store.finish_run(run_id, report.status, report.to_dict(), self.clock())
            if self.progress:
                self.progress.close(report)
        return report

    def _consume(self, harvester: Harvester, report: RunReport) -> None:
        batch, unit = Batch(), Batch()
        try:
            for event in harvester.harvest(self.store.checkpoint(harvester.name)):
                if isinstance(event, Mark):
                    unit.marks[event.key] = event.value
                    batch.extend(unit)
                    unit = Batch()
                    if len(batch) >= self.batch_size:
                        self._commit(harvester.name, batch, report)
                        batch = Batch()
                elif isinstance(event, Planned):
                    report.planned = event.units
                else:
                    self._collect(event, unit, report)
                if isinstance(event, UNIT_ENDS):
                    report.units_done += 1
                if self.progress:
                    self.progress.update(report)
        except BaseException:
            self._commit(harvester.name, batch, report)  # keep the whole units done so far
            raise
        batch.extend(unit)  # a harvester may end without a final mark
        self._commit(harvester.name, batch, report)

    @staticmethod
    def _collect(event: Event, unit: Batch, report: RunReport) -> None:
        if isinstance(event, Upsert):
            report.seen += 1
            try:
                unit.upsert(validate(event.record))
            except RecordInvalid as exc:
                report.fail(event.record.id, f"invalid record: {exc}")
        elif isinstance(event, Delete):
            unit.delete(event.id)
        elif isinstance(event, Unchanged):
            report.seen += event.count
            report.unchanged += event.count
        elif isinstance(event, Failure):
            report.fail(event.ref, event.reason)

    def _commit(self, source: str, batch: Batch, report: RunReport) -> None:
        if not len(batch) and not batch.marks:
            return
        counts = self.store.apply_batch(source, batch, self.clock())
        report.new += counts.new
        report.changed += counts.changed
        report.unchanged += counts.unchanged
        report.deleted += counts.deleted
        self._catch_up(report)

    def _catch_up(self, report: RunReport, *, force: bool = False) -> None:
        """Bring the index up to the store. An unavailable index does not stop the harvest:
        the store is the truth and the index catches up later (next run, `serve`, a
        search, `reindex`); the run reports the lag. After a failure, catch-ups are skipped
        for INDEX_RETRY_S so a hanging server costs one timeout, not one per batch."""
        if not force and time.monotonic() < self._index_retry_at:
            report.index_lag = max(0, self.store.last_seq() - self._index_seen)
            return
        try:
            catch_up(self.store, self.index)
            self._index_seen = self.store.last_seq()
            report.index_lag, report.index_error = 0, None
            return
        except IndexUnavailable as exc:
            report.index_error = str(exc)
        self._index_retry_at = time.monotonic() + INDEX_RETRY_S
        try:
            self._index_seen = self.index.last_seq()
        except IndexUnavailable:
            pass  # keep the last value seen: the lag reported is then an upper bound
        report.index_lag = max(0, self.store.last_seq() - self._index_seen)

