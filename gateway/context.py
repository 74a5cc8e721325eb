"""The wired application objects (store, index, clock) that one gateway instance uses.

Built explicitly by `create_app` and the CLI; nothing is created at import time.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from mappings.formats import RENDER_VERSION
from mappings.render import Context

from .clock import utcnow
from .config import Config, redact_url
from .index import IncompatibleServer, IndexUnavailable, SearchIndex
from .index.embedded import EmbeddedIndex
from .store import Store

log = logging.getLogger(__name__)


def open_index(config: Config) -> SearchIndex:
    """The configured index backend. Elasticsearch is checked at once (a server of another
    major version is refused with IncompatibleServer); if it is down, the gateway starts
    anyway and the index is tried again on each use."""
    if config.index != "elasticsearch":
        return EmbeddedIndex(config.index_path)
    from .index.elastic import ElasticIndex
    index = ElasticIndex(config.elasticsearch_url, config.elasticsearch_index,
                         timeout=config.elasticsearch_timeout,
                         retries=config.elasticsearch_retries,
                         api_key=config.elasticsearch_api_key,
                         ca_certs=config.elasticsearch_ca_certs)
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
        return cls(config=config, store=store, index=open_index(config), clock=clock)

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
