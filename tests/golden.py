"""Golden files of the output formats (tests/golden/): which fixtures have them, and one way
to read one, rewriting it first when FAIRGATE_REGEN_GOLDEN=1. Each format's test compares
the stored text with a fresh rendering in its own terms (XML C14N, RDF isomorphism, JSON
values)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_FIXTURES = ("maximal", "embargoed", "non-ascii", "minimal-dataset", "document-funded")
REGEN = os.environ.get("FAIRGATE_REGEN_GOLDEN") == "1"


def golden_text(name: str, fresh: Callable[[], str]) -> str:
    """The text of golden file `name`; with FAIRGATE_REGEN_GOLDEN=1, `fresh()` is written
    there first (so the comparison that follows holds by construction)."""
    path = GOLDEN / name
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(fresh(), encoding="utf-8")
    assert path.exists(), f"{name} missing: regenerate with FAIRGATE_REGEN_GOLDEN=1"
    return path.read_text(encoding="utf-8")
