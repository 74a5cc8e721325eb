"""The Elasticsearch search index: the scale-out backend, over the official client (8.x).

Layout on the server, for a configured name N (`elasticsearch_index`):

- an index template `N` giving every index `N-v<k>` its settings and explicit mappings;
- versioned indices `N-v1`, `N-v2`, ... and the alias `N` in front of exactly one of them.
  Reads and writes go through the alias; `rebuild` fills a new version aside and swaps the
  alias in one `_aliases` call, then deletes the old version;
- in the aliased index, next to the records, one meta document holding the highest store
  sequence number applied. It is written after the records of a batch are acknowledged and
  with `version = seq` (external versioning), so it only moves forward, it moves with the
  index at a swap, and an index that lost writes (a server restored from an older state)
  also lost the seq that covered them: `catch_up` replays them.

Record documents are written with `version = seq` too, so a stale writer (another process
catching up from an older seq) never overwrites a newer document. Every call has a timeout;
transport failures, timeouts and 429/5xx answers become `IndexUnavailable`.
"""
from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterable, Iterator

import elasticsearch
from elasticsearch import ApiError, Elasticsearch, TransportError, UnsupportedProductError, helpers

from mappings.record import Record

from . import ChangeSource, IncompatibleServer, IndexUnavailable, Query, Result
from . import elastic_query as queries
from .elastic_schema import META_ID, doc_id, document, template

log = logging.getLogger(__name__)
CLIENT_VERSION = elasticsearch.__versionstr__
RETRY_STATUSES = (429, 502, 503, 504)
_FINE = {("index", 409), ("delete", 409), ("delete", 404)}  # newer already there / gone


class ElasticIndex:
    """`SearchIndex` on Elasticsearch. Builds nothing and connects to nothing until used;
    thread-safe (one client, shared)."""

    def __init__(self, url: str, name: str = "fairgate", *, timeout: float = 5.0,
                 retries: int = 2, api_key: str | None = None, ca_certs: str | None = None):
        self.url, self.name = url, name
        self.timeout, self.retries = timeout, retries
        self._api_key, self._ca_certs = api_key or None, ca_certs or None
        self._client: Elasticsearch | None = None
        self._lock = threading.RLock()
        self._ready = False

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = Elasticsearch(
                        self.url, request_timeout=self.timeout, max_retries=self.retries,
                        retry_on_status=RETRY_STATUSES, retry_on_timeout=False,
                        api_key=self._api_key, ca_certs=self._ca_certs)
        return self._client

    # -- connection ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Check the server (major version equal to the client's, else IncompatibleServer),
        install the index template and create the first index and its alias if missing.
        Done once; every operation does it first. Raises IndexUnavailable when down."""
        if self._ready:
            return
        with self._lock, self._errors("connect"):
            if self._ready:
                return
            try:
                info = self.client.info()
            except UnsupportedProductError as exc:
                raise IncompatibleServer(f"{self.url} is not an Elasticsearch server: "
                                         f"{exc.message}") from None
            check_version(self.url, info.body)
            self.client.indices.put_index_template(name=self.name, **template(self.name))
            if not self.client.indices.exists_alias(name=self.name):
                self._create(aliased=True)
            self._ready = True

    def _versions(self) -> list[str]:
        """Names of this alias's versioned indices, oldest first."""
        names = self.client.indices.get(index=f"{self.name}-v*").body
        pattern = re.compile(re.escape(self.name) + r"-v(\d+)")
        found = [(int(m.group(1)), n) for n in names if (m := pattern.fullmatch(n))]
        return [n for _, n in sorted(found)]

    def _create(self, *, aliased: bool) -> str:
        versions = self._versions()
        last = int(versions[-1].rsplit("-v", 1)[1]) if versions else 0
        name = f"{self.name}-v{last + 1}"
        aliases = {self.name: {}} if aliased else None
        settings = None if aliased else {"index": {"refresh_interval": "-1"}}
        self.client.indices.create(index=name, aliases=aliases, settings=settings)
        return name

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (TransportError, ApiError) as exc:
            raise IndexUnavailable(f"Elasticsearch at {self.url}: {what} failed: "
                                   f"{_reason(exc)}") from None

    # -- writing ---------------------------------------------------------------------------
    def apply(self, changes: Iterable[tuple[int, Record]]) -> int:
        changes = list(changes)
        if not changes:
            return 0
        self.prepare()
        with self._errors("indexing"):
            self._write(self.name, changes, require_alias=True)
            self._write_meta(self.name, max(seq for seq, _ in changes))
        return len(changes)

    def _write(self, index: str, changes: list[tuple[int, Record]], **params: Any) -> None:
        """Bulk-index live records and delete deleted ones; every item must succeed (or
        find a newer version already there) before the caller moves the seq."""
        actions = (_action(index, seq, record) for seq, record in changes)
        failed = []
        for ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=500, raise_on_error=False,
                max_retries=self.retries, initial_backoff=0.5, max_backoff=5,
                retry_on_status=(429, 503), **params):
            op, result = next(iter(item.items()))
            if not ok and (op, result.get("status")) not in _FINE:
                failed.append(f"{result.get('_id')}: {_item_reason(result)}")
        if failed:
            raise IndexUnavailable(f"Elasticsearch at {self.url} refused {len(failed)} "
                                   f"document(s), e.g. {failed[0]}")

    def _write_meta(self, index: str, seq: int) -> None:
        """Record `seq` as applied (never moving it back) and make the batch searchable."""
        self.client.options(ignore_status=409).index(
            index=index, id=META_ID, document={"doc": "meta", "seq": seq},
            version=seq, version_type="external", refresh=True)

    def last_seq(self) -> int:
        """The highest store seq applied. A missing alias (a server that lost its data) is
        created again, empty: the index then catches up from 0."""
        for attempt in (1, 2):
            self.prepare()
            with self._errors("reading the applied sequence number"):
                found = self.client.options(ignore_status=404).get(index=self.name, id=META_ID)
            if found.meta.status == 404 and "error" in found.body:  # no such index
                log.warning("Elasticsearch alias %r is missing; creating it again", self.name)
                self._ready = False
                continue
            return int(found["_source"]["seq"]) if found.body.get("found") else 0
        raise IndexUnavailable(f"Elasticsearch at {self.url}: alias {self.name!r} is missing")

    def count(self) -> int:
        self.prepare()
        with self._errors("counting"):
            return int(self.client.count(index=self.name,
                                         query={"term": {"doc": "record"}})["count"])

    def clear(self) -> None:
        """Swap in an empty index (the old one is deleted)."""
        self.prepare()
        with self._errors("clearing"):
            self._swap(self._create(aliased=False), refresh=True)

    def rebuild(self, store: ChangeSource, *, batch: int = 1000) -> int:
        """Build a new index version from the store aside, then point the alias at it in one
        atomic `_aliases` call and delete the old version: searches always see a complete
        index. Returns the number of changes read from the store."""
        self.prepare()
        with self._errors("rebuilding"):
            new, seq, done = self._create(aliased=False), 0, 0
            try:
                while changes := store.changes_since(seq, batch):
                    self._write(new, [(s, r) for s, r in changes if not r.deleted])
                    seq, done = changes[-1][0], done + len(changes)
                self._write_meta(new, seq)
            except BaseException:
                self.client.options(ignore_status=404).indices.delete(index=new)
                raise
            self._swap(new, refresh=True)
        return done

    def _swap(self, new: str, *, refresh: bool) -> None:
        if refresh:
            self.client.indices.put_settings(index=new, settings={"index": {
                "refresh_interval": None}})
            self.client.indices.refresh(index=new)
        found = self.client.options(ignore_status=404).indices.get_alias(name=self.name)
        old = [] if found.meta.status == 404 else [n for n in found.body if n != new]
        actions: list[dict[str, Any]] = [{"remove": {"index": n, "alias": self.name}}
                                         for n in old]
        actions.append({"add": {"index": new, "alias": self.name}})
        self.client.indices.update_aliases(actions=actions)
        for name in self._versions():  # the old one, and any left by an interrupted build
            if name != new:
                self.client.options(ignore_status=404).indices.delete(index=name)

    # -- reading ---------------------------------------------------------------------------
    def search(self, query: Query, now: datetime) -> Result:
        body = queries.request(query, now)  # QueryError before any I/O
        self.prepare()
        with self._errors("searching"):
            response = self.client.search(index=self.name, **body)
        return queries.result(query, response.body)

    def content_hashes(self) -> dict[str, str]:
        """{record id: content hash} of every indexed record (checks and tests), read
        with search_after on `id`."""
        self.prepare()
        out: dict[str, str] = {}
        after: list[Any] | None = None
        with self._errors("listing"):
            while True:
                extra = {"search_after": after} if after else {}
                hits = self.client.search(
                    index=self.name, query={"term": {"doc": "record"}}, sort=[{"id": "asc"}],
                    size=1000, source=["id", "content_hash"], track_total_hits=False,
                    **extra)["hits"]["hits"]
                if not hits:
                    return out
                out.update((h["_source"]["id"], h["_source"].get("content_hash", ""))
                           for h in hits)
                after = hits[-1]["sort"]

    def drop(self) -> None:
        """Delete every index version, the alias and the template (tests, decommissioning)."""
        with self._errors("dropping"):
            for name in self._versions():
                self.client.options(ignore_status=404).indices.delete(index=name)
            self.client.options(ignore_status=404).indices.delete_index_template(
                name=self.name)
        self._ready = False

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self._ready = False


def check_version(url: str, info: dict[str, Any]) -> None:
    """Refuse a server whose major version differs from the client's (the stand-ins accept
    any compatibility header, so the client alone would not notice)."""
    version = info.get("version") or {}
    number, flavour = str(version.get("number", "unknown")), version.get("distribution")
    major = CLIENT_VERSION.split(".")[0]
    if flavour not in (None, "elasticsearch") or number.split(".")[0] != major:
        raise IncompatibleServer(
            f"the search server at {url} is {flavour or 'Elasticsearch'} {number}, but this "
            f"gateway uses the Elasticsearch {CLIENT_VERSION} client: it needs "
            f"Elasticsearch {major}.x (same major version)")


def _action(index: str, seq: int, record: Record) -> dict[str, Any]:
    action: dict[str, Any] = {"_index": index, "_id": doc_id(record.id), "version": seq,
                              "version_type": "external"}
    if record.deleted:
        return {**action, "_op_type": "delete"}
    return {**action, "_op_type": "index", "_source": document(record, seq)}


def _reason(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _item_reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return f"HTTP {result.get('status')}"
