"""Deterministic canonical records for store, index and API tests."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from mappings.record import (Affiliation, Dates, Facility, Identifier, Instrument, Parameter,
                             Person, Provenance, Record, Sample, Technique, with_hash)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
PANET = "http://purl.org/pan-science/PaNET/"
TECHNIQUES = [Technique(PANET + "PaNET01188", "small angle x-ray scattering"),
              Technique(PANET + "PaNET01196", "x-ray absorption spectroscopy"),
              Technique(PANET + "PaNET01207", "x-ray tomography"),
              Technique(PANET + "PaNET01164", "macromolecular crystallography"),
              Technique(PANET + "PaNET00100", "photon probe")]
FACILITIES = [Facility("ESRF", "https://ror.org/02550n020"), Facility("ILL", None),
              Facility("PSI")]
INSTRUMENTS = ["ID11", "ID13", "BM23", "D22", "SANS-I"]
WORDS = ["cerium", "oxide", "lysozyme", "vesicle", "pressure", "catalyst", "zeolite",
         "battery", "cathode", "protein", "thin", "film", "Ångström", "müller", "Cu_foil",
         "LaB6_std"]


def make_record(i: int, *, source: str = "test", kind: str = "dataset", title: str | None = None,
                release: datetime | None = None, start: datetime | None = None,
                **kw: object) -> Record:
    rnd = random.Random(i)
    start = start or datetime(2018, 1, 1, tzinfo=timezone.utc) + timedelta(days=rnd.randrange(3000))
    words = rnd.sample(WORDS, 3)
    techniques = tuple(rnd.sample(TECHNIQUES, rnd.randrange(0, 3)))
    record = Record(
        id=f"{source}:{kind}:r{i:05d}", kind=kind,  # type: ignore[arg-type]
        title=title or f"Scan {i} of {' '.join(words)}",
        description=f"Measurement of {words[0]} at {rnd.choice([10, 80, 300])} K",
        keywords=(words[1],),
        creators=(Person("Ada Lovelace", "Ada", "Lovelace", "https://orcid.org/0000-0002-1825-0097",
                         Affiliation("ESRF", "https://ror.org/02550n020"), "principal investigator"),),
        facility=FACILITIES[i % len(FACILITIES)],
        instrument=Instrument(INSTRUMENTS[i % len(INSTRUMENTS)]),
        techniques=techniques,
        samples=(Sample(f"sample {words[2]}", "CeO2"),),
        parameters=(Parameter("temperature", 80.0 + i % 5, "K"),),
        dates=Dates(collected_start=start, collected_end=start + timedelta(hours=2),
                    release_date=release),
        license="CC-BY-4.0",
        identifiers=(Identifier("proposal", f"ma{1000 + i % 7}"),),
        provenance=Provenance(source=source, native_id=f"r{i:05d}",
                              harvested_at=NOW),
    )
    if kw:
        from dataclasses import replace
        record = replace(record, **kw)  # type: ignore[arg-type]
    return with_hash(record)


def corpus(n: int = 120) -> list[Record]:
    """n records, about a quarter under embargo at NOW, one with no dates."""
    out = []
    for i in range(n):
        release = NOW + timedelta(days=30) if i % 4 == 0 else NOW - timedelta(days=i)
        kind = "document" if i % 10 == 0 else "dataset"
        out.append(make_record(i, release=release, kind=kind))
    out.append(make_record(n, dates=Dates()))
    return out
