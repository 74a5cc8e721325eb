"""The wired application objects (store, index, clock) that one gateway instance uses.

Built explicitly by `create_app` and the CLI; nothing is created at import time.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Callable

from flask import Flask, current_app

from mappings.formats import RENDER_VERSION
from mappings.render import Context

from .clock import utcnow
from .config import Config, redact_url
from .index import IncompatibleServer, IndexUnavailable, SearchIndex
from .index.embedded import EmbeddedIndex
from .panosc.projection import Projection
from .store import Store
from .vocabulary import Techniques, load_techniques

log = logging.getLogger(__name__)
EXTENSION = "fairgate"  # the key of the Gateway in a Flask app's `extensions`


def current_gateway(app: Flask | None = None) -> "Gateway":
    """The Gateway of `app`, by default of the app handling the current request."""
    return (app or current_app).extensions[EXTENSION]


def open_index(config: Config, techniques: Techniques | None = None) -> SearchIndex:
    """The configured index backend. Elasticsearch is checked at once (a server of another
    major version is refused with IncompatibleServer); if it is down, the gateway starts
    anyway and the index is tried again on each use. With a `techniques_vocabulary`
    file, documents carry their techniques' ancestors (an index built with another
    vocabulary needs `fairgate reindex`); without one, none (the packaged flat list has
    no hierarchy to add). `techniques`: that vocabulary, when the caller has read it."""
    if config.techniques_vocabulary and techniques is None:
        techniques = load_techniques(config.techniques_vocabulary)
    elif not config.techniques_vocabulary:
        techniques = None
    if config.index != "elasticsearch":
        return EmbeddedIndex(config.index_path, techniques=techniques)
    from .index.elastic import ElasticIndex
    index = ElasticIndex(config.elasticsearch_url, config.elasticsearch_index,
                         timeout=config.elasticsearch_timeout,
                         retries=config.elasticsearch_retries,
                         api_key=config.elasticsearch_api_key,
                         ca_certs=config.elasticsearch_ca_certs, techniques=techniques)
    try:
        index.prepare()
    except IncompatibleServer:
        index.close()
        raise
    except IndexUnavailable as exc:
        log.warning("search index unavailable at start-up (will retry on use): %s", exc)
    return index


def describe_index(config: Config) -> str:
    """Where the index lives, for status output."""
    if config.index == "elasticsearch":
        return f"{redact_url(config.elasticsearch_url)} alias {config.elasticsearch_index}"
    return str(config.index_path)


@dataclass
class Gateway:
    config: Config
    store: Store
    index: SearchIndex
    clock: Callable[[], datetime] = utcnow
    techniques: Techniques = field(default_factory=lambda: load_techniques(None))

    @classmethod
    def open(cls, config: Config, clock: Callable[[], datetime] | None = None) -> "Gateway":
        """Open the store and the index. Records stamped under an older version of the
        output mappings get a new datestamp now (`Store.restamp`, docs/formats.md), so
        OAI-PMH harvesters see metadata whose rendering changed."""
        clock = clock or utcnow
        store = Store(config.store_path, render_version=RENDER_VERSION)
        restamped = store.restamp(clock())
        if restamped:
            log.info("output mappings are at version %d: %d records get a new datestamp",
                     RENDER_VERSION, restamped)
        # the technique hierarchy that makes technique queries deep, read once (the
        # packaged flat list without a `techniques_vocabulary` file)
        techniques = load_techniques(config.techniques_vocabulary or None)
        return cls(config=config, store=store, index=open_index(config, techniques),
                   clock=clock, techniques=techniques)

    @cached_property
    def panosc(self) -> Projection:
        """The PaNOSC Search API's own SQLite projection of the store (docs/panosc.md);
        `gateway.panosc.sync` brings it up to date."""
        return Projection(self.config.panosc_path)

    def render_context(self, now: datetime | None = None) -> Context:
        """What the output formats need from this gateway's configuration, at `now`
        (default: the gateway's clock)."""
        c = self.config
        return Context(now=now or self.clock(), base_url=c.public_url,
                       catalog_name=c.repository_name, datacentre_symbol=c.datacentre_symbol,
                       contact_email=c.admin_email or None)

    def close(self) -> None:
        self.store.close()
        self.index.close()
        if "panosc" in self.__dict__:
            self.panosc.close()
