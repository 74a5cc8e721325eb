"""Benchmark: landing pages served per second, and their latency, under concurrent load.

    python bench/pages.py [--records 10000] [--requests 4000] [--clients 8]
                          [--server gunicorn|werkzeug] [--workers 2] [--threads 4]

Seeds N records (tests/factories: a quarter under embargo) into a record store and the
embedded index in a temporary folder, serves them with a real HTTP server on loopback in
a separate process (gunicorn when installed, else werkzeug's threaded server), and fetches
the HTML landing pages of random public records from --clients threads, each with its own
keep-alive connection. Prints pages/s over the whole run and the latency p50/p95/p99, next
to a baseline measured in the same run: rendering the same records' schema.org JSON-LD in
this process (what every page embeds), as records/s.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.context import Gateway  # noqa: E402
from gateway.config import Config  # noqa: E402
from gateway.index import catch_up  # noqa: E402
from gateway.store import Batch  # noqa: E402
from mappings import schemaorg  # noqa: E402
from mappings.access import Visibility, visibility  # noqa: E402
from tests.factories import NOW, corpus  # noqa: E402


def seed(data_dir: Path, n: int) -> list[str]:
    """N records into the store and the embedded index; the landing paths of the public ones."""
    records = corpus(n)[:n]
    gw = Gateway.open(Config(data_dir=data_dir))
    try:
        for start in range(0, n, 2000):
            gw.store.apply_batch("bench", Batch(upserts=records[start:start + 2000]),
                                 NOW - timedelta(days=1))
        catch_up(gw.store, gw.index)
    finally:
        gw.close()
    now = datetime.now(timezone.utc)  # the server runs on the wall clock
    return [f"/{r.kind}s/{quote(r.id, safe=':~')}" for r in records
            if visibility(r, now) is Visibility.PUBLIC]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(kind: str, data_dir: Path, port: int, workers: int, threads: int
                 ) -> subprocess.Popen:
    env = {**os.environ, "FAIRGATE_DATA_DIR": str(data_dir),
           "FAIRGATE_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    if kind == "gunicorn":
        cmd = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(workers),
               "-k", "gthread", "--threads", str(threads), "--log-level", "warning",
               "gateway.app:create_app()"]
    else:
        cmd = [sys.executable, "-c",
               "import sys; from werkzeug.serving import make_server; "
               "from gateway.app import create_app; "
               f"make_server('127.0.0.1', {port}, create_app(), threaded=True).serve_forever()"]
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the {kind} server did not start on port {port}")


def load(port: int, paths: list[str], total: int, clients: int) -> tuple[float, list[float]]:
    """Fetch `total` landing pages from `clients` threads; (wall seconds, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = [total // clients + (i < total % clients) for i in range(clients)]
    failures: list[str] = []

    def client(count: int, seed: int) -> None:
        rnd = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(count):
            path = rnd.choice(paths)
            start = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "text/html"})
            resp = conn.getresponse()
            body = resp.read()
            mine.append(time.perf_counter() - start)
            if resp.status != 200 or b"application/ld+json" not in body:
                failures.append(f"{path}: {resp.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c, i)) for i, c in enumerate(per_client)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[:3]}")
    return wall, latencies


def baseline(data_dir: Path, paths: list[str], total: int) -> float:
    """In-process schema.org JSON-LD renderings per second of the same kind of records
    (store read included, as a page does), one thread."""
    gw = Gateway.open(Config(data_dir=data_dir))
    try:
        ids = [unquote(p.split("/", 2)[2]) for p in paths]
        rnd = random.Random(0)
        context = gw.render_context()
        start = time.perf_counter()
        for _ in range(total):
            schemaorg.render(gw.store.get(rnd.choice(ids)), context)
        return total / (time.perf_counter() - start)
    finally:
        gw.close()


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=4_000)
    parser.add_argument("--clients", type=int, default=8)
    has_gunicorn = shutil.which("gunicorn") is not None
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"),
                        default="gunicorn" if has_gunicorn else "werkzeug")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fairgate-bench-pages-") as tmp:
        data_dir = Path(tmp)
        t0 = time.perf_counter()
        paths = seed(data_dir, args.records)
        print(f"seeded {args.records} records ({len(paths)} public) in "
              f"{time.perf_counter() - t0:.1f} s")
        base = baseline(data_dir, paths, min(args.requests, 2000))
        port = free_port()
        proc = start_server(args.server, data_dir, port, args.workers, args.threads)
        try:
            load(port, paths, min(200, args.requests), args.clients)  # warm-up
            wall, lat = load(port, paths, args.requests, args.clients)
        finally:
            proc.terminate()
            proc.wait(10)
    rate = len(lat) / wall
    server = (f"gunicorn {args.workers} workers x {args.threads} threads"
              if args.server == "gunicorn" else "werkzeug threaded")
    print(f"server: {server}; {args.clients} client threads, {len(lat)} landing pages")
    print(f"baseline JSON-LD in-process : {base:8.0f} records/s  (store read + schemaorg.render)")
    print(f"landing pages over HTTP     : {rate:8.0f} pages/s   ratio {rate / base:.3f}")
    print(f"latency p50 {pct(lat, 50):6.1f} ms   p95 {pct(lat, 95):6.1f} ms   "
          f"p99 {pct(lat, 99):6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
