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
from .index import SearchIndex, catch_up
from .progress import Progress
from .store import Batch, Store

MAX_LISTED_FAILURES = 1000


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
            f"failed {report['failed']} in {report['duration_s']:.1f} s")


class Runner:
    """Runs one harvester into a store and an index."""

    def __init__(self, store: Store, index: SearchIndex, *, batch_size: int = 500,
                 clock: Callable[[], datetime] = utcnow, progress: Progress | None = None):
        self.store, self.index = store, index
        self.batch_size, self.clock = batch_size, clock
        self.progress = progress

    def run(self, harvester: Harvester) -> RunReport:
        started = time.monotonic()
        report = RunReport(source=harvester.name, started_at=iso(self.clock()))
        run_id = self.store.start_run(harvester.name, self.clock())
        try:
            catch_up(self.store, self.index)  # finish what a crashed run left unindexed
            self._consume(harvester, report)
            report.status = "ok"
        except KeyboardInterrupt:
            report.status, report.error = "interrupted", "interrupted by the user"
            raise
        except Exception as exc:  # a broken source ends the run, never the stored data
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
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
        catch_up(self.store, self.index)

