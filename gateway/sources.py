"""Source types: a `[sources.NAME]` configuration table -> a harvester.

The registry is a plain dict from `type` to a builder; each builder checks its options
and raises `SourceError` naming the source and the option.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harvesters.events import Harvester
from harvesters.icat import Credentials, IcatHarvester
from harvesters.icat.harvester import FULL_EVERY
from harvesters.nexus import DEFAULT_PATTERNS, NexusHarvester

from .clock import utcnow


class SourceError(ValueError):
    """A source that cannot be built from its configuration."""


NEXUS_OPTIONS = {"type", "root", "patterns", "facility", "facility_ror", "timezone", "license",
                 "embargo_days", "probe", "max_bytes_per_file"}


def _known(name: str, opts: dict[str, Any], allowed: set[str], required: str,
           what: str) -> None:
    """Refuse unknown options and a missing required one, naming them."""
    unknown = set(opts) - allowed
    if unknown:
        raise SourceError(f"sources.{name}: unknown option(s) {', '.join(sorted(unknown))}")
    if required not in opts:
        raise SourceError(f"sources.{name}: '{required}' ({what}) is required")


def _nexus(name: str, opts: dict[str, Any], clock: Callable[[], datetime]) -> Harvester:
    _known(name, opts, NEXUS_OPTIONS, "root", "the directory to walk")
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


ICAT_OPTIONS = {"type", "url", "facility", "facility_ror", "plugin", "username", "password_env",
                "password_file", "license", "embargo_days", "page_size", "timeout", "retries",
                "reconcile_every", "full_every", "overlap_seconds"}


def _icat(name: str, opts: dict[str, Any], clock: Callable[[], datetime]) -> Harvester:
    """An ICAT source. The password is never a value of the configuration: it comes from the
    environment variable `password_env` names, or from the file `password_file`."""
    if "password" in opts:
        raise SourceError(f"sources.{name}: do not write the password in the configuration; "
                          "name an environment variable (password_env) or a file "
                          "(password_file) that holds it")
    _known(name, opts, ICAT_OPTIONS, "url", "the ICAT server, without /icat")
    _types(name, opts, {"url": str, "facility": str, "facility_ror": str, "plugin": str,
                        "username": str, "password_env": str, "password_file": str,
                        "license": str, "embargo_days": int, "page_size": int, "retries": int,
                        "reconcile_every": int, "full_every": int, "overlap_seconds": int})
    timeout = opts.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise SourceError(f"sources.{name}: timeout must be a number of seconds")
    try:
        return IcatHarvester(
            name, opts["url"], credentials=_credentials(name, opts),
            facility_name=opts.get("facility"), facility_ror=opts.get("facility_ror"),
            license=opts.get("license", "CC-BY-4.0"), embargo_days=opts.get("embargo_days"),
            page_size=opts.get("page_size", 200), timeout=float(timeout),
            retries=opts.get("retries", 3), reconcile_every=opts.get("reconcile_every", 1),
            full_every=opts.get("full_every", FULL_EVERY),
            overlap=timedelta(seconds=opts.get("overlap_seconds", 300)), clock=clock)
    except (TypeError, ValueError) as exc:
        raise SourceError(f"sources.{name}: {exc}") from None


def _credentials(name: str, opts: dict[str, Any]) -> Credentials:
    plugin = opts.get("plugin", "anon")
    if plugin == "anon":
        if {"username", "password_env", "password_file"} & set(opts):
            raise SourceError(f"sources.{name}: the anon plugin takes no username or password")
        return Credentials()
    if "username" not in opts:
        raise SourceError(f"sources.{name}: plugin {plugin!r} needs a username")
    values = {"username": opts["username"]}
    if "password_env" in opts:
        password = os.environ.get(opts["password_env"])
        if password is None:
            raise SourceError(f"sources.{name}: environment variable "
                              f"{opts['password_env']} (password_env) is not set")
        values["password"] = password
    elif "password_file" in opts:
        try:
            first = Path(opts["password_file"]).read_text().split("\n", 1)[0].rstrip("\r")
        except OSError as exc:
            raise SourceError(f"sources.{name}: password_file: {exc.strerror or exc}") from None
        if not first:
            raise SourceError(f"sources.{name}: password_file: its first line (the password) "
                              "is empty")
        values["password"] = first  # the first line; the rest of the file is ignored
    return Credentials(plugin, **values)


def _types(name: str, opts: dict[str, Any], types: dict[str, type]) -> None:
    for key, kind in types.items():
        value = opts.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise SourceError(f"sources.{name}: {key} must be a {kind.__name__}, got {value!r}")


BUILDERS: dict[str, Callable[[str, dict[str, Any], Callable[[], datetime]], Harvester]] = {
    "nexus": _nexus,
    "icat": _icat,
}


def build_harvester(name: str, options: dict[str, Any],
                    clock: Callable[[], datetime] = utcnow) -> Harvester:
    kind = options.get("type")
    if kind not in BUILDERS:
        raise SourceError(f"sources.{name}: unknown type {kind!r} "
                          f"(available: {', '.join(BUILDERS)})")
    return BUILDERS[kind](name, options, clock)
