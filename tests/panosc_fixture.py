"""Canonical records equivalent to the PaNOSC reference fixture (panosc-eu/search-api,
`data/db.sql`): 4 datasets, 2 documents (proposals), ESS instruments incl. LoKI, the 6
parameters, techniques PaNET01189 and PaNET01227, sample "solid copper cylinder", persons
John Smith and James Chadwick, files panosc-file1..4.hdf in /data.

Differences, all forced by the canonical model: technique names are PaNET's labels
("small angle neutron scattering"), both documents are of type "proposal", and
`chemical_formula`/`sample_state` are plain parameters. Besides, one embargoed dataset and
one embargoed document (release in 2100) that must never show, and a deleted dataset.
"""
from __future__ import annotations

from datetime import datetime, timezone

from mappings.record import (Affiliation, Dates, Facility, Files, Identifier, Instrument,
                             Parameter, Person, Provenance, Record, Related, Sample, Technique,
                             with_hash)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
PANET = "http://purl.org/pan-science/PaNET/"
SANS = Technique(PANET + "PaNET01189", "small angle neutron scattering")
XRAY_ABSORPTION = Technique(PANET + "PaNET01227", "x-ray absorption")
ESS = Facility("ESS", "https://ror.org/01wv9cn34")
INSTRUMENTS = {  # name -> pid, from the reference fixture
    "LoKI": "20.500.12269/0f98fcf2-7bd7-430e-ad20-d47031ca8f71",
    "DREAM": "20.500.12269/d4ae7284-6659-4403-a192-1c037b9bffc0",
    "MAGiC": "20.500.12269/dc746e84-b529-4731-afa6-132ae58d7ee1",
    "HEIMDAL": "20.500.12269/d3dd2880-637a-40b5-9815-990453817f0e",
    "ODIN": "20.500.12269/125e8172-d0f4-4547-98be-a9db903a6269",
    "FREIA": "20.500.12269/f0637030-9f89-4398-8f01-09211145efa1",
    "SKADI": "20.500.12269/f8da8176-28d8-4226-848e-8fd53fda86ef",
}
ESS_AFFILIATION = Affiliation("ESS", "https://ror.org/01wv9cn34")
SMITH = Person("John Smith", "John", "Smith", affiliation=ESS_AFFILIATION)
CHADWICK = Person("James Chadwick", "James", "Chadwick", affiliation=ESS_AFFILIATION)
SOURCE = "panosc"
EMBARGO_END = datetime(2100, 1, 1, tzinfo=timezone.utc)


def _prov(native: str) -> Provenance:
    return Provenance(source=SOURCE, native_id=native, harvested_at=NOW)


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def document(n: int, title: str, summary: str, keywords: tuple[str, ...], pi: Person,
             owner: Person, instrument: str, *, start: str, end: str, release: str,
             parameters: tuple[Parameter, ...] = ()) -> Record:
    return with_hash(Record(
        id=f"{SOURCE}:document:document{n}", kind="document", title=title,
        provenance=_prov(f"document{n}"), pid=f"10.5072/panosc-document{n}",
        description=summary, keywords=keywords,
        creators=(Person(pi.name, pi.given_name, pi.family_name, affiliation=pi.affiliation,
                         role="principal investigator"),),
        contributors=(Person(owner.name, owner.given_name, owner.family_name,
                             affiliation=owner.affiliation, role="owner"),),
        facility=ESS, instrument=Instrument(instrument, INSTRUMENTS[instrument]),
        parameters=parameters, license="CC-BY-4.0",
        dates=Dates(collected_start=_iso(start), collected_end=_iso(end),
                    release_date=_iso(release)),
        identifiers=(Identifier("proposal", f"panosc-proposal-{n}"),)))


def dataset(n: int, size: int, instrument: str, technique: Technique, document_n: int,
            parameters: tuple[Parameter, ...], *, release: datetime | None = None,
            title: str | None = None) -> Record:
    return with_hash(Record(
        id=f"{SOURCE}:dataset:dataset{n}", kind="dataset",
        title=title or f"PaNOSC Test Dataset {n}", provenance=_prov(f"dataset{n}"),
        pid=f"20.500.12269/panosc-dataset{n}", facility=ESS,
        instrument=Instrument(instrument, INSTRUMENTS[instrument]), techniques=(technique,),
        samples=(Sample("solid copper cylinder"),), parameters=parameters,
        dates=Dates(created=datetime(2020, 5, 5, 15, 1, 2, tzinfo=timezone.utc),
                    release_date=release),
        files=Files(count=1, size=size, formats=("application/x-hdf5",)),
        identifiers=(Identifier("file", f"/data/panosc-file{n}.hdf"),),
        related=(Related("IsPartOf", f"{SOURCE}:document:document{document_n}", "Local"),),
        license="CC-BY-4.0"))


def records() -> list[Record]:
    """The fixture, in store order."""
    return [
        document(1, "PaNOSC Test Publication", "A PaNOSC publication showing how things are "
                 "done", ("neutron", "panosc"), SMITH, CHADWICK, "DREAM",
                 start="2021-02-10", end="2021-02-26", release="2021-02-27",
                 parameters=(Parameter("wavelength", 1064, "nm"),)),
        document(2, "PaNOSC Test Proposal", "A proposal used to get data",
                 ("neutron", "panosc", "good"), CHADWICK, SMITH, "MAGiC",
                 start="2020-02-10", end="2020-02-26", release="2020-02-27"),
        dataset(1, 32324, "LoKI", SANS, 1, (Parameter("chemical_formula", "Cu"),
                                            Parameter("sample_state", "solid"))),
        dataset(2, 1235253, "ODIN", SANS, 1, (Parameter("photon_energy", 930, "eV"),)),
        dataset(3, 53453, "FREIA", XRAY_ABSORPTION, 2, (Parameter("temperature", 20, "celsius"),)),
        dataset(4, 5436017, "HEIMDAL", XRAY_ABSORPTION, 2,
                (Parameter("wavelength", 1064, "nm"),)),
        # never public at NOW: must leak nowhere (title, pid, counts, instrument SKADI)
        dataset(5, 1, "SKADI", XRAY_ABSORPTION, 2, (Parameter("temperature", 25, "celsius"),
                                                     Parameter("chemical_formula", "Cu")),
                release=EMBARGO_END, title="Secret embargoed copper dataset file1"),
    ]


def deleted() -> Record:
    """A dataset that is deleted after being stored (then a tombstone in the store)."""
    return dataset(6, 7, "LoKI", SANS, 1, (Parameter("temperature", 10, "K"),),
                   title="Deleted copper dataset")
