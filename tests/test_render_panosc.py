"""PaNOSC Search API JSON (mappings/panosc.py), checked against the data model as the
reference describes it (../shared/reference/panosc-search-api.md section 1, and the
`common/models/*.json` it cites), written down here independently of our code: for each
class, its properties with their JSON types and whether they are mandatory, and its
relations (embedded objects) with their class and cardinality.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from mappings import panosc

from .golden import GOLDEN_FIXTURES, golden_text
from .render_fixtures import CONTEXT, FIXTURES


NUMBER = (int, float)
DATE = "date"  # a string that is an ISO 8601 date-time
ID_CHARS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.~-")

# class -> {property: (type, mandatory)}; relations: {name: (class, "one" | "many")}
MODEL = {
    "Dataset": ({"pid": (str, True), "title": (str, True), "isPublic": (bool, True),
                 "creationDate": (DATE, True), "size": (NUMBER, False),
                 "score": (NUMBER, False)},
                {"documents": ("Document", "many"), "techniques": ("Technique", "many"),
                 "instrument": ("Instrument", "one"), "files": ("File", "many"),
                 "parameters": ("Parameter", "many"), "samples": ("Sample", "many")}),
    "Document": ({"pid": (str, True), "isPublic": (bool, True), "type": (str, True),
                  "title": (str, True), "summary": (str, False), "doi": (str, False),
                  "startDate": (DATE, False), "endDate": (DATE, False),
                  "releaseDate": (DATE, False), "license": (str, False),
                  "keywords": (list, False), "score": (NUMBER, False)},
                 {"datasets": ("Dataset", "many"), "members": ("Member", "many"),
                  "parameters": ("Parameter", "many")}),
    "Instrument": ({"pid": (str, True), "name": (str, True), "facility": (str, True)}, {}),
    "Technique": ({"pid": (str, True), "name": (str, True), "panetId": (str, False)}, {}),
    "Parameter": ({"id": (str, True), "name": (str, True), "value": ((str, int, float), True),
                   "unit": (str, False)}, {}),
    "File": ({"id": (str, True), "name": (str, True), "path": (str, False),
              "size": (NUMBER, False)}, {}),
    "Sample": ({"pid": (str, True), "name": (str, True), "description": (str, False)}, {}),
    "Member": ({"id": (str, False), "role": (str, False)},
               {"person": ("Person", "one"), "affiliation": ("Affiliation", "one")}),
    "Person": ({"id": (str, True), "fullName": (str, True), "orcid": (str, False),
                "researcherId": (str, False), "firstName": (str, False),
                "lastName": (str, False)}, {}),
    "Affiliation": ({"id": (str, False), "name": (str, False), "address": (str, False),
                     "city": (str, False), "country": (str, False)}, {}),
}
ID_PROPERTIES = {"Parameter", "File", "Member", "Person", "Affiliation"}  # `id` alphabet


def model_errors(obj: object, cls: str, where: str = "") -> list[str]:
    """Everything in `obj` that the data model of `cls` does not allow."""
    if not isinstance(obj, dict):
        return [f"{where or cls}: not an object"]
    props, relations = MODEL[cls]
    errors = [f"{where}{cls}.{k}: unknown" for k in obj if k not in props and k not in relations]
    for name, (kind, mandatory) in props.items():
        if name not in obj:
            errors += [f"{where}{cls}.{name}: missing"] if mandatory else []
            continue
        value = obj[name]
        if kind == DATE:
            ok = isinstance(value, str) and _is_datetime(value)
        elif kind is NUMBER or kind == (str, int, float):
            ok = isinstance(value, kind) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)  # type: ignore[arg-type]
        if kind is list:
            ok = ok and all(isinstance(v, str) for v in value)
        if not ok:
            errors.append(f"{where}{cls}.{name}: {value!r} is not {kind}")
    if cls in ID_PROPERTIES and "id" in obj and not set(str(obj["id"])) <= ID_CHARS:
        errors.append(f"{where}{cls}.id: {obj['id']!r} has characters outside the id alphabet")
    for name, (target, cardinality) in relations.items():
        if name not in obj:
            continue
        items = obj[name] if cardinality == "many" else [obj[name]]
        if cardinality == "many" and not isinstance(obj[name], list):
            errors.append(f"{where}{cls}.{name}: not a list")
            continue
        for i, item in enumerate(items):
            errors += model_errors(item, target, f"{where}{cls}.{name}[{i}].")
    return errors


def _is_datetime(text: str) -> bool:
    from datetime import datetime
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {key: json.loads(panosc.render(r, CONTEXT)) for key, r in FIXTURES.items()}


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_every_fixture_fits_the_data_model(key, docs):
    cls = "Dataset" if FIXTURES[key].kind == "dataset" else "Document"
    assert model_errors(docs[key], cls) == []


def test_the_model_check_catches_errors():
    bad = {"pid": "x", "title": 3, "isPublic": "yes", "creationDate": "2020",
           "email": "a@b.c", "techniques": [{"name": "t"}]}
    errors = model_errors(bad, "Dataset")
    assert {"Dataset.title: 3 is not <class 'str'>", "Dataset.email: unknown",
            "Dataset.techniques[0].Technique.pid: missing"} <= set(errors)
    assert any("isPublic" in e for e in errors) and any("creationDate" in e for e in errors)


def test_is_public_follows_the_embargo(docs):
    assert docs["embargoed"]["isPublic"] is False
    assert docs["document-embargoed"]["isPublic"] is False
    assert docs["embargoed-minimal"]["isPublic"] is False
    assert docs["maximal"]["isPublic"] is True
    assert docs["embargo-ends-now"]["isPublic"] is True
    record = FIXTURES["embargoed"]
    just_before = replace(CONTEXT, now=record.dates.release_date - timedelta(seconds=1))
    assert panosc.dataset(record, just_before)["isPublic"] is False
    assert panosc.dataset(record, replace(CONTEXT, now=record.dates.release_date))["isPublic"]


def test_techniques_are_panet_and_instruments_have_a_facility(docs):
    techniques = docs["multi-technique"]["techniques"]
    assert len(techniques) == 5
    for t in techniques:
        assert t["pid"].startswith("http://purl.org/pan-science/PaNET/PaNET")
    assert docs["maximal"]["techniques"][0] == {
        "pid": "http://purl.org/pan-science/PaNET/PaNET01196",
        "name": "x-ray absorption spectroscopy",
        "panetId": "http://purl.org/pan-science/PaNET/PaNET01196"}
    assert docs["maximal"]["instrument"] == {
        "pid": "https://doi.org/10.15151/ESRF-INSTR-ID31", "name": "ID31", "facility": "ESRF"}
    assert docs["facility-no-ror"]["instrument"] == {
        "pid": "esrf:instrument:SANS-I", "name": "SANS-I", "facility": "PSI"}


def test_identifiers_dates_and_parameters(docs):
    doc = docs["maximal"]
    assert doc["pid"] == "10.15151/ESRF-DC-1234567890"
    assert docs["minimal-dataset"]["pid"] == "esrf:dataset:min-ds"
    assert doc["creationDate"] == "2023-03-01T08:00:00Z"
    assert doc["size"] == 56_000_000_000
    params = {p["name"]: p for p in doc["parameters"]}
    assert params["temperature"]["value"] == 298.15 and params["temperature"]["unit"] == "K"
    assert params["cell"]["value"] == "coin" and "unit" not in params["cell"]
    assert [p["value"] for p in doc["parameters"] if p["name"] == "sample_chemical_formula"] \
        == ["LiNi0.8Mn0.1Co0.1O2", "Li"]
    ids = [p["id"] for p in doc["parameters"]]
    assert len(set(ids)) == len(ids)
    assert docs["string-parameters"]["parameters"][3]["value"] == -45


def test_documents_carry_members_licence_and_release(docs):
    doc = docs["document-funded"]
    assert (doc["type"], doc["doi"], doc["license"]) == ("proposal", "10.15151/ESRF-ES-999",
                                                         "CC-BY-4.0")
    assert doc["releaseDate"] == "2026-03-04T08:00:00Z"
    pi = doc["members"][0]
    assert pi["role"] == "principal investigator"
    assert pi["person"] == {"id": "0000-0002-1825-0097", "fullName": "Ada Lovelace",
                            "orcid": "0000-0002-1825-0097", "firstName": "Ada",
                            "lastName": "Lovelace"}
    assert pi["affiliation"] == {"id": "02550n020",
                                 "name": "European Synchrotron Radiation Facility"}
    assert docs["minimal-document"]["license"] == "CC-BY-4.0"
    embedded = panosc.document(FIXTURES["document-funded"], CONTEXT,
                               datasets=[panosc.dataset(FIXTURES["maximal"], CONTEXT)])
    assert model_errors(embedded, "Document") == []
    assert embedded["datasets"][0]["pid"] == "10.15151/ESRF-DC-1234567890"


def test_no_contact_data(docs):
    text = json.dumps(docs)
    assert "@" not in text and "mail" not in text.lower()


# --- golden files ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", GOLDEN_FIXTURES)
def test_golden(key, docs):
    """Regenerate with FAIRGATE_REGEN_GOLDEN=1 (compared as JSON values, not bytes)."""
    text = golden_text(f"{key}.panosc.json", lambda: panosc.render(FIXTURES[key], CONTEXT) + "\n")
    assert json.loads(text) == docs[key]
