"""The PaNOSC projection follows the record store (changes, deletions, embargo ends, a
store restored behind it), and the Python entry points the federation uses."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from gateway import panosc
from gateway.app import create_app
from gateway.config import Config
from gateway.store import Batch, Store
from mappings.record import Parameter, with_hash

from .panosc_fixture import EMBARGO_END, NOW, records


@pytest.fixture
def gw(tmp_path, clock):
    app = create_app(Config(data_dir=tmp_path), clock=lambda: clock[0])
    gateway = app.extensions["fairgate"]
    gateway.store.apply_batch("panosc", Batch(upserts=records()), NOW - timedelta(days=1))
    yield gateway
    gateway.close()


def titles(gw, **where):
    return sorted(d["title"] for d in panosc.find(gw, "Datasets", {"where": where}))


def test_changes_and_deletions_are_followed(gw):
    assert len(titles(gw)) == 4
    changed = with_hash(replace(records()[2], title="Renamed dataset"))
    gw.store.apply_batch("panosc", Batch(upserts=[changed]), NOW)
    assert "Renamed dataset" in titles(gw)
    assert "PaNOSC Test Dataset 1" not in titles(gw)
    gw.store.apply_batch("panosc", Batch(deletes=[changed.id]), NOW)
    assert titles(gw) == ["PaNOSC Test Dataset 2", "PaNOSC Test Dataset 3",
                          "PaNOSC Test Dataset 4"]
    assert panosc.find_by_id(gw, "Datasets", "20.500.12269/panosc-dataset1") is None


def test_an_embargo_ends_without_any_change(gw, clock):
    assert panosc.count(gw, "Datasets", {}) == 4
    clock[0] = EMBARGO_END
    assert panosc.count(gw, "Datasets", {}) == 5
    assert panosc.find_by_id(gw, "Datasets", "20.500.12269/panosc-dataset5")["isPublic"]
    clock[0] = EMBARGO_END - timedelta(microseconds=1)
    assert panosc.count(gw, "Datasets", {}) == 4


def test_a_store_restored_behind_the_projection_rebuilds_it(tmp_path, gw):
    assert panosc.count(gw, "Datasets", {}) == 4
    gw.store.close()
    (tmp_path / "store.sqlite").unlink()
    for extra in ("store.sqlite-wal", "store.sqlite-shm"):
        (tmp_path / extra).unlink(missing_ok=True)
    gw.store = Store(tmp_path / "store.sqlite")
    gw.store.apply_batch("panosc", Batch(upserts=records()[2:3]), NOW)
    assert titles(gw) == ["PaNOSC Test Dataset 1"]


def test_range_overlap_of_min_and_max_parameters(gw):
    ranged = with_hash(replace(records()[3], parameters=(
        Parameter("sample_temperature_min", 10, "K"),
        Parameter("sample_temperature_max", 30, "K"))))
    gw.store.apply_batch("panosc", Batch(upserts=[ranged]), NOW)

    def found(value, unit="K"):
        return [d["pid"] for d in panosc.find(gw, "Datasets", {"include": [{
            "relation": "parameters", "scope": {"where": {"and": [
                {"name": "sample_temperature"}, {"value": value}, {"unit": unit}]}}}]})]
    assert found({"between": [25, 40]}) == ["20.500.12269/panosc-dataset2"]
    assert found({"between": [-260, -250]}, "celsius") == ["20.500.12269/panosc-dataset2"]
    assert found({"gt": 30}) == []
    assert found({"gte": 30}) == ["20.500.12269/panosc-dataset2"]
    assert found({"lt": 5}) == []
    hit = panosc.find(gw, "Datasets", {"include": [{"relation": "parameters", "scope": {
        "where": {"name": "sample_temperature", "value": {"eq": 20}}}}]})
    assert [p["name"] for p in hit[0]["parameters"]] == ["sample_temperature_min",
                                                          "sample_temperature_max"]


def test_without_vocabulary_techniques_match_their_own_terms(gw):
    def found(where):
        return sorted(d["pid"][-1] for d in panosc.find(gw, "Datasets", {"include": [
            {"relation": "techniques", "scope": {"where": where}}]}))
    assert found({"pid": "PaNET01227"}) == ["3", "4"]  # a term of esrf-ontologies
    assert found({"name": "Small angle neutron scattering"}) == ["1", "2"]  # the tags' names
    assert found({"name": "small angle scattering"}) == []  # no hierarchy without a file
    assert found({"pid": {"neq": "http://purl.org/pan-science/PaNET/PaNET01189"}}) == ["3", "4"]


def test_entry_points(gw):
    assert panosc.parse_filter(None) == {} and panosc.parse_filter(" ") == {}
    assert panosc.parse_filter('{"limit": 2}') == {"limit": 2}
    with pytest.raises(panosc.FilterError, match="JSON"):
        panosc.parse_filter("{")
    with pytest.raises(panosc.FilterError, match="unknown model"):
        panosc.find(gw, "Samples", {})
    assert panosc.count(gw, "Datasets", {"where": {"title": {"like": "%1"}}}) == 1
    assert panosc.count(gw, "datasets", {"title": {"like": "%1"}}) == 1
    found = panosc.find(gw, "Documents", {"query": "proposal"}, query="ignored here")
    assert [d["title"] for d in found] == ["PaNOSC Test Proposal"] and found[0]["score"] == 0.99
    assert [d["title"] for d in panosc.find(gw, "Documents", {}, query="publication")] == [
        "PaNOSC Test Publication"]
    files = panosc.files(gw, "20.500.12269/panosc-dataset3", {"where": {"text": "file3"}})
    assert [f["name"] for f in files] == ["panosc-file3.hdf"]
    with pytest.raises(panosc.NotFound):
        panosc.files(gw, "20.500.12269/panosc-dataset5", {})
    with pytest.raises(panosc.FilterError, match="include and fields"):
        panosc.find_by_id(gw, "Datasets", "x", {"limit": 1})
    one = panosc.find_by_id(gw, "Documents", "10.5072/PANOSC-DOCUMENT2", {
        "include": [{"relation": "datasets", "scope": {"where": {"title": "none"}}}],
        "fields": ["pid", "datasets"]})
    assert one == {"pid": "10.5072/panosc-document2", "datasets": [], "score": 0.5}
