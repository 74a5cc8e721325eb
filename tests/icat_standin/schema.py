"""The ICAT 6.2 entity schema, read from ``../shared/data/icat/icatdata-6.2.xsd``.

Every complexType of the XSD that describes an entity gives its attributes (xsd simple types),
its many-to-one relations (an element typed with a ``…Ref`` or an entity type, at most once) and
its one-to-many relations (an element with ``maxOccurs="unbounded"``). The inverse field of a
one-to-many relation is the single many-to-one field of the target that points back, except for
the few ambiguous pairs listed in ``_INVERSE``.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

XSD = Path(__file__).resolve().parents[3] / "shared" / "data" / "icat" / "icatdata-6.2.xsd"
_NS = {"xsd": "http://www.w3.org/2001/XMLSchema"}

# attribute kinds
STRING, DATE, DOUBLE, INT, BOOL, ENUM = "string", "date", "double", "int", "bool", "enum"
_XSD_KIND = {"xsd:string": STRING, "xsd:dateTime": DATE, "xsd:double": DOUBLE, "xsd:int": INT,
             "xsd:integer": INT, "xsd:long": INT, "xsd:boolean": BOOL}
_ENUMS = {"parameterValueType": ("DATE_AND_TIME", "NUMERIC", "STRING"),
          "studyStatus": ("NEW", "IN_PROGRESS", "COMPLETE", "CANCELLED")}

# (entity, one-to-many field) -> many-to-one field of the target (ICAT's mappedBy)
_INVERSE = {("Datafile", "destDatafiles"): "sourceDatafile",
            ("Datafile", "sourceDatafiles"): "destDatafile",
            ("DataCollection", "jobsAsInput"): "inputDataCollection",
            ("DataCollection", "jobsAsOutput"): "outputDataCollection"}

# many-to-one relations that may be null; deleting the target nulls them instead of cascading
NULLABLE_M2O = {("Dataset", "sample"), ("Datafile", "datafileFormat"), ("Sample", "type"),
                ("DataPublication", "type"), ("Study", "user"), ("Shift", "instrument"),
                ("Rule", "grouping"), ("Job", "inputDataCollection"),
                ("Job", "outputDataCollection"), ("Affiliation", "user"),
                ("DataPublicationUser", "user")}

BASE_FIELDS = ("id", "createId", "createTime", "modId", "modTime")


@dataclass
class Entity:
    name: str
    attrs: dict[str, str] = field(default_factory=dict)          # name -> kind
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    m2o: dict[str, str] = field(default_factory=dict)            # field -> target entity
    o2m: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (target, inverse)
    required: set[str] = field(default_factory=set)              # NOT NULL attributes
    order: tuple[str, ...] = ()                                  # non-base fields, alphabetical

    def kind(self, name: str) -> str | None:
        if name in ("id",):
            return INT
        if name in ("createTime", "modTime"):
            return DATE
        if name in ("createId", "modId"):
            return STRING
        return self.attrs.get(name)


def _cap(name: str) -> str:
    return name[0].upper() + name[1:]


@lru_cache(maxsize=1)
def schema() -> dict[str, Entity]:
    root = ET.parse(XSD).getroot()
    types = {ct.get("name"): ct for ct in root.findall("xsd:complexType", _NS)}
    skip = {"icatdata", "head", "data", "entityBase", "entityReference"}
    names = {n for n in types if n not in skip and not n.endswith("Ref")}
    entities: dict[str, Entity] = {}
    for n in sorted(names):
        ent = Entity(_cap(n))
        for el in types[n].iter("{http://www.w3.org/2001/XMLSchema}element"):
            fname, ftype = el.get("name"), el.get("type")
            many = el.get("maxOccurs") == "unbounded"
            base = ftype[:-3] if ftype.endswith("Ref") else ftype
            if ftype in _XSD_KIND:
                ent.attrs[fname] = _XSD_KIND[ftype]
                if el.get("minOccurs") != "0":
                    ent.required.add(fname)
            elif ftype in _ENUMS:
                ent.attrs[fname] = ENUM
                ent.enums[fname] = _ENUMS[ftype]
                if el.get("minOccurs") != "0":
                    ent.required.add(fname)
            elif base in names and many:
                ent.o2m[fname] = (_cap(base), "")
            elif base in names:
                ent.m2o[fname] = _cap(base)
            else:  # pragma: no cover - schema drift
                raise ValueError(f"unknown XSD type {ftype} for {n}.{fname}")
        entities[ent.name] = ent
    for ent in entities.values():
        for fname, (target, _) in list(ent.o2m.items()):
            inverse = _INVERSE.get((ent.name, fname))
            if inverse is None:
                back = [f for f, t in entities[target].m2o.items() if t == ent.name]
                if len(back) != 1:  # pragma: no cover - schema drift
                    raise ValueError(f"ambiguous inverse for {ent.name}.{fname}: {back}")
                inverse = back[0]
            ent.o2m[fname] = (target, inverse)
        ent.order = tuple(sorted([*ent.attrs, *ent.m2o, *ent.o2m]))
    return entities
