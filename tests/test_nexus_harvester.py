"""harvesters.nexus against the real sample files in ../shared and tiny files built here."""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import h5py
import numpy as np
import pytest

from harvesters.events import Delete, Failure, Mark, Planned, Unchanged, Upsert
from harvesters.nexus import NexusHarvester
from harvesters.nexus_reader import MAX_VALUE_BYTES, nx_value, read_nexus
from mappings.nexus import MAPPING_VERSION
from mappings.record import to_dict
from mappings.techniques import by_id
from mappings.validation import validate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "nexus"
ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
UTC = timezone.utc


def harvester(root: Path, **kw) -> NexusHarvester:
    options = dict(facility_name="Test facility", tz=ZURICH, clock=lambda: NOW)
    return NexusHarvester("test", root, **{**options, **kw})


def run(h: NexusHarvester, checkpoint: dict | None = None) -> tuple[list, dict]:
    """All events of one harvest, and the checkpoint after applying its marks."""
    checkpoint = dict(checkpoint or {})
    files = {rel for rel, _ in h.files()}
    planned, *events = list(h.harvest(checkpoint))
    assert planned == Planned(len(files) + len(set(checkpoint) - files))
    for e in events:
        if isinstance(e, Mark):
            if e.value is None:
                checkpoint.pop(e.key, None)
            else:
                checkpoint[e.key] = e.value
    return events, checkpoint


def upserts(events: list) -> dict:
    return {e.record.id: e.record for e in events if isinstance(e, Upsert)}


def kinds(events: list) -> list[str]:
    return [type(e).__name__ for e in events]


# --- the shared real files -------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared():
    assert SHARED.is_dir(), f"sample files expected in {SHARED}"
    events, checkpoint = run(harvester(SHARED))
    return events, checkpoint, upserts(events)


def test_every_shared_file_yields_records_or_a_failure(shared):
    events, checkpoint, records = shared
    files = sorted(p.relative_to(SHARED).as_posix() for p in SHARED.rglob("*") if p.is_file())
    failures = {e.ref: e.reason for e in events if isinstance(e, Failure)}
    assert all(reason for reason in failures.values())
    assert set(checkpoint) | set(failures) == set(files)
    for rel in checkpoint:
        assert checkpoint[rel]["ids"], rel
    for r in records.values():
        validate(r)
    refs = [e.key if isinstance(e, Mark) else e.ref for e in events
            if isinstance(e, (Mark, Failure))]
    assert refs == sorted(refs)  # deterministic order


def rec(records: dict, relpath: str, entry: str):
    return records[f"test:dataset:{relpath}/{entry}"]


def iris(r) -> list[str]:
    return [t.iri for t in r.techniques]


def test_psi_sinq_sans(shared):
    r = rec(shared[2], "PSI-SINQ/sans2009n012333.hdf", "entry1")
    assert r.title == "High pressure experiments on vesicles"
    assert r.dates.collected_start == datetime(2009, 9, 13, 20, 55, 37, tzinfo=ZURICH)
    assert r.dates.collected_end == datetime(2009, 9, 13, 20, 58, 20, tzinfo=ZURICH)
    assert r.instrument.name == "SANS at SINQ"
    assert by_id("PaNET00101") in r.techniques  # neutron probe, from the source type
    assert [s.name for s in r.samples] == ["11/50 22PC0.3%_heatingupto70C_800bar"]
    assert r.facility.name == "Test facility"
    text = json.dumps(to_dict(r))
    assert "owner" not in text and "unknown" not in text.lower()


def test_ipns_two_entries_with_compact_offsets(shared):
    records = shared[2]
    h1 = rec(records, "IPNS/lrcs3701.nx5", "Histogram1")
    h2 = rec(records, "IPNS/lrcs3701.nx5", "Histogram2")
    assert shared[1]["IPNS/lrcs3701.nx5"]["ids"] == [h1.id, h2.id]
    for r in (h1, h2):
        assert r.instrument.name == "LRMECS"
        assert r.dates.collected_start == datetime(2001, 2, 7, 14, 54, 21, tzinfo=UTC)
        assert r.dates.collected_end == datetime(2001, 2, 9, 20, 12, 53, tzinfo=UTC)
        assert r.title == "MgB2 PDOS 43.37g 8K 120meV E0@240Hz T0@120Hz"
        assert iris(r) == [by_id("PaNET00101").iri]
        assert {p.name: (p.value, p.unit) for p in r.parameters}["incident_energy"] == (
            130.0, "meV")


def test_aps_nxsas(shared):
    r = rec(shared[2], "APS/AgBehenate_228.hdf5", "entry")
    assert iris(r) == [by_id("PaNET01188").iri, by_id("PaNET00100").iri]  # SAXS, photon probe
    assert [s.name for s in r.samples] == ["Glassy carbon C6 fixed"]
    assert [p.name for p in r.creators] == ["Dale Schaefer"]
    assert [(i.type, i.value) for i in r.identifiers] == [("proposal", "GUP26110")]
    assert r.dates.collected_start is None and r.dates.collected_end is None
    assert r.dates.created == datetime(2011, 10, 23, 20, 28, 20, tzinfo=UTC)
    params = {p.name: (p.value, p.unit) for p in r.parameters}
    assert params["incident_photon_energy"] == (pytest.approx(16.90014329), "keV")
    assert params["incident_wavelength"] == (pytest.approx(0.73362836), "A")
    assert params["run_cycle"] == ("2011-10", None)
    assert r.keywords == ("NXsas",)


def test_dls_nxmx_short_name_and_naive_time(shared):
    r = rec(shared[2], "DLS/Therm_6_2.nxs", "entry")
    assert r.instrument.name == "I04"
    assert r.dates.collected_start == datetime(2019, 2, 14, 14, 25, 57, tzinfo=ZURICH)
    assert iris(r) == [by_id("PaNET01164").iri, by_id("PaNET00100").iri]
    assert r.title == "Therm_6_2 entry"
    assert {p.name: p.value for p in r.parameters}["source_name"] == "Diamond Light Source"


def test_sls_user_block_stxm(shared):
    raw = (SHARED / "SLS/Focus_2021-03-16_051.hdf5").read_bytes()[:8]
    assert raw != b"\x89HDF\r\n\x1a\n"  # a user block precedes the superblock
    r = rec(shared[2], "SLS/Focus_2021-03-16_051.hdf5", "entry1")
    assert r.title == "Focus"
    assert r.dates.collected_start == datetime(2021, 3, 16, 11, 42, 7, tzinfo=UTC)
    assert r.dates.collected_end == datetime(2021, 3, 16, 11, 42, 22, tzinfo=UTC)
    assert iris(r) == [by_id("PaNET01219").iri, by_id("PaNET00100").iri]


def test_p45_placeholders_and_external_links(shared):
    r = rec(shared[2], "DLS/p45-1168.nxs", "entry")
    assert r.samples == () and r.creators == ()
    assert r.dates.collected_start is None and r.title == "p45-1168 entry"


def test_nxtomo_placeholders(shared):
    r = rec(shared[2], "autogenerated/NXtomo.hdf5", "entry")
    assert r.title == "NXtomo entry"  # title, sample name: SAMPLE-CHAR-DATA
    assert r.samples == ()
    assert iris(r) == [by_id("PaNET01129").iri, by_id("PaNET00101").iri]  # probe: neutron
    assert "SAMPLE-CHAR-DATA" not in json.dumps(to_dict(r))
    assert r.dates.collected_start == datetime(2021, 3, 29, 15, 51, 44, 650319, tzinfo=ZURICH)


def test_shared_files_read_few_bytes():
    for path in SHARED.rglob("*"):
        if path.is_file():
            assert read_nexus(path).bytes_read < 4096, path


# --- files built here --------------------------------------------------------------------------

def write_bliss(path: Path, scans: dict[str, dict] | None = None) -> Path:
    """A Bliss-layout file (reference §1 and §4): entries 1.1, 2.1, ..."""
    scans = scans if scans is not None else {"1.1": {}, "2.1": {"technique": "XRF"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs.update({"NX_class": "NXroot", "creator": "Bliss", "file_time":
                        "2024-03-01T10:59:00+01:00", "default": "1.1"})
        for name, opts in scans.items():
            e = f.create_group(name)
            e.attrs["NX_class"] = "NXentry"
            e["title"] = opts.get("title", f"ascan samy 0 9 9 0.1 ({name})")
            e["start_time"] = "2024-03-01T11:00:00+01:00"
            e["end_time"] = "2024-03-01T11:05:00+01:00"
            technique = opts.get("technique", "XAS")
            e["identifier_technique_1"] = f"https://w3id.org/PaN/ESRFET#{technique}"
            e["identifier_technique_1"].attrs["type"] = "W3ID"
            inst = e.create_group("instrument")
            inst.attrs["NX_class"] = "NXinstrument"
            inst["name"] = "ID21"
            pos = inst.create_group("positioners")
            pos.attrs["NX_class"] = "NXcollection"
            for motor, value, units in (("samy", 1.25, "mm"), ("srot", 90.0, "deg")):
                pos[motor] = value
                pos[motor].attrs["units"] = units
            pos["scanned"] = np.arange(100.0)  # a scanned motor: an array, not a snapshot
            mono = inst.create_group("monochromator")
            mono.attrs["NX_class"] = "NXmonochromator"
            mono["energy"] = 7.112
            mono["energy"].attrs["units"] = "keV"
            sample = e.create_group("sample")
            sample.attrs["NX_class"] = "NXsample"
            sample["name"] = "hematite"
            sample["chemical_formula"] = "Fe2O3"
            user = e.create_group("user01")
            user.attrs["NX_class"] = "NXuser"
            for key, value in (("name", "Anna Müller"), ("ORCID", "0000-0002-1825-0097"),
                               ("affiliation", "TU München"), ("role", "principal investigator"),
                               ("email", "a.mueller@example.org"), ("telephone_number", "+49 89"),
                               ("facility_user_id", "amueller")):
                user[key] = value
            meas = e.create_group("measurement")
            meas.attrs["NX_class"] = "NXcollection"
            meas["samy"] = h5py.SoftLink(f"/{name}/instrument/positioners/scanned")
            meas["lima"] = h5py.ExternalLink("scan0001/lima_0000.h5", "/entry_0000/data")
            meas["gone"] = h5py.SoftLink("/nowhere")
            xas = e.create_group("xas")
            xas.attrs["NX_class"] = "NXsubentry"
            xas.attrs["definition"] = "NXxas"
    return path


def test_bliss_multi_entry_file(tmp_path):
    write_bliss(tmp_path / "visitor/ma5432/id21/s/s_0001/s_0001.h5")
    (tmp_path / "notes.txt").write_text("not matched by the patterns")
    events, checkpoint = run(harvester(tmp_path, embargo_days=1095))
    assert kinds(events) == ["Upsert", "Upsert", "Mark"]
    records = upserts(events)
    base = "test:dataset:visitor/ma5432/id21/s/s_0001/s_0001.h5"
    assert list(records) == [f"{base}/1.1", f"{base}/2.1"]
    one, two = records.values()
    assert one.title == "s_0001 scan 1.1: ascan samy 0 9 9 0.1 (1.1)"
    assert one.instrument.name == "ID21"
    assert iris(one) == [by_id("PaNET01196").iri]  # XAS; the file names no source or probe
    assert iris(two) == [by_id("PaNET01177").iri, by_id("PaNET01196").iri]  # XRF; xas subentry
    assert [(s.name, s.chemical_formula) for s in one.samples] == [("hematite", "Fe2O3")]
    params = {p.name: (p.value, p.unit) for p in one.parameters}
    assert params["positioner_samy"] == (1.25, "mm") and params["positioner_srot"] == (90.0, "deg")
    assert "positioner_scanned" not in params
    assert params["incident_energy"] == (7.112, "keV")  # no probe known: not "photon"
    person = one.creators[0]
    assert (person.name, person.orcid, person.affiliation.name) == (
        "Anna Müller", "https://orcid.org/0000-0002-1825-0097", "TU München")
    assert [i.value for i in one.identifiers] == ["ma5432"]
    assert one.dates.release_date == datetime(2024, 3, 1, 10, 5, tzinfo=UTC) + timedelta(1095)
    for r in records.values():
        text = json.dumps(to_dict(r), ensure_ascii=False)
        assert "example.org" not in text and "+49" not in text and "amueller" not in text
    assert one.keywords == ("NXxas",)


def test_nx_class_as_array_or_bytes_and_unclassed_bliss_scan(tmp_path):
    path = tmp_path / "gda.nxs"
    with h5py.File(path, "w") as f:
        e = f.create_group("entry1")
        e.attrs["NX_class"] = np.array([b"NXentry"])
        e["title"] = np.array([b"GDA scan"])
        e["definition"] = np.array([b"NXmx"])
        e["experiment_identifier"] = "DEFAULT"
        s = e.create_group("sample")
        s.attrs["NX_class"] = np.bytes_(b"NXsample")
        s["name"] = b"Default Sample"
        s["temperature"] = np.array([100.0])
        s["temperature"].attrs["units"] = b"K"
        f.create_group("2.1")["title"] = "unclassed Bliss scan"
        f.create_group("notes").attrs["NX_class"] = "NXcollection"
        f["link"] = h5py.SoftLink("/entry1")  # a renamed link to an entry: not a second record
        f["hard"] = f["entry1"]  # a second hard link to the same group: not a second record
    events, _ = run(harvester(tmp_path))
    records = upserts(events)
    assert sorted(r.title for r in records.values()) == ["GDA scan", "unclassed Bliss scan"]
    gda = records["test:dataset:gda.nxs/entry1"]
    assert gda.samples == () and gda.identifiers == ()
    assert iris(gda) == [by_id("PaNET01164").iri]
    assert {p.name: (p.value, p.unit) for p in gda.parameters}["sample_temperature"] == (100.0, "K")


def test_latin1_units_and_user_block(tmp_path):
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w", userblock_size=4096) as f:
        e = f.create_group("entry")
        e.attrs["NX_class"] = "NXentry"
        e["title"] = np.bytes_("Müller".encode("latin-1"))
        pos = e.create_group("instrument").create_group("positioners")
        pos["tilt"] = 0.5
        pos["tilt"].attrs["units"] = np.bytes_(b"\xb5rad")
    with open(path, "r+b") as fh:
        fh.write(b"\x89HMP user block")
    assert nx_value(np.bytes_(b"\xb5rad")) == "µrad"
    [r] = upserts(run(harvester(tmp_path))[0]).values()
    assert r.title == "Müller"
    assert {p.name: p.unit for p in r.parameters} == {"positioner_tilt": "µrad"}


def test_corrupt_truncated_and_non_hdf5_files_fail_without_stopping_the_run(tmp_path):
    write_bliss(tmp_path / "a_good.h5")
    (tmp_path / "b_text.h5").write_text("this is not HDF5")
    good = (tmp_path / "a_good.h5").read_bytes()
    (tmp_path / "c_truncated.h5").write_bytes(good[: len(good) // 3])
    (tmp_path / "d_empty.nxs").write_bytes(b"")
    broken = bytearray(good)
    broken[96:4096] = b"\xff" * (4096 - 96)  # superblock intact, object headers destroyed
    (tmp_path / "e_scrambled.h5").write_bytes(bytes(broken))
    write_bliss(tmp_path / "f_good.h5")
    events, checkpoint = run(harvester(tmp_path))
    failures = {e.ref: e.reason for e in events if isinstance(e, Failure)}
    assert failures["b_text.h5"] == "not an HDF5 file"
    assert failures["d_empty.nxs"] == "not an HDF5 file"
    assert failures["c_truncated.h5"].startswith("cannot open HDF5 file")
    assert failures["e_scrambled.h5"]  # damaged object headers: a reason, not a crash
    assert {"a_good.h5", "f_good.h5"} <= set(checkpoint)
    assert not set(failures) & set(checkpoint)  # no mark for a failure: retried next run


def test_big_datasets_are_never_read(tmp_path):
    path = tmp_path / "big.h5"
    missing = tmp_path / "raw.bin"
    with h5py.File(path, "w") as f:
        e = f.create_group("1.1")
        e.attrs["NX_class"] = "NXentry"
        # 80 MB of float64 that exist only as fill values: reading them would allocate 80 MB
        e.create_dataset("title", shape=(10_000, 1_000), dtype="f8", chunks=(100, 1000))
        inst = e.create_group("instrument")
        inst.attrs["NX_class"] = "NXinstrument"
        inst["name"] = "ID11"
        pos = inst.create_group("positioners")
        # raw data in an external file that does not exist: any read raises
        pos.create_dataset("huge", shape=(10_000, 1_000), dtype="f8",
                           external=[(str(missing), 0, 80_000_000)])
        pos.create_dataset("wide", shape=(MAX_VALUE_BYTES // 8 + 1,), dtype="f8")
        # a fixed-length string over the bound (variable-length strings cannot be sized before
        # they are read: they are counted after, see nexus_reader)
        e["experiment_description"] = np.bytes_(b"x" * (MAX_VALUE_BYTES + 1))
    with h5py.File(path, "r") as f, pytest.raises(OSError):
        f["1.1/instrument/positioners/huge"][0, 0]  # the trap is real
    result = read_nexus(path, max_bytes=1_000_000)
    assert result.bytes_read < 1024
    [entry] = result.entries
    assert "title" not in entry and entry["positioners"] == {}
    assert "experiment_description" not in entry
    events, _ = run(harvester(tmp_path))
    assert kinds(events) == ["Upsert", "Mark"]
    assert events[0].record.title == "big 1.1"


def test_byte_budget_stops_reading(tmp_path):
    write_bliss(tmp_path / "f.h5", {"1.1": {"title": "t" * 500}})
    full = read_nexus(tmp_path / "f.h5")
    assert full.entries[0]["sample"]["name"] == "hematite"
    tight = read_nexus(tmp_path / "f.h5", max_bytes=100)
    # the variable-length title (sized only once read) overdraws the budget: nothing after it
    # is read, and the record is still made from what was read
    assert 100 < tight.bytes_read < full.bytes_read
    [entry] = tight.entries
    assert entry["title"] == "t" * 500
    assert entry["sample"]["name"] is None and entry["positioners"] == {} and entry["users"] == [{}]
    events, _ = run(harvester(tmp_path, max_bytes_per_file=100))
    assert kinds(events) == ["Upsert", "Mark"] and events[0].record.samples == ()


# --- incremental behaviour ------------------------------------------------------------------

def touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_incremental_harvests(tmp_path):
    for name in ("a.h5", "b.h5", "c.h5"):
        write_bliss(tmp_path / name)
    h = harvester(tmp_path)
    events, checkpoint = run(h)
    assert kinds(events).count("Upsert") == 6 and sorted(checkpoint) == ["a.h5", "b.h5", "c.h5"]
    assert checkpoint["a.h5"]["size"] == (tmp_path / "a.h5").stat().st_size
    assert checkpoint["a.h5"]["mtime_ns"] == (tmp_path / "a.h5").stat().st_mtime_ns

    again, same = run(h, checkpoint)  # nothing changed: nothing read
    assert again == [Unchanged("a.h5", 2), Unchanged("b.h5", 2), Unchanged("c.h5", 2)]
    assert same == checkpoint

    touch_later(tmp_path / "b.h5")  # only b is read again
    events, checkpoint = run(h, checkpoint)
    assert kinds(events) == ["Unchanged", "Upsert", "Upsert", "Mark", "Unchanged"]
    assert all(e.record.id.startswith("test:dataset:b.h5/")
               for e in events if isinstance(e, Upsert))

    write_bliss(tmp_path / "c.h5", {"1.1": {}})  # entry 2.1 removed from c
    touch_later(tmp_path / "c.h5")
    events, checkpoint = run(h, checkpoint)
    assert events[-3:] == [Upsert(events[-3].record), Delete("test:dataset:c.h5/2.1"),
                           Mark("c.h5", checkpoint["c.h5"])]
    assert checkpoint["c.h5"]["ids"] == ["test:dataset:c.h5/1.1"]

    (tmp_path / "a.h5").unlink()  # a vanished: its records are deleted
    events, checkpoint = run(h, checkpoint)
    assert events == [Unchanged("b.h5", 2), Unchanged("c.h5", 1),
                      Delete("test:dataset:a.h5/1.1"), Delete("test:dataset:a.h5/2.1"),
                      Mark("a.h5", None)]
    assert sorted(checkpoint) == ["b.h5", "c.h5"]


def test_a_file_that_turns_bad_keeps_its_records_and_is_retried(tmp_path):
    write_bliss(tmp_path / "a.h5")
    h = harvester(tmp_path)
    _, checkpoint = run(h)
    (tmp_path / "a.h5").write_bytes(b"garbage")
    events, after = run(h, checkpoint)
    assert events == [Failure("a.h5", "not an HDF5 file")]  # no Delete, no Mark
    assert after == checkpoint
    write_bliss(tmp_path / "a.h5")
    touch_later(tmp_path / "a.h5")
    events, after = run(h, checkpoint)
    assert kinds(events) == ["Upsert", "Upsert", "Mark"]


def test_unreadable_file_is_a_failure(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    write_bliss(tmp_path / "a.h5").chmod(0)
    events, _ = run(harvester(tmp_path))
    assert events == [Failure("a.h5", "permission denied")]


def test_clock_and_options(tmp_path):
    write_bliss(tmp_path / "a.h5", {"1.1": {}})
    [r] = upserts(run(harvester(tmp_path))[0]).values()
    assert r.provenance.harvested_at == NOW and r.provenance.source == "test"
    with pytest.raises(ValueError):
        NexusHarvester("Bad Name", tmp_path)
    with pytest.raises(ValueError):
        harvester(tmp_path, embargo_days=-1)


def test_default_probe_and_same_records_wherever_the_tree_lives(tmp_path, shared):
    write_bliss(tmp_path / "bliss/a.h5", {"1.1": {}})
    [r] = upserts(run(harvester(tmp_path / "bliss", default_probe="x-ray"))[0]).values()
    assert iris(r) == [by_id("PaNET01196").iri, by_id("PaNET00100").iri]
    shutil.copytree(SHARED, tmp_path / "copy")
    records = upserts(run(harvester(tmp_path / "copy"))[0])
    assert set(records) == set(shared[2])
    for rid, r in records.items():
        assert (r.title, r.techniques, r.dates) == (
            shared[2][rid].title, shared[2][rid].techniques, shared[2][rid].dates)


def test_missing_root_raises_instead_of_deleting_everything(tmp_path):
    write_bliss(tmp_path / "data/a.h5")
    h = harvester(tmp_path / "data")
    _, checkpoint = run(h)
    shutil.rmtree(tmp_path / "data")
    with pytest.raises(FileNotFoundError):
        run(h, checkpoint)


def test_directories_matching_a_pattern_are_not_files(tmp_path):
    write_bliss(tmp_path / "a.h5")
    write_bliss(tmp_path / "b.h5", {"1.1": {}})
    h = harvester(tmp_path)
    _, checkpoint = run(h)
    (tmp_path / "a.h5").unlink()
    (tmp_path / "a.h5").mkdir()  # a file replaced by a directory of the same name
    events, checkpoint = run(h, checkpoint)
    assert kinds(events) == ["Unchanged", "Delete", "Delete", "Mark"]
    assert list(checkpoint) == ["b.h5"]


def test_any_exception_becomes_a_failure(tmp_path, monkeypatch):
    import harvesters.nexus as module

    write_bliss(tmp_path / "a.h5", {"1.1": {}})
    write_bliss(tmp_path / "b.h5", {"1.1": {}})

    def invalid(entry, relpath, ctx):
        raise ValueError("mapping bug")

    monkeypatch.setattr(module, "entry_to_record", invalid)
    events, _ = run(harvester(tmp_path))
    assert events == [Failure("a.h5", "unreadable: ValueError: mapping bug"),
                      Failure("b.h5", "unreadable: ValueError: mapping bug")]

    def broken(path, max_bytes, info):
        raise RuntimeError("boom") if path.name == "a.h5" else AssertionError()

    monkeypatch.setattr(module, "read_nexus", broken)
    events, _ = run(harvester(tmp_path))
    assert events == [Failure("a.h5", "unreadable: RuntimeError: boom"),
                      Failure("b.h5", "unreadable: AssertionError: AssertionError")]


def test_a_new_mapping_version_reads_unchanged_files_again(tmp_path):
    write_bliss(tmp_path / "a.h5", {"1.1": {}})
    h = harvester(tmp_path)
    _, checkpoint = run(h)
    assert checkpoint["a.h5"]["mapping"] == MAPPING_VERSION
    older = {"a.h5": {**checkpoint["a.h5"], "mapping": MAPPING_VERSION - 1}}
    assert kinds(run(h, older)[0]) == ["Upsert", "Mark"]
    legacy = {"a.h5": {k: v for k, v in checkpoint["a.h5"].items() if k != "mapping"}}
    assert kinds(run(h, legacy)[0]) == ["Upsert", "Mark"]


def test_an_empty_root_does_not_delete_what_was_harvested(tmp_path):
    root = tmp_path / "mnt"
    write_bliss(root / "a.h5", {"1.1": {}})
    h = harvester(root)
    _, checkpoint = run(h)
    (root / "a.h5").unlink()  # the mount point is there, the disk is not
    with pytest.raises(FileNotFoundError, match="refusing to delete"):
        list(h.harvest(checkpoint))
