"""The semantics every output format shares (mappings/rights.py)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from mappings import rights
from mappings.record import Dates, Person, tombstone

from .render_fixtures import FIXTURES, NOW


def test_access_switches_exactly_at_the_release_date():
    record = FIXTURES["embargoed"]
    release = record.dates.release_date
    before = rights.access_rights(record, release - timedelta(seconds=1))
    at = rights.access_rights(record, release)
    assert (before.coar, before.eurepo, before.eu_nal) == (
        "http://purl.org/coar/access_right/c_f1cf", "info:eu-repo/semantics/embargoedAccess",
        "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC")
    assert not before.is_open
    assert (at.coar, at.eurepo, at.eu_nal) == (
        "http://purl.org/coar/access_right/c_abf2", "info:eu-repo/semantics/openAccess",
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC")
    assert at.is_open


def test_deleted_records_have_no_rendering():
    with pytest.raises(ValueError, match="deleted"):
        rights.access_rights(tombstone(FIXTURES["maximal"], NOW), NOW)


def test_licence_defaults_to_facility_policy_and_knows_spdx_urls():
    assert rights.license_of(FIXTURES["license-default"]).spdx == "CC-BY-4.0"
    cc0 = rights.license_of(FIXTURES["cc0"])
    assert cc0.eu_nal == "http://publications.europa.eu/resource/authority/licence/CC0"
    mit = rights.license_of(FIXTURES["license-unknown-spdx"])
    assert (mit.spdx, mit.url, mit.eu_nal) == ("MIT", "https://spdx.org/licenses/MIT", None)
    assert rights.license_of(FIXTURES["maximal"]).spdx_url == "https://spdx.org/licenses/CC-BY-4.0"


@pytest.mark.parametrize("value, bare", [
    ("10.15151/ESRF-DC-1", "10.15151/ESRF-DC-1"),
    ("https://doi.org/10.15151/ESRF-DC-1", "10.15151/ESRF-DC-1"),
    ("doi:10.5281/zenodo.1", "10.5281/zenodo.1"),
    ("DOI:00.0815/fake", None),            # python-icat's fake prefix is not a DOI
    ("hdl:21.T11148/abc", None),
    (None, None),
])
def test_doi_normalisation(value, bare):
    assert rights.normalise_doi(value) == bare


def test_publication_year_policy():
    record = FIXTURES["embargoed"]
    assert rights.publication_year(record, NOW) == 2029        # release year, even ahead
    collected_only = replace(record, dates=Dates(collected_start=record.dates.collected_start))
    assert rights.publication_year(collected_only, NOW) == 2023
    undated = replace(record, dates=Dates())
    assert rights.publication_year(undated, NOW) == NOW.year
    stamped = replace(undated, datestamp=NOW.replace(year=2025))
    assert rights.publication_year(stamped, NOW.replace(year=2031)) == 2025  # not "now"


def test_embargo_dates_and_names():
    record = FIXTURES["maximal"]
    assert rights.embargo_start(record) == record.dates.collected_end
    assert rights.embargo_end(record) == record.dates.release_date
    assert rights.family_given(record.creators[0]) == "Lovelace, Ada"
    assert rights.family_given(Person("Kiefer")) == "Kiefer"
    assert rights.orcid_id(record.creators[0]) == "0000-0002-1825-0097"
    assert rights.ror_id("https://ror.org/02550n020") == "02550n020"
