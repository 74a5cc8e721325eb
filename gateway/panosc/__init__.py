"""The PaNOSC Search API over the local records (docs/panosc.md).

Entry points, also used by the federation as its local provider: `find`, `count`,
`find_by_id`, `files` and `parse_filter` (raises `FilterError`). `model` is "Datasets",
"Documents" or "Instruments"; filters are parsed LoopBack filter objects; every result
carries a `score` strictly inside (0, 1).
"""
from __future__ import annotations

from .engine import NotFound, count, files, find, find_by_id, sync
from .filters import FilterError, parse_filter

__all__ = ["FilterError", "NotFound", "count", "files", "find", "find_by_id", "parse_filter",
           "sync"]
