"""In-memory entity store: one dict per row, relations by id, reverse indexes for one-to-many.

A row is a plain dict ``{"id", "createId", "createTime", "modId", "modTime", <attributes>,
<many-to-one field>: related id or None}``. Dates are aware ``datetime`` objects in UTC. One-to-many
relations are not stored on the row; ``children(type, id, field)`` reads them from the reverse index
of the target's many-to-one field (kept in id order). Ids come from one global sequence, as ICAT's
shared ``SEQUENCE`` table gives them.

File-count triggers (icat-rest.md §7): ICAT keeps ``Dataset.fileCount/fileSize`` and
``Investigation.fileCount/fileSize`` with database triggers on Datafile (and Dataset) insert,
delete and ``fileSize``/``dataset`` updates, which do **not** touch the parents' ``modTime``.
Writes through the API (``insert(check=True)``, ``update``, ``delete``) emulate them; loading a
dump or generating a catalogue (``check=False``) takes the counts as given.
"""
from __future__ import annotations

import bisect
import threading
from datetime import datetime, timezone
from typing import Any, Callable

from .schema import BASE_FIELDS, BOOL, DATE, DOUBLE, ENUM, INT, NULLABLE_M2O, STRING, Entity, schema
from .timefmt import parse_datetime


class StoreError(ValueError):
    pass


class Store:
    def __init__(self, clock: Callable[[], datetime], zone) -> None:
        self.schema: dict[str, Entity] = schema()
        self.clock = clock
        self.zone = zone
        self.lock = threading.RLock()
        self.rows: dict[str, dict[int, dict[str, Any]]] = {n: {} for n in self.schema}
        self.ids: dict[str, list[int]] = {n: [] for n in self.schema}
        # (target type, many-to-one field) -> {parent id: [child ids, ascending]}
        self.rev: dict[tuple[str, str], dict[int, list[int]]] = {}
        for ent in self.schema.values():
            for fname in ent.m2o:
                self.rev[(ent.name, fname)] = {}
        self.next_id = 1

    # -- helpers ------------------------------------------------------------------------------
    def entity(self, etype: str) -> Entity:
        try:
            return self.schema[etype]
        except KeyError:
            raise StoreError(f"{etype} is not an ICAT entity") from None

    def coerce(self, ent: Entity, fname: str, value: Any) -> Any:
        if value is None:
            return None
        kind = ent.attrs.get(fname)
        if kind == DATE:
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    value = value.replace(tzinfo=self.zone)
                return value.astimezone(timezone.utc)
            return parse_datetime(str(value), self.zone)
        if kind == DOUBLE:
            return float(value)
        if kind == INT:
            return int(value)
        if kind == BOOL:
            if isinstance(value, str):
                return value.strip().lower() == "true"
            return bool(value)
        if kind == ENUM:
            value = str(value).upper()
            if value not in ent.enums[fname]:
                raise StoreError(f"{ent.name}.{fname} must be one of {ent.enums[fname]}")
            return value
        if kind == STRING:
            return str(value)
        raise StoreError(f"{ent.name} has no attribute {fname}")

    def new_id(self) -> int:
        nid = self.next_id
        self.next_id += 1
        return nid

    # -- writes -------------------------------------------------------------------------------
    def insert(self, etype: str, values: dict[str, Any], *, user: str, when: datetime,
               row_id: int | None = None, check: bool = True) -> int:
        """Insert a row. `values` hold attributes (coerced when `check`) and many-to-one ids."""
        ent = self.schema[etype]
        if check:
            row = {}
            for k, v in values.items():
                if k in ent.m2o:
                    row[k] = self._reference(ent, k, v)
                elif k in ent.attrs:
                    row[k] = self.coerce(ent, k, v)
                else:
                    raise StoreError(f"Field {k} not found in {etype}")
            missing = [f for f in ent.required if row.get(f) is None]
            missing += [f for f in ent.m2o if row.get(f) is None and (etype, f) not in NULLABLE_M2O]
            if missing:
                raise StoreError(f"{etype}: {sorted(missing)[0]} cannot be null.")
        else:
            row = dict(values)
        rid = self.new_id() if row_id is None else row_id
        if row_id is not None and row_id >= self.next_id:
            self.next_id = row_id + 1
        row["id"] = rid
        row["createId"] = row["modId"] = user
        row["createTime"] = row["modTime"] = when
        for f in ent.m2o:
            row.setdefault(f, None)
        self.rows[etype][rid] = row
        ids = self.ids[etype]
        if not ids or ids[-1] < rid:
            ids.append(rid)
        else:
            bisect.insort(ids, rid)
        for f in ent.m2o:
            pid = row[f]
            if pid is not None:
                lst = self.rev[(etype, f)].setdefault(pid, [])
                if not lst or lst[-1] < rid:
                    lst.append(rid)
                else:
                    bisect.insort(lst, rid)
        if check:
            self._file_trigger(etype, row, +1)
        return rid

    # -- ICAT's fileCount/fileSize triggers (no modTime change) --------------------------------
    def _file_trigger(self, etype: str, row: dict[str, Any], sign: int) -> None:
        """Add (`sign` +1) or remove (-1) the files of a Datafile or Dataset row to/from its
        parents' fileCount/fileSize, as ICAT's triggers do: the parents' modTime stays."""
        if etype == "Datafile":
            count, size = 1, row.get("fileSize") or 0
            ds = self.rows["Dataset"].get(row.get("dataset"))
        elif etype == "Dataset":
            count, size, ds = row.get("fileCount") or 0, row.get("fileSize") or 0, None
        else:
            return
        if ds is not None:
            self._bump(ds, sign * count, sign * size)
            inv = self.rows["Investigation"].get(ds.get("investigation"))
        else:
            inv = self.rows["Investigation"].get(row.get("investigation"))
        if inv is not None and (count or size):
            self._bump(inv, sign * count, sign * size)

    @staticmethod
    def _bump(row: dict[str, Any], count: int, size: int) -> None:
        row["fileCount"] = max(0, (row.get("fileCount") or 0) + count)
        row["fileSize"] = max(0, (row.get("fileSize") or 0) + size)

    def update(self, etype: str, rid: int, values: dict[str, Any], *, user: str,
               when: datetime) -> None:
        ent = self.entity(etype)
        row = self.rows[etype].get(rid)
        if row is None:
            raise StoreError(f"{etype}[id:{rid}] not found.")
        files = etype == "Datafile" and bool({"fileSize", "dataset"} & set(values))
        if files:
            self._file_trigger(etype, row, -1)
        try:
            self._update(etype, ent, rid, row, values)
        finally:
            if files:
                self._file_trigger(etype, row, +1)
        row["modId"] = user
        row["modTime"] = when

    def _reference(self, ent: Entity, k: str, v: Any) -> int | None:
        """A many-to-one value as an id of an existing row (None stays None)."""
        if v is None:
            return None
        v = int(v)
        if v not in self.rows[ent.m2o[k]]:
            raise StoreError(f"{ent.m2o[k]}[id:{v}] not found.")
        return v

    def _update(self, etype: str, ent: Entity, rid: int, row: dict[str, Any],
                values: dict[str, Any]) -> None:
        for k, v in values.items():
            if k in ent.m2o:
                v = self._reference(ent, k, v)
                if v is None and (etype, k) not in NULLABLE_M2O:
                    raise StoreError(f"Attempt to set field {k} of {etype} to null")
                old = row[k]
                if old is not None:
                    self.rev[(etype, k)][old].remove(rid)
                if v is not None:
                    bisect.insort(self.rev[(etype, k)].setdefault(v, []), rid)
                row[k] = v
            elif k in ent.attrs:
                v = self.coerce(ent, k, v)
                if v is None and k in ent.required:
                    raise StoreError(f"{etype}: {k} cannot be null.")
                if v is None:
                    row.pop(k, None)
                else:
                    row[k] = v
            else:
                raise StoreError(f"Field {k} not found in {etype}")

    def delete(self, etype: str, rid: int) -> None:
        ent = self.entity(etype)
        row = self.rows[etype].get(rid)
        if row is None:
            raise StoreError(f"{etype}[id:{rid}] not found.")
        for fname, (target, inverse) in ent.o2m.items():
            for cid in list(self.rev[(target, inverse)].get(rid, ())):
                if (target, inverse) in NULLABLE_M2O:  # ON DELETE SET NULL, no modTime change
                    self.rows[target][cid][inverse] = None
                    self.rev[(target, inverse)][rid].remove(cid)
                else:
                    self.delete(target, cid)
        for fname in ent.o2m:
            target, inverse = ent.o2m[fname]
            self.rev[(target, inverse)].pop(rid, None)
        self._file_trigger(etype, row, -1)  # after the cascade: a Dataset's files are gone
        for f in ent.m2o:
            pid = row[f]
            if pid is not None:
                lst = self.rev[(etype, f)].get(pid)
                if lst and rid in lst:
                    lst.remove(rid)
        del self.rows[etype][rid]
        ids = self.ids[etype]
        i = bisect.bisect_left(ids, rid)
        del ids[i]

    # -- reads --------------------------------------------------------------------------------
    def children(self, etype: str, rid: int, fname: str) -> list[int]:
        target, inverse = self.schema[etype].o2m[fname]
        return self.rev[(target, inverse)].get(rid, [])

    def clear(self) -> None:
        for n in self.rows:
            self.rows[n].clear()
            self.ids[n].clear()
        for d in self.rev.values():
            d.clear()
        self.next_id = 1


__all__ = ["Store", "StoreError", "BASE_FIELDS"]
