"""harvesters.icat over real HTTP against the ICAT stand-in (tests/icat_standin), loaded with
../shared/data/icat/icatdump-6.2.yaml, into a real store and index through the runner."""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from gateway.config import Config
from gateway.harvest import Runner
from gateway.index.embedded import EmbeddedIndex
from gateway.sources import build_harvester
from gateway.store import Store
from harvesters.icat import Credentials, IcatHarvester
from harvesters.icat.harvester import FULL_EVERY
from mappings.access import Visibility, public_datestamp, visibility
from mappings.record import (Affiliation, Facility, Files, Funding, Identifier, Instrument,
                             Parameter, Related, Sample, parse_iso)
from mappings.techniques import by_id

from .icat_standin import IcatStandin

DUMP = Path(__file__).resolve().parents[2] / "shared" / "data" / "icat" / "icatdump-6.2.yaml"
UTC = timezone.utc
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PASSWORD = "pw-7f3a-never-logged"
ESNF_ROR = "https://ror.org/02550n020"


class Clock:
    """One movable clock for the stand-in, the harvester and the runner."""

    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class Tripwire(requests.Session):
    """Calls `action` after the `after`-th search whose query starts with `prefix`."""

    def __init__(self, prefix: str, after: int, action):
        super().__init__()
        self.prefix, self.after, self.action, self.seen = prefix, after, action, 0

    def request(self, method, url, params=None, **kw):
        response = super().request(method, url, params=params, **kw)
        if params and str(params.get("query", "")).startswith(self.prefix):
            self.seen += 1
            if self.seen == self.after:
                self.action()
        return response


@pytest.fixture
def clock():
    return Clock(START)


def standin(clock: Clock) -> IcatStandin:
    s = IcatStandin(clock=clock)
    s.load_dump(DUMP)
    s.add_user("db", "reader", PASSWORD, reader_all=True)
    return s


@pytest.fixture
def icat(clock):
    with standin(clock) as s:
        yield s


@pytest.fixture
def gw(tmp_path, clock):
    store, index = Store(tmp_path / "store.sqlite"), EmbeddedIndex(tmp_path / "index.sqlite")

    def run(h, **kw):
        return Runner(store, index, clock=clock, **kw).run(h)
    yield SimpleNamespace(store=store, index=index, run=run)
    store.close()
    index.close()


def harvester(s: IcatStandin, clock: Clock, name: str = "esnf", *, anon: bool = False,
              **kw) -> IcatHarvester:
    creds = Credentials() if anon else Credentials("db", username="reader", password=PASSWORD)
    options = dict(credentials=creds, facility_name="ESNF", facility_ror=ESNF_ROR, clock=clock,
                   retries=2, sleep=lambda _: None)
    return IcatHarvester(name, s.base_url, **{**options, **kw})


def one(s: IcatStandin, entity: str, **equals) -> int:
    (found,) = s.find(entity, **equals)
    return found


def live(store: Store, source: str = "esnf") -> dict[str, str]:
    return dict(store.db.execute(
        "SELECT id, content_hash FROM records WHERE deleted = 0 AND source = ?", (source,)))


def tombstones(store: Store, source: str = "esnf") -> set[str]:
    return {r for (r,) in store.db.execute(
        "SELECT id FROM records WHERE deleted = 1 AND source = ?", (source,))}


def outcome(store: Store) -> tuple[dict[str, str], set[str]]:
    """What a run leaves: live ids with their content hashes, and tombstones."""
    return live(store), tombstones(store)


def changed_by(gw, h: IcatHarvester) -> set[str]:
    """The ids of the records one run changed (new, changed or deleted)."""
    seq = gw.store.last_seq()
    report = gw.run(h)
    assert report.status == "ok" and report.failed == 0, report.error
    return {r.id for _, r in gw.store.changes_since(seq)}


@pytest.fixture
def clean(tmp_path, clock):
    """A second store and index, for the same harvest without faults."""
    store = Store(tmp_path / "clean.sqlite")
    index = EmbeddedIndex(tmp_path / "clean-index.sqlite")

    def run(h, **kw):
        return Runner(store, index, clock=clock, **kw).run(h)
    yield SimpleNamespace(store=store, index=index, run=run)
    store.close()
    index.close()


# --- values of the dump, field by field --------------------------------------------------------

@pytest.fixture
def harvested(icat, gw, clock):
    report = gw.run(harvester(icat, clock))
    assert report.status == "ok" and report.failed == 0, report.to_dict()
    assert (report.new, report.changed, report.deleted) == (12, 0, 0)  # 3 + 9
    return SimpleNamespace(icat=icat, gw=gw, report=report,
                           doc=lambda name: gw.store.get(
                               f"esnf:document:{one(icat, 'Investigation', name=name)}"),
                           ds=lambda name: gw.store.get(
                               f"esnf:dataset:{one(icat, 'Dataset', name=name)}"))


def test_dump_investigation_08100122(harvested):
    r = harvested.doc("08100122-EF")
    assert r.kind == "document" and r.title == "Durol single crystal"
    assert r.description is None and r.pid is None  # no summary; DOI:00.0815/... is no DOI
    assert r.identifiers == (Identifier("proposal", "08100122-EF"), Identifier("visit", "1.1-P"),
                             Identifier("ICAT DOI", "DOI:00.0815/inv-00122"))
    assert r.keywords == ("Durol",)
    assert [(p.name, p.role, p.orcid) for p in r.creators] == [
        ("Jean-Baptiste Botul", "Principal Investigator", None),  # ORCIDs truncated in the dump
        ("Nicolas Bourbaki", "Investigator", None),
        ("Rudolph Beck-Dülmen", "Investigator", None)]
    assert r.creators[0].affiliation == Affiliation("Université Paul-Valéry Montpellier 3")
    assert (r.creators[2].given_name, r.creators[2].family_name) == ("Rudolph", "Beck-Dülmen")
    assert r.facility == Facility("ESNF", ESNF_ROR)
    assert r.instrument == Instrument("HIKE", "DOI:00.0815/inst-00027")
    assert r.parameters == (Parameter("Probe", "photon", None),)
    assert r.samples == (Sample("Durol SC", "C10H14"),)
    assert r.files == Files(count=1, size=368369)
    assert r.dates.collected_start == datetime(2008, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert r.dates.collected_end is None
    assert r.dates.release_date == datetime(2011, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert r.license == "CC-BY-4.0"
    text = json.dumps(harvested.gw.store.db.execute("SELECT body FROM records").fetchall())
    assert "@example.org" not in text and "db/" not in text  # no e-mail, no login


def test_dump_investigations_10100601_and_12100409(harvested):
    r = harvested.doc("10100601-ST")
    assert r.keywords == ("Gallium", "Manganese", "NiMnGa", "Nickel")
    assert [(p.name, p.affiliation.name) for p in r.creators] == [
        ("Arnold Hau", "Goethe University Frankfurt, Faculty of Philosophy and History")]
    assert r.instrument == Instrument("E2", "DOI:00.0815/inst-00001")
    assert r.parameters == (Parameter("Probe", "neutron", None),)
    assert (r.dates.collected_start, r.dates.collected_end) == (
        datetime(2010, 9, 30, 10, 27, 24, tzinfo=UTC), datetime(2010, 10, 12, 15, tzinfo=UTC))
    assert r.dates.release_date == datetime(2013, 9, 30, 10, 27, 24, tzinfo=UTC)
    assert r.related == ()  # its publication's DOI has the fake 00.1002 prefix
    r = harvested.doc("12100409-ST")
    assert r.funding == (Funding("American Mathematical Society",
                                 "https://doi.org/10.13039/100005376", "AIS3241330750"),)
    assert r.dates.release_date == datetime(2099, 12, 31, tzinfo=UTC)
    assert visibility(r, START) is Visibility.EMBARGOED


def test_dump_datasets(harvested):
    r = harvested.ds("e208339")
    doc = harvested.doc("10100601-ST")
    assert r.kind == "dataset" and r.title == "e208339"
    assert r.parameters == (Parameter("Magnetic field", 7.3, "T"),
                            Parameter("Reactor power", 5.0, "MW"))
    assert r.techniques == (by_id("PaNET01217"),)
    assert r.techniques[0].label == "neutron diffraction"
    assert r.instrument == Instrument("E2", "DOI:00.0815/inst-00001")
    assert r.samples == (Sample("NiMnGa 991027", "NiMnGa"),)
    assert r.files == Files(count=2, size=73874)
    assert (r.dates.collected_start, r.dates.collected_end) == (
        datetime(2010, 9, 30, 10, 27, 24, tzinfo=UTC), datetime(2010, 10, 1, 6, 17, 48, tzinfo=UTC))
    assert r.dates.release_date == doc.dates.release_date  # the investigation's
    assert Related("IsPartOf", doc.id, "Local") in r.related
    assert Related("IsDerivedFrom", "ESNFZDVHICBD", "IGSN") in r.related
    assert r.identifiers == (Identifier("proposal", "10100601-ST"), Identifier("visit", "1.1-N"))
    assert [p.name for p in r.creators] == ["Arnold Hau"]  # the investigation's people
    assert r.description == "Part of investigation 10100601-ST: Ni-Mn-Ga flat cone"

    r = harvested.ds("e208945")
    assert r.parameters == (Parameter("Sample temperature", 3.92, "C"),
                            Parameter("Sample temperature", 277.07, "K"))
    assert r.techniques == () and r.instrument.name == "EDDI"
    assert r.samples == (Sample("Nickel(II) oxide SC", "NiO"),)
    assert r.dates.release_date == datetime(2099, 12, 31, tzinfo=UTC)

    r = harvested.ds("e201215")
    assert r.techniques == (by_id("PaNET01103"),)
    assert r.techniques[0].iri == "http://purl.org/pan-science/PaNET/PaNET01103"
    assert r.techniques[0].label == "hard x-ray photoelectron spectroscopy"
    assert r.instrument == Instrument("HIKE", "DOI:00.0815/inst-00027")
    assert r.dates.release_date == datetime(2011, 3, 13, 10, 39, 42, tzinfo=UTC)
    assert harvested.ds("e208947").instrument.name == "EDDI"  # no DatasetInstrument: the inv's


def test_valid_orcid_is_kept_normalised(harvested, clock):
    s, gw = harvested.icat, harvested.gw
    inv = one(s, "Investigation", name="08100122-EF")
    clock.advance(hours=1)
    user = s.create("User", name="db/ada", fullName="Ada Lovelace", givenName="Ada",
                    familyName="Lovelace", orcidId="0000-0002-1825-0097",
                    email="ada@example.org", affiliation="Analytical Engine Society")
    s.create("InvestigationUser", user=user, investigation=inv, role="Co-Investigator")
    report = gw.run(harvester(s, clock))
    # the document and its two datasets (which carry the investigation's people)
    assert (report.new, report.changed, report.deleted, report.failed) == (0, 3, 0, 0)
    ada = harvested.doc("08100122-EF").creators[-1]
    assert (ada.name, ada.orcid, ada.role) == (
        "Ada Lovelace", "https://orcid.org/0000-0002-1825-0097", "Co-Investigator")
    assert ada in harvested.ds("e201216").creators


# --- incremental -------------------------------------------------------------------------------

def test_incremental_run_yields_exactly_the_changes(harvested, clock):
    s, gw = harvested.icat, harvested.gw
    ds_changed, ds_gone = one(s, "Dataset", name="e208339"), one(s, "Dataset", name="e201216")
    field = one(s, "ParameterType", name="Magnetic field")
    (param,) = [p for p in s.find("DatasetParameter", dataset=ds_changed)
                if s.get("DatasetParameter", p)["type"] == field]
    embargoed = harvested.doc("12100409-ST")
    seq = gw.store.last_seq()

    clock.t = datetime(2100, 1, 2, tzinfo=UTC)  # 12100409-ST's release date (2099-12-31) passes
    new = s.create("Dataset", name="e209000", complete=False,
                   investigation=one(s, "Investigation", name="10100601-ST"),
                   type=one(s, "DatasetType", name="raw"), startDate=clock.t)
    s.update("DatasetParameter", param, numericValue=5.0)
    s.delete("Dataset", ds_gone)
    report = gw.run(harvester(s, clock))

    assert report.status == "ok", report.error
    assert (report.new, report.changed, report.deleted, report.failed) == (1, 1, 1, 0)
    changed = {r.id: r for _, r in gw.store.changes_since(seq)}
    assert set(changed) == {f"esnf:dataset:{new}", f"esnf:dataset:{ds_changed}",
                            f"esnf:dataset:{ds_gone}"}
    assert changed[f"esnf:dataset:{ds_gone}"].deleted
    assert Parameter("Magnetic field", 5.0, "T") in changed[f"esnf:dataset:{ds_changed}"].parameters
    # the released record did not change, but it is public now, stamped at its release date
    released = gw.store.get(embargoed.id)
    assert released.datestamp == embargoed.datestamp
    assert visibility(released, clock.t) is Visibility.PUBLIC
    assert public_datestamp(released, clock.t) == datetime(2099, 12, 31, tzinfo=UTC)
    assert public_datestamp(embargoed, START) == embargoed.datestamp  # before: not announced

    again = gw.run(harvester(s, clock))  # nothing changed since: nothing new, changed, deleted
    assert (again.new, again.changed, again.deleted, again.failed) == (0, 0, 0, 0)


def test_a_change_of_only_a_child_row_changes_exactly_its_parents(harvested, clock):
    """The dump's rows are an hour apart and the first run moved `since` past every row
    changed below and past their parents: only watching the child rows finds these changes
    (each is an update, so child reconciliation, which compares ids, does not)."""
    s, gw = harvested.icat, harvested.gw
    h = harvester(s, clock)
    since = parse_iso(gw.store.checkpoint("esnf")["harvest"]["since"])
    inv = one(s, "Investigation", name="10100601-ST")
    inv_datasets = {f"esnf:dataset:{d}" for d in s.find("Dataset", investigation=inv)}
    ds, ds_tech = one(s, "Dataset", name="e208339"), one(s, "Dataset", name="e201215")
    (param,) = [p for p in s.find("DatasetParameter", dataset=ds)
                if s.get("DatasetParameter", p)["type"] == one(s, "ParameterType",
                                                                name="Magnetic field")]
    hau = one(s, "User", fullName="Arnold Hau")
    assert {i for link in s.find("InvestigationUser", user=hau)
            for i in [s.get("InvestigationUser", link)["investigation"]]} == {inv}
    (link,) = s.find("DatasetTechnique", dataset=ds_tech)
    keyword = one(s, "Keyword", investigation=inv, name="Gallium")
    rows = [("Investigation", inv), ("Dataset", ds), ("Dataset", ds_tech),
            ("DatasetParameter", param), ("User", hau), ("DatasetTechnique", link),
            ("Keyword", keyword)]
    assert all(s.get(entity, i)["modTime"] < since for entity, i in rows)

    def change(entity: str, row: int, **values) -> set[str]:
        clock.advance(hours=1)
        s.update(entity, row, **values)
        return changed_by(gw, h)

    assert change("DatasetParameter", param, numericValue=6.5) == {f"esnf:dataset:{ds}"}
    assert Parameter("Magnetic field", 6.5, "T") in gw.store.get(f"esnf:dataset:{ds}").parameters
    # a person's name and ORCID live in the User row: the document and its datasets
    assert change("User", hau, fullName="Arnold B. Hau", orcidId="0000-0002-1825-0097") == {
        f"esnf:document:{inv}", *inv_datasets}
    (person,) = gw.store.get(f"esnf:document:{inv}").creators
    assert (person.name, person.orcid) == ("Arnold B. Hau", "https://orcid.org/0000-0002-1825-0097")
    assert change("DatasetTechnique", link,
                  technique=one(s, "Technique", pid="PaNET:PaNET01089")) == {
        f"esnf:dataset:{ds_tech}"}
    assert gw.store.get(f"esnf:dataset:{ds_tech}").techniques == (by_id("PaNET01089"),)
    assert change("Keyword", keyword, name="Ga") == {f"esnf:document:{inv}"}
    assert "Ga" in gw.store.get(f"esnf:document:{inv}").keywords


@pytest.mark.parametrize("reconcile_every", [1, 3])
def test_removed_child_rows_leave_the_records(harvested, clock, reconcile_every):
    """A deleted DatasetParameter and a removed InvestigationUser (GDPR: the person must go)
    leave no modTime behind; child reconciliation finds them at the next reconciliation."""
    s, gw = harvested.icat, harvested.gw
    h = harvester(s, clock, reconcile_every=reconcile_every, full_every=0)
    ds = one(s, "Dataset", name="e208339")
    (param,) = [p for p in s.find("DatasetParameter", dataset=ds)
                if s.get("DatasetParameter", p)["type"] == one(s, "ParameterType",
                                                                name="Magnetic field")]
    inv = one(s, "Investigation", name="08100122-EF")
    bourbaki = one(s, "User", fullName="Nicolas Bourbaki")
    link = one(s, "InvestigationUser", investigation=inv, user=bourbaki)
    inv_records = {f"esnf:document:{inv}",
                   *(f"esnf:dataset:{d}" for d in s.find("Dataset", investigation=inv))}
    assert "Nicolas Bourbaki" in [p.name for p in harvested.doc("08100122-EF").creators]

    clock.advance(hours=1)
    s.delete("DatasetParameter", param)
    s.delete("InvestigationUser", link)
    changed: set[str] = set()
    for _ in range(reconcile_every):  # passes so far: 1; reconciles when passes % n == 0
        clock.advance(hours=1)
        changed |= changed_by(gw, h)
    assert changed == {f"esnf:dataset:{ds}", *inv_records}
    assert [p.name for p in gw.store.get(f"esnf:dataset:{ds}").parameters] == ["Reactor power"]
    for rid in inv_records:
        record = gw.store.get(rid)
        assert "Nicolas Bourbaki" not in [p.name for p in (*record.creators,
                                                           *record.contributors)]
    clock.advance(hours=1)
    assert changed_by(gw, h) == set()  # and the digests are in step again


def test_full_every_defaults_to_a_bound_and_never_is_a_warning(caplog):
    assert FULL_EVERY == 7
    assert IcatHarvester("x", "http://x").full_every == FULL_EVERY
    assert build_harvester("x", {"type": "icat", "url": "http://x"}).full_every == FULL_EVERY
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    with caplog.at_level(logging.WARNING):
        IcatHarvester("x", "http://x", full_every=0)
    assert "full_every = 0: entities are never re-read in full" in caplog.text


def test_file_counts_follow_datafiles(harvested, clock):
    """ICAT's triggers keep fileCount/fileSize without moving modTime: a new datafile is
    found through `JOIN ds.datafiles` / `JOIN i.datasets d JOIN d.datafiles`; a deleted one
    leaves nothing to watch and shows at the next full pass (at most FULL_EVERY runs)."""
    s, gw = harvested.icat, harvested.gw
    h = harvester(s, clock)
    ds, inv = one(s, "Dataset", name="e208339"), one(s, "Investigation", name="10100601-ST")
    ds_files, inv_files = harvested.ds("e208339").files, harvested.doc("10100601-ST").files
    ds_mod, inv_mod = s.get("Dataset", ds)["modTime"], s.get("Investigation", inv)["modTime"]

    clock.advance(hours=1)
    new = s.create("Datafile", name="e208339-extra.nxs", dataset=ds, fileSize=1000)
    assert (s.get("Dataset", ds)["modTime"], s.get("Investigation", inv)["modTime"]) == (
        ds_mod, inv_mod)  # the trigger does not touch them
    assert changed_by(gw, h) == {f"esnf:dataset:{ds}", f"esnf:document:{inv}"}
    assert gw.store.get(f"esnf:dataset:{ds}").files == Files(ds_files.count + 1,
                                                            ds_files.size + 1000)
    assert gw.store.get(f"esnf:document:{inv}").files == Files(inv_files.count + 1,
                                                              inv_files.size + 1000)

    clock.advance(hours=1)
    s.delete("Datafile", new)
    for runs in range(1, FULL_EVERY + 1):
        clock.advance(hours=1)
        gw.run(h)
        if gw.store.get(f"esnf:dataset:{ds}").files == ds_files:
            break
    assert gw.store.get(f"esnf:dataset:{ds}").files == ds_files, f"not after {runs} runs"
    assert gw.store.get(f"esnf:document:{inv}").files == inv_files


def test_anonymous_account_sees_records_when_released_and_loses_them_when_re_embargoed(
        icat, gw, clock):
    first = gw.run(harvester(icat, clock, anon=True))
    assert (first.status, first.new) == ("ok", 2 + 5)  # 12100409-ST (4 datasets) is embargoed
    clock.t = datetime(2100, 1, 2, tzinfo=UTC)
    second = gw.run(harvester(icat, clock, anon=True))
    assert (second.new, second.changed, second.deleted) == (5, 0, 0)
    assert gw.store.get(f"esnf:document:{one(icat, 'Investigation', name='12100409-ST')}")

    clock.advance(hours=1)
    inv = one(icat, "Investigation", name="08100122-EF")
    icat.update("Investigation", inv, releaseDate=datetime(2200, 1, 1, tzinfo=UTC))
    third = gw.run(harvester(icat, clock, anon=True))  # withdrawn: tombstones
    assert (third.new, third.changed, third.deleted) == (0, 0, 3)
    assert gw.store.get(f"esnf:document:{inv}").deleted
    assert gw.store.count(source="esnf", deleted=False) == 12 - 3


def test_reconciliation_every_n_runs(harvested, clock):
    s, gw = harvested.icat, harvested.gw
    clock.advance(hours=1)
    s.delete("Dataset", one(s, "Dataset", name="e201216"))
    h = harvester(s, clock, reconcile_every=2)  # passes so far: 1; reconciles when even
    assert gw.run(h).deleted == 0
    assert gw.run(h).deleted == 1


def test_created_then_deleted_between_reconciliations_becomes_a_tombstone(harvested, clock):
    s, gw = harvested.icat, harvested.gw
    h = harvester(s, clock, reconcile_every=2)
    clock.advance(hours=1)
    new = s.create("Dataset", name="short-lived", complete=False,
                   investigation=one(s, "Investigation", name="10100601-ST"),
                   type=one(s, "DatasetType", name="raw"))
    assert gw.run(h).new == 1  # no reconciliation in this run
    s.delete("Dataset", new)
    clock.advance(hours=1)
    assert gw.run(h).deleted == 1
    assert gw.store.get(f"esnf:dataset:{new}").deleted


def test_an_empty_listing_does_not_delete_everything(icat, gw, clock):
    assert gw.run(harvester(icat, clock, anon=True)).new == 7
    icat.read_rules["Dataset"] = []  # the account suddenly sees no dataset
    clock.advance(hours=1)
    report = gw.run(harvester(icat, clock, anon=True))
    assert report.status == "failed" and "refusing to delete" in report.error
    assert "ICAT lists no dataset although 5 were harvested before" in report.error
    assert gw.store.count(source="esnf", deleted=True) == 0


def test_mapping_version_change_reharvests_everything(harvested, clock, monkeypatch):
    s, gw = harvested.icat, harvested.gw
    s.clear_requests()
    monkeypatch.setattr("harvesters.icat.harvester.MAPPING_VERSION", 99)
    report = gw.run(harvester(s, clock))
    assert (report.unchanged, report.new, report.changed) == (12, 0, 0)
    assert any(q["query"].startswith("SELECT ds FROM Dataset ds WHERE ds.id > 0")
               for _, _, q in s.requests if "query" in q)


# --- faults ------------------------------------------------------------------------------------

def test_server_down_mid_run_then_resume(icat, gw, clock, tmp_path):
    trip = Tripwire("SELECT ds FROM", 2, lambda: icat.set_down(True))
    failed = gw.run(harvester(icat, clock, page_size=2, http=trip), batch_size=1)
    assert failed.status == "failed"
    assert "IcatUnavailable" in failed.error and "cannot connect" in failed.error
    assert "after 3 attempts" in failed.error
    ids = sorted(icat.find("Dataset"))
    progress = gw.store.checkpoint("esnf")["harvest"]["pass"]
    assert (progress["kind"], progress["after"]) == ("Dataset", ids[3])  # 2 pages of 2
    assert {k for k in live(gw.store) if ":dataset:" in k} == {f"esnf:dataset:{i}" for i in ids[:4]}

    icat.set_down(False)
    icat.clear_requests()
    resumed = gw.run(harvester(icat, clock, page_size=2), batch_size=1)
    assert resumed.status == "ok", resumed.error
    assert failed.new + resumed.new == 12 and resumed.changed == 0
    searches = [q["query"] for _, _, q in icat.requests if "query" in q]
    assert any(f"ds.id > {ids[3]} " in q for q in searches)
    assert not any("ds.id > 0 " in q and q.startswith("SELECT ds FROM") for q in searches)

    clean_store = Store(tmp_path / "clean.sqlite")
    clean = Runner(clean_store, EmbeddedIndex(tmp_path / "clean-index.sqlite"),
                   clock=clock).run(harvester(icat, clock))
    assert clean.status == "ok"
    assert live(gw.store) == live(clean_store)  # same records, same content
    assert gw.store.checkpoint("esnf")["harvest"] == clean_store.checkpoint("esnf")["harvest"]
    clean_store.close()


def test_server_down_in_the_investigation_pass_then_resume(icat, gw, clean, clock):
    trip = Tripwire("SELECT i FROM", 1, lambda: icat.set_down(True))
    failed = gw.run(harvester(icat, clock, page_size=1, http=trip), batch_size=1)
    assert failed.status == "failed" and "IcatUnavailable" in failed.error
    invs = sorted(icat.find("Investigation"))
    checkpoint = gw.store.checkpoint("esnf")
    progress = checkpoint["harvest"]["pass"]
    assert (progress["kind"], progress["after"], progress["full"]) == ("Investigation", invs[0],
                                                                       True)
    assert set(live(gw.store)) == {f"esnf:document:{invs[0]}"}  # the one durable page
    # this run's id listings, both kinds, committed before the pass
    assert (checkpoint["ids:document:0"]["n"], checkpoint["ids:dataset:0"]["n"]) == (3, 9)

    icat.set_down(False)
    resumed = gw.run(harvester(icat, clock, page_size=1))
    assert resumed.status == "ok", resumed.error
    assert failed.new + resumed.new == 12 and resumed.changed == 0
    assert clean.run(harvester(icat, clock)).status == "ok"
    assert outcome(gw.store) == outcome(clean.store)
    assert gw.store.checkpoint("esnf")["harvest"] == clean.store.checkpoint("esnf")["harvest"]


def _changes(s: IcatStandin, clock: Clock) -> None:
    """Updates of three datasets' parameters, a deleted dataset, a removed investigation user."""
    clock.advance(hours=1)
    for name in ("e208339", "e208341", "e208945"):
        (param, *_) = s.find("DatasetParameter", dataset=one(s, "Dataset", name=name))
        s.update("DatasetParameter", param, numericValue=42.0)
    s.delete("Dataset", one(s, "Dataset", name="e201216"))
    inv = one(s, "Investigation", name="08100122-EF")
    s.delete("InvestigationUser", one(s, "InvestigationUser", investigation=inv,
                                      user=one(s, "User", fullName="Nicolas Bourbaki")))
    clock.advance(hours=1)


def test_server_down_in_an_incremental_pass_then_resume(icat, gw, clean, clock):
    assert gw.run(harvester(icat, clock)).status == clean.run(harvester(icat, clock)).status == "ok"
    before = gw.store.checkpoint("esnf")
    _changes(icat, clock)
    trip = Tripwire("SELECT ds FROM Dataset ds WHERE ds.id IN", 1, lambda: icat.set_down(True))
    failed = gw.run(harvester(icat, clock, page_size=1, http=trip), batch_size=1)
    assert failed.status == "failed" and "IcatUnavailable" in failed.error
    checkpoint = gw.store.checkpoint("esnf")
    progress = checkpoint["harvest"]["pass"]
    assert (progress["kind"], progress["full"], progress["since"]) == (
        "Dataset", False, before["harvest"]["since"])
    # the first page of one: the lowest id to fetch again (the removed investigation user
    # makes its investigations' datasets due, the changed parameters theirs)
    assert progress["after"] == min(icat.find("Dataset"))
    assert failed.deleted == 1  # the reconciliation's tombstone is durable
    assert {k: v for k, v in checkpoint.items() if k.startswith("kids:")} == {
        k: v for k, v in before.items() if k.startswith("kids:")}  # written at the end only

    icat.set_down(False)
    resumed = gw.run(harvester(icat, clock, page_size=1))
    assert resumed.status == "ok", resumed.error
    assert clean.run(harvester(icat, clock)).status == "ok"
    assert outcome(gw.store) == outcome(clean.store)
    mine, theirs = gw.store.checkpoint("esnf"), clean.store.checkpoint("esnf")
    assert {k: v for k, v in mine.items() if not k.startswith("kids:")} == {
        k: v for k, v in theirs.items() if not k.startswith("kids:")}
    # groups the resumed run had passed keep their old digest: fetched again next run
    clock.advance(hours=1)
    assert gw.run(harvester(icat, clock)).status == clean.run(harvester(icat, clock)).status
    assert outcome(gw.store) == outcome(clean.store)
    assert gw.store.checkpoint("esnf") == clean.store.checkpoint("esnf")


@pytest.mark.parametrize("prefix", ["SELECT i.id FROM Investigation",   # id reconciliation
                                    "SELECT i.id, c.id FROM Investigation"])  # child listing
def test_server_down_during_reconciliation_then_resume(icat, gw, clean, clock, prefix):
    assert gw.run(harvester(icat, clock)).status == clean.run(harvester(icat, clock)).status == "ok"
    before = gw.store.checkpoint("esnf")
    _changes(icat, clock)
    trip = Tripwire(prefix, 1, lambda: icat.set_down(True))
    failed = gw.run(harvester(icat, clock, http=trip), batch_size=1)
    assert failed.status == "failed" and "IcatUnavailable" in failed.error
    checkpoint = gw.store.checkpoint("esnf")
    assert checkpoint["harvest"] == before["harvest"]  # no pass started
    assert {k: v for k, v in checkpoint.items() if k.startswith("kids:")} == {
        k: v for k, v in before.items() if k.startswith("kids:")}
    if prefix.startswith("SELECT i.id FROM"):  # the dataset listing never came
        assert checkpoint == before and failed.deleted == 0
    else:  # id reconciliation done: its tombstone and bucket marks together
        assert failed.deleted == 1
        assert checkpoint["ids:dataset:0"]["n"] == before["ids:dataset:0"]["n"] - 1

    icat.set_down(False)
    resumed = gw.run(harvester(icat, clock))
    assert resumed.status == "ok", resumed.error
    assert clean.run(harvester(icat, clock)).status == "ok"
    assert outcome(gw.store) == outcome(clean.store)
    assert gw.store.checkpoint("esnf") == clean.store.checkpoint("esnf")
    doc = gw.store.get(f"esnf:document:{one(icat, 'Investigation', name='08100122-EF')}")
    assert "Nicolas Bourbaki" not in [p.name for p in doc.creators]


def test_session_expiry_mid_run(icat, gw, clock):
    trip = Tripwire("SELECT ds FROM", 1, icat.expire_sessions)
    report = gw.run(harvester(icat, clock, page_size=3, http=trip))
    assert report.status == "ok" and report.new == 12
    logins = [r for r in icat.requests if r[:2] == ("POST", "/icat/session")]
    assert len(logins) == 2


def test_retries_on_5xx_during_a_run(icat, gw, clock):
    delays = []
    icat.fail_next(2, status=503)
    report = gw.run(harvester(icat, clock, sleep=delays.append, backoff=0.25))
    assert report.status == "ok" and report.new == 12
    assert delays == [0.25, 0.5]


def test_malformed_entity_is_reported_and_the_rest_stored(icat, gw, clock):
    bad = icat.create("Dataset", name="   ", complete=False,
                      investigation=one(icat, "Investigation", name="10100601-ST"),
                      type=one(icat, "DatasetType", name="raw"))
    report = gw.run(harvester(icat, clock))
    assert report.status == "ok" and report.new == 12 and report.failed == 1
    (failure,) = report.failures
    assert failure["ref"] == f"esnf:dataset:{bad}"
    assert failure["reason"] == f"ICAT Dataset {bad}: no name"
    assert gw.store.get(f"esnf:dataset:{bad}") is None


def test_page_shrinks_when_max_entities_is_exceeded(clock, gw):
    with IcatStandin(clock=clock, max_entities=40) as s:
        s.load_dump(DUMP)
        s.add_user("db", "reader", PASSWORD, reader_all=True)
        report = gw.run(harvester(s, clock, page_size=50))
        assert report.status == "ok" and report.new == 12
        for entity in ("i", "ds"):  # each kind has its own page size
            limits = [int(m.group(1)) for _, _, q in s.requests if "query" in q for m in [
                re.search(rf"^SELECT {entity} FROM.* LIMIT 0, (\d+)$", q["query"])] if m]
            assert limits[0] == 50 and limits[-1] < 50 and limits == sorted(limits, reverse=True)


# --- sources, credentials, paging --------------------------------------------------------------

def test_two_icat_sources_side_by_side(clock, gw):
    with standin(clock) as a, standin(clock) as b:
        ra = gw.run(harvester(a, clock, "esnf"))
        rb = gw.run(harvester(b, clock, "other", facility_name="Other Facility",
                              facility_ror="https://ror.org/01ggx4157"))
        assert ra.new == rb.new == 12
    inv = next(r for _, r in gw.store.changes_since(0) if r.source == "other")
    assert inv.facility == Facility("Other Facility", "https://ror.org/01ggx4157")
    assert gw.store.get(inv.id.replace("other:", "esnf:", 1)).facility == Facility(
        "ESNF", ESNF_ROR)
    assert gw.store.count(source="esnf") == gw.store.count(source="other") == 12
    assert set(gw.store.checkpoint("esnf")) == set(gw.store.checkpoint("other"))


def test_credentials_appear_nowhere(icat, gw, clock, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ICAT_TEST_PASSWORD", PASSWORD)
    options = {"type": "icat", "url": icat.base_url, "plugin": "db", "username": "reader",
               "password_env": "ICAT_TEST_PASSWORD", "retries": 1}
    h = build_harvester("esnf", options, clock)
    icat.fail_next(1, status=500)  # a retry, logged
    ok = gw.run(h)
    assert ok.status == "ok"
    icat.users[("db", "reader")] = "changed"
    denied = gw.run(h)
    assert denied.status == "failed" and "SESSION" in denied.error
    texts = [caplog.text, json.dumps([ok.to_dict(), denied.to_dict()]),
             json.dumps(gw.store.runs("esnf")), repr(h), repr(h.client()),
             repr(h.client().credentials), repr(Config(sources={"esnf": options})),
             json.dumps(gw.store.checkpoint("esnf"))]
    assert not [t for t in texts if PASSWORD in t]
    assert "password" in repr(h.client().credentials)  # the key is named, not its value


def test_keyset_paging_only(harvested, clock):
    s, gw = harvested.icat, harvested.gw
    clock.advance(hours=1)
    s.update("Dataset", one(s, "Dataset", name="e208339"), description="updated")
    s.clear_requests()
    report = gw.run(harvester(s, clock, page_size=2))
    assert report.changed == 1
    queries = [q["query"] for m, path, q in s.requests if path == "/icat/entityManager"]
    assert queries
    for query in queries:
        assert not re.search(r"LIMIT\s+[1-9]", query), query  # never an offset
        if query.startswith("SELECT MAX("):
            continue
        assert re.search(r" LIMIT 0, \d+$", query), query
        assert re.search(r"\.id > \d+ |\.id IN \(", query), query
    assert any("JOIN ds.parameters c WHERE c.modTime >= '" in q for q in queries)


def test_generated_catalogue_maps_without_failures(clock, gw):
    with IcatStandin(clock=clock) as s:
        counts = s.generate(200)
        s.add_user("db", "reader", PASSWORD, reader_all=True)
        report = gw.run(harvester(s, clock, page_size=37))
    assert report.status == "ok" and report.failed == 0
    assert report.new == counts["Dataset"] + counts["Investigation"]
    records = [r for _, r in gw.store.changes_since(0, limit=10_000)]
    orcids = [p.orcid for r in records for p in r.creators if p.orcid]
    assert orcids and all(o.startswith("https://orcid.org/") for o in orcids)
    assert all(r.techniques for r in records if r.kind == "dataset")
