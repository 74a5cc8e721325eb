"""The walls of the house: mappings imports nothing of ours and no I/O library; harvesters
import only mappings of ours. Checked on the source, so a violation fails before it runs."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"mappings", "harvesters", "gateway"}
ALLOWED = {"mappings": {"mappings"}, "harvesters": {"mappings", "harvesters"}}
NO_IO_IN_MAPPINGS = {"h5py", "requests", "sqlite3", "flask", "socket", "subprocess", "os",
                     "time", "shutil", "urllib.request"}  # pathlib.PurePosixPath is pure


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside its own package
                names.add(path.relative_to(ROOT).parts[0])
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layering(package):
    for path in (ROOT / package).rglob("*.py"):
        ours = {n.split(".")[0] for n in imports(path)} & OURS
        assert ours <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {ours}"


def test_mappings_do_no_io():
    for path in (ROOT / "mappings").rglob("*.py"):
        found = {n for n in imports(path) if n in NO_IO_IN_MAPPINGS}
        assert not found, f"{path.relative_to(ROOT)} imports {found}"
