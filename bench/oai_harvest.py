"""Benchmark: a full OAI-PMH harvest with sickle over real HTTP.

    python bench/oai_harvest.py [--records 100000] [--page-sizes 100,500]
                                [--prefix oai_datacite] [--data-dir DIR] [--baseline 20000]

Writes N public records (tests/factories, stamped by 20 harvests, so datestamps tie) into a
record store and the embedded index, serves the gateway with werkzeug on 127.0.0.1 in a
process of its own, and harvests `ListRecords` to the end with sickle for each page size,
once with sickle's page iterator and once with its record objects. Prints records/s and
the ratio to rendering the same records in the same format without HTTP or index (read
from the store by id, 100 at a time, and rendered; goal >= 0.5; rendering records already
in memory is printed too), and the latency of the last page over the first one (goal <=
1.5: keyset paging does not slow down deep in the list; the first page also counts the
list, so the last page is compared with the second too). The baseline (--baseline
records) is measured again right before each harvest, as the load of a shared machine
drifts. A --data-dir that already holds the N records is reused.
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sickle import Sickle  # noqa: E402
from sickle.iterator import OAIResponseIterator  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.config import Config  # noqa: E402
from gateway.index import catch_up  # noqa: E402
from gateway.store import Batch  # noqa: E402
from mappings import formats  # noqa: E402
from tests.factories import NOW, make_record  # noqa: E402

HARVESTS = 20
OAI = "http://www.openarchives.org/OAI/2.0/"
CLOCK = NOW + timedelta(days=1)


def build(n: int) -> list:
    """N varied records, all public at CLOCK."""
    return [make_record(i, release=NOW - timedelta(days=1 + i % 700),
                        kind="document" if i % 10 == 0 else "dataset") for i in range(n)]


def load(data_dir: Path, records: list) -> None:
    app = create_app(Config(data_dir=data_dir), clock=lambda: CLOCK)
    gw = app.extensions["fairgate"]
    try:
        if gw.store.count() != len(records):
            step = -(-len(records) // HARVESTS)
            for k in range(HARVESTS):
                gw.store.apply_batch("bench", Batch(upserts=records[k * step:(k + 1) * step]),
                                     NOW - timedelta(days=HARVESTS - k))
        catch_up(gw.store, gw.index)
    finally:
        gw.close()


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """No access log line per page."""


class TimedSickle(Sickle):
    """sickle, timing every HTTP request it makes (one per page)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.latencies: list[float] = []

    def harvest(self, **kwargs):
        start = time.perf_counter()
        response = super().harvest(**kwargs)
        self.latencies.append(time.perf_counter() - start)
        return response


def serve(data_dir: Path, page_size: int, ports: multiprocessing.Queue) -> None:
    """The gateway on 127.0.0.1 in a process of its own, as deployed (the harvester and the
    server do not share an interpreter)."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True, request_handler=Quiet)
    root = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_app(Config(data_dir=data_dir, base_url=root,
                                      oai_page_size=page_size), clock=lambda: CLOCK)
    ports.put(root)
    server.serve_forever()


def harvest(data_dir: Path, page_size: int, prefix: str, *, objects: bool
            ) -> tuple[int, float, list[float]]:
    """(records harvested, seconds, per-page latencies) of one full harvest. `objects`:
    sickle's default iterator, which turns every record into a `Record` with its metadata
    as a dict (client-side work); else its page iterator, which parses each page with lxml
    and leaves the records as elements."""
    ports: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve, args=(data_dir, page_size, ports),
                                      daemon=True)
    process.start()
    try:
        url = ports.get(timeout=60) + "/oai"
        if objects:
            sickle = TimedSickle(url)
            start = time.perf_counter()
            count = sum(1 for _ in sickle.ListRecords(metadataPrefix=prefix))
        else:
            sickle = TimedSickle(url, iterator=OAIResponseIterator)
            start = time.perf_counter()
            count = sum(len(page.xml.findall(f".//{{{OAI}}}record"))
                        for page in sickle.ListRecords(metadataPrefix=prefix))
        return count, time.perf_counter() - start, sickle.latencies
    finally:
        process.terminate()
        process.join()


def render_rates(data_dir: Path, records: list, prefix: str) -> tuple[float, float]:
    """Records/s of rendering the records in `prefix` (a) read from the record store by id
    in pages of 100, as the provider reads them, and (b) already in memory."""
    fmt = formats.by_oai_prefix(prefix)
    assert fmt is not None
    app = create_app(Config(data_dir=data_dir), clock=lambda: CLOCK)
    gw = app.extensions["fairgate"]
    context = gw.render_context(CLOCK)
    ids = [r.id for r in records]
    try:
        start = time.perf_counter()
        for i in range(0, len(ids), 100):
            for record in gw.store.get_many(ids[i:i + 100]).values():
                fmt.render(record, context)
        stored = len(ids) / (time.perf_counter() - start)
    finally:
        gw.close()
    start = time.perf_counter()
    for record in records:
        fmt.render(record, context)
    return stored, len(records) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-sizes", default="100,500")
    parser.add_argument("--prefix", default="oai_datacite")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--baseline", type=int, default=20_000,
                        help="records rendered for the baseline before each harvest")
    args = parser.parse_args(argv)

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fairgate-oai-bench-"))
    records = build(args.records)
    start = time.perf_counter()
    load(data_dir, records)
    print(f"{len(records)} records in {data_dir} (store + embedded index: "
          f"{time.perf_counter() - start:.0f} s)")
    failed = False
    for size in (int(s) for s in args.page_sizes.split(",")):
        for objects, label in ((False, "pages  "), (True, "records")):
            # the baseline right before each harvest: the machine's load drifts
            baseline, in_memory = render_rates(data_dir, records[:args.baseline],
                                               args.prefix)
            count, elapsed, pages = harvest(data_dir, size, args.prefix, objects=objects)
            print(f"baseline: store + render {baseline:6.0f} records/s, render alone "
                  f"{in_memory:6.0f} records/s ({min(args.baseline, len(records))} records,"
                  " no HTTP, no index)")
            print(f"sickle {label} page {size:4d}: {count / elapsed:6.0f} records/s "
                  f"({count} records, {len(pages)} pages, {elapsed:.1f} s)  "
                  f"ratio {count / elapsed / baseline:.2f}" + ("" if objects else
                                                            " (goal >= 0.5)"))
            print(f"    page latency first {pages[0] * 1000:6.1f} ms, second "
                  f"{pages[1] * 1000:6.1f} ms, median {statistics.median(pages) * 1000:6.1f} ms,"
                  f" last {pages[-1] * 1000:6.1f} ms: last/first {pages[-1] / pages[0]:.2f} "
                  f"(goal <= 1.5), last/second {pages[-1] / pages[1]:.2f}")
            if count != len(records):
                print(f"    ERROR: harvested {count} of {len(records)} records")
                failed = True
    return int(failed)


if __name__ == "__main__":
    raise SystemExit(main())
