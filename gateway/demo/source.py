"""`fairgate demo`: a deterministic ESRF-like facility to harvest and serve.

The files are written once under DATA_DIR/demo/facility (rewritten only when the requested
size changes) and harvested as the source `esrf-demo`, like any configured NeXus source.
"""
from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from ..clock import utcnow
from ..config import Config
from .summary import EMBARGO_DAYS
from .writer import write_demo_facility

SOURCE = "esrf-demo"
ESRF_ROR = "https://ror.org/02550n020"


DEMO_WRITTEN_FOR = date(2026, 11, 23)  # the scans run until 2026-09


def demo_embargo_days(today: date) -> int:
    """ESRF's 3 years, plus one year per year the demo has aged, so that about a third of
    the scans stay under embargo whenever the demo runs (the files themselves never change)."""
    return EMBARGO_DAYS + 365 * max(0, (today - DEMO_WRITTEN_FOR).days // 365)


def demo_source(root: Path, today: date) -> dict:
    return {"type": "nexus", "root": str(root), "patterns": ["**/*.h5"],
            "facility": "ESRF", "facility_ror": ESRF_ROR, "timezone": "Europe/Paris",
            "license": "CC-BY-4.0", "embargo_days": demo_embargo_days(today)}


def demo_config(config: Config, *, scans: int, today: date | None = None) -> Config:
    """Write the demo facility if needed and return `config` with the demo source added."""
    root = config.data_dir / "demo" / "facility"
    ensure_facility(root, scans)
    source = demo_source(root, today or utcnow().date())
    return replace(config, sources={**config.sources, SOURCE: source})


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
