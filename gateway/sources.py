"""Source types: a `[sources.NAME]` configuration table -> a harvester.

The registry is a plain dict from `type` to a builder; each builder checks its options
and raises `SourceError` naming the source and the option.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harvesters.events import Harvester
from harvesters.nexus import DEFAULT_PATTERNS, NexusHarvester

from .clock import utcnow


class SourceError(ValueError):
    """A source that cannot be built from its configuration."""


NEXUS_OPTIONS = {"type", "root", "patterns", "facility", "facility_ror", "timezone", "license",
                 "embargo_days", "probe", "max_bytes_per_file"}


def _nexus(name: str, opts: dict[str, Any], clock: Callable[[], datetime]) -> Harvester:
    unknown = set(opts) - NEXUS_OPTIONS
    if unknown:
        raise SourceError(f"sources.{name}: unknown option(s) {', '.join(sorted(unknown))}")
    if "root" not in opts:
        raise SourceError(f"sources.{name}: 'root' (the directory to walk) is required")
    _types(name, opts, {"root": str, "facility": str, "facility_ror": str, "timezone": str,
                        "license": str, "probe": str, "embargo_days": int,
                        "max_bytes_per_file": int})
    patterns = opts.get("patterns", DEFAULT_PATTERNS)
    if isinstance(patterns, str) or not all(isinstance(p, str) and p and not p.startswith("/")
                                            for p in patterns):
        raise SourceError(f"sources.{name}: patterns must be a list of relative glob patterns")
    root = Path(opts["root"])
    if not root.is_dir():
        raise SourceError(f"sources.{name}: root {str(root)!r} is not a directory")
    try:
        tz = ZoneInfo(opts.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"sources.{name}: unknown timezone {opts.get('timezone')!r}") from None
    try:
        return NexusHarvester(
            name, root, patterns,
            facility_name=opts.get("facility"), facility_ror=opts.get("facility_ror"), tz=tz,
            license=opts.get("license", "CC-BY-4.0"), embargo_days=opts.get("embargo_days"),
            default_probe=opts.get("probe"),
            max_bytes_per_file=opts.get("max_bytes_per_file", 1_000_000), clock=clock)
    except (TypeError, ValueError) as exc:
        raise SourceError(f"sources.{name}: {exc}") from None


def _types(name: str, opts: dict[str, Any], types: dict[str, type]) -> None:
    for key, kind in types.items():
        value = opts.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise SourceError(f"sources.{name}: {key} must be a {kind.__name__}, got {value!r}")


BUILDERS: dict[str, Callable[[str, dict[str, Any], Callable[[], datetime]], Harvester]] = {
    "nexus": _nexus,
}


def build_harvester(name: str, options: dict[str, Any],
                    clock: Callable[[], datetime] = utcnow) -> Harvester:
    kind = options.get("type")
    if kind not in BUILDERS:
        raise SourceError(f"sources.{name}: unknown type {kind!r} "
                          f"(available: {', '.join(BUILDERS)})")
    return BUILDERS[kind](name, options, clock)
