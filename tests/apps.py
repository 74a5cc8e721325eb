"""Apps for the tests: an app over real SQLite files with records loaded (store and
index), and the same app served over real HTTP on 127.0.0.1 (werkzeug, a free port) for
independent clients (signposting, OAI-PMH harvesters, requests, Chromium)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable, Iterable, Iterator

from flask import Flask
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.index import catch_up
from gateway.store import Batch
from mappings.record import Record

from .render_fixtures import NOW


def build_app(data_dir: Any, records: Iterable[Record], clock: list, *,
              base_url: str = "https://data.example.org/gw", **config: Any) -> Flask:
    """An app whose store and index hold `records` (stamped a day before NOW)."""
    app = create_app({"data_dir": data_dir, "base_url": base_url, **config},
                     clock=lambda: clock[0])
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("test", Batch(upserts=list(records)), NOW - timedelta(days=1))
    catch_up(gw.store, gw.index)
    return app


@contextmanager
def app_over(data_dir: Any, records: Iterable[Record], clock: list, **kwargs: Any
             ) -> Iterator[Flask]:
    """`build_app`, closed (store and index) when the block ends."""
    app = build_app(data_dir, records, clock, **kwargs)
    try:
        yield app
    finally:
        app.extensions["fairgate"].close()


class LiveServer:
    """A threaded HTTP server for an app built once the server's URL is known (landing
    URLs are absolute: the app's base_url must be the server's own)."""

    def __init__(self, factory: Callable[[str], Flask]):
        self.app: Flask | None = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.app = factory(self.url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _dispatch(self, environ: dict, start_response: Callable) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()
        if self.app is not None:
            self.app.extensions["fairgate"].close()


def live(factory: Callable[[str], Flask]) -> Iterator[LiveServer]:
    with LiveServer(factory) as server:
        yield server
