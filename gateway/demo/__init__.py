"""A deterministic demo ESRF-like facility: Bliss-layout NeXus/HDF5 files written with h5py.

`write_demo_facility(root)` writes a few hundred scans over 8 beamlines, 28 proposals (24
visitor, 4 in-house) and the years 2019-2026, and returns a `DemoSummary` from which tests
compute expectations by brute force. `write_bliss_files(root, n)` writes exactly `n` files of
the same mix (benchmarks). Both draw files, in order, from one generator (`plan.plan_files`):
the first `n` files of a seed are always the same, whatever is asked for after them.
`demo_config`/`ensure_facility` keep such a facility under DATA_DIR/demo/facility for
`fairgate demo` and add it as the NeXus source `esrf-demo` (`SOURCE`).

Everything comes from `random.Random(seed)`; there is no wall clock. The same inputs give
byte-identical files on one machine (the root directory is not written into them:
`@file_name` is the facility path `/data/<relpath>`; `@HDF5_Version`/`@h5py_version` are the
installed ones).

Layout (ESRF data policy, Bliss 2021 convention, see shared/reference/nexus.md §1):

    visitor/<proposal>/<bl>/<collection>/<collection>_<NNNN>/<collection>_<NNNN>.h5
    <bl>/inhouse/<proposal>/<bl>/<collection>/<collection>_<NNNN>/<collection>_<NNNN>.h5

`<bl>` is the beamline name in lower case (`id11`, `id23-1`). The proposal is only in the path.
Per file: NXroot attributes `NX_class, creator="Bliss", creator_version, file_name, file_time,
HDF5_Version, h5py_version, default`; 1-4 NXentry groups `1.1`, `2.1`, ... (sometimes a subscan
`N.2`). Per entry: `title`, `start_time`, `end_time` (ISO 8601, +01:00/+02:00 Europe/Paris),
`definition` (sometimes, an application definition such as NXsas), `identifier_technique_<i>`
(`https://w3id.org/PaN/ESRFET#<name>`, `@type="W3ID"`), `instrument` (NXinstrument: `name` with
`@short_name`, `positioners` NXcollection, `monochromator/energy` [keV] sometimes, `source`),
`measurement` (NXcollection, <= 100 points per array), `sample` (NXsample), optional
`plotselect` (NXdata, entry `@default`), `notes` (NXnote, `note_00`...), `user01`... (NXuser with
`name, ORCID, affiliation, role, email`, sometimes `facility_user_id`, `telephone_number`).
About 5 % of files hold a 1 MiB detector dataset `instrument/<detector>/data`, hard-linked as
`measurement/<detector>`, that a harvester must not read.

Modules: `catalogue` (beamlines, samples, people, technique tables: the static data), `people`
(ORCID iDs, e-mail addresses, who is on a session), `scans` (Bliss scan commands), `plan` (the
seeded random plan of files and entries: what to write), `writer` (the h5py writing and the two
entry points above), `summary` (what was written), `source` (the `fairgate demo` source).
"""
from __future__ import annotations

from .catalogue import ESRFET_BASE, ESRFET_TO_PANET
from .people import orcid_check_digit
from .source import ESRF_ROR, SOURCE, demo_config, demo_embargo_days, demo_source, ensure_facility
from .summary import EMBARGO_DAYS, DemoEntry, DemoSummary, DemoUser
from .writer import write_bliss_files, write_demo_facility

__all__ = [
    "EMBARGO_DAYS", "ESRFET_BASE", "ESRFET_TO_PANET", "ESRF_ROR", "SOURCE", "DemoEntry",
    "DemoSummary", "DemoUser", "demo_config", "demo_embargo_days", "demo_source",
    "ensure_facility",
    "orcid_check_digit", "write_bliss_files", "write_demo_facility",
]
