"""Benchmark: federated search latency against the slowest partner, and the local PaNOSC
API at 100,000 records.

    python bench/federation.py [--records 100000] [--repeat 30] [--delays 50,100,200]
                               [--only fan-out|local]

1. fan-out  partners (tests/panosc_partner.py stand-ins over real HTTP on 127.0.0.1) that
            sleep a known time (default 50, 100, 200 ms) are federated by a gateway served
            over HTTP (its own small index queried too). p50 of `GET /federation/Datasets`
            against p50 of `GET /Datasets` sent straight to the slowest partner, the ratio,
            and the verdict on the goal: federated <= 1.1 x slowest + 20 ms.
2. local    `GET /api/Datasets` p50/p95 over HTTP on a store and embedded index seeded with
            N generated records (tests.factories.corpus), for typical filters.
Each timing is taken --repeat times after one warm-up request.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.app import create_app  # noqa: E402
from gateway.config import Config  # noqa: E402
from gateway.index import catch_up  # noqa: E402
from gateway.store import Batch  # noqa: E402
from tests.factories import NOW, corpus  # noqa: E402
from tests.panosc_partner import Partner, serve  # noqa: E402

PANET = "http://purl.org/pan-science/PaNET/"
LOCAL_FILTERS = {
    "plain, limit 10": {"limit": 10},
    "text query": {"limit": 10, "query": "cerium oxide"},
    "technique include": {"limit": 10, "include": [
        {"relation": "techniques", "scope": {"where": {"pid": PANET + "PaNET01188"}}}]},
    "parameter range": {"limit": 10, "include": [
        {"relation": "parameters", "scope": {"where": {"and": [
            {"name": "temperature"}, {"value": {"between": [81, 82]}}, {"unit": "K"}]}}}]},
}


def timings(session: requests.Session, url: str, params: dict, repeat: int) -> list[float]:
    """Milliseconds of `repeat` GETs (after one warm-up); each must answer 200."""
    session.get(url, params=params, timeout=3600).raise_for_status()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        resp = session.get(url, params=params, timeout=3600)
        out.append((time.perf_counter() - start) * 1000)
        resp.raise_for_status()
    return out


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def gateway(work: Path, records: list, **config) -> object:
    app = create_app(Config(data_dir=work, **config), clock=lambda: NOW)
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("bench", Batch(upserts=records), NOW)
    catch_up(gw.store, gw.index)
    return app


def fan_out(work: Path, delays_ms: list[int], repeat: int) -> list[str]:
    partner_items = [{"pid": f"p{i}", "title": f"partner item {i}", "isPublic": True,
                      "creationDate": "2024-01-01T00:00:00Z"} for i in range(50)]
    with ExitStack() as stack, requests.Session() as session:
        urls = {f"delay{d}": stack.enter_context(serve(Partner(
            {"Datasets": partner_items}, delay=d / 1000))) + "/api" for d in delays_ms}
        app = gateway(work, corpus(200), federation_timeout=5,
                      partners={name: {"url": url} for name, url in urls.items()})
        gw_url = stack.enter_context(serve(app))
        params = {"filter": json.dumps({"limit": 10, "order": "title ASC"})}
        slowest = timings(session, urls[f"delay{max(delays_ms)}"] + "/Datasets", params, repeat)
        federated = timings(session, gw_url + "/federation/Datasets", params, repeat)
        status = json.loads(session.get(gw_url + "/federation/Datasets", params=params)
                            .headers["X-Federation-Status"])
        assert all(s["status"] == "ok" for s in status), status
        app.extensions["fairgate_federation"].close()
        app.extensions["fairgate"].close()
    s50, f50 = pct(slowest, 50), pct(federated, 50)
    goal = 1.1 * s50 + 20
    return [f"partners sleeping {', '.join(map(str, delays_ms))} ms + the local index, "
            f"{repeat} requests each",
            f"slowest partner alone   p50 {s50:7.1f} ms   p95 {pct(slowest, 95):7.1f} ms",
            f"federated               p50 {f50:7.1f} ms   p95 {pct(federated, 95):7.1f} ms",
            f"ratio federated/slowest {f50 / s50:.3f}   goal <= 1.1 x slowest + 20 ms = "
            f"{goal:.1f} ms: {'MET' if f50 <= goal else 'NOT MET'}"]


def local_api(work: Path, n: int, repeat: int) -> None:
    """Prints each row as soon as it is measured (a slow filter takes a while)."""
    start = time.perf_counter()
    records = corpus(n - 1)  # corpus(n) gives n + 1 records
    app = gateway(work, records)
    seeded = time.perf_counter() - start
    with ExitStack() as stack, requests.Session() as session:
        url = stack.enter_context(serve(app)) + "/api/Datasets"
        start = time.perf_counter()
        session.get(url, params={"filter": "{}"}, timeout=3600).raise_for_status()
        first = time.perf_counter() - start
        print(f"local /api/Datasets over HTTP, N = {len(records):,} records (store + index "
              f"seeded in {seeded:.0f} s; first request, which builds the PaNOSC projection, "
              f"{first:.0f} s), {repeat} requests per filter", flush=True)
        for label, filter in LOCAL_FILTERS.items():
            ms = timings(session, url, {"filter": json.dumps(filter)}, repeat)
            hits = len(session.get(url, params={"filter": json.dumps(filter)}).json())
            print(f"{label:<20} p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms"
                  f"   ({hits} items)", flush=True)
    app.extensions["fairgate_federation"].close()
    app.extensions["fairgate"].close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--delays", default="50,100,200", help="partner delays, ms")
    ap.add_argument("--only", choices=("fan-out", "local"), help="run one part")
    args = ap.parse_args(argv)
    delays = [int(d) for d in args.delays.split(",")]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with tempfile.TemporaryDirectory(prefix="fairgate-bench-") as tmp:
        if args.only != "local":
            print("\n".join(fan_out(Path(tmp) / "fan-out", delays, args.repeat)), flush=True)
        if args.only != "fan-out":
            local_api(Path(tmp) / "local", args.records, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
