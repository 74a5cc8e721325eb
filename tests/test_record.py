"""The canonical record: JSON round trip, content hash, validation paths, access policy."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from mappings.access import Visibility, public_datestamp, tombstone_disclosable, visibility
from mappings.record import (Affiliation, Dates, Files, Funding, Identifier, Parameter, Person,
                             Record, Related, Sample, content_hash, from_dict, iso, to_dict,
                             tombstone, with_hash)
from mappings.validation import RecordInvalid, check_dict, load, orcid_checksum_ok, validate

from .factories import NOW, corpus, make_record


def test_round_trip_is_lossless():
    for r in corpus(30):
        assert from_dict(to_dict(r)) == r


def test_content_hash_ignores_harvest_time_but_not_content():
    r = make_record(1)
    later = replace(r, provenance=replace(r.provenance, harvested_at=NOW + timedelta(days=1)),
                    datestamp=NOW)
    assert content_hash(later) == content_hash(r)
    assert content_hash(replace(r, title="Other")) != content_hash(r)


def test_model_has_no_place_for_contact_data():
    names = {f.name for cls in (Record, Person, Affiliation) for f in dataclasses.fields(cls)}
    assert not names & {"email", "mail", "login", "username", "phone", "telephone_number",
                        "facility_user_id"}


def test_validation_names_every_offending_path():
    r = make_record(1)
    bad = replace(
        r, id="no colons", kind="dataset",
        creators=(replace(r.creators[0], orcid="https://orcid.org/0000-0002-1825-0098",
                          affiliation=Affiliation("ESRF", "ror:02550n020")),
                  Person("someone@example.org")),
        dates=Dates(collected_start=NOW, collected_end=NOW - timedelta(hours=1)),
        license="CC BY 4.0")
    with pytest.raises(RecordInvalid) as info:
        validate(bad)
    assert set(info.value.errors) == {
        "id", "creators.0.orcid", "creators.0.affiliation.ror", "creators.1.name",
        "dates.collected_end", "license"}
    assert "check digit" in " ".join(info.value.errors["creators.0.orcid"])
    assert "creators.1.name" in str(info.value)


def test_schema_rejects_unknown_fields_such_as_email():
    d = to_dict(make_record(1))
    d["creators"][0]["email"] = "ada@example.org"
    assert "creators.0.email" in check_dict(d)
    d = to_dict(make_record(1))
    assert load(d) == make_record(1)


def test_kind_and_source_must_agree_with_id():
    d = to_dict(make_record(1))
    d["kind"] = "document"
    assert "id" in check_dict(d)
    d = to_dict(make_record(1))
    d["provenance"]["source"] = "other"
    assert "id" in check_dict(d)


@pytest.mark.parametrize("orcid,ok", [("https://orcid.org/0000-0002-1825-0097", True),
                                      ("https://orcid.org/0000-0001-5109-3700", True),
                                      ("https://orcid.org/0000-0002-1694-233X", True),
                                      ("https://orcid.org/0000-0002-1694-2339", False)])
def test_orcid_checksum(orcid, ok):
    assert orcid_checksum_ok(orcid) is ok


def test_visibility_follows_release_date_and_deletion():
    r = make_record(1, release=NOW + timedelta(days=1))
    assert visibility(r, NOW) is Visibility.EMBARGOED
    assert visibility(r, NOW + timedelta(days=2)) is Visibility.PUBLIC
    assert visibility(make_record(2), NOW) is Visibility.PUBLIC
    gone = tombstone(make_record(3), NOW)
    assert visibility(gone, NOW) is Visibility.DELETED and tombstone_disclosable(gone, NOW)
    assert not tombstone_disclosable(tombstone(r, NOW), NOW)


def test_public_datestamp_moves_when_an_embargo_ends():
    release = NOW + timedelta(days=1)
    r = replace(make_record(1, release=release), datestamp=NOW - timedelta(days=100))
    assert public_datestamp(r, NOW) == NOW - timedelta(days=100)
    assert public_datestamp(r, NOW + timedelta(days=5)) == release


# --- byte-identical conversion and hashing (stored stores rely on the hashes) -----------------

def odd_record() -> Record:
    """Non-ASCII text, naive / non-UTC / microsecond / pre-1000 datetimes, a str and an int
    parameter value, files, links, funding and deletion fields: every branch of `to_dict`."""
    east, west = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))
    r = make_record(3, title='Ångström – 東京 "quoted" \\ back\nslash')
    return replace(
        r, pid="10.5072/x", keywords=("ß", "naïve"),
        contributors=(Person("Zoë O'Neil", role="local contact"),),
        parameters=(Parameter("mode", "fly-scan"), Parameter("n", 3), Parameter("e", 12.4, "keV")),
        dates=Dates(collected_start=datetime(2020, 1, 2, 3, 4, 5, 678901),
                    collected_end=datetime(2020, 1, 2, 9, 0, tzinfo=west),
                    created=datetime(2000, 1, 1, 5, 0, 0, 999999, tzinfo=east),
                    modified=datetime(999, 3, 4, 5, 6, 7, tzinfo=timezone.utc)),
        files=Files(3, 1024, ("nxs", "h5"), "https://example.org/x"),
        identifiers=(Identifier("visit", "mx-1"),),
        related=(Related("IsPartOf", "10.5072/y", "DOI"),),
        funding=(Funding("EC", "https://doi.org/10.13039/501100000780", "654321"),),
        datestamp=datetime(2026, 1, 1, 12, 0, 30, 5), deleted=True,
        deleted_at=datetime(2026, 2, 1, tzinfo=east))


# Computed with mappings.record as it was before to_dict/content_hash were made faster.
PINNED_HASHES = {
    "make_record(1)": "c44ba71aaa8fc3ca7f94f2f82ccac9a024b1e1fd2fea9e42ca0d789c10d5ab70",
    "odd_record()": "c9301576695b83e83ece3e5e44b03dfa1148d29603a42ff8a0b62c135243f1fb",
}
# sha256 of json.dumps(to_dict(odd_record()), ensure_ascii=False)
PINNED_ODD_JSON_SHA256 = "949e58a56821c5f8a1ac7086dc51384a1458d1bcdaf11ccb6fd2fb4e45649e03"


def pinned_records() -> dict[str, Record]:
    return {"make_record(1)": make_record(1), "odd_record()": odd_record()}


@pytest.mark.parametrize("name", sorted(PINNED_HASHES))
def test_content_hashes_are_those_of_stored_records(name):
    record = pinned_records()[name]
    assert content_hash(record) == PINNED_HASHES[name]
    assert with_hash(record).provenance.content_hash == PINNED_HASHES[name]


def test_to_dict_json_is_byte_identical_to_the_stored_form():
    body = json.dumps(to_dict(odd_record()), ensure_ascii=False)
    assert hashlib.sha256(body.encode()).hexdigest() == PINNED_ODD_JSON_SHA256


def reference_dump(value):
    """`to_dict` as it was first written: the oracle for the faster one."""
    if dataclasses.is_dataclass(value):
        return {f.name: reference_dump(getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [reference_dump(v) for v in value]
    if isinstance(value, datetime):
        return reference_iso(value)
    return value


def reference_iso(dt):
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass(frozen=True)
class _Extra(Affiliation):  # a subclass the dump has not seen: its fields, not the base's
    note: str = "x"


def test_to_dict_matches_the_reference_dump_for_odd_values():
    records = [*corpus(40), odd_record(), tombstone(odd_record(), NOW),
               replace(make_record(4), keywords=["a list", "stays a list"],  # type: ignore
                       samples=(Sample("s", "H2O"),), title=b"bytes stay"),  # type: ignore
               replace(make_record(5), creators=(Person("A", affiliation=_Extra("ILL")),),
                       parameters=(Parameter("flag", True),),  # type: ignore
                       instrument={"a": "dict"})]  # type: ignore
    for r in records:
        assert to_dict(r) == reference_dump(r)
        assert json.dumps(to_dict(r), default=str) == json.dumps(reference_dump(r), default=str)


@pytest.mark.parametrize("dt", [
    datetime(2026, 11, 24, 12, 0, 5, 999999, tzinfo=timezone.utc), datetime(2026, 1, 1),
    datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # previous day in UTC
    datetime(1000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # year 999 in UTC
    datetime(999, 12, 31, 23, 59), datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)])
def test_iso_matches_strftime(dt):
    assert iso(dt) == reference_iso(dt)
