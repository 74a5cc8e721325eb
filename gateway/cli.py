"""The `fairgate` command line: harvest, serve, reindex, status, demo."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Sequence

from . import panosc
from .config import Config, ConfigError, load_config
from .context import Gateway, current_gateway, describe_index
from .harvest import Runner, summary_line
from .index import (IncompatibleServer, IndexAhead, IndexOutdated, IndexUnavailable, catch_up,
                    rebuild)
from .progress import Progress
from .sources import SourceError, build_harvester
from .store import RunInProgress


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        config = load_config(args.config, data_dir=args.data_dir)
        return args.func(config, args)
    except (ConfigError, SourceError, RunInProgress, IncompatibleServer) as exc:
        print(f"fairgate: error: {exc}", file=sys.stderr)
        return 2
    except IndexUnavailable as exc:
        print(f"fairgate: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fairgate: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fairgate", description=(
        "FAIRgate: harvest facility metadata (NeXus/HDF5, ICAT) into a record store and "
        "search index, and serve it."))
    p.add_argument("--config", metavar="PATH",
                   help="configuration file (default: $FAIRGATE_CONFIG or ./fairgate.toml)")
    p.add_argument("--data-dir", metavar="DIR", help="where the store and index live "
                   "(overrides data_dir and $FAIRGATE_DATA_DIR)")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    h = sub.add_parser("harvest", help="harvest configured sources into the store and index",
                       description="Harvest sources incrementally; a bad file or record is "
                       "reported and the run goes on. Exit 1 if a source run failed.")
    h.add_argument("sources", nargs="*", metavar="SOURCE", help="source names (default: all)")
    h.add_argument("--batch-size", type=int, help="records per store transaction")
    h.add_argument("--json", action="store_true", help="print run reports as JSON")
    h.set_defaults(func=cmd_harvest)

    s = sub.add_parser("serve", help="serve the web app (API) on host:port")
    s.add_argument("--host", help="bind address (default from config: 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default from config: 8000)")
    s.set_defaults(func=cmd_serve)

    r = sub.add_parser("reindex", help="rebuild the search index from the record store",
                       description="Rebuild the search index from the record store. On "
                       "Elasticsearch a new index is built aside and the alias swapped to it "
                       "atomically (searches keep answering); the embedded index is cleared "
                       "and refilled.")
    r.set_defaults(func=cmd_reindex)

    st = sub.add_parser("status", help="per source: last run, counts, checkpoint")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=cmd_status)

    d = sub.add_parser("demo", help="write a demo facility, harvest it and serve it",
                       description="Write a deterministic ESRF-like demo facility of "
                       "Bliss-layout NeXus files under DATA_DIR/demo, harvest it, and serve.")
    d.add_argument("--scans", type=int, default=360, help="number of scans (default 360)")
    d.add_argument("--no-serve", action="store_true", help="harvest only, do not serve")
    d.add_argument("--host", help="bind address (default 127.0.0.1)")
    d.add_argument("--port", type=int, help="port (default 8000)")
    d.set_defaults(func=cmd_demo)
    return p


def cmd_harvest(config: Config, args: argparse.Namespace) -> int:
    names = args.sources or list(config.sources)
    if not names:
        raise ConfigError("no sources configured (add [sources.NAME] tables to fairgate.toml)")
    unknown = [n for n in names if n not in config.sources]
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)}; "
                          f"configured: {', '.join(config.sources) or 'none'}")
    gw = Gateway.open(config)
    runner = Runner(gw.store, gw.index, batch_size=args.batch_size or config.batch_size,
                    clock=gw.clock, progress=None if args.json else Progress())
    reports = [runner.run(build_harvester(n, config.sources[n], gw.clock)) for n in names]
    panosc.sync(gw)  # the PaNOSC API's projection, so its first request does not wait
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    for r in reports:
        if r.index_lag:
            print(f"fairgate: warning: {r.source}: the search index is {r.index_lag} changes "
                  f"behind the record store ({r.index_error}); it catches up on the next "
                  "harvest, `serve`, search or `reindex`", file=sys.stderr)
        elif r.index_error:  # e.g. an index ahead of the store: nothing to catch up
            print(f"fairgate: warning: {r.source}: {r.index_error}", file=sys.stderr)
    return 0 if all(r.status == "ok" for r in reports) else 1


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from .app import create_app
    config = replace(config, host=args.host or config.host, port=args.port or config.port)
    host, port = config.host, config.port
    app = create_app(config)
    gw = current_gateway(app)
    panosc.sync(gw)
    try:
        catch_up(gw.store, gw.index)
    except (IndexAhead, IndexOutdated) as exc:
        print(f"fairgate: warning: {exc}", file=sys.stderr)
    except IndexUnavailable as exc:
        print(f"fairgate: warning: {exc}; searches answer 503 until it is back",
              file=sys.stderr)
    print(f"FAIRgate serving {gw.store.count(deleted=False)} records on http://{host}:{port}/ "
          "(Ctrl-C to stop)", file=sys.stderr)
    run_simple(host, port, app, threaded=True)
    return 0


def cmd_reindex(config: Config, args: argparse.Namespace) -> int:
    gw = Gateway.open(config)
    n = rebuild(gw.store, gw.index)
    n += catch_up(gw.store, gw.index)  # what was written while it was being built
    print(f"reindexed {gw.index.count()} records ({n} changes replayed)", file=sys.stderr)
    return 0


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    gw = Gateway.open(config)
    rows = []
    for name in sorted(set(config.sources) | set(gw.store.sources())):
        runs = gw.store.runs(name, limit=1)
        rows.append({"source": name, "configured": name in config.sources,
                     "records": gw.store.count(source=name, deleted=False),
                     "tombstones": gw.store.count(source=name, deleted=True),
                     "checkpoint_entries": len(gw.store.checkpoint(name)),
                     "last_run": runs[0] if runs else None})
    index_seq: int | None = None
    rejected: int | None = None
    try:
        index_seq, rejected = gw.index.last_seq(), gw.index.rejected()
    except IndexUnavailable as exc:
        print(f"fairgate: warning: {exc}", file=sys.stderr)
    store_seq = gw.store.last_seq()
    if index_seq is not None and index_seq > store_seq:
        print(f"fairgate: warning: {IndexAhead(index_seq, store_seq)}", file=sys.stderr)
    if rejected:
        print(f"fairgate: warning: the search index refused {rejected} record(s), which "
              "searches do not find (the log of the process that indexed them names each "
              "record and the reason)", file=sys.stderr)
    status = {"store": str(config.store_path), "index": describe_index(config),
              "index_backend": config.index, "store_seq": store_seq,
              "index_seq": index_seq, "index_rejected": rejected, "sources": rows}
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"store {status['store']} (seq {status['store_seq']}), "
          f"index {status['index']} "
          f"(seq {'unavailable' if index_seq is None else index_seq})")
    for row in rows:
        run = row["last_run"]
        last = (f"last run {run['started_at']} {run['status']}" if run else "never harvested")
        print(f"{row['source']}: {row['records']} records, {row['tombstones']} tombstones, "
              f"{row['checkpoint_entries']} checkpoint entries; {last}")
        if run and run["report"]:
            print(f"    {summary_line(run['report'])}")
    return 0


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from .demo import demo_config
    config = demo_config(config, scans=args.scans)
    args.sources, args.batch_size, args.json = ["esrf-demo"], None, False
    code = cmd_harvest(config, args)
    if code or args.no_serve:
        return code
    return cmd_serve(config, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
