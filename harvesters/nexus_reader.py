"""Bounded, targeted reading of NeXus/HDF5 metadata into `mappings.nexus` entry dicts.

Known paths are looked up (title, times, definition, identifier_technique_N, instrument with
source / monochromator / beam / positioners, sample, NXuser, NXsubentry); the tree is never
walked. A dataset value is read only when it is small (<= 64 elements, <= 64 KiB) and while the
file's byte budget lasts. Variable-length strings cannot be sized before they are read: they are
read only at the known paths above, counted once read, and the first one that overdraws the
budget is the last value read. External links and dangling soft links count as absent. Of an
NXuser only name, role, affiliation, ORCID and proposal number are read: never e-mail, phone,
fax, login or facility user id. Strings are decoded (UTF-8, else Latin-1) and stripped; NX_class
stored as bytes or as a 1-element array is normalised.

h5py's low-level ids (`h5o.open`, `h5a.open`, `DatasetID.read`) are used instead of the
high-level objects: several times faster for many tiny reads.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import h5py
import numpy as np

MAX_ELEMENTS = 64  # a dataset with more elements is never read
MAX_VALUE_BYTES = 64 * 1024  # nor one larger than this
MAX_CHILDREN = 64  # children inspected when a group must be found by NX_class
MAX_ENTRY_CHILDREN = 1024  # children of an NXentry inspected
_BLISS_SCAN = re.compile(r"^\d+\.\d+$")
_TECHNIQUE_ID = re.compile(r"^identifier_technique_(\d+)$")
_ENTRY_FIELDS = ("title", "start_time", "end_time", "definition", "experiment_identifier",
                 "proposal", "collection_identifier", "entry_identifier", "experiment_description",
                 "program_name", "run_cycle", "release_date")
# entry children never looked at by class: fields read by name, Bliss groups of no interest
_KNOWN_CHILDREN = frozenset(_ENTRY_FIELDS) | {
    "instrument", "sample", "measurement", "plotselect", "plot0D", "plot1D", "plot2D", "notes",
    "data"}
_SUB_FIELDS = ("definition", "title", "start_time", "end_time", "experiment_identifier")
_USER_FIELDS = {"name": "name", "role": "role", "affiliation": "affiliation", "ORCID": "orcid",
                "orcid": "orcid", "proposal_number": "proposal_number"}
_ROOT_ATTRS = ("creator", "file_time", "file_update_time", "instrument")

GroupID = h5py.h5g.GroupID
DatasetID = h5py.h5d.DatasetID
_LINKS = (h5py.h5l.TYPE_HARD, h5py.h5l.TYPE_SOFT)
_H5_ERRORS = (KeyError, RuntimeError, OSError, ValueError, TypeError)
_MEMORY_TYPES: dict[tuple, h5py.h5t.TypeID] = {}  # filled on first use, see _memory_type


class NexusReadError(Exception):
    """A file that cannot be read as HDF5; the message is the reason for the run report."""


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # e.g. b"\xb5rad" written by Windows software


def nx_value(value: Any) -> Any:
    """Plain Python from an h5py value: bytes decoded (UTF-8, else Latin-1), numpy scalars
    unwrapped, 1-element arrays unwrapped, longer arrays as lists, strings stripped."""
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return None
        if value.size > 1:
            return [nx_value(v) for v in value.reshape(-1)]
        value = value.reshape(-1)[0]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = _decode(value)
    return value.replace("\x00", "").strip() if isinstance(value, str) else value



class Reader:
    """Bounded access to one open file; `bytes_read` counts the dataset bytes read."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes_read = max_bytes, 0

    def child(self, group: GroupID | None, name: str | bytes) -> GroupID | DatasetID | None:
        """The object behind a hard or soft link; None if absent, external or dangling."""
        key = name.encode() if isinstance(name, str) else name
        try:
            if group is None or not group.links.exists(key):
                return None
            if group.links.get_info(key).type not in _LINKS:
                return None  # external (detector files that may be missing) or user-defined
            obj = h5py.h5o.open(group, key)
        except _H5_ERRORS:
            return None  # a dangling soft link
        return obj if isinstance(obj, (GroupID, DatasetID)) else None

    def scan(self, group: GroupID, limit: int) -> dict[str, GroupID | DatasetID]:
        """name -> object for the group's first `limit` children, links as in `child`."""
        found = ((key, self.child(group, key)) for key in islice(group, limit))
        return {_decode(key): obj for key, obj in found if obj is not None}

    def attr(self, obj: Any, name: str) -> Any:
        """A small attribute's value (normalised), or None."""
        key = name.encode()
        try:
            if obj is None or not h5py.h5a.exists(obj, key):
                return None
            attr = h5py.h5a.open(obj, key)
            shape, dtype = attr.shape, attr.dtype
            if not _readable(shape, dtype):
                return None
            raw = np.empty(shape, dtype=dtype)
            attr.read(raw, mtype=_memory_type(dtype))
        except _H5_ERRORS:
            return None
        return nx_value(raw)

    def value(self, obj: Any) -> Any:
        """A small dataset's value, or None (not a dataset, too big, budget spent, odd type)."""
        if not isinstance(obj, DatasetID):
            return None
        shape, dtype = obj.shape, obj.dtype
        if not _readable(shape, dtype):
            return None
        nbytes = math.prod(shape) * dtype.itemsize
        if self.bytes_read + nbytes > self.max_bytes:
            return None
        raw = np.empty(shape, dtype=dtype)
        obj.read(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=_memory_type(dtype))
        if dtype.kind == "O":  # variable-length strings: count what was actually read
            nbytes += sum(len(v) for v in raw.reshape(-1) if isinstance(v, (bytes, str)))
        self.bytes_read += nbytes
        return nx_value(raw)

    def field(self, group: GroupID | None, name: str) -> Any:
        return self.value(self.child(group, name))

    def quantity(self, group: GroupID | None, name: str) -> dict | None:
        """{"value", "units"} of a numeric scalar field, else None."""
        obj = self.child(group, name)
        value = self.value(obj)
        if value is None or isinstance(value, (list, str)):
            return None
        return {"value": value, "units": self.attr(obj, "units")}


def _memory_type(dtype: np.dtype) -> h5py.h5t.TypeID:
    """h5py's own memory type for `dtype` (what a read builds each time), cached per dtype and
    string encoding: about a third of the cost of a small read."""
    key = (dtype.str, h5py.check_string_dtype(dtype))
    mtype = _MEMORY_TYPES.get(key)
    if mtype is None:
        mtype = _MEMORY_TYPES[key] = h5py.h5t.py_create(dtype)
    return mtype


def _readable(shape: tuple | None, dtype: np.dtype) -> bool:
    """Small enough (elements and bytes) and of a plain type: numbers, bools, strings."""
    if shape is None:  # null dataspace (h5py.Empty)
        return False
    size = math.prod(shape)
    if dtype.kind == "O" and h5py.check_string_dtype(dtype) is None:
        return False
    return (dtype.kind in "biufSO" and size <= MAX_ELEMENTS
            and size * dtype.itemsize <= MAX_VALUE_BYTES)


def nx_class(reader: Reader, obj: Any) -> str | None:
    """The NX_class attribute, whether stored as a string, bytes or a 1-element array."""
    value = reader.attr(obj, "NX_class")
    return value[0] if isinstance(value, list) and value else value


def _groups(reader: Reader, objs: Mapping[str, Any]) -> dict[str, list[tuple[str, GroupID]]]:
    """NX_class -> [(name, group)] among already opened children."""
    out: dict[str, list[tuple[str, GroupID]]] = {}
    for name, obj in objs.items():
        if isinstance(obj, GroupID):
            out.setdefault(nx_class(reader, obj) or "", []).append((name, obj))
    return out


def _first_group(groups: Mapping[str, list], cls: str) -> GroupID | None:
    return groups[cls][0][1] if groups.get(cls) else None


def _find(r: Reader, group: GroupID | None, name: str, cls: str) -> GroupID | None:
    """A child group by name, else the first of class `cls` (only in small groups)."""
    found = _group(r, group, name)
    if found is not None or group is None or len(group) > MAX_CHILDREN:
        return found
    return _first_group(_groups(r, r.scan(group, MAX_CHILDREN)), cls)


def _fields(r: Reader, group: GroupID, names: Sequence[str]) -> dict[str, Any]:
    """name -> value of the fields that are present and readable."""
    return {n: v for n in names if (v := r.field(group, n)) is not None}


def _technique_ids(r: Reader, group: GroupID, names: Sequence[str]) -> list[Any]:
    """identifier_technique_1, _2, ... values in numeric order."""
    numbered = sorted((int(m.group(1)), n) for n in names if (m := _TECHNIQUE_ID.match(n)))
    return [v for _, n in numbered if (v := r.field(group, n)) is not None]


def _group(r: Reader, parent: GroupID | None, name: str) -> GroupID | None:
    obj = r.child(parent, name)
    return obj if isinstance(obj, GroupID) else None


def _instrument(r: Reader, inst: GroupID | None) -> dict[str, Any]:
    """name, else @short_name (of the group, else of its name field), and Bliss title."""
    if inst is None:
        return {}
    name_obj = r.child(inst, "name")
    name = r.value(name_obj)
    if name is not None:
        return {"name": name, "title": r.field(inst, "title")}
    short_name = r.attr(inst, "short_name")
    if short_name is None:
        short_name = r.attr(name_obj, "short_name")
    return {"title": r.field(inst, "title"), "short_name": short_name}


def _parts(r: Reader, inst: GroupID | None) -> tuple[GroupID | None, GroupID | None]:
    """(source, monochromator) of an instrument by name; when no child is called "source",
    both are looked for by NX_class among the first children (PSI: "SINQ")."""
    source, mono = _group(r, inst, "source"), _group(r, inst, "monochromator")
    if inst is not None and source is None and len(inst) <= MAX_CHILDREN:
        groups = _groups(r, r.scan(inst, MAX_CHILDREN))
        source = _first_group(groups, "NXsource")
        mono = mono or _first_group(groups, "NXmonochromator")
    return source, mono


def _positioners(r: Reader, inst: GroupID | None) -> dict[str, dict]:
    """Bliss scalar snapshots: positioners_start, else positioners, else start_positioners."""
    for name in ("positioners_start", "positioners", "start_positioners"):
        group = r.child(inst, name)
        if isinstance(group, GroupID):
            keys = islice(group, MAX_CHILDREN)
            return {_decode(key): q for key in keys if (q := r.quantity(group, key))}
    return {}


def _source(r: Reader, source: GroupID | None) -> dict[str, Any]:
    return {n: r.field(source, n) for n in ("name", "type", "probe")} if source else {}


def _user(r: Reader, user: GroupID) -> dict[str, Any]:
    """Citation fields of an NXuser only: never e-mail, phone, fax, login or user id."""
    return {key: v for name, key in _USER_FIELDS.items() if (v := r.field(user, name)) is not None}


def _subentry(r: Reader, name: str, group: GroupID) -> dict[str, Any]:
    sub = {"name": name, **_fields(r, group, _SUB_FIELDS)}
    sub.setdefault("definition", r.attr(group, "definition"))
    return sub


def _in_subentries(r: Reader, subs: list, name: str, cls: str) -> GroupID | None:
    """Processed files keep instrument and sample only inside an NXsubentry."""
    return next((g for _, s in subs if (g := _find(r, s, name, cls)) is not None), None)


def _quantities(r: Reader, groups: Sequence[tuple[str, GroupID | None, tuple]]) -> dict:
    return {f"{prefix}/{name}": q for prefix, group, names in groups
            for name in names if (q := r.quantity(group, name))}


def _others(r: Reader, group: GroupID, names: Sequence[str]) -> dict[str, Any]:
    """The children that may be NXuser, NXsubentry, NXsource or an oddly named instrument or
    sample: neither fields read by name nor groups known to be something else."""
    return {n: obj for n in names if n not in _KNOWN_CHILDREN and not _TECHNIQUE_ID.match(n)
            and (obj := r.child(group, n)) is not None}


def read_entry(r: Reader, name: str, group: GroupID, file_info: Mapping[str, Any]) -> dict:
    """The `mappings.nexus` entry dict of one NXentry group."""
    names = [_decode(key) for key in islice(group, MAX_ENTRY_CHILDREN)]
    present = set(names)
    groups = _groups(r, _others(r, group, names))
    subs = groups.get("NXsubentry", [])[:16]
    inst = _group(r, group, "instrument") or _first_group(groups, "NXinstrument") or (
        _in_subentries(r, subs, "instrument", "NXinstrument"))
    sample = _group(r, group, "sample") or _first_group(groups, "NXsample") or (
        _in_subentries(r, subs, "sample", "NXsample"))
    source, mono = _parts(r, inst)
    source = source or _first_group(groups, "NXsource")  # NXmx puts it under the entry
    quantities = _quantities(r, (
        ("monochromator", mono, ("energy", "wavelength")),
        ("beam", _group(r, inst, "beam"), ("incident_energy", "incident_wavelength")),
        ("sample", sample, ("temperature", "pressure")),
        ("source", source, ("current", "energy"))))
    return {
        "name": name, **_fields(r, group, [n for n in _ENTRY_FIELDS if n in present]),
        "technique_ids": _technique_ids(r, group, names),
        "subentries": [_subentry(r, n, g) for n, g in subs],
        "instrument": _instrument(r, inst), "source": _source(r, source),
        "sample": {n: r.field(sample, n) for n in ("name", "chemical_formula", "description")},
        "users": [_user(r, g) for _, g in groups.get("NXuser", [])[:32]],
        "quantities": quantities, "positioners": _positioners(r, inst), "file": dict(file_info),
    }


def _entries(r: Reader, root: GroupID) -> Iterator[tuple[str, GroupID]]:
    """Root groups of class NXentry (or unclassed Bliss scans "1.1"), hard links only, once."""
    seen = set()
    for key in root:
        try:
            hard = root.links.get_info(key).type == h5py.h5l.TYPE_HARD
        except _H5_ERRORS:
            continue
        group, name = r.child(root, key) if hard else None, _decode(key)
        if not isinstance(group, GroupID) or group in seen:
            continue
        cls = nx_class(r, group)
        if cls == "NXentry" or (cls is None and _BLISS_SCAN.match(name)):
            seen.add(group)
            yield name, group


@dataclass(frozen=True)
class NexusFile:
    """What `read_nexus` found: one entry dict per NXentry, and the dataset bytes it read."""

    entries: list[dict]
    bytes_read: int


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as exc:
        if not os.access(path, os.R_OK):
            raise NexusReadError("permission denied") from None
        if not h5py.is_hdf5(path):
            raise NexusReadError("not an HDF5 file") from None
        raise NexusReadError(f"cannot open HDF5 file: {short_reason(exc)}") from None


def read_nexus(path: Path, max_bytes: int = 1_000_000,
               file_info: Mapping[str, Any] | None = None) -> NexusFile:
    """Entry dicts of every NXentry in the file. Raises NexusReadError if it cannot be opened
    (not HDF5, truncated, unreadable), other exceptions from h5py on damaged content."""
    reader = Reader(max_bytes)
    with _open(path) as f:
        root = h5py.h5o.open(f.id, b"/")
        info = {**{a: reader.attr(root, a) for a in _ROOT_ATTRS}, **(file_info or {})}
        entries = [read_entry(reader, name, group, info) for name, group in _entries(reader, root)]
    return NexusFile(entries, reader.bytes_read)


def short_reason(exc: BaseException) -> str:
    """An exception's message, at most 300 characters, for a run report."""
    return (str(exc) or type(exc).__name__)[:300]
