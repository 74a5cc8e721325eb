"""Benchmark: NeXus harvest throughput against a bare h5py open-and-walk of the same files.

    python bench/nexus_harvest.py [--files 2000] [--repeat 3]

Writes N Bliss-layout files (the demo generator), then measures, in the same run:
  baseline  open each file with h5py and visit every object, reading its attributes
            (also reported: visiting names only, a stricter floor)
  harvest   the full pipeline: read metadata, map, validate, store (SQLite) and index (FTS5)
  read      the harvester alone (read + map), without store and index
and prints files/s, records/s and the ratio harvest/baseline (goal >= 0.5 at N = 2,000).
Each figure is the best of --repeat runs, baseline and harvest interleaved.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import h5py

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.demo import write_bliss_files  # noqa: E402
from gateway.harvest import Runner  # noqa: E402
from gateway.index.embedded import EmbeddedIndex  # noqa: E402
from gateway.store import Store  # noqa: E402
from gateway.sources import build_harvester  # noqa: E402


def baseline(paths: list[Path], attrs: bool = True) -> float:
    """h5py open + visit every object (reading its attributes when `attrs`; never data)."""
    def touch(name: str, obj: object) -> None:
        dict(obj.attrs)  # type: ignore[attr-defined]

    def name_only(name: str) -> None:
        return None  # visit() stops at the first non-None return

    start = time.perf_counter()
    for path in paths:
        with h5py.File(path, "r") as f:
            f.visititems(touch) if attrs else f.visit(name_only)
    return time.perf_counter() - start


def source(root: Path) -> dict:
    return {"type": "nexus", "root": str(root), "patterns": ["**/*.h5"], "facility": "ESRF",
            "timezone": "Europe/Paris", "embargo_days": 1095}


def harvest(root: Path, work: Path) -> tuple[float, int]:
    shutil.rmtree(work, ignore_errors=True)
    store, index = Store(work / "store.sqlite"), EmbeddedIndex(work / "index.sqlite")
    start = time.perf_counter()
    report = Runner(store, index).run(build_harvester("bench", source(root)))
    elapsed = time.perf_counter() - start
    assert report.status == "ok" and report.failed == 0, report.summary()
    store.close()
    index.close()
    return elapsed, report.new


def read_only(root: Path) -> tuple[float, int]:
    harvester = build_harvester("bench", source(root))
    start = time.perf_counter()
    n = sum(1 for _ in harvester.harvest({}))
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fairgate-bench-") as tmp:
        root = Path(tmp) / "files"
        t0 = time.perf_counter()
        paths = write_bliss_files(root, args.files)
        print(f"wrote {len(paths)} files in {time.perf_counter() - t0:.1f} s")
        baseline(paths)  # warm the page cache
        base, names, full, read = [], [], [], []
        for _ in range(args.repeat):
            base.append(baseline(paths))
            names.append(baseline(paths, attrs=False))
            full.append(harvest(root, Path(tmp) / "work"))
            read.append(read_only(root))
        b, bn = min(base), min(names)
        h, records = min(full)
        r, _ = min(read)
        n = len(paths)
        print(f"baseline h5py open+walk : {n / b:8.0f} files/s  ({b:.2f} s)")
        print(f"baseline h5py open+visit: {n / bn:8.0f} files/s  ({bn:.2f} s, names only)")
        print(f"harvester read+map      : {n / r:8.0f} files/s  ({r:.2f} s)")
        print(f"full harvest            : {n / h:8.0f} files/s  {records / h:8.0f} records/s "
              f"({h:.2f} s, {records} records)")
        print(f"ratio harvest/baseline  : {b / h:.2f}  (goal >= 0.5)")
        print(f"ratio harvest/names-only: {bn / h:.2f}")
        print(f"ratio read/baseline     : {b / r:.2f}")


if __name__ == "__main__":
    main()
