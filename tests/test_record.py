"""The canonical record: JSON round trip, content hash, validation paths, access policy."""
from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import timedelta

import pytest

from mappings.access import Visibility, public_datestamp, tombstone_disclosable, visibility
from mappings.record import (Affiliation, Dates, Person, Record, content_hash, from_dict,
                             to_dict, tombstone)
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
