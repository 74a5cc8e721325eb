"""mappings.icat: ICAT entity JSON (as the REST API returns it, INCLUDEs resolved) -> records."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from mappings.icat import (IcatContext, MalformedEntity, dataset_to_record, icat_time,
                           investigation_to_record, normalise_doi, release_date)
from mappings.record import (Affiliation, Facility, Files, Funding, Identifier, Instrument,
                             Parameter, Related, Sample, to_dict)
from mappings.techniques import by_id
from mappings.validation import validate

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CTX = IcatContext(source="esnf", harvested_at=NOW, icat_url="https://icat.example.org",
                  facility_ror="https://ror.org/02550n020")


def meta(i: int, t: str = "2025-01-02T10:00:00.000+01:00") -> dict:
    return {"id": i, "createId": "db/root", "createTime": t, "modId": "db/root", "modTime": t}


def user(i, login, full, given, family, orcid=None, affiliation=None, email=None) -> dict:
    u = {**meta(i), "name": login, "fullName": full, "givenName": given, "familyName": family,
         "investigationUsers": [], "userGroups": []}
    u.update({k: v for k, v in (("orcidId", orcid), ("affiliation", affiliation),
                                ("email", email)) if v})
    return u


FACILITY = {**meta(1), "name": "ESNF", "fullName": "Example Synchrotron and Neutron Facility",
            "url": "http://www.esnf.example.org/", "instruments": []}
HIKE = {**meta(5), "name": "HIKE", "fullName": "HIKE - High Kinetic Energy Photoelectron "
        "Spectroscopy", "pid": "DOI:00.0815/inst-00027"}


def investigation() -> dict:
    return {
        **meta(100), "doi": "DOI:00.0815/inv-00122", "endDate": "2008-03-20T10:00:00.000+01:00",
        "fileCount": 1, "fileSize": 368369, "name": "08100122-EF",
        "releaseDate": "2011-03-13T11:39:42.000+01:00",
        "startDate": "2008-03-13T11:39:42.000+01:00", "summary": "Crystal structure of durol",
        "title": "Durol single crystal", "visitId": "1.1-P",
        "facility": FACILITY,
        "investigationUsers": [
            {**meta(12), "role": "Investigator",
             "user": user(22, "db/nbour", "Nicolas Bourbaki", "Nicolas", "Bourbaki",
                          "0000-0002-3266", "University of Nancago", "nbour@example.org")},
            {**meta(11), "role": "Principal Investigator",
             "user": user(21, "db/jbotu", "Jean-Baptiste Botul", "Jean-Baptiste", "Botul",
                          "https://orcid.org/0000-0002-1825-0097",
                          "Université Paul-Valéry Montpellier 3", "jbotu@example.org")},
            {**meta(13), "role": "Local contact",
             "user": user(23, "db/acord", "Aelius Cordus", "Aelius", "Cordus",
                          "0000-0001-5109-3700")},
            {**meta(14), "role": "Investigator", "user": {**meta(24), "name": "db/nobody"}},
        ],
        "keywords": [{**meta(31), "name": "Durol"}, {**meta(30), "name": "crystal"}],
        "parameters": [{**meta(40), "stringValue": "photon",
                        "type": {**meta(41), "name": "Probe", "units": "N/A",
                                 "valueType": "STRING"}}],
        "investigationInstruments": [{**meta(50), "instrument": HIKE}],
        "fundingReferences": [{**meta(60), "funding": {
            **meta(61), "funderName": "American Mathematical Society",
            "funderIdentifier": "Crossref Funder ID:10.13039/100005376",
            "awardNumber": "AIS3241330750"}}],
        "publications": [{**meta(70), "doi": "DOI:10.1002/adma.201101001",
                          "fullReference": "A. Hau. Properties of NiMnGa."},
                         {**meta(71), "doi": "DOI:00.1002/fake", "fullReference": "x"}],
        "samples": [{**meta(80), "name": "Durol SC", "pid": "IGSN:ESNFHNS8AYEZ",
                     "type": {**meta(81), "name": "Durol SC", "molecularFormula": "C10H14"}}],
        "datasets": [], "investigationGroups": [], "shifts": [], "studyInvestigations": [],
    }


def dataset() -> dict:
    inv = investigation()
    for key in ("keywords", "parameters", "fundingReferences", "publications", "samples"):
        inv[key] = []
    return {
        **meta(200, "2025-02-03T04:05:06.789Z"), "complete": False,
        "description": None, "doi": "doi:10.5072/ds-200", "endDate": "2008-03-13T12:00:00.000Z",
        "fileCount": 2, "fileSize": 73874, "name": "e201215",
        "startDate": "2008-03-13T10:39:42.000Z",
        "investigation": inv,
        "sample": {**meta(80), "name": "Durol SC", "pid": "IGSN:ESNFHNS8AYEZ",
                   "type": {**meta(81), "name": "Durol SC", "molecularFormula": "C10H14"}},
        "parameters": [
            {**meta(92), "numericValue": 5.0,
             "type": {**meta(93), "name": "Reactor power", "units": "MW", "valueType": "NUMERIC"}},
            {**meta(90), "numericValue": 7.3,
             "type": {**meta(91), "name": "Magnetic field", "units": "T", "valueType": "NUMERIC"}},
            {**meta(94), "dateTimeValue": "2008-06-18T09:31:11.000+02:00",
             "type": {**meta(95), "name": "Last access", "units": "N/A"}},
            {**meta(96), "type": {**meta(97), "name": "Empty", "units": "K"}},
        ],
        "datasetTechniques": [
            {**meta(101), "technique": {**meta(102), "name": "Neutron Diffraction",
                                        "pid": "PaNET:PaNET01217"}},
            {**meta(103), "technique": {**meta(104), "name": "X-ray Tomography",
                                        "pid": "http://purl.org/pan-science/PaNET/PaNET01207"}},
            {**meta(105), "technique": {**meta(106), "name": "Mystery", "pid": "local:42"}},
        ],
        "datasetInstruments": [],
        "datafiles": [], "dataCollectionDatasets": [],
    }


# --- investigations --------------------------------------------------------------------------

def test_investigation_fields():
    r = validate(investigation_to_record(investigation(), CTX))
    assert r.id == "esnf:document:100" and r.kind == "document"
    assert r.provenance.native_id == "100"
    assert r.provenance.source_url == (
        "https://icat.example.org/icat/entityManager?query=Investigation&id=100")
    assert r.title == "Durol single crystal"
    assert r.description == "Crystal structure of durol"
    assert r.pid is None  # 00.0815 is not a DOI prefix ...
    assert r.identifiers == (Identifier("proposal", "08100122-EF"), Identifier("visit", "1.1-P"),
                             Identifier("ICAT DOI", "DOI:00.0815/inv-00122"))  # ... kept as is
    assert r.keywords == ("crystal", "Durol")  # id order
    assert r.facility == Facility("Example Synchrotron and Neutron Facility",
                                  "https://ror.org/02550n020")
    assert r.instrument == Instrument("HIKE", "DOI:00.0815/inst-00027")
    assert r.parameters == (Parameter("Probe", "photon", None),)
    assert r.samples == (Sample("Durol SC", "C10H14"),)
    assert r.files == Files(count=1, size=368369)
    assert r.funding == (Funding("American Mathematical Society",
                                 "https://doi.org/10.13039/100005376", "AIS3241330750"),)
    assert r.related == (Related("IsReferencedBy", "10.1002/adma.201101001", "DOI"),)
    assert r.dates.collected_start == datetime(2008, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert r.dates.collected_end == datetime(2008, 3, 20, 9, 0, tzinfo=UTC)
    assert r.dates.release_date == datetime(2011, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert r.dates.created == r.dates.modified == datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
    assert r.license == "CC-BY-4.0"


def test_people_roles_orcid_and_no_personal_contact_data():
    r = investigation_to_record(investigation(), CTX)
    jb, nb = r.creators  # InvestigationUser id order; the nameless user is left out
    assert (jb.name, jb.given_name, jb.family_name, jb.role) == (
        "Jean-Baptiste Botul", "Jean-Baptiste", "Botul", "Principal Investigator")
    assert jb.orcid == "https://orcid.org/0000-0002-1825-0097"
    assert jb.affiliation == Affiliation("Université Paul-Valéry Montpellier 3")
    assert nb.name == "Nicolas Bourbaki" and nb.orcid is None  # truncated ORCID dropped
    (ac,) = r.contributors
    assert ac.role == "Local contact" and ac.orcid == "https://orcid.org/0000-0001-5109-3700"
    text = json.dumps(to_dict(r))
    assert "@" not in text and "db/" not in text and "nobody" not in text


def test_wrong_orcid_check_digit_is_dropped_and_the_person_stays():
    inv = investigation()
    inv["investigationUsers"][1]["user"]["orcidId"] = "0000-0002-1825-0098"
    r = validate(investigation_to_record(inv, CTX))
    assert r.creators[0].name == "Jean-Baptiste Botul" and r.creators[0].orcid is None


def test_email_like_names_are_left_out():
    inv = investigation()
    inv["investigationUsers"][0]["user"]["fullName"] = "nbour@example.org"
    r = validate(investigation_to_record(inv, CTX))
    assert [p.name for p in r.creators] == ["Jean-Baptiste Botul"]


def test_context_facility_name_wins_and_minimal_investigation():
    ctx = IcatContext(source="x", harvested_at=NOW, facility_name="ESRF")
    r = validate(investigation_to_record({"id": 7, "name": "MX-1", "visitId": "v",
                                          "title": " ", "investigationUsers": []}, ctx))
    assert r.title == "MX-1"  # no title: the proposal name
    assert r.facility == Facility("ESRF") and r.files is None and r.dates.release_date is None
    assert investigation_to_record({"id": 7, "title": "t"}, CTX).facility is None
    r = investigation_to_record({**investigation(), "id": 8}, ctx)
    assert r.facility == Facility("ESRF") and r.provenance.source_url is None


# --- release dates ---------------------------------------------------------------------------

def test_release_date_falls_back_to_start_plus_days_until_release():
    inv = investigation()
    del inv["releaseDate"]
    assert release_date(inv, CTX) is None  # no rule anywhere: public
    ctx = IcatContext(source="x", harvested_at=NOW, embargo_days=10)
    start = datetime(2008, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert release_date(inv, ctx) == start + timedelta(days=10)
    inv["facility"] = {**FACILITY, "daysUntilRelease": 1095}  # ICAT's value wins over ours
    assert release_date(inv, ctx) == start + timedelta(days=1095)
    del inv["startDate"]
    assert release_date(inv, ctx) == datetime(2008, 3, 20, 9, 0, tzinfo=UTC) + timedelta(1095)


def test_dataset_has_its_investigations_release_date():
    ds = dataset()
    del ds["investigation"]["releaseDate"]
    ds["investigation"]["facility"]["daysUntilRelease"] = 30
    r = dataset_to_record(ds, CTX)
    assert r.dates.release_date == datetime(2008, 4, 12, 10, 39, 42, tzinfo=UTC)


# --- datasets --------------------------------------------------------------------------------

def test_dataset_fields():
    r = validate(dataset_to_record(dataset(), CTX))
    assert r.id == "esnf:dataset:200" and r.kind == "dataset" and r.title == "e201215"
    assert r.pid == "10.5072/ds-200"
    assert r.description == "Part of investigation 08100122-EF: Durol single crystal"
    assert r.techniques == (by_id("PaNET01217"), by_id("PaNET01207"))  # unknown pid dropped
    assert r.techniques[0].label == "neutron diffraction"
    assert r.parameters == (Parameter("Magnetic field", 7.3, "T"),
                            Parameter("Reactor power", 5.0, "MW"),
                            Parameter("Last access", "2008-06-18T07:31:11Z", None))
    assert r.samples == (Sample("Durol SC", "C10H14"),)
    assert r.instrument == Instrument("HIKE", "DOI:00.0815/inst-00027")  # investigation's
    assert r.files == Files(count=2, size=73874)
    assert r.identifiers == (Identifier("proposal", "08100122-EF"), Identifier("visit", "1.1-P"))
    assert r.related == (Related("IsPartOf", "esnf:document:100", "Local"),
                         Related("IsDerivedFrom", "ESNFHNS8AYEZ", "IGSN"))
    assert [p.name for p in r.creators] == ["Jean-Baptiste Botul", "Nicolas Bourbaki"]
    assert r.dates.collected_start == datetime(2008, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert r.dates.modified == datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    assert r.dates.release_date == datetime(2011, 3, 13, 10, 39, 42, tzinfo=UTC)


def test_dataset_instrument_wins_and_investigation_doi_is_linked():
    ds = dataset()
    ds["datasetInstruments"] = [{**meta(300), "instrument": {
        **meta(301), "name": "E2", "pid": "doi:10.5442/ni000001"}}]
    ds["investigation"]["doi"] = "https://doi.org/10.15151/ESRF-ES-100"
    r = validate(dataset_to_record(ds, CTX))
    assert r.instrument == Instrument("E2", "https://doi.org/10.5442/ni000001")
    assert Related("IsPartOf", "10.15151/ESRF-ES-100", "DOI") in r.related


def test_same_entity_same_hash_whatever_the_order_icat_sends():
    a = dataset_to_record(dataset(), CTX)
    shuffled = dataset()
    shuffled["parameters"].reverse()
    shuffled["datasetTechniques"].reverse()
    shuffled["investigation"]["investigationUsers"].reverse()
    later = IcatContext(source="esnf", harvested_at=NOW + timedelta(days=1),
                        icat_url="https://icat.example.org",
                        facility_ror="https://ror.org/02550n020")
    b = dataset_to_record(shuffled, later)
    assert a.provenance.content_hash == b.provenance.content_hash
    changed = dataset()
    changed["parameters"][1]["numericValue"] = 7.4
    assert dataset_to_record(changed, CTX).provenance.content_hash != a.provenance.content_hash


def test_end_before_start_is_dropped():
    ds = dataset()
    ds["endDate"] = "2001-01-01T00:00:00.000Z"
    r = validate(dataset_to_record(ds, CTX))
    assert r.dates.collected_end is None and r.dates.collected_start is not None


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.pop("name"), "Dataset 200: no name"),
    (lambda d: d.pop("investigation"), "Dataset 200: no investigation"),
    (lambda d: d.update(startDate="yesterday"), "Dataset 200: Dataset startDate 'yesterday'"),
    (lambda d: d.update(startDate="2008-03-13T10:39:42"), "is not an ICAT time"),
    (lambda d: d.update(fileCount=-1), "fileCount -1 is not a count"),
    (lambda d: d.update(parameters={"not": "a list"}), "parameters is not a list"),
    (lambda d: d["parameters"][0].update(numericValue="5"), "numericValue '5' is not a number"),
])
def test_malformed_dataset(change, reason):
    ds = dataset()
    change(ds)
    with pytest.raises(MalformedEntity, match="^Dataset 200: ") as err:
        dataset_to_record(ds, CTX)
    assert reason in str(err.value)


def test_malformed_without_id():
    with pytest.raises(MalformedEntity, match="Dataset: no id"):
        dataset_to_record({"name": "x"}, CTX)
    with pytest.raises(MalformedEntity, match="Investigation: not a JSON object"):
        investigation_to_record(["x"], CTX)  # type: ignore[arg-type]


def test_nan_parameter_is_dropped():
    ds = copy.deepcopy(dataset())
    ds["parameters"][0]["numericValue"] = float("nan")
    assert "Reactor power" not in [p.name for p in dataset_to_record(ds, CTX).parameters]


# --- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, doi", [
    ("DOI:10.15151/ESRF-ES-123", "10.15151/ESRF-ES-123"),
    ("doi:10.5072/x", "10.5072/x"), ("https://doi.org/10.5072/x", "10.5072/x"),
    ("http://dx.doi.org/10.5072/x", "10.5072/x"), ("10.5072/x", "10.5072/x"),
    ("DOI:00.0815/inv-00122", None), ("", None), (None, None), ("10.1/x", None),
])
def test_normalise_doi(raw, doi):
    assert normalise_doi(raw) == doi


def test_icat_time():
    assert icat_time("2010-09-30T12:27:24.000+02:00") == datetime(2010, 9, 30, 10, 27, 24,
                                                                  tzinfo=UTC)
    assert icat_time("2010-09-30T12:27:24.000Z").tzinfo == UTC
    assert icat_time(None) is None
    with pytest.raises(MalformedEntity):
        icat_time(12)


@pytest.mark.parametrize("kw", [dict(source="Bad Name"), dict(license="not spdx!"),
                                dict(embargo_days=-1), dict(facility_ror="ror:123"),
                                dict(harvested_at=datetime(2026, 1, 1))])
def test_context_checks(kw):
    with pytest.raises(ValueError):
        IcatContext(**{"source": "x", "harvested_at": NOW, **kw})


def test_email_addresses_are_scrubbed_from_free_text():
    inv = investigation()
    inv["title"] = "Durol (ask jbotu@example.org)"
    inv["summary"] = "Contact: Jean-Baptiste <jbotu@example.org>, n.bour@uni.example.fr."
    inv["keywords"][0]["name"] = "nbour@example.org"
    inv["parameters"][0]["stringValue"] = "photon; PI jbotu@example.org"
    inv["samples"][0]["name"] = "Durol from acord@example.org"
    r = validate(investigation_to_record(inv, CTX))
    assert r.title == "Durol (ask [e-mail removed])"
    assert r.description == "Contact: Jean-Baptiste <[e-mail removed]>, [e-mail removed]."
    assert r.keywords == ("crystal", "[e-mail removed]")
    assert r.parameters == (Parameter("Probe", "photon; PI [e-mail removed]", None),)
    assert r.samples == (Sample("Durol from [e-mail removed]", "C10H14"),)
    ds = dataset()
    ds["name"] = "scan by jbotu@example.org"
    ds["description"] = "reduced by nbour@example.org"
    ds["sample"]["name"] = "SC of acord@example.org"
    ds["parameters"][0] = {**ds["parameters"][0], "numericValue": None,
                           "stringValue": "operator: jbotu@example.org"}
    d = validate(dataset_to_record(ds, CTX))
    assert (d.title, d.description) == ("scan by [e-mail removed]", "reduced by [e-mail removed]")
    assert d.samples[0].name == "SC of [e-mail removed]"
    assert Parameter("Reactor power", "operator: [e-mail removed]", "MW") in d.parameters
    ds["description"] = None
    ds["investigation"]["title"] = "Durol, see jbotu@example.org"
    d = validate(dataset_to_record(ds, CTX))
    assert d.description == "Part of investigation 08100122-EF: Durol, see [e-mail removed]"
    text = json.dumps([to_dict(r), to_dict(d)])
    assert "@" not in text.replace("[e-mail removed]", "")
