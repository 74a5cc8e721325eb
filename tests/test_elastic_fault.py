"""Acceptance fault test: the Elasticsearch server stops in the middle of a harvest; the
harvest finishes into the record store; the server comes back (same data dir) and the
index catches up to the store with no loss: same records, same content hash each.

Runs a noida-db server of its own (stopped and restarted here). A clean stop (SIGTERM)
keeps what the server had acknowledged; a SIGKILL loses what noida-db had not yet saved,
which rolls the index back, applied seq included, and catch-up replays it.
"""
from __future__ import annotations

import signal
from dataclasses import replace
from datetime import timedelta
from typing import Any, Callable, Iterator

import pytest

from gateway.harvest import Runner
from gateway.index import Query, catch_up
from gateway.index.elastic import ElasticIndex
from gateway.store import Store
from harvesters.events import Delete, Mark, Upsert
from mappings.record import with_hash

from .conftest import _unavailable
from .es_server import NoidaServer, ServerError, binary
from .factories import NOW, corpus
from .test_elastic import live_hashes

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path) -> Iterator[NoidaServer]:
    try:
        binary()
    except ServerError as exc:
        _unavailable(str(exc))
    srv = NoidaServer(tmp_path / "es-data")
    srv.start()
    yield srv
    srv.stop()


class StoppingHarvester:
    """600 records in units of 20; after unit `stop_after`, `on_stop` runs (the server
    goes down); the units after it also update and delete records harvested before."""

    name = "fault"

    def __init__(self, on_stop: Callable[[], None], stop_after: int = 9):
        self.records, self.on_stop, self.stop_after = corpus(599), on_stop, stop_after

    def harvest(self, checkpoint: Any) -> Iterator[Any]:
        for unit in range(30):
            for record in self.records[unit * 20:(unit + 1) * 20]:
                yield Upsert(record)
            if unit > self.stop_after:  # changes while the server is down
                old = self.records[20 * unit - 200]
                yield Upsert(with_hash(replace(old, title=old.title + " (revised)")))
                yield Delete(self.records[20 * unit - 190].id)
            yield Mark(f"unit{unit}", True)
            if unit == self.stop_after:
                self.on_stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stop", "kill"])
def test_index_catches_up_with_no_loss_after_the_server_stops_mid_harvest(server, tmp_path,
                                                                          sig):
    store = Store(tmp_path / "store.sqlite")
    index = ElasticIndex(server.url, "fault", timeout=2, retries=1)
    report = Runner(store, index, batch_size=40).run(
        StoppingHarvester(lambda: server.stop(sig)))

    assert (report.status, report.new, report.changed, report.deleted) == ("ok", 600, 20, 20)
    assert store.count(deleted=False) == 600 - 20 and store.count(deleted=True) == 20
    assert report.index_error and 0 < report.index_lag <= store.last_seq()

    server.start()  # same data dir, same port
    kept, applied = index.last_seq(), store.last_seq() - report.index_lag
    assert kept == applied if sig == signal.SIGTERM else kept <= applied  # kill: rolled back
    catch_up(store, index)
    assert index.last_seq() == store.last_seq()
    assert index.count() == store.count(deleted=False)
    assert index.content_hashes() == live_hashes(store)
    later = NOW + timedelta(days=3650)  # past every embargo of the corpus
    revised = index.search(Query(text="revised", size=0), later).total
    assert revised == 20
    index.close()

