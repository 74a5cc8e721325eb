"""The demo facility generator: determinism, coverage, embargo mix and the Bliss/NeXus layout."""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import h5py
import pytest

from gateway.demo import (EMBARGO_DAYS, ESRFET_BASE, ESRFET_TO_PANET, DemoSummary,
                          orcid_check_digit, write_bliss_files, write_demo_facility)
from mappings.validation import orcid_checksum_ok

NOW = datetime(2026, 11, 23, tzinfo=timezone(timedelta(hours=1)))
PATH_RE = re.compile(r"^(?:visitor/(?P<vp>[a-z]+\d+)/(?P<vb>[a-z0-9-]+)"
                     r"|(?P<ib>[a-z0-9-]+)/inhouse/(?P<ip>[a-z]+\d+)/(?P=ib))"
                     r"/(?P<c>[A-Za-z0-9_]+)/(?P=c)_(?P<d>\d{4})/(?P=c)_(?P=d)\.h5$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, DemoSummary]:
    root = tmp_path_factory.mktemp("demo")
    return root, write_demo_facility(root)


def text(ds: h5py.Dataset) -> str:
    return ds.asstr()[()]


def read_back(root: Path) -> list[tuple]:
    """Per entry, what a harvester would read: (relpath, entry, title, start, end, beamline)."""
    rows = []
    for path in sorted(root.rglob("*.h5")):
        with h5py.File(path, "r") as f:
            for name, entry in f.items():
                rows.append((path.relative_to(root).as_posix(), name, text(entry["title"]),
                             text(entry["start_time"]), text(entry["end_time"]),
                             text(entry["instrument/name"])))
    return rows


def test_counts_and_coverage(demo):
    root, s = demo
    assert s.entries == len(s.entry_rows) >= 360
    assert s.files == len(s.paths) == len(set(s.paths)) == len(list(root.rglob("*.h5")))
    assert len(s.beamlines) >= 6 and len(s.proposals) >= 15
    assert {"ID11", "ID13", "ID16A", "BM23", "ID02", "ID19", "ID21", "ID23-1"} == set(s.beamlines)
    assert len({r.sample_name for r in s.entry_rows}) >= 20
    assert {t for r in s.entry_rows for t in r.techniques} == set(ESRFET_TO_PANET)


def test_layout_paths(demo):
    _, s = demo
    assert "visitor/ma5432/id11/CeO2_calib/CeO2_calib_0001/CeO2_calib_0001.h5" in s.paths
    for row in s.entry_rows:
        m = PATH_RE.match(row.relpath)
        assert m, row.relpath
        assert (m["ip"] or m["vp"]) == row.proposal
        assert (m["ib"] or m["vb"]) == row.beamline.lower()
        assert bool(m["ib"]) == row.inhouse
    inhouse = {r.relpath for r in s.entry_rows if r.inhouse}
    assert 0 < len(inhouse) < s.files / 3


def test_deterministic(demo, tmp_path):
    root, s = demo
    again = write_demo_facility(tmp_path)
    assert again == s
    assert read_back(tmp_path) == read_back(root)
    for rel in s.paths:  # same bytes, not only the same metadata
        assert hashlib.sha256((tmp_path / rel).read_bytes()).digest() == \
            hashlib.sha256((root / rel).read_bytes()).digest(), rel


def test_read_back_matches_summary(demo):
    root, s = demo
    expected = sorted((r.relpath, r.entry, r.title, r.start_time, r.end_time, r.beamline)
                      for r in s.entry_rows)
    assert read_back(root) == expected


def test_embargo_fraction(demo):
    _, s = demo
    embargoed = s.embargoed(NOW)
    assert 0.2 <= len(embargoed) / s.entries <= 0.6
    brute = [r for r in s.entry_rows
             if datetime.fromisoformat(r.end_time) + timedelta(days=EMBARGO_DAYS) > NOW]
    assert list(embargoed) == brute


def test_times(demo):
    _, s = demo
    for r in s.entry_rows:
        start, end = datetime.fromisoformat(r.start_time), datetime.fromisoformat(r.end_time)
        assert r.start_time[-6:] in ("+01:00", "+02:00")
        summer = start.utcoffset() == timedelta(hours=2)
        assert summer == (4 <= start.month <= 9) or start.month in (3, 10)  # DST around the edges
        assert datetime(2019, 1, 1, tzinfo=timezone.utc) <= start < end
        assert end < datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert len({r.start_time[:4] for r in s.entry_rows}) == 8  # 2019 … 2026


def test_nexus_layout(demo):
    root, s = demo
    rows = {(r.relpath, r.entry): r for r in s.entry_rows}
    for rel in s.paths:
        assert h5py.is_hdf5(root / rel)
        with h5py.File(root / rel, "r") as f:
            a = f.attrs
            assert (a["NX_class"], a["creator"]) == ("NXroot", "Bliss")
            assert a["creator_version"] and a["file_name"] == "/data/" + rel
            assert datetime.fromisoformat(a["file_time"]) <= datetime.fromisoformat(text(f["1.1/start_time"]))
            assert a["default"] in f
            assert all(re.fullmatch(r"\d\.[12]", name) for name in f)
            for name, entry in f.items():
                check_entry(entry, rows.pop((rel, name)))
    assert not rows  # every summary row was found in a file


def check_entry(entry: h5py.Group, row) -> None:
    assert entry.attrs["NX_class"] == "NXentry"
    ids = sorted(k for k in entry if k.startswith("identifier_technique_"))
    assert [text(entry[k]) for k in ids] == [ESRFET_BASE + t for t in row.techniques]
    assert all(entry[k].attrs["type"] == "W3ID" for k in ids)
    assert (text(entry["definition"]) if "definition" in entry else None) == row.definition
    inst = entry["instrument"]
    assert inst.attrs["NX_class"] == "NXinstrument"
    assert text(inst["name"]) == inst["name"].attrs["short_name"] == row.beamline
    assert [text(inst["source"][k]) for k in ("name", "type", "probe")] == \
        ["ESRF", "Synchrotron X-ray Source", "x-ray"]
    pos = inst["positioners"]
    assert pos.attrs["NX_class"] == "NXcollection" and len(pos) >= 3
    assert all(ds.attrs["units"] in ("mm", "deg") and ds.shape == () for ds in pos.values())
    if row.energy_kev is None:
        assert "monochromator" not in inst
    else:
        assert inst["monochromator/energy"][()] == row.energy_kev
        assert inst["monochromator/energy"].attrs["units"] == "keV"
    meas = entry["measurement"]
    assert meas.attrs["NX_class"] == "NXcollection"
    assert all(ds.size <= 100 for ds in meas.values() if ds.ndim == 1)
    sample = entry["sample"]
    assert sample.attrs["NX_class"] == "NXsample" and text(sample["name"]) == row.sample_name
    assert (text(sample["chemical_formula"]) if "chemical_formula" in sample else None) == row.chemical_formula
    if "temperature" in sample:
        assert sample["temperature"].attrs["units"] == "K"
    if "plotselect" in entry:
        assert entry.attrs["default"] == "plotselect"
        assert entry["plotselect"].attrs["signal"] in entry["plotselect"]
    users = [g for g in entry.values() if g.attrs.get("NX_class") == "NXuser"]
    assert [(text(g["name"]), text(g["email"]), text(g["role"])) for g in users] == \
        [(u.name, u.email, u.role) for u in row.users]


def test_variety(demo):
    _, s = demo
    rows = s.entry_rows
    n = len(rows)
    assert sum(bool(r.techniques) for r in rows) > n / 2  # "mostly"
    assert 0 < sum(bool(r.definition) for r in rows) < n / 2
    assert 0 < sum(bool(r.users) for r in rows) < n / 2
    assert any(r.entry.endswith(".2") for r in rows)
    assert any(not r.techniques and r.definition for r in rows)  # fallback case
    assert any(any(ord(c) > 127 for c in r.title) for r in rows)
    assert any(any(ord(c) > 127 for c in r.sample_description or "") for r in rows)
    formulas = {r.chemical_formula for r in rows}
    assert {"CeO2", "Fe2O3", "SiO2", "C6H12O6"} <= formulas and len(formulas) >= 12
    assert any(r.chemical_formula is None for r in rows)
    assert all(re.match(r"^(ct|loopscan|timescan|[ad]scan|amesh|fscan) ", r.title)
               for r in rows if r.title.isascii())


def test_users_orcid_and_email(demo):
    _, s = demo
    users = {u for r in s.entry_rows for u in r.users}
    assert len(users) >= 5
    assert all(u.email.endswith("@example.org") for u in users)
    orcids = [u.orcid for u in users if u.orcid]
    assert orcids and all(orcid_checksum_ok(o) for o in orcids)
    assert orcid_check_digit("000000021825009") == "7"
    assert orcid_check_digit("000000029079593") == "X"


def test_large_detector_data(demo):
    root, s = demo
    assert 0 < len(s.large_files) <= s.files * 0.15
    for rel in s.large_files:
        with h5py.File(root / rel, "r") as f:
            big = [ds for ds in f["1.1/measurement"].values() if ds.ndim == 3]
            assert len(big) == 1 and big[0].nbytes >= 1_000_000
            detectors = [g for g in f["1.1/instrument"].values()
                         if g.attrs.get("NX_class") == "NXdetector"]
            assert [g["data"] for g in detectors] == big  # one dataset, linked from measurement
    small = [rel for rel in s.paths if rel not in s.large_files]
    assert max((root / rel).stat().st_size for rel in small) < 200_000


def test_write_bliss_files(tmp_path):
    paths = write_bliss_files(tmp_path / "a", 12, seed=7)
    assert len(paths) == 12 and all(p.is_file() and h5py.is_hdf5(p) for p in paths)
    first = write_bliss_files(tmp_path / "b", 5, seed=7)
    assert [p.relative_to(tmp_path / "b") for p in first] == \
        [p.relative_to(tmp_path / "a") for p in paths[:5]]
    other = write_bliss_files(tmp_path / "c", 5, seed=8)
    assert [p.name for p in other] != [p.name for p in first]


@pytest.mark.parametrize("today", [date(2026, 11, 23), date(2029, 12, 1), date(2041, 5, 5)])
def test_the_demo_keeps_a_share_under_embargo_as_it_ages(tmp_path, today):
    from gateway.demo import demo_embargo_days, write_demo_facility
    summary = write_demo_facility(tmp_path, scans=300)
    now = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc)
    fraction = len(summary.embargoed(now, demo_embargo_days(today))) / summary.entries
    assert 0.2 <= fraction <= 0.6
