"""Benchmark: rendering throughput of every output format.

    python bench/render.py [--records 10000] [--repeat 3] [--formats NAME,NAME]

Builds N varied canonical records (tests/factories: techniques, parameters, people,
embargoed and open), then renders all of them in each registered format and prints
records/s per format, next to a baseline measured in the same run: `json.dumps` of the
canonical record's dict (`to_dict`), the cheapest rendering there is. Each figure is the
best of --repeat passes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mappings import formats  # noqa: E402
from mappings.record import to_dict  # noqa: E402
from mappings.render import Context  # noqa: E402
from tests.factories import NOW, corpus  # noqa: E402


def best(fn, records, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for record in records:
            fn(record)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(formats.FORMATS))
    args = parser.parse_args(argv)

    records = corpus(args.records)[:args.records]
    context = Context(now=NOW, base_url="https://fairgate.example.org",
                      contact_email="data-office@example.org")
    n = len(records)
    base = best(lambda r: json.dumps(to_dict(r), ensure_ascii=False), records, args.repeat)
    print(f"{n} records, best of {args.repeat}")
    print(f"{'baseline json.dumps(to_dict)':30s} {n / base:9.0f} records/s   ratio 1.00")
    for name in args.formats.split(","):
        fmt = formats.get(name)
        elapsed = best(lambda r: fmt.render(r, context), records, args.repeat)
        print(f"{name:30s} {n / elapsed:9.0f} records/s   ratio {base / elapsed:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
