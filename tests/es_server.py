"""A throwaway Elasticsearch stand-in (`noida-db`, test extra) on loopback, for the tests.

As a module it is the test command's wrapper (README, `.ci/run`):

    python -m tests.es_server python -m pytest

starts the server on 127.0.0.1 on a free port with a temporary data dir, waits until it
answers, runs the command with FAIRGATE_TEST_ES_URL set, and stops the server and removes
its data whatever happens. The fault tests use `NoidaServer` directly to stop and restart
a server of their own.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import requests

URL_VARIABLE = "FAIRGATE_TEST_ES_URL"


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> str:
    """The noida-db executable shipped in its wheel (run directly, not through its Python
    wrapper, so that signals reach the server itself)."""
    try:
        from importlib.resources import files
        path = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        raise ServerError("noida-db is not installed (pip install -e '.[test]')") from None
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


class NoidaServer:
    """One noida-db process serving only Elasticsearch on 127.0.0.1."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir, self.port = Path(data_dir), port or free_port()
        self.log = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [binary(), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
                 "--data-dir", str(self.data_dir), "--elasticsearch-port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"noida-db exited with {self.proc.returncode}: "
                                  f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                if requests.get(self.url, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop(signal.SIGKILL)
        raise ServerError(f"noida-db did not answer on {self.url} within {timeout:.0f} s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Stop the server: SIGTERM saves its data first; SIGKILL loses what it had not
        saved (noida-db keeps its data in memory and writes it on a clean stop)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m tests.es_server COMMAND...", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="fairgate-es-"))
    server = NoidaServer(root / "data")

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.start()
        print(f"es_server: noida-db (Elasticsearch API) on {server.url}", file=sys.stderr)
        return subprocess.call(command, env={**os.environ, URL_VARIABLE: server.url})
    except ServerError as exc:
        print(f"es_server: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
