"""A harvest killed with SIGKILL mid-run, then run again, ends exactly where an
uninterrupted harvest ends: no duplicate, no lost record, a consistent checkpoint."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from gateway.demo import write_bliss_files

pytestmark = pytest.mark.slow


def write_config(path: Path, data_dir: Path, root: Path) -> Path:
    path.write_text(
        f'data_dir = "{data_dir}"\nbatch_size = 4\n\n[sources.esrf]\ntype = "nexus"\n'
        f'root = "{root}"\npatterns = ["**/*.h5"]\nfacility = "ESRF"\n'
        f'timezone = "Europe/Paris"\nembargo_days = 1095\n')
    return path


def harvest(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config),
                             "harvest", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def snapshot(data_dir: Path) -> dict:
    with closing(sqlite3.connect(data_dir / "store.sqlite")) as store, \
            closing(sqlite3.connect(data_dir / "index.sqlite")) as index:
        return _snapshot(store, index)


def _snapshot(store: sqlite3.Connection, index: sqlite3.Connection) -> dict:
    records = dict(store.execute("SELECT id, content_hash FROM records WHERE deleted = 0"))
    checkpoint = {k: json.loads(v) for k, v in store.execute(
        "SELECT key, value FROM checkpoints WHERE source = 'esrf'")}
    indexed = [r[0] for r in index.execute("SELECT id FROM docs")]
    return {"records": records, "checkpoint": checkpoint, "indexed": indexed,
            "store_seq": store.execute("SELECT value FROM sequence").fetchone()[0],
            "index_seq": int(index.execute(
                "SELECT value FROM meta WHERE key = 'last_seq'").fetchone()[0]),
            "tombstones": store.execute(
                "SELECT count(*) FROM records WHERE deleted = 1").fetchone()[0],
            "runs": [r[0] for r in store.execute("SELECT status FROM runs ORDER BY id")]}


def stored_count(data_dir: Path) -> int:
    try:
        with closing(sqlite3.connect(f"file:{data_dir / 'store.sqlite'}?mode=ro", uri=True,
                                     timeout=1)) as db:
            return db.execute("SELECT count(*) FROM records").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_harvest_then_rerun_equals_clean_run(tmp_path):
    files = tmp_path / "files"
    write_bliss_files(files, 300)

    clean_dir = tmp_path / "clean"
    clean = harvest(write_config(tmp_path / "clean.toml", clean_dir, files))
    out, err = clean.communicate(timeout=300)
    assert clean.returncode == 0, err
    expected = snapshot(clean_dir)
    assert len(expected["records"]) > 300

    killed_dir = tmp_path / "killed"
    config = write_config(tmp_path / "killed.toml", killed_dir, files)
    proc = harvest(config)
    deadline = time.monotonic() + 120
    while stored_count(killed_dir) < 40 and time.monotonic() < deadline:
        assert proc.poll() is None, "harvest finished before it could be killed"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = snapshot(killed_dir)
    assert 0 < len(partial["records"]) < len(expected["records"])
    # whatever the checkpoint claims is durable in the store
    for state in partial["checkpoint"].values():
        assert set(state["ids"]) <= set(partial["records"])

    rerun = harvest(config)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    report = json.loads(out)[0]
    after = snapshot(killed_dir)

    assert after["records"] == expected["records"]          # same ids, same content
    assert after["checkpoint"].keys() == expected["checkpoint"].keys()
    assert {k: v["ids"] for k, v in after["checkpoint"].items()} == \
        {k: v["ids"] for k, v in expected["checkpoint"].items()}
    assert sorted(after["indexed"]) == sorted(expected["records"])  # no duplicate, none lost
    assert after["index_seq"] == after["store_seq"] and after["tombstones"] == 0
    assert report["status"] == "ok" and report["new"] == len(expected["records"]) - len(
        partial["records"])
    assert after["runs"] == ["interrupted", "ok"]
