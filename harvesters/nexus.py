"""NeXus/HDF5 files under a directory -> dataset records, one per NXentry, incrementally.

Files are the paths under `root` matching the glob patterns, in sorted order; HDF5 is detected
by opening (and, when that fails, `h5py.is_hdf5`), never by extension or magic bytes. Reading is
bounded and targeted (`harvesters.nexus_reader`); mapping is `mappings.nexus.entry_to_record`.

Checkpoint: {relpath: {"size", "mtime_ns", "mapping", "ids"}}. A file whose (size, mtime_ns)
and `mappings.nexus.MAPPING_VERSION` are those of the checkpoint gives `Unchanged`; a new or
changed file gives its `Upsert`s, `Delete`s for entries that disappeared, then a `Mark`. A file
that cannot be read or mapped gives a `Failure` and no `Mark` (retried next run; its old records
stay). Files gone from disk give `Delete`s and `Mark(relpath, None)`; a missing root raises.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from mappings.nexus import MAPPING_VERSION, NexusContext, entry_to_record
from mappings.record import iso

from .events import Delete, Event, Failure, Mark, Planned, Unchanged, Upsert
from .nexus_reader import NexusReadError, read_nexus, short_reason

DEFAULT_PATTERNS = ("**/*.h5", "**/*.hdf5", "**/*.nxs", "**/*.nx5", "**/*.hdf")


def _ids(state: Any) -> list[str]:
    ids = state.get("ids") if isinstance(state, dict) else None
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class NexusHarvester:
    """Harvests NeXus files under `root` matching glob `patterns` (relative to root).

    Keyword options are those of `mappings.nexus.NexusContext` (the source name is `name`);
    `clock` gives harvested_at for each run. ValueError on a bad name or option.
    """

    def __init__(self, name: str, root: Path | str, patterns: Sequence[str] = DEFAULT_PATTERNS,
                 *, facility_name: str | None = None, facility_ror: str | None = None,
                 tz: tzinfo = timezone.utc, license: str | None = "CC-BY-4.0",
                 embargo_days: int | None = None, default_probe: str | None = None,
                 max_bytes_per_file: int = 1_000_000,
                 clock: Callable[[], datetime] = _utcnow):
        if max_bytes_per_file <= 0:
            raise ValueError("max_bytes_per_file must be > 0")
        self.name, self.root, self.patterns = name, Path(root), tuple(patterns)
        self.max_bytes_per_file, self._clock = max_bytes_per_file, clock
        self._context = partial(NexusContext, source=name, facility_name=facility_name,
                                facility_ror=facility_ror, tz=tz, license=license,
                                embargo_days=embargo_days, default_probe=default_probe)
        self._context(harvested_at=datetime(2000, 1, 1, tzinfo=timezone.utc))  # check options

    def files(self) -> list[tuple[str, Path]]:
        """(relpath, path) of every matching regular file, sorted by relpath, each once."""
        found: dict[str, Path] = {}
        for pattern in self.patterns:
            for path in self.root.glob(pattern):
                found.setdefault(path.relative_to(self.root).as_posix(), path)
        return sorted((rel, path) for rel, path in found.items() if path.is_file())

    def harvest(self, checkpoint: Mapping[str, Any]) -> Iterator[Event]:
        """Events for every file, then Deletes for files gone since `checkpoint`.
        FileNotFoundError if the root is missing, or holds no matching file while the
        checkpoint lists some (an unmounted disk, often an empty mount point, must not
        delete everything)."""
        if not self.root.is_dir():
            raise FileNotFoundError(f"NeXus root {str(self.root)!r} is not a directory")
        ctx = self._context(harvested_at=self._clock())
        files = self.files()
        if not files and checkpoint:
            raise FileNotFoundError(
                f"no file under {str(self.root)!r} matches {list(self.patterns)} although "
                f"{len(checkpoint)} were harvested before: refusing to delete them all "
                "(is the disk mounted?)")
        seen = {relpath for relpath, _ in files}
        vanished = sorted(set(checkpoint) - seen)
        yield Planned(len(files) + len(vanished))
        for relpath, path in files:
            yield from self._file(relpath, path, checkpoint.get(relpath), ctx)
        for relpath in vanished:
            yield from (Delete(i) for i in _ids(checkpoint[relpath]))
            yield Mark(relpath, None)

    def _file(self, relpath: str, path: Path, prev: Any, ctx: NexusContext) -> Iterator[Event]:
        try:
            st = path.stat()
        except OSError as exc:
            yield Failure(relpath, f"cannot stat: {exc.strerror or exc}")
            return
        old = _ids(prev)
        state = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "mapping": MAPPING_VERSION}
        if isinstance(prev, dict) and all(prev.get(k) == v for k, v in state.items()):
            yield Unchanged(relpath, len(old))
            return
        info = {"url": path.absolute().as_uri(), "size": st.st_size,
                "mtime": iso(datetime.fromtimestamp(st.st_mtime_ns / 1e9, timezone.utc))}
        try:
            entries = read_nexus(path, self.max_bytes_per_file, info).entries
            records = [entry_to_record(e, relpath, ctx) for e in entries]
        except NexusReadError as exc:
            yield Failure(relpath, str(exc))
            return
        except Exception as exc:  # a bad file must never stop the run
            yield Failure(relpath, f"unreadable: {type(exc).__name__}: {short_reason(exc)}")
            return
        ids = [r.id for r in records]
        kept = set(ids)
        yield from (Upsert(r) for r in records)
        yield from (Delete(i) for i in old if i not in kept)
        yield Mark(relpath, {**state, "ids": ids})
