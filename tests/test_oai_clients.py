"""Independent harvesting clients as judges, over real HTTP (werkzeug on 127.0.0.1, port 0):
sickle, the `oaipmh` (pyoai) client and oaipmh-scythe harvest the `openaire_data` set in
each format. Their identifier sets must be equal, equal completeListSize, and an
incremental harvest `from=T` must be the full harvest filtered by datestamp >= T."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests
from oaipmh.client import Client
from oaipmh.metadata import MetadataRegistry, oai_dc_reader
from oaipmh_scythe import Scythe
from sickle import Sickle
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import Config
from gateway.index import catch_up
from gateway.store import Batch
from mappings.record import iso

from .factories import NOW, corpus
from .xsd import NS, assert_valid_oai

PREFIXES = ("oai_dc", "oai_datacite", "oai_openaire")
SET = "openaire_data"


@pytest.fixture
def base_url(tmp_path, backend_config):
    """/oai of a gateway served over HTTP whose baseURL is the URL harvesters use."""
    holder = {}

    def wsgi(environ, start_response):
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    root = f"http://127.0.0.1:{server.server_port}"
    app = holder["app"] = create_app(Config(data_dir=tmp_path, base_url=root, oai_page_size=7,
                                            **backend_config), clock=lambda: NOW)
    gw = app.extensions["fairgate"]
    records = corpus(60)
    for i, part in enumerate((records[:20], records[20:40], records[40:])):
        gw.store.apply_batch("test", Batch(upserts=part), NOW - timedelta(days=3 - i))
    gw.store.apply_batch("test", Batch(deletes=[records[1].id, records[30].id]),
                         NOW - timedelta(hours=2))
    catch_up(gw.store, gw.index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root + "/oai"
    server.shutdown()
    thread.join()
    gw.close()


def complete_list_size(url: str, prefix: str) -> int:
    resp = requests.get(url, params={"verb": "ListIdentifiers", "metadataPrefix": prefix,
                                     "set": SET}, timeout=30)
    doc = assert_valid_oai(resp.content)
    return int(doc.find("o:ListIdentifiers/o:resumptionToken", NS).get("completeListSize"))


def with_sickle(url, prefix, since=None):
    args = {"metadataPrefix": prefix, "set": SET, "ignore_deleted": False}
    if since:
        args["from"] = since
    return [(r.header.identifier, r.header.datestamp, r.header.deleted)
            for r in Sickle(url).ListRecords(**args)]


def with_pyoai(url, prefix, since=None):
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    for raw in ("oai_datacite", "oai_openaire"):
        registry.registerReader(raw, lambda element: element)
    client = Client(url, registry)
    client.updateGranularity()
    args = {"metadataPrefix": prefix, "set": SET}
    if since:
        args["from_"] = datetime.fromisoformat(since.replace("Z", "+00:00")).replace(tzinfo=None)
    return [(h.identifier(), iso(h.datestamp().replace(tzinfo=timezone.utc)), h.isDeleted())
            for h, _, _ in client.listRecords(**args)]


def with_scythe(url, prefix, since=None):
    with Scythe(url) as scythe:
        return [(r.header.identifier, r.header.datestamp, r.header.deleted)
                for r in scythe.list_records(metadata_prefix=prefix, set_=SET, from_=since)]


CLIENTS = {"sickle": with_sickle, "pyoai": with_pyoai, "scythe": with_scythe}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_three_clients_harvest_the_same_complete_list(base_url, prefix):
    harvests = {name: harvest(base_url, prefix) for name, harvest in CLIENTS.items()}
    total = complete_list_size(base_url, prefix)
    full = harvests["sickle"]
    assert len(full) == total > 3 * 7  # several pages
    assert sum(1 for _, _, deleted in full if deleted) == 2
    for name, items in harvests.items():
        assert len({i for i, _, _ in items}) == len(items) == total, name
        assert sorted(items) == sorted(full), name
    since = sorted({stamp for _, stamp, _ in full})[1]
    for name, harvest in CLIENTS.items():
        part = harvest(base_url, prefix, since)
        assert sorted(part) == sorted(x for x in full if x[1] >= since), name
