"""ICAT's JSON for entities (icat-rest.md §4): base fields first, then the other fields in
alphabetical order; null attributes omitted; one-to-many relations always arrays ([] unless
INCLUDEd); many-to-one relations only when INCLUDEd; dates in the server zone."""
from __future__ import annotations

from typing import Callable

from .errors import IcatError
from .jpql import Include
from .schema import DATE, DOUBLE

_PLANS: dict[str, list[tuple[str, str, str | None]]] = {}


def _plan(schema, etype: str) -> list[tuple[str, str, str | None]]:
    plan = _PLANS.get(etype)
    if plan is None:
        ent = schema[etype]
        plan = []
        for f in ent.order:
            if f in ent.attrs:
                kind = ent.attrs[f]
                plan.append((f, "date" if kind == DATE else "double" if kind == DOUBLE else "attr",
                             None))
            elif f in ent.m2o:
                plan.append((f, "m2o", ent.m2o[f]))
            else:
                plan.append((f, "o2m", ent.o2m[f][0]))
        _PLANS[etype] = plan
    return plan


class Renderer:
    def __init__(self, store, fmt: Callable, readable: Callable | None, max_entities: int) -> None:
        self.store = store
        self.schema = store.schema
        self.fmt = fmt
        self.readable = readable
        self.max_entities = max_entities
        self.count = 0

    def bump(self) -> None:
        self.count += 1
        if self.count > self.max_entities:
            raise IcatError("VALIDATION", f"attempt to return more than {self.max_entities} entities")

    def entity(self, etype: str, row: dict, inc: Include | None) -> dict:
        self.bump()
        fmt = self.fmt
        out = {"id": row["id"], "createId": row["createId"], "createTime": fmt(row["createTime"]),
               "modId": row["modId"], "modTime": fmt(row["modTime"])}
        children = inc.children if inc is not None else None
        rows = self.store.rows
        readable = self.readable
        for f, kind, target in _plan(self.schema, etype):
            if kind == "attr":
                v = row.get(f)
                if v is not None:
                    out[f] = v
            elif kind == "date":
                v = row.get(f)
                if v is not None:
                    out[f] = fmt(v)
            elif kind == "double":
                v = row.get(f)
                if v is not None and v == v:     # NaN cannot be written as a JSON number
                    out[f] = v
            elif kind == "o2m":
                sub = children.get(f) if children else None
                if sub is None:
                    out[f] = []
                else:
                    trows = rows[target]
                    lst = []
                    for cid in self.store.children(etype, row["id"], f):
                        crow = trows[cid]
                        if readable is None or readable(target, crow):
                            lst.append(self.entity(target, crow, sub))
                    out[f] = lst
            else:   # m2o
                sub = children.get(f) if children else None
                if sub is not None:
                    rid = row.get(f)
                    if rid is not None:
                        crow = rows[target][rid]
                        if readable is None or readable(target, crow):
                            out[f] = self.entity(target, crow, sub)
        return out

    def value(self, v, etype: str | None = None):
        """A projected value: entity rows wrapped by type, dates formatted, NaN -> null."""
        if v is None:
            return None
        if isinstance(v, dict):
            return {etype: self.entity(etype, v, None)}
        if isinstance(v, float) and v != v:
            return None
        if hasattr(v, "tzinfo"):
            return self.fmt(v)
        return v
