"""Load a python-icat YAML dump (``icatdump-6.2.yaml``) into the stand-in.

Each YAML document is a chunk ``{entityType: {key: object}}``; references are keys, one-to-many
children are inlined lists. Dumps carry no ids, create/mod times or release dates, so:

* ids continue the store's global sequence, in load order: chunk by chunk, the entity types of a
  chunk ordered so that referenced types come first (Investigation < Sample < Dataset < Datafile),
  objects in dump order, each object followed by its inlined children (depth first);
* ``createTime = modTime = DUMP_EPOCH + id hours`` and ``createId = modId = "simple/root"``: rows
  an hour apart, far more than a harvester's overlap, so an incremental test that changes only
  a child row really depends on watching that child (a parent's own modTime is long past);
* ``Investigation.releaseDate`` from ``DUMP_RELEASE`` by investigation name:
  08100122-EF and 10100601-ST released (2011, 2013: start + 3 years), 12100409-ST embargoed until
  2099-12-31; investigations of other dumps get startDate + 3 years (or none without a startDate).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from .server import ROOT_ID

DUMP_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
DUMP_RELEASE = {
    "08100122-EF": datetime(2011, 3, 13, 10, 39, 42, tzinfo=timezone.utc),
    "10100601-ST": datetime(2013, 9, 30, 10, 27, 24, tzinfo=timezone.utc),
    "12100409-ST": datetime(2099, 12, 31, 0, 0, 0, tzinfo=timezone.utc),
}


def _cap(name: str) -> str:
    return name[0].upper() + name[1:]


def _type_order(schema, types: list[str]) -> list[str]:
    present = set(types)
    done: list[str] = []
    seen: set[str] = set()

    def visit(t: str) -> None:
        if t in seen:
            return
        seen.add(t)
        for target in schema[t].m2o.values():
            if target in present and target != t:
                visit(target)
        done.append(t)
    for t in types:
        visit(t)
    return done


def load_dump(standin, path) -> dict[str, int]:
    import yaml   # PyYAML: test extra

    store = standin.store
    schema = store.schema
    text = Path(path).read_text(encoding="utf-8")
    keys: dict[str, int] = {}
    pending: list[tuple[str, int, dict, dict]] = []   # etype, id, attrs, refs(field -> key|id)

    def add(etype: str, obj: dict, parent: tuple[str, int] | None, key: str | None) -> None:
        ent = schema[etype]
        rid = store.new_id()
        if key is not None:
            keys[key] = rid
        attrs, refs = {}, {}
        if parent is not None:
            refs[parent[0]] = parent[1]
        item = (etype, rid, attrs, refs)
        pending.append(item)
        later = []
        for f, v in (obj or {}).items():
            if f in ent.attrs:
                attrs[f] = store.coerce(ent, f, v)
            elif f in ent.m2o:
                refs[f] = v if not isinstance(v, dict) else None
            elif f in ent.o2m:
                later.append((f, v))
            else:
                raise ValueError(f"{etype} has no field {f} (dump {path})")
        for f, children in later:
            target, inverse = ent.o2m[f]
            for child in children or []:
                add(target, child, (inverse, rid), None)

    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        types = [_cap(t) for t in doc]
        for etype in _type_order(schema, types):
            objs = doc[etype[0].lower() + etype[1:]]
            for key, obj in (objs or {}).items():
                add(etype, obj, None, key)

    counts: dict[str, int] = {}
    for etype, rid, attrs, refs in pending:
        values = dict(attrs)
        for f, ref in refs.items():
            if isinstance(ref, int):
                values[f] = ref
            elif ref is None:
                values[f] = None
            else:
                if ref not in keys:
                    raise ValueError(f"{etype}.{f}: unknown reference {ref!r}")
                values[f] = keys[ref]
        if etype == "Investigation" and values.get("releaseDate") is None:
            rel = DUMP_RELEASE.get(values.get("name"))
            if rel is None and values.get("startDate") is not None:
                rel = values["startDate"] + timedelta(days=3 * 365)
            if rel is not None:
                values["releaseDate"] = rel
        store.insert(etype, values, user=ROOT_ID, when=DUMP_EPOCH + timedelta(hours=rid),
                     row_id=rid, check=False)
        counts[etype] = counts.get(etype, 0) + 1
    return counts
