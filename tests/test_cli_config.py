"""Configuration loading and the `fairgate` command line, including the demo served over
real HTTP on loopback."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from gateway.cli import main
from gateway.config import Config, ConfigError, load_config
from gateway.demo import write_bliss_files
from gateway.sources import NEXUS_OPTIONS, SourceError, build_harvester

ROOT = Path(__file__).resolve().parents[1]


def test_file_then_env_then_overrides(tmp_path):
    cfg = tmp_path / "f.toml"
    cfg.write_text('data_dir = "d"\nport = 9000\nhost = "127.0.0.2"\n'
                   '[sources.a]\ntype = "nexus"\nroot = "files"\n')
    c = load_config(cfg, env={"FAIRGATE_PORT": "9100"})
    assert c.data_dir == tmp_path / "d" and c.port == 9100 and c.host == "127.0.0.2"
    assert c.sources["a"]["root"] == str(tmp_path / "files")
    assert c.public_url == "http://127.0.0.2:9100"
    assert load_config(env={"FAIRGATE_BASE_URL": "https://x.org/g/"}).public_url == "https://x.org/g"
    assert load_config(cfg, env={"FAIRGATE_PORT": "9100"}, port=1).port == 1
    via_env = load_config(env={"FAIRGATE_CONFIG": str(cfg)})
    assert via_env.port == 9000


@pytest.mark.parametrize("text,message", [
    ("colour = 1\n", "unknown configuration key"),
    ("port = 'x'\n", "not a whole number"),
    ("port = \n", "f.toml"),
    ("index = 'lucene'\n", "unknown backend"),
    ("[sources.a]\nroot = '/x'\n", "sources.a"),
])
def test_bad_configuration_is_a_clear_error(tmp_path, text, message):
    cfg = tmp_path / "f.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, env={})


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize("options,message", [
    ({"type": "ftp"}, "unknown type"),
    ({"type": "nexus"}, "'root'"),
    ({"type": "nexus", "root": "/definitely/not/here"}, "not a directory"),
    ({"type": "nexus", "root": ".", "timezone": "Mars/Olympus"}, "unknown timezone"),
    ({"type": "nexus", "root": ".", "colour": "red"}, "unknown option"),
    ({"type": "nexus", "root": ".", "patterns": "**/*.h5"}, "list of relative glob"),
    ({"type": "nexus", "root": ".", "patterns": ["/abs/*.h5"]}, "list of relative glob"),
    ({"type": "nexus", "root": ".", "timezone": 5}, "timezone must be a str"),
    ({"type": "nexus", "root": ".", "embargo_days": "3y"}, "embargo_days must be a int"),
])
def test_bad_source_options(options, message):
    with pytest.raises(SourceError, match=message):
        build_harvester("x", options)


def test_every_setting_and_source_option_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", doc, re.M))
    settings = {f for f in Config.__dataclass_fields__}
    assert settings <= documented
    assert NEXUS_OPTIONS - {"type"} <= documented


@pytest.mark.parametrize("command", ["harvest", "serve", "reindex", "status", "demo"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert command in capsys.readouterr().out


def test_unknown_source_exits_2_with_message(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "harvest", "nosuch"]) == 2
    assert "unknown source(s): nosuch" in capsys.readouterr().err


def test_harvest_status_reindex(tmp_path, capsys):
    files = tmp_path / "files"
    write_bliss_files(files, 6)
    (files / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    cfg = tmp_path / "fairgate.toml"
    cfg.write_text('data_dir = "var"\n[sources.bl]\ntype = "nexus"\nroot = "files"\n'
                   'patterns = ["**/*.h5"]\nfacility = "ESRF"\n')
    assert main(["--config", str(cfg), "harvest", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    assert report["status"] == "ok" and report["new"] > 6 and report["failed"] == 1
    assert report["failures"][0]["ref"] == "broken.h5" and report["failures"][0]["reason"]

    assert main(["--config", str(cfg), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    row = status["sources"][0]
    assert row["records"] == report["new"] and row["checkpoint_entries"] == 6
    assert row["last_run"]["report"]["failed"] == 1
    assert status["store_seq"] == status["index_seq"]

    (tmp_path / "var" / "index.sqlite").unlink()
    assert main(["--config", str(cfg), "reindex"]) == 0
    assert main(["--config", str(cfg), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["index_seq"] == status["store_seq"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_harvests_and_serves_over_http(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--data-dir", str(tmp_path / "var"), "demo",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            try:
                health = requests.get(base + "/health", timeout=2).json()
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert health == {"status": "ok"}
        body = requests.get(base + "/api/search", params={"size": 0}, timeout=10).json()
        assert 0 < body["total"] < 360  # some of the 360 demo scans are under embargo
        assert len(body["facets"]["instrument"]) >= 6
        hit = requests.get(base + "/api/search", params={"q": "CeO2", "size": 1},
                           timeout=10).json()["hits"][0]
        assert requests.get(hit["url"], timeout=10).json()["id"] == hit["id"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert blocks[0] == "pip install -e . && fairgate demo"
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in lines if line.strip() and not line.startswith("#")]
    # .ci/run only sets the shell up, goes to the root, says it is CI, and runs the README's
    # command
    assert [c.split("#")[0].strip() for c in commands] == [
        "set -euo pipefail", 'cd "$(dirname "$0")/.."', "export CI=true", blocks[1]]
    assert "python -m tests.es_server python -m pytest" in blocks[1]  # both backends
