"""The JPQL the ICAT harvester sends, in one place.

Every search that returns entities or ids pages by **id keyset** (`WHERE x.id > :last ORDER BY
x.id LIMIT 0, n`) or asks for an explicit id list (`x.id IN (...)`); there is no offset paging.
Timestamps are quoted with an explicit UTC offset (`'2026-01-02 03:04:05 +0000'`, as icat.oaipmh
sends them), so the server's time zone does not matter.

A `Kind` says, for one entity type, what to INCLUDE for the mapping and which related rows
can change the record without moving the entity's own `modTime` (icat-rest.md §7): each
`watch` entry is a JOIN path whose last alias `c` is checked with `c.modTime >= since`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable


@dataclass(frozen=True)
class Kind:
    entity: str         # ICAT entity name
    alias: str
    record_kind: str    # "document" | "dataset"
    include: str
    watch: tuple[str, ...]        # JOIN clauses ending in alias "c" ("" = the entity itself)
    release_join: str             # JOIN reaching the Investigation as "c" ("" = itself)
    types: tuple[str, ...]        # entity types behind `watch` (for the high-water mark)
    children: tuple[str, ...] = ()  # JOINs to child rows ("c") whose removal changes the record


INVESTIGATION = Kind(
    entity="Investigation", alias="i", record_kind="document",
    include=("i.facility, i.investigationUsers AS iu, iu.user, i.keywords, i.parameters AS ip, "
             "ip.type, i.investigationInstruments AS ii, ii.instrument, "
             "i.fundingReferences AS fr, fr.funding, i.publications, i.samples AS s, s.type"),
    watch=("", "JOIN i.investigationUsers c", "JOIN i.investigationUsers iu JOIN iu.user c",
           "JOIN i.keywords c", "JOIN i.parameters c", "JOIN i.parameters ip JOIN ip.type c",
           "JOIN i.investigationInstruments c",
           "JOIN i.investigationInstruments ii JOIN ii.instrument c",
           "JOIN i.fundingReferences c", "JOIN i.fundingReferences fr JOIN fr.funding c",
           "JOIN i.publications c", "JOIN i.samples c", "JOIN i.samples s JOIN s.type c",
           "JOIN i.facility c",
           # fileCount/fileSize: ICAT's triggers update them without moving modTime (§7)
           "JOIN i.datasets c", "JOIN i.datasets d JOIN d.datafiles c"),
    release_join="",
    types=("Investigation", "InvestigationUser", "User", "Keyword", "InvestigationParameter",
           "ParameterType", "InvestigationInstrument", "Instrument", "InvestigationFunding",
           "FundingReference", "Publication", "Sample", "SampleType", "Facility", "Dataset",
           "Datafile"),
    children=("JOIN i.investigationUsers c", "JOIN i.keywords c", "JOIN i.parameters c",
              "JOIN i.samples c"),
)

DATASET = Kind(
    entity="Dataset", alias="ds", record_kind="dataset",
    include=("ds.sample AS s, s.type, ds.parameters AS p, p.type, "
             "ds.datasetTechniques AS dt, dt.technique, ds.datasetInstruments AS di, "
             "di.instrument, ds.investigation AS i, i.facility, "
             "i.investigationInstruments AS ii, ii.instrument, "
             "i.investigationUsers AS iu, iu.user"),
    watch=("", "JOIN ds.parameters c", "JOIN ds.parameters p JOIN p.type c",
           "JOIN ds.datasetTechniques c", "JOIN ds.datasetTechniques dt JOIN dt.technique c",
           "JOIN ds.datasetInstruments c", "JOIN ds.datasetInstruments di JOIN di.instrument c",
           "JOIN ds.sample c", "JOIN ds.sample s JOIN s.type c", "JOIN ds.datafiles c",
           "JOIN ds.investigation c", "JOIN ds.investigation i JOIN i.facility c",
           "JOIN ds.investigation i JOIN i.investigationInstruments c",
           "JOIN ds.investigation i JOIN i.investigationInstruments ii JOIN ii.instrument c",
           "JOIN ds.investigation i JOIN i.investigationUsers c",
           "JOIN ds.investigation i JOIN i.investigationUsers iu JOIN iu.user c"),
    release_join="JOIN ds.investigation c",
    types=("Dataset", "DatasetParameter", "DatasetTechnique", "Technique", "DatasetInstrument",
           "Datafile"),
    children=("JOIN ds.parameters c", "JOIN ds.datasetTechniques c", "JOIN ds.sample c"),
)

KINDS = (INVESTIGATION, DATASET)


def ts(when: datetime) -> str:
    """A quoted timestamp literal in UTC, to the second (rounded down)."""
    return "'" + when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + " +0000'"


def page(kind: Kind, after: int, n: int) -> str:
    """Entities with id > `after`, in id order, with what the mapping needs."""
    a = kind.alias
    return (f"SELECT {a} FROM {kind.entity} {a} WHERE {a}.id > {after} ORDER BY {a}.id "
            f"INCLUDE {kind.include} LIMIT 0, {n}")


def by_ids(kind: Kind, ids: Iterable[int]) -> str:
    """The entities with these ids (at most as many as given), in id order."""
    ids = [int(i) for i in ids]
    a = kind.alias
    return (f"SELECT {a} FROM {kind.entity} {a} WHERE {a}.id IN ({', '.join(map(str, ids))}) "
            f"ORDER BY {a}.id INCLUDE {kind.include} LIMIT 0, {len(ids)}")


def live_ids(kind: Kind, after: int, n: int) -> str:
    a = kind.alias
    return (f"SELECT {a}.id FROM {kind.entity} {a} WHERE {a}.id > {after} ORDER BY {a}.id "
            f"LIMIT 0, {n}")


def changed_ids(kind: Kind, join: str, since: datetime, after: int, n: int) -> str:
    """Ids of entities whose own row (`join` == "") or a related row changed since `since`."""
    a, c = kind.alias, ("c" if join else kind.alias)
    return (f"SELECT DISTINCT {a}.id FROM {kind.entity} {a}{' ' + join if join else ''} "
            f"WHERE {c}.modTime >= {ts(since)} AND {a}.id > {after} ORDER BY {a}.id "
            f"LIMIT 0, {n}")


def released_ids(kind: Kind, start: datetime, end: datetime, after: int, n: int) -> str:
    """Ids of entities whose investigation's release date is in [start, end]."""
    a, join = kind.alias, kind.release_join
    c = "c" if join else a
    return (f"SELECT DISTINCT {a}.id FROM {kind.entity} {a}{' ' + join if join else ''} "
            f"WHERE {c}.releaseDate >= {ts(start)} AND {c}.releaseDate <= {ts(end)} "
            f"AND {a}.id > {after} ORDER BY {a}.id LIMIT 0, {n}")


def child_pairs(kind: Kind, join: str, after: tuple[int, int], n: int) -> str:
    """[entity id, child id] pairs of one child relation, keyset-paged on the pair."""
    a, (p, c) = kind.alias, after
    return (f"SELECT {a}.id, c.id FROM {kind.entity} {a} {join} "
            f"WHERE ({a}.id > {p} OR ({a}.id = {p} AND c.id > {c})) ORDER BY {a}.id, c.id "
            f"LIMIT 0, {n}")


def ids_between(kind: Kind, lo: int, hi: int, after: int, n: int) -> str:
    """Ids of the entities with lo <= id <= hi (and id > after)."""
    a = kind.alias
    return (f"SELECT {a}.id FROM {kind.entity} {a} WHERE {a}.id >= {lo} AND {a}.id <= {hi} "
            f"AND {a}.id > {after} ORDER BY {a}.id LIMIT 0, {n}")


def datasets_of_investigations(lo: int, hi: int, after: int, n: int) -> str:
    """Ids of the datasets whose investigation's id is in [lo, hi] (and id > after)."""
    return ("SELECT DISTINCT ds.id FROM Dataset ds JOIN ds.investigation c "
            f"WHERE c.id >= {lo} AND c.id <= {hi} AND ds.id > {after} ORDER BY ds.id "
            f"LIMIT 0, {n}")


def max_mod_time(entity: str) -> str:
    return f"SELECT MAX(x.modTime) FROM {entity} x"


__all__ = ["Kind", "INVESTIGATION", "DATASET", "KINDS", "ts", "page", "by_ids", "live_ids",
           "changed_ids", "released_ids", "max_mod_time", "child_pairs", "ids_between",
           "datasets_of_investigations"]
