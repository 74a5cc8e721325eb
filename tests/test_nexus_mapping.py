"""mappings.nexus and mappings.techniques: pure tests with hand-built entry dicts."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mappings.nexus import NexusContext, entry_to_record, normalise_orcid, parse_time
from mappings.record import Parameter, content_hash, to_dict
from mappings.techniques import PANET, _LABELS, by_id, probe_technique, resolve
from mappings.validation import ID_RE, validate

PANET_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "panet" / "PaNET.csv"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
UTC = timezone.utc


def ctx(**kw) -> NexusContext:
    base = dict(source="esrf", facility_name="ESRF", facility_ror="https://ror.org/02550n020",
                tz=PARIS, harvested_at=NOW)
    return NexusContext(**{**base, **kw})


def bliss_entry(**kw) -> dict:
    entry = {
        "name": "1.1", "title": "ascan samy 0 9 9 0.1",
        "start_time": "2024-03-01T10:00:00.123456+01:00", "end_time": "2024-03-01T10:05:00+01:00",
        "technique_ids": ["https://w3id.org/PaN/ESRFET#XAS"],
        "instrument": {"name": "ID21"},
        "source": {"name": "ESRF", "type": "Synchrotron X-ray Source", "probe": "x-ray"},
        "sample": {"name": "hematite", "chemical_formula": "Fe2O3", "description": "α-Fe₂O₃"},
        "users": [
            {"name": "Josiah Carberry", "orcid": "0000-0002-1825-0097",
             "affiliation": "Brown University", "role": "principal investigator"},
            {"name": "Marc Vidal", "role": "local contact", "affiliation": "ESRF"},
        ],
        "quantities": {"monochromator/energy": {"value": 7.112, "units": "keV"},
                       "sample/temperature": {"value": 295.0, "units": "K"}},
        "positioners": {"samy": {"value": 1.5, "units": "mm"},
                        "srot": {"value": 90, "units": "deg"}},
        "file": {"url": "file:///data/visitor/ma5432/id21/s/s_0001/s_0001.h5", "size": 1234,
                 "mtime": "2024-03-01T09:06:00Z", "creator": "Bliss",
                 "file_time": "2024-03-01T09:59:00+01:00"},
    }
    entry.update(kw)
    return entry


RELPATH = "visitor/ma5432/id21/s/s_0001/s_0001.h5"


def record(entry: dict | None = None, relpath: str = RELPATH, **ctx_kw):
    return entry_to_record(entry if entry is not None else bliss_entry(), relpath, ctx(**ctx_kw))


# --- times -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2009-09-13 20:55:37", datetime(2009, 9, 13, 18, 55, 37, tzinfo=UTC)),  # naive: ctx tz
    ("2019-02-14T14:25:57", datetime(2019, 2, 14, 13, 25, 57, tzinfo=UTC)),
    ("2001-02-07T08:54:21-0600", datetime(2001, 2, 7, 14, 54, 21, tzinfo=UTC)),
    ("2021-03-16T12:42:07+01:00", datetime(2021, 3, 16, 11, 42, 7, tzinfo=UTC)),
    ("2021-03-16T12:42:07Z", datetime(2021, 3, 16, 12, 42, 7, tzinfo=UTC)),
    ("2021-03-16T12:42:07+05", datetime(2021, 3, 16, 7, 42, 7, tzinfo=UTC)),
    ("2021-03-29T15:51:44.692314", datetime(2021, 3, 29, 13, 51, 44, 692314, tzinfo=UTC)),
    ("2021-03-29T15:51:44.1234567891+00:00", datetime(2021, 3, 29, 15, 51, 44, 123456,
                                                      tzinfo=UTC)),
    ("  2024-07-01  ", datetime(2024, 6, 30, 22, 0, tzinfo=UTC)),
])
def test_parse_time_variants(text, expected):
    parsed = parse_time(text, PARIS)
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["", "   ", None, "DEFAULT", "yesterday", "2021-13-01T00:00:00",
                                  "2021-02-30 10:00:00", "2021-03-16T12:42:07+25:00",
                                  "{start time}"])
def test_parse_time_absent_or_bad(text):
    assert parse_time(text, PARIS) is None


def test_times_of_an_entry_and_empty_strings():
    r = record(bliss_entry(start_time="", end_time=""))
    assert r.dates.collected_start is None and r.dates.collected_end is None
    r = record(bliss_entry(start_time="2009-09-13 20:55:37", end_time="2009-09-13 20:58:20"))
    assert r.dates.collected_start == datetime(2009, 9, 13, 20, 55, 37, tzinfo=PARIS)
    assert to_dict(r)["dates"]["collected_end"] == "2009-09-13T18:58:20Z"


def test_end_before_start_is_dropped():
    r = record(bliss_entry(start_time="2024-03-01T10:00:00Z", end_time="2024-03-01T09:00:00Z"))
    assert r.dates.collected_start is not None and r.dates.collected_end is None


def test_times_from_subentry_when_entry_has_none():
    entry = bliss_entry(start_time=None, end_time=None, title=None, subentries=[
        {"name": "experiment_0", "definition": "NXmx", "title": "processed",
         "start_time": "2020-01-01T00:00:00Z"}])
    r = record(entry)
    assert r.title == "processed"
    assert r.dates.collected_start == datetime(2020, 1, 1, tzinfo=UTC)
    assert resolve("NXmx") in r.techniques


# --- embargo -------------------------------------------------------------------------------

def test_release_date_is_end_plus_embargo():
    r = record(embargo_days=1095)
    assert r.dates.release_date == datetime(2024, 3, 1, 9, 5, tzinfo=UTC) + timedelta(days=1095)


def test_release_date_falls_back_to_start_file_time_then_mtime():
    r = record(bliss_entry(end_time=None), embargo_days=10)
    assert r.dates.release_date == datetime(2024, 3, 11, 9, 0, 0, 123456, tzinfo=UTC)
    entry = bliss_entry(start_time=None, end_time=None)
    entry["file"] = {"mtime": "2024-05-01T00:00:00Z"}
    assert record(entry, embargo_days=1).dates.release_date == datetime(2024, 5, 2, tzinfo=UTC)


def test_release_date_from_file_wins_and_no_embargo_means_public():
    r = record(bliss_entry(release_date="2030-01-01T00:00:00Z"), embargo_days=1095)
    assert r.dates.release_date == datetime(2030, 1, 1, tzinfo=UTC)
    assert record().dates.release_date is None


# --- placeholders, titles ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Unnamed Sample", "Default Sample", "SAMPLE-CHAR-DATA",
                                  "DEFAULT", "UNKNOWN", "{sample name}", "", "  "])
def test_placeholder_sample_is_absent(name):
    r = record(bliss_entry(sample={"name": name, "description": "No description provided."}))
    assert r.samples == ()


def test_sample_fields_and_formula_only_sample():
    assert [(s.name, s.chemical_formula, s.description) for s in record().samples] == [
        ("hematite", "Fe2O3", "α-Fe₂O₃")]
    r = record(bliss_entry(sample={"name": "Unnamed Sample", "chemical_formula": "MgB2"}))
    assert [(s.name, s.chemical_formula) for s in r.samples] == [("MgB2", "MgB2")]


def test_title_fallbacks_are_never_empty():
    r = record(bliss_entry(title="SAMPLE-CHAR-DATA", sample={"name": "Glassy carbon"}))
    assert r.title == "Glassy carbon"
    r = record({"name": "entry"}, relpath="DLS/Therm_6_2.nxs")
    assert r.title == "Therm_6_2 entry"
    long = record(bliss_entry(title="x" * 5000)).title
    assert len(long) == 2000 and long.endswith("xxx")


def test_bliss_scan_title_names_dataset_and_scan():
    r = record(bliss_entry())
    assert r.title.endswith("scan 1.1: ascan samy 0 9 9 0.1")
    file = {**bliss_entry()["file"], "creator": "GDA 9.2"}
    assert record(bliss_entry(file=file)).title == "ascan samy 0 9 9 0.1"


def test_proposal_identifier_and_placeholder():
    r = record(bliss_entry(experiment_identifier="MX-2456"))
    assert [(i.type, i.value) for i in r.identifiers] == [("proposal", "MX-2456")]
    assert [(x.relation, x.identifier, x.identifier_type) for x in r.related] == [
        ("IsPartOf", "MX-2456", "Local")]
    # "DEFAULT" is a placeholder: the ESRF directory policy gives the proposal instead
    r = record(bliss_entry(experiment_identifier="DEFAULT"))
    assert [i.value for i in r.identifiers if i.type == "proposal"] == ["ma5432"]
    r = record(bliss_entry(experiment_identifier="DEFAULT"), relpath="a/b.h5")
    assert r.identifiers == () and r.related == ()
    entry = bliss_entry(users=[{"name": "Dale Schaefer", "proposal_number": "GUP26110"}])
    assert [i.value for i in record(entry, relpath="x.h5").identifiers] == ["GUP26110"]


def test_inhouse_proposal_from_path():
    r = record(relpath="id11/inhouse/ihma123/id11/c/c_0001/c_0001.h5")
    assert [i.value for i in r.identifiers] == ["ihma123"]


# --- people -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097",
    "http://orcid.org/0000-0002-1825-0097", "orcid.org/0000000218250097",
    " 0000-0002-1825-0097 ", "ORCID:0000-0002-1825-0097"])
def test_orcid_normalised(raw):
    assert normalise_orcid(raw) == "https://orcid.org/0000-0002-1825-0097"


def test_orcid_with_x_check_digit_and_invalid_ones():
    assert normalise_orcid("0000-0002-9079-593x") == "https://orcid.org/0000-0002-9079-593X"
    for bad in ("0000-0002-1825-0098", "1234", "", None, "https://example.org/0000-0002-1825-0097"):
        assert normalise_orcid(bad) is None


def test_creators_contributors_and_invalid_orcid_dropped_not_person():
    entry = bliss_entry()
    entry["users"][0]["orcid"] = "0000-0002-1825-0098"  # wrong check digit
    r = record(entry)
    assert [(p.name, p.orcid, p.affiliation.name, p.role) for p in r.creators] == [
        ("Josiah Carberry", None, "Brown University", "principal investigator")]
    assert [p.name for p in r.contributors] == ["Marc Vidal"]
    assert record().creators[0].orcid == "https://orcid.org/0000-0002-1825-0097"


def test_no_email_or_phone_ever():
    entry = bliss_entry(users=[
        {"name": "Anna Müller", "email": "a.muller@example.org", "telephone_number": "+33 1 2",
         "facility_user_id": "amuller", "fax_number": "+33 1 3", "username": "amuller",
         "affiliation": "anna@example.org"},
        {"name": "someone@example.org", "role": "user"},
    ])
    r = record(entry)
    text = json.dumps(to_dict(r), ensure_ascii=False)
    assert "example.org" not in text and "+33" not in text and "amuller" not in text
    assert [(p.name, p.affiliation) for p in r.creators] == [("Anna Müller", None)]


def test_email_addresses_are_scrubbed_from_free_text():
    entry = bliss_entry(
        title="ascan samy 0 9 9 0.1 # by anna@example.org",
        experiment_description="Questions to j.carberry@brown.example.edu",
        definition="NXxas", program_name="bliss (maintainer ops@esrf.example.fr)",
        sample={"name": "hematite anna@example.org", "chemical_formula": "Fe2O3",
                "description": "from m.vidal@esrf.example.fr"})
    r = record(entry)
    assert r.title == "s_0001 scan 1.1: ascan samy 0 9 9 0.1 # by [e-mail removed]"
    assert r.description == "Questions to [e-mail removed]"
    assert r.samples[0].name == "hematite [e-mail removed]"
    assert r.samples[0].description == "from [e-mail removed]"
    assert Parameter("program_name", "bliss (maintainer [e-mail removed])") in r.parameters
    text = json.dumps(to_dict(r), ensure_ascii=False)
    assert "@" not in text.replace("[e-mail removed]", "")
    other = record(bliss_entry(title="MgB2 PDOS 43.37g 8K 120meV E0@240Hz T0@120Hz",
                               file={"creator": "ISAW"}))
    assert other.title == "MgB2 PDOS 43.37g 8K 120meV E0@240Hz T0@120Hz"  # no address


# --- techniques ----------------------------------------------------------------------------

def iri(n: str) -> str:
    return f"{PANET}PaNET{n}"


@pytest.mark.parametrize("hint, probe, expected", [
    ("NXmx", None, "01164"), ("nxmx", None, "01164"), ("NXsas", None, "01124"),
    ("NXsas", "x-ray", "01188"), ("NXsas", "neutron", "01189"),
    ("NXsas", "Spallation Neutron Source", "01189"), ("NXtomo", None, "01207"),
    ("NXtomo", "neutron", "01129"), ("NXfluo", None, "01177"), ("NXxas", None, "01196"),
    ("NXstxm", None, "01219"), ("NXxrf", None, "01177"),
    ("https://w3id.org/PaN/ESRFET#XAS", None, "01196"),
    ("http://purl.org/pan-science/ESRFET#SAXS", None, "01188"),
    ("XAS", None, "01196"), ("xrf", None, "01177"), ("SAXS", None, "01188"),
    ("WAXS", None, "01191"), ("MX", None, "01164"), ("TOMO", None, "01207"),
    ("PTYCHO", None, "01212"), ("XRD", None, "01216"), ("XRPD", None, "01101"),
    ("x-ray absorption spectroscopy", None, "01196"), ("CT scan", None, "01207"),
    ("PaNET:PaNET01103", None, "01103"), ("PaNET01103", None, "01103"),
    ("http://purl.org/pan-science/PaNET/PaNET01124", "x-ray", "01124"),  # explicit: no refining
])
def test_resolve(hint, probe, expected):
    assert resolve(hint, probe) == by_id(expected)
    assert resolve(hint, probe).iri == iri(expected)


@pytest.mark.parametrize("hint", [None, "", "NXarchive", "NXreflections", "nonsense",
                                  "https://w3id.org/PaN/ESRFET#NOPE"])
def test_resolve_unknown(hint):
    assert resolve(hint) is None


def test_unknown_panet_id_keeps_its_iri():
    assert resolve("PaNET:PaNET01999") == by_id("PaNET01999")
    assert by_id("PaNET01999").label == "PaNET01999"


@pytest.mark.parametrize("probe, expected", [
    ("x-ray", "00100"), ("X-Ray", "00100"), ("Synchrotron X-ray Source", "00100"),
    ("photon", "00100"), ("UV Laser", "00100"), ("neutron", "00101"),
    ("Continuous flux spallation source", "00101"), ("Pulsed Reactor Neutron Source", "00101"),
    ("muon", "00102"),
])
def test_probe_technique(probe, expected):
    assert probe_technique(probe).iri == iri(expected)


@pytest.mark.parametrize("probe", [None, "", "electron", "proton", "SAMPLE-CHAR-DATA"])
def test_probe_technique_unknown(probe):
    assert probe_technique(probe) is None


def test_vocabulary_labels_match_panet_csv():
    labels = {}
    with PANET_CSV.open(newline="") as fh:
        for row in csv.reader(fh):
            if len(row) > 2 and row[1].startswith(PANET):
                labels[row[1]] = row[2].strip()
    for digits, label in _LABELS.items():
        assert labels[iri(digits)] == label


def test_record_techniques_order_and_dedup():
    entry = bliss_entry(definition="NXxas", technique_ids=[
        "https://w3id.org/PaN/ESRFET#XAS", "PaNET:PaNET01196", "https://w3id.org/PaN/ESRFET#XRF"])
    assert [t.iri for t in record(entry).techniques] == [iri("01196"), iri("01177"), iri("00100")]


def test_definition_with_several_names_and_subentry_names():
    entry = bliss_entry(technique_ids=[], definition="XAS XRF", subentries=[
        {"name": "saxs"}, {"name": "reflections", "definition": "NXreflections"}])
    assert [t.iri for t in record(entry).techniques] == [
        iri("01196"), iri("01177"), iri("01188"), iri("00100")]
    assert record(entry).keywords == ("XAS XRF", "NXreflections")


def test_default_probe_from_context():
    entry = bliss_entry(technique_ids=[], definition="NXsas", source={})
    assert [t.iri for t in record(entry).techniques] == [iri("01124")]
    assert [t.iri for t in record(entry, default_probe="x-ray").techniques] == [
        iri("01188"), iri("00100")]


# --- parameters, facility, instrument ---------------------------------------------------------

def test_parameters_with_units():
    params = {p.name: (p.value, p.unit) for p in record().parameters}
    assert params == {
        "incident_photon_energy": (7.112, "keV"), "sample_temperature": (295.0, "K"),
        "positioner_samy": (1.5, "mm"), "positioner_srot": (90, "deg"),
        "source_name": ("ESRF", None), "source_type": ("Synchrotron X-ray Source", None),
        "program_name": ("Bliss", None)}


def test_neutron_energy_name_and_odd_values_dropped():
    entry = bliss_entry(source={"type": "Spallation Neutron Source"}, positioners={
        "nan": {"value": float("nan"), "units": "mm"}, "flag": {"value": True},
        "theta": {"value": 1.0, "units": "NX_ANGLE"}, "": {"value": 2.0}},
        quantities={"monochromator/energy": {"value": 130.0, "units": "meV"}})
    params = {p.name: (p.value, p.unit) for p in record(entry).parameters}
    assert params["incident_energy"] == (130.0, "meV")
    assert params["positioner_theta"] == (1.0, None)
    assert not {"positioner_nan", "positioner_flag", "positioner_"} & set(params)


def test_facility_from_context_and_bad_ror_refused():
    assert record().facility.name == "ESRF"
    assert record().facility.ror == "https://ror.org/02550n020"
    with pytest.raises(ValueError, match="facility ROR"):  # a configuration error, said once
        record(facility_ror="https://ror.org/bad")
    r = record(facility_name=None, facility_ror=None)
    assert r.facility.name == "ESRF"  # the file's source name when the context has none
    assert record(bliss_entry(source={}), facility_name=None).facility is None


def test_instrument_name_short_name_title():
    assert record().instrument.name == "ID21"
    assert record(bliss_entry(instrument={"short_name": "I04"})).instrument.name == "I04"
    assert record(bliss_entry(instrument={"title": "ID13"})).instrument.name == "ID13"
    entry = bliss_entry(instrument={})
    entry["file"]["instrument"] = "SANS at SINQ"
    assert record(entry).instrument.name == "SANS at SINQ"
    entry["file"]["instrument"] = "{Instrument name}"
    assert record(entry).instrument is None


# --- ids, provenance, hash -----------------------------------------------------------------------

def test_id_url_safe_and_stable():
    entry = bliss_entry(name="scan 1.1#a")
    relpath = "Soleil/données/file 2.nxs"
    r = record(entry, relpath=relpath)
    assert ID_RE.match(r.id)
    assert r.id == "esrf:dataset:Soleil/donn~C3~A9es/file~202.nxs/scan~201.1~23a"
    assert r.provenance.native_id == "Soleil/données/file 2.nxs#scan 1.1#a"
    again = entry_to_record(bliss_entry(name="scan 1.1#a"), relpath,
                            ctx(harvested_at=NOW + timedelta(days=1)))
    assert again.id == r.id
    assert again.provenance.content_hash == r.provenance.content_hash == content_hash(r)


def test_record_is_valid_and_hashed():
    r = record(embargo_days=1095)
    assert validate(r) is r
    assert r.kind == "dataset" and r.license == "CC-BY-4.0"
    assert r.provenance.source_url == "file:///data/visitor/ma5432/id21/s/s_0001/s_0001.h5#1.1"
    assert (r.files.count, r.files.size, r.files.formats) == (1, 1234, ("application/x-hdf5",))
    assert r.dates.created == datetime(2024, 3, 1, 8, 59, tzinfo=UTC)


def test_minimal_entry():
    r = record({"name": "entry"}, relpath="x.h5")
    assert r.title == "x entry" and r.techniques == () and r.samples == ()
    with pytest.raises(KeyError):
        record({}, relpath="x.h5")


@pytest.mark.parametrize("kw", [{"source": "Bad Name"}, {"harvested_at": datetime(2020, 1, 1)},
                                {"embargo_days": -1}])
def test_context_rejects_bad_options(kw):
    with pytest.raises(ValueError):
        ctx(**kw)
