"""Varied canonical records for the output-format tests (issue #4): every renderer renders
every one of them, and independent judges (XSD, SHACL, vocabularies, the datacite package)
check the output. Each fixture exists for a reason, named in its key.

All records are valid (`mappings.validation.validate`); NOW is fixed so access states are too.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from mappings.record import (Affiliation, Dates, Facility, Files, Funding, Identifier,
                             Instrument, Parameter, Person, Provenance, Record, Related,
                             Sample, Technique, with_hash)
from mappings.render import Context

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
CONTEXT = Context(now=NOW, base_url="https://fairgate.example.org",
                  catalog_name="FAIRgate test catalogue", datacentre_symbol="FAIRGATE.TEST",
                  contact_email="data-office@example.org")

P = "http://purl.org/pan-science/PaNET/"
SAXS = Technique(P + "PaNET01188", "small angle x-ray scattering")
XAS = Technique(P + "PaNET01196", "x-ray absorption spectroscopy")
TOMO = Technique(P + "PaNET01207", "x-ray tomography")
MX = Technique(P + "PaNET01164", "macromolecular crystallography")
PHOTON = Technique(P + "PaNET00100", "photon probe")
SANS = Technique(P + "PaNET01189", "small angle neutron scattering")

ESRF = Facility("ESRF", "https://ror.org/02550n020")
ILL = Facility("ILL", "https://ror.org/01xtjs520")
ESRF_AFF = Affiliation("European Synchrotron Radiation Facility", "https://ror.org/02550n020")

ADA = Person("Ada Lovelace", "Ada", "Lovelace", "https://orcid.org/0000-0002-1825-0097",
             ESRF_AFF, "principal investigator")
JOSIAH = Person("Josiah Carberry", "Josiah", "Carberry", "https://orcid.org/0000-0002-1694-233X",
                Affiliation("Brown University", "https://ror.org/05gq02987"), "user")
NO_ORCID = Person("Marie Dupont", "Marie", "Dupont", None, Affiliation("CNRS"), "user")
ONE_NAME = Person("Kiefer")  # no given/family split, no ORCID, no affiliation
LOCAL_CONTACT = Person("Björn Ødegård", "Björn", "Ødegård", None, ESRF_AFF, "local contact")

START = datetime(2023, 3, 1, 8, 0, tzinfo=timezone.utc)
END = datetime(2023, 3, 4, 8, 0, tzinfo=timezone.utc)
PAST_RELEASE = datetime(2026, 3, 4, 8, 0, tzinfo=timezone.utc)
FUTURE_RELEASE = datetime(2029, 6, 30, 0, 0, tzinfo=timezone.utc)

LONG_DESCRIPTION = ("In situ small angle scattering of cerium oxide nanoparticles during "
                    "calcination. " * 80)  # > 5000 characters


def _prov(source: str, native: str) -> Provenance:
    return Provenance(source=source, native_id=native,
                      source_url=f"https://icat.example.org/{native}",
                      harvested_at=NOW - timedelta(days=1))


def _rec(native: str, *, kind: str = "dataset", source: str = "esrf", title: str = "",
         **kw: object) -> Record:
    record = Record(id=f"{source}:{kind}:{native}", kind=kind,  # type: ignore[arg-type]
                    title=title or f"Dataset {native}", provenance=_prov(source, native))
    return with_hash(replace(record, **kw))  # type: ignore[arg-type]


MAXIMAL = _rec(
    "maximal", title="Operando XAS and SAXS of a Ni-rich cathode during fast charging",
    pid="10.15151/ESRF-DC-1234567890",
    description=("Combined X-ray absorption spectroscopy and small angle X-ray scattering "
                 "of NMC811 cathodes cycled at 3C, with temperature control."),
    keywords=("battery", "cathode", "operando", "NMC811"),
    creators=(ADA, JOSIAH, NO_ORCID), contributors=(LOCAL_CONTACT,),
    facility=ESRF, instrument=Instrument("ID31", "https://doi.org/10.15151/ESRF-INSTR-ID31"),
    techniques=(XAS, SAXS, PHOTON),
    samples=(Sample("NMC811 cathode", "LiNi0.8Mn0.1Co0.1O2", "coin cell, 3C"),
             Sample("Li foil", "Li")),
    parameters=(Parameter("temperature", 298.15, "K"), Parameter("energy", 8.333, "keV"),
                Parameter("wavelength", 1.4879, "Å"), Parameter("cell", "coin", None),
                Parameter("cycles", 120, None)),
    dates=Dates(collected_start=START, collected_end=END, created=START,
                modified=END + timedelta(days=2), release_date=PAST_RELEASE),
    license="CC-BY-4.0",
    files=Files(count=1234, size=56_000_000_000, formats=("application/x-hdf5",),
                access_url="https://data.esrf.fr/doi/10.15151/ESRF-DC-1234567890"),
    identifiers=(Identifier("proposal", "MA-5678"), Identifier("visit", "MA-5678-1")),
    related=(Related("IsPartOf", "10.15151/ESRF-ES-999", "DOI"),
             Related("IsCitedBy", "10.1038/s41560-024-01234-5", "DOI"),
             Related("IsDocumentedBy", "https://example.org/logbook/5678", "URL")),
    funding=(Funding("European Commission", "https://ror.org/00k4n6c32", "101004728",
                     "https://cordis.europa.eu/project/id/101004728"),),
)

FIXTURES: dict[str, Record] = {
    "maximal": MAXIMAL,
    "minimal-dataset": _rec("min-ds", title="x"),
    "minimal-document": _rec("min-doc", kind="document", title="Proposal MX-1"),
    "embargoed": replace(MAXIMAL, id="esrf:dataset:embargoed",
                         provenance=_prov("esrf", "embargoed"), pid="10.15151/ESRF-DC-2",
                         dates=Dates(collected_start=START, collected_end=END,
                                     release_date=FUTURE_RELEASE)),
    "embargo-ends-now": _rec("edge", description="Release date equal to now: open.",
                             dates=Dates(collected_start=START, release_date=NOW),
                             creators=(ADA,), facility=ESRF),
    "embargoed-minimal": _rec("emb-min", dates=Dates(release_date=FUTURE_RELEASE)),
    "open-no-release-date": _rec("open", creators=(JOSIAH,), facility=ILL,
                                 dates=Dates(collected_start=START), techniques=(SANS,)),
    "non-ascii": _rec(
        "unicode", title="Étude in situ de l’oxyde de cérium — 酸化セリウム — Ωμέγα",
        description="Mesures à 77 K; échantillon « Ce₂O₃ »; Øresund; naïve façade.",
        creators=(LOCAL_CONTACT, Person("José Ñúñez", "José", "Ñúñez"),
                  Person("Владимир Петров", "Владимир", "Петров")),
        keywords=("céramique", "酸化物"), facility=ESRF, samples=(Sample("Ce₂O₃", "Ce2O3"),),
        parameters=(Parameter("température", 77, "K"),)),
    "xml-specials": _rec(
        "specials", title='Fe<sub>3</sub>O<sub>4</sub> & "quotes" \'apostrophes\' <b>bold</b>',
        description="Between 5 < T < 10 K & pressure > 1 GPa; ]]> is not a CDATA end here.",
        keywords=("a&b", "<tag>"), creators=(ADA,)),
    "multi-technique": _rec(
        "multi", title="Multi-technique campaign", facility=ESRF,
        techniques=(SAXS, XAS, TOMO, MX, PHOTON),
        parameters=tuple(Parameter(f"motor_{i}", float(i) / 3, "mm") for i in range(12))),
    "string-parameters": _rec(
        "strparams", parameters=(Parameter("scan_type", "ascan", None),
                                 Parameter("detector", "Eiger 4M", None),
                                 Parameter("exposure", 0.1, "s"),
                                 Parameter("angle", -45, "deg"))),
    "no-creators": _rec("nocreator", description="A dataset whose authors are unknown.",
                        facility=ESRF, dates=Dates(collected_start=START, collected_end=END)),
    "single-name-creator": _rec("onename", creators=(ONE_NAME,)),
    "creator-no-orcid": _rec("noorcid", creators=(NO_ORCID,), facility=ILL),
    "no-facility": _rec("nofac", creators=(JOSIAH,), techniques=(TOMO,)),
    "facility-no-ror": _rec("facnoror", facility=Facility("PSI"), instrument=Instrument("SANS-I"),
                            techniques=(SANS,)),
    "instrument-with-pid": _rec("instpid", facility=ESRF,
                                instrument=Instrument("ID11", "https://doi.org/10.15151/ESRF-ID11")),
    "files-no-size": _rec("files", files=Files(count=3, formats=("application/x-hdf5",
                                                                 "text/plain")),
                          dates=Dates(collected_start=START)),
    "files-zero": _rec("nofiles", files=Files(count=0)),
    "cc0": _rec("cc0", license="CC0-1.0", creators=(ADA,), facility=ESRF),
    "license-default": _rec("nolicense", license=None, creators=(ADA,), facility=ESRF),
    "license-unknown-spdx": _rec("otherlic", license="MIT", creators=(ADA,)),
    "long-description": _rec("long", description=LONG_DESCRIPTION, creators=(ADA,)),
    "short-description": _rec("short", description="Short.", creators=(ADA,)),
    "document-funded": _rec(
        "MA-5678", kind="document", source="esrf", title="Proposal MA-5678: Ni-rich cathodes",
        description="Experimental session on Ni-rich cathode degradation.",
        creators=(ADA, JOSIAH), contributors=(LOCAL_CONTACT,), facility=ESRF,
        instrument=Instrument("ID31"), keywords=("battery",),
        dates=Dates(collected_start=START, collected_end=END, release_date=PAST_RELEASE),
        identifiers=(Identifier("proposal", "MA-5678"),), pid="10.15151/ESRF-ES-999",
        funding=(Funding("Agence Nationale de la Recherche", None, "ANR-20-CE05-0001"),
                 Funding("European Commission", "https://ror.org/00k4n6c32"))),
    "document-embargoed": _rec(
        "IH-1", kind="document", title="Proposal IH-1", creators=(JOSIAH,), facility=ILL,
        dates=Dates(collected_start=START, release_date=FUTURE_RELEASE)),
    "related-url-only": _rec("rel", related=(Related("References", "https://example.org/x",
                                                     "URL"),)),
    "microseconds": _rec("micro", dates=Dates(
        collected_start=datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
        collected_end=datetime(2024, 1, 2, 5, 4, 5, 1, tzinfo=timezone.utc)),
        creators=(ADA,)),
    "other-source": _rec("x1", source="ill-icat", title="ILL dataset", facility=ILL,
                         techniques=(SANS,), creators=(JOSIAH,)),
}


def public_fixtures() -> dict[str, Record]:
    from mappings.access import Visibility, visibility
    return {k: r for k, r in FIXTURES.items() if visibility(r, NOW) is Visibility.PUBLIC}
