"""`fairgate demo`: a deterministic ESRF-like facility to harvest and serve.

The files are written once under DATA_DIR/demo/facility (rewritten only when the requested
size changes) and harvested as the source `esrf-demo`, like any configured NeXus source.
"""
from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from ..config import Config
from .writer import write_demo_facility

SOURCE = "esrf-demo"
ESRF_ROR = "https://ror.org/02550n020"


def demo_source(root: Path) -> dict:
    return {"type": "nexus", "root": str(root), "patterns": ["**/*.h5"],
            "facility": "ESRF", "facility_ror": ESRF_ROR, "timezone": "Europe/Paris",
            "license": "CC-BY-4.0", "embargo_days": 1095}


def demo_config(config: Config, *, scans: int) -> Config:
    """Write the demo facility if needed and return `config` with the demo source added."""
    root = config.data_dir / "demo" / "facility"
    ensure_facility(root, scans)
    return replace(config, sources={**config.sources, SOURCE: demo_source(root)})


def ensure_facility(root: Path, scans: int) -> None:
    stamp = root / ".demo.json"
    wanted = {"scans": scans, "version": 1}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return
    if root.exists():
        shutil.rmtree(root)
    print(f"writing demo facility ({scans} scans) to {root}", file=sys.stderr)
    summary = write_demo_facility(root, scans=scans)
    stamp.write_text(json.dumps(wanted))
    print(f"  {summary.files} files, {summary.entries} scans, "
          f"{len(summary.beamlines)} beamlines, {len(summary.proposals)} proposals",
          file=sys.stderr)
