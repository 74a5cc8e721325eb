"""Benchmark: ICAT harvest throughput against fetching and parsing the same pages.

    python bench/icat_harvest.py [--datasets 100000] [--page-size 200] [--repeat 1]

Fills the ICAT stand-in (tests/icat_standin) with N generated datasets (20 per investigation),
serves it on 127.0.0.1 from a separate process (as a real ICAT is), then measures, in the same
run:
  baseline  the client alone: log in, page every investigation and dataset by id keyset with
            the harvester's INCLUDEs and page size, parse the JSON; nothing else
  harvest   the full pipeline: the same pages, plus the high-water and id-listing searches,
            mapping, validation, the SQLite store and the FTS5 index (Runner, fresh store)
and prints records/s for both and the ratio harvest/baseline (goal >= 0.5). Each figure is the
best of --repeat runs, baseline and harvest interleaved. Both include the stand-in's query
time; the harvester fetches the next page while it processes the current one (`prefetch`).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.harvest import Runner  # noqa: E402
from gateway.index.embedded import EmbeddedIndex  # noqa: E402
from gateway.store import Store  # noqa: E402
from harvesters.icat import Credentials, IcatClient, IcatHarvester  # noqa: E402
from harvesters.icat import queries as q  # noqa: E402
from tests.icat_standin import IcatStandin  # noqa: E402

USER, PASSWORD = "bench", "bench-password"


def credentials() -> Credentials:
    return Credentials("db", username=USER, password=PASSWORD)


def baseline(url: str, page_size: int) -> tuple[float, int]:
    """Fetch and parse every investigation and dataset page; (seconds, entities)."""
    start = time.perf_counter()
    n = 0
    with IcatClient(url, credentials()) as client:
        for kind in q.KINDS:
            after = 0
            while True:
                rows = client.search(q.page(kind, after, page_size))
                n += len(rows)
                if len(rows) < page_size:
                    break
                after = rows[-1][kind.entity]["id"]
    return time.perf_counter() - start, n


def harvest(url: str, page_size: int, work: Path) -> tuple[float, int]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store, index = Store(work / "store.sqlite"), EmbeddedIndex(work / "index.sqlite")
    harvester = IcatHarvester("bench", url, credentials=credentials(), facility_name="SYNTH",
                              facility_ror="https://ror.org/02550n020", page_size=page_size)
    start = time.perf_counter()
    report = Runner(store, index).run(harvester)
    elapsed = time.perf_counter() - start
    assert report.status == "ok" and report.failed == 0, report.summary()
    store.close()
    index.close()
    return elapsed, report.new


def serve(datasets: int) -> None:
    """The stand-in process: generate, serve, print the URL, run until stdin closes."""
    standin = IcatStandin(clock=lambda: datetime(2026, 11, 24, tzinfo=timezone.utc))
    t0 = time.perf_counter()
    counts = standin.generate(datasets)
    standin.add_user("db", USER, PASSWORD, reader_all=True)
    print(f"generated {counts.get('Dataset', 0)} datasets, {counts.get('Investigation', 0)} "
          f"investigations in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    with standin:
        print(standin.base_url, flush=True)
        sys.stdin.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.datasets)
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--datasets",
                               str(args.datasets)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory(prefix="fairgate-bench-") as tmp:
            base, full = [], []
            for _ in range(args.repeat):
                base.append(baseline(url, args.page_size))
                full.append(harvest(url, args.page_size, Path(tmp) / "work"))
            b, entities = min(base)
            h, records = min(full)
            print(f"baseline fetch+parse  : {entities / b:8.0f} entities/s ({b:.1f} s, "
                  f"{entities} entities)")
            print(f"full harvest          : {records / h:8.0f} records/s  ({h:.1f} s, "
                  f"{records} records)")
            print(f"ratio harvest/baseline: {b / h:.2f}  (goal >= 0.5)")
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(30)


if __name__ == "__main__":
    main()
