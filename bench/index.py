"""Benchmark: the index backends side by side at the same 3,000 records.

    python bench/index.py [--records 3000] [--repeat 20] [--es-url URL]

For each backend (embedded FTS5; Elasticsearch over HTTP), in one run:
  bulk     catch-up of an empty index from a record store holding N records, records/s
  search   p50 / p95 latency of a handful of query shapes (each run --repeat times after
           one warm-up), all with every facet, as the API asks them by default
Documents carry their techniques' PaNET ancestors (the vocabulary in ../shared/data/panet),
as with `techniques_vocabulary` configured.
Without --es-url (or $FAIRGATE_TEST_ES_URL) a noida-db stand-in is started on loopback for
the run (test extra). noida-db rescans every document per query: its figures say how the
backend code behaves over real HTTP, not how fast Elasticsearch is.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.api.params import parameter_range  # noqa: E402
from gateway.index import FACET_FIELDS, Query, SearchIndex, catch_up  # noqa: E402
from gateway.index.elastic import ElasticIndex  # noqa: E402
from gateway.index.embedded import EmbeddedIndex  # noqa: E402
from gateway.store import Batch, Store  # noqa: E402
from gateway.vocabulary import load_techniques  # noqa: E402
from tests.factories import NOW, PANET, corpus  # noqa: E402
from tests.oracle import PANET_OWL  # noqa: E402

FACETS = FACET_FIELDS
VOCABULARY = load_techniques(PANET_OWL)
SHAPES = {
    "browse (no text), -date": Query(facets=FACETS),
    "one word, relevance": Query(text="cerium", facets=FACETS),
    "two words + filter": Query(text="cerium oxide", filters={"facility": ("ESRF",)},
                                facets=FACETS),
    "phrase, title sort": Query(text='"of cerium"', sort="title", facets=FACETS),
    "prefix": Query(text="cath*", facets=FACETS),
    "date range + 2 filters": Query(filters={"kind": ("dataset",), "instrument": ("ID11",)},
                                    facets=FACETS, date_from=date(2019, 1, 1)),
    "broad technique (deep)": Query(filters={"technique": (PANET + "PaNET01125",)},
                                    facets=FACETS),
    "parameter range (SI)": Query(parameters=(parameter_range("temperature:81..83:K"),),
                                  facets=FACETS),
}


def bulk(store: Store, index: SearchIndex) -> float:
    start = time.perf_counter()
    catch_up(store, index)
    return time.perf_counter() - start


def latencies(index: SearchIndex, query: Query, repeat: int) -> list[float]:
    index.search(query, NOW)  # warm-up
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        index.search(query, NOW)
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def run(name: str, make: Callable[[], SearchIndex], store: Store, n: int,
        repeat: int) -> list[tuple[str, str, str]]:
    index = make()
    try:
        seconds = bulk(store, index)
        assert index.count() == n, (index.count(), n)
        rows = [(name, "bulk index", f"{n / seconds:,.0f} records/s ({seconds:.2f} s)")]
        for label, query in SHAPES.items():
            ms = latencies(index, query, repeat)
            rows.append((name, label, f"p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms"))
        return rows
    finally:
        if isinstance(index, ElasticIndex):
            index.drop()
        index.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--es-url", default=os.environ.get("FAIRGATE_TEST_ES_URL"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fairgate-bench-") as tmp:
        work = Path(tmp)
        store = Store(work / "store.sqlite")
        records = corpus(args.records - 1)  # corpus(n) gives n + 1 records
        store.apply_batch("bench", Batch(upserts=records), NOW)
        server = None
        url = args.es_url
        if not url:
            from tests.es_server import NoidaServer
            server = NoidaServer(work / "es-data")
            server.start()
            url = server.url
        try:
            rows = run("embedded", lambda: EmbeddedIndex(
                work / "index.sqlite", techniques=VOCABULARY), store, len(records), args.repeat)
            rows += run("elasticsearch", lambda: ElasticIndex(
                url, f"bench-{uuid.uuid4().hex[:8]}", timeout=60, techniques=VOCABULARY),
                store, len(records), args.repeat)
        finally:
            if server:
                server.stop()
    print(f"N = {len(records):,} records, {args.repeat} runs per query shape, "
          f"Elasticsearch at {'noida-db (started here)' if server else url}")
    for backend, what, figure in rows:
        print(f"{backend:<14} {what:<26} {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
