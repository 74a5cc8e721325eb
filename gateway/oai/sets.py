"""OAI-PMH sets (§2.6), derived from the record: nothing to configure, nothing stored.

    openaire_data                   every record (OpenAIRE harvests this set)
    kind, kind:dataset, kind:document
    facility, facility:<F>, facility:<F>:<I>     instrument I of facility F
    technique, technique:<PaNET id>              e.g. technique:PaNET01188

A record is in the set of each of its techniques and of their broader techniques when a
techniques vocabulary with a hierarchy is configured (as technique filters of the index are
deep). A header lists every set of its record, parents included. Names are encoded so that any
facility or instrument name is a valid setSpec part (`[A-Za-z0-9-_.!~*'()]+`): every other
character, and `~` itself, becomes `~XX` per UTF-8 byte (deterministic and reversible).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from mappings.record import KINDS, Record

from ..index import Query, SearchIndex
from ..index.docs import Vocabulary, technique_labels

OPENAIRE = "openaire_data"
PARENTS = ("facility", "technique")  # sets of any value: the index says which values exist
PANET = "http://purl.org/pan-science/PaNET/"
_PANET_ID = re.compile(r"PaNET\d+")
_UNSAFE = re.compile(r"[^A-Za-z0-9\-_.!*'()]+")  # the setSpec alphabet but `~`
_ESCAPE = re.compile(r"~([0-9A-F]{2})")


@functools.lru_cache(maxsize=4096)
def encode(name: str) -> str:
    """A name as one setSpec part (cached: a few facility, instrument and technique names
    recur on every page)."""
    return _UNSAFE.sub(lambda m: "".join(f"~{b:02X}" for b in m.group().encode()), name)


def decode(part: str) -> str | None:
    """The name of an encoded setSpec part; None if `part` is not the encoding of one."""
    try:
        name = bytes(
            int(m.group(1), 16) if m else ord(c) for m, c in _escapes(part)).decode()
    except (UnicodeDecodeError, ValueError):
        return None
    return name if encode(name) == part else None


def _escapes(part: str) -> list[tuple[re.Match[str] | None, str]]:
    out, i = [], 0
    while i < len(part):
        m = _ESCAPE.match(part, i)
        out.append((m, part[i]))
        i += 3 if m else 1
    return out


@functools.lru_cache(maxsize=4096)
def technique_part(iri: str) -> str:
    return iri[len(PANET):] if iri.startswith(PANET) and _PANET_ID.fullmatch(
        iri[len(PANET):]) else encode(iri)


def record_sets(record: Record, techniques: Vocabulary | None = None) -> list[str]:
    """Every setSpec of `record`, parents included, in a stable order; `techniques` adds
    the broader techniques of the record's own."""
    out = [OPENAIRE, "kind", f"kind:{record.kind}"]
    if record.facility:
        facility = f"facility:{encode(record.facility.name)}"
        out += ["facility", facility]
        if record.instrument:
            out.append(f"{facility}:{encode(record.instrument.name)}")
    parts = dict.fromkeys(technique_part(iri) for iri, _ in technique_labels(record, techniques))
    if parts:
        out += ["technique", *(f"technique:{p}" for p in parts)]
    return out


@dataclass(frozen=True)
class Selection:
    """A set as the two streams of a list see it: index filters for live records (None:
    the set cannot hold any) and membership for deleted headers."""

    spec: str | None
    filters: dict[str, tuple[str, ...]] | None = field(default_factory=dict)
    techniques: Vocabulary | None = None

    @property
    def fields(self) -> dict[str, str] | None:
        """The record fields (`gateway.store.OAI_FIELDS`) whose values alone decide which
        deleted headers are in the set, for the record store to match: {} for every
        record, one kind, facility or instrument; None where only `member` can tell
        (the parent sets, techniques with their hierarchy)."""
        if self.spec in (None, OPENAIRE, "kind"):
            return {}
        if self.spec in PARENTS or not self.filters or (
                "technique" in self.filters):
            return None
        return {name: values[0] for name, values in self.filters.items()}

    def member(self, record: Record) -> bool:
        return self.fields is not None or self.spec in record_sets(record, self.techniques)


def select(spec: str | None, index: SearchIndex, now: datetime,
           techniques: Vocabulary | None = None) -> Selection:
    """The selection of setSpec `spec` (None: no set), with the techniques vocabulary of
    the index. An unknown setSpec selects nothing (the list answers noRecordsMatch)."""
    return replace(_select(spec, index, now), techniques=techniques)


def _select(spec: str | None, index: SearchIndex, now: datetime) -> Selection:
    if spec is None or spec in (OPENAIRE, "kind"):
        return Selection(spec)
    head, _, rest = spec.partition(":")
    parts = rest.split(":") if rest else []
    names = [decode(p) for p in parts]
    if None in names:
        return Selection(spec, None)
    if head == "kind" and len(names) == 1 and names[0] in KINDS:
        return Selection(spec, {"kind": (names[0],)})
    if head == "facility" and len(names) <= 2:
        if not names:  # any facility: those that public records have now
            return _any(spec, index, "facility", now)
        filters = {"facility": (names[0],)}
        return Selection(spec, filters if len(names) == 1 else {
            **filters, "instrument": (names[1],)})
    if head == "technique" and len(parts) <= 1:
        if not parts:
            return _any(spec, index, "technique", now)
        iri = PANET + parts[0] if _PANET_ID.fullmatch(parts[0]) else names[0]
        return Selection(spec, {"technique": (iri,)})
    return Selection(spec, None)


def _any(spec: str, index: SearchIndex, name: str, now: datetime) -> Selection:
    """The parent set of every value of field `name` that public records have now."""
    values = tuple(v.value for v in index.search(Query(facets=(name,), size=0),
                                                 now).facets[name])
    return Selection(spec, {name: values} if values else None)


def list_sets(index: SearchIndex, now: datetime) -> list[tuple[str, str]]:
    """(setSpec, setName) of every set with public records (openaire_data always)."""
    facets = index.search(Query(facets=("kind", "facility", "technique"), size=0), now).facets
    out = [(OPENAIRE, "OpenAIRE")]
    kinds = sorted(v.value for v in facets["kind"])
    if kinds:
        out.append(("kind", "Records by kind"))
        out += [(f"kind:{k}", f"{k.capitalize()}s") for k in kinds]
    if facets["facility"]:
        out.append(("facility", "Records by facility and instrument"))
    for f in sorted(v.value for v in facets["facility"]):
        out.append((f"facility:{encode(f)}", f))
        instruments = index.search(Query(filters={"facility": (f,)}, facets=("instrument",),
                                         size=0), now).facets["instrument"]
        out += [(f"facility:{encode(f)}:{encode(i)}", f"{i} at {f}")
                for i in sorted(v.value for v in instruments)]
    if facets["technique"]:
        out.append(("technique", "Records by technique (PaNET)"))
    for t in sorted(facets["technique"], key=lambda v: v.value):
        out.append((f"technique:{technique_part(t.value)}", t.label or t.value))
    return out
