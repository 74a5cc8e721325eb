"""The Elasticsearch search index: the scale-out backend, over the official client (8.x).

Layout on the server, for a configured name N (`elasticsearch_index`):

- an index template `N` giving every index `N-v<k>` its settings (the mappings are also
  given explicitly when an index is created, so an older gateway that rewrites the template
  cannot change the mappings of an index this one creates);
- versioned indices `N-v1`, `N-v2`, ... and the alias `N` in front of exactly one of them.
  The first start creates `N-v1` together with the alias in one call (`is_write_index`), so
  processes starting at once agree on it; `rebuild` fills `N-v<k+1>` aside and moves the
  alias in one `_aliases` call (add to the new one, remove from the old; the newest index
  wins should two rebuilds race), then deletes the older versions. Searches read through
  the alias;
- in each index, next to the records, one meta document holding the highest store sequence
  number applied to *that* index, written with `version = seq` (external versioning) after
  the records of the batch are acknowledged, so it only moves forward. `apply` resolves the
  index behind the alias once and sends both the records and the meta document there: if a
  rebuild swaps the alias meanwhile, the batch lands in the old index, the new one's seq does
  not claim it, and `catch_up` replays it into the new one. An index that lost writes (a
  server restored from an older state) also lost the seq that covered them;
- the index mapping's `_meta.fairgate_schema`: an index built under another
  `SCHEMA_VERSION` is refused (`IndexOutdated`) until `fairgate reindex` builds a new one;
  likewise `_meta.fairgate_techniques`, the version of the techniques vocabulary whose
  ancestors the documents carry ('' for none).

Record documents are written with `version = seq` too, so a stale writer (another process
catching up from an older seq) never overwrites a newer document; `catch_up` replays the
changes another writer applied past its batch, which corrects an older version written over
a deletion whose version the server had already forgotten (`index.gc_deletes`, 60 s).
A document the server refuses (HTTP 400-class, e.g. a mapping conflict) is logged by record
id, replaced by a `rejected` placeholder (see `elastic_schema.rejected`) and counted by
`rejected()`; the seq moves on. Every call has a timeout; transport failures, timeouts,
429/5xx and authorisation answers become `IndexUnavailable`. Messages name the server by its
URL without user-info (`config.redact_url`).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping

import elasticsearch
from elasticsearch import ApiError, Elasticsearch, TransportError, UnsupportedProductError, helpers

from mappings.record import Record

from ..config import redact_url
from . import ChangeSource, IncompatibleServer, IndexOutdated, IndexUnavailable, Query, Result
from . import elastic_query as queries
from .docs import Vocabulary
from .elastic_schema import (META_ID, SCHEMA_VERSION, doc_id, document, mappings, rejected,
                             template)

log = logging.getLogger(__name__)
CLIENT_VERSION = elasticsearch.__versionstr__
RETRY_STATUSES = (429, 502, 503, 504)
_FINE = {("index", 409), ("delete", 409), ("delete", 404)}  # newer already there / gone
_NOT_REFUSALS = {401, 403, 404, 408, 409, 429}  # auth, missing index, timeout, busy: outages
_VERSIONED = re.compile(r".+-v(\d+)")
_FIELD = re.compile(r"(?:field|introduction of) \[([^\]]{1,200})\]")


class ElasticIndex:
    """`SearchIndex` on Elasticsearch. Builds nothing and connects to nothing until used;
    thread-safe (one client, shared)."""

    def __init__(self, url: str, name: str = "fairgate", *, timeout: float = 5.0,
                 retries: int = 2, api_key: str | None = None, ca_certs: str | None = None,
                 techniques: Vocabulary | None = None):
        """`techniques`: the vocabulary whose ancestors documents carry (None: none)."""
        self._url, self.name = url, name
        self.techniques, self.mappings = techniques, mappings(techniques)
        self.url = redact_url(url)  # for messages: never the user-info
        self.timeout, self.retries = timeout, retries
        self._api_key, self._ca_certs = api_key or None, ca_certs or None
        self._client: Elasticsearch | None = None
        self._lock = threading.RLock()
        self._ready = False

    def __repr__(self) -> str:
        return f"ElasticIndex({self.url!r}, {self.name!r})"

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = Elasticsearch(
                        self._url, request_timeout=self.timeout, max_retries=self.retries,
                        retry_on_status=RETRY_STATUSES, retry_on_timeout=False,
                        api_key=self._api_key, ca_certs=self._ca_certs)
        return self._client

    # -- connection ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Check the server (major version equal to the client's, else IncompatibleServer),
        install the index template, create `N-v1` and its alias if there is no alias, and
        check that the live index has this code's schema (else IndexOutdated). Done once;
        every operation does it first. Raises IndexUnavailable when down."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            live = self._connect()
            assert live is not None
            with self._errors("checking the index schema"):
                found = self.client.indices.get_mapping(index=live).body
            meta = (found.get(live) or {}).get("mappings", {}).get("_meta") or {}
            version = meta.get("fairgate_schema")
            if version != SCHEMA_VERSION:
                raise IndexOutdated(
                    f"the Elasticsearch index {self.name!r} ({live}) was built with index "
                    f"schema {version}, this gateway uses schema {SCHEMA_VERSION}: run "
                    "`fairgate reindex` to build a current one (until then this gateway "
                    "does not use it)")
            vocabulary = self.mappings["_meta"]["fairgate_techniques"]
            if meta.get("fairgate_techniques") != vocabulary:
                raise IndexOutdated(
                    f"the Elasticsearch index {self.name!r} ({live}) was built with "
                    f"techniques vocabulary {meta.get('fairgate_techniques')!r}, this "
                    f"gateway uses {vocabulary!r}: run `fairgate reindex` to build a "
                    "current one (until then this gateway does not use it)")
            self._ready = True

    def _connect(self, *, rebuilding: bool = False) -> str | None:
        """Server check, template, alias: the name of the index behind the alias (None
        when `rebuilding` an alias that is missing while versioned indices exist)."""
        with self._errors("connect"):
            try:
                info = self.client.info()
            except UnsupportedProductError as exc:
                raise IncompatibleServer(f"{self.url} is not an Elasticsearch server: "
                                         f"{redact_url(exc.message)}") from None
            check_version(self.url, info.body)
            self.client.indices.put_index_template(name=self.name,
                                                   **template(self.name, self.mappings))
            why = ""
            for attempt in range(12):
                if (live := self._live(missing_ok=True)) is not None:
                    return live
                if versions := self._versions():
                    if rebuilding:
                        return None
                    if attempt < 10:  # another process creating N-v1 and its alias (a
                        time.sleep(0.1 * (attempt + 1))  # stand-in may not be atomic)
                        continue
                    raise IndexUnavailable(
                        f"Elasticsearch at {self.url}: the alias {self.name!r} is missing but "
                        f"indices {', '.join(versions)} exist (removed by hand?): run "
                        "`fairgate reindex` to build a new index behind the alias")
                # first start (or a server that lost its data): N-v1 with the alias, in one
                # call; a process that loses the race gets resource_already_exists
                made = self.client.options(ignore_status=400).indices.create(
                    index=f"{self.name}-v1", mappings=self.mappings,
                    aliases={self.name: {"is_write_index": True}})
                why = str(made.body.get("error", ""))[:300]
        raise IndexUnavailable(f"Elasticsearch at {self.url}: could not create the alias "
                               f"{self.name!r}: {self._scrub(why)}")

    def _live(self, *, missing_ok: bool = False) -> str | None:
        """The concrete index behind the alias (the newest, should there be several)."""
        if aliased := self._aliased():
            return aliased[-1]
        if missing_ok:
            return None
        raise IndexUnavailable(f"Elasticsearch at {self.url}: alias {self.name!r} is missing")

    def _versions(self) -> list[str]:
        """Names of this alias's versioned indices, oldest first."""
        names = self.client.options(ignore_status=404).indices.get(
            index=f"{self.name}-v*", expand_wildcards="all").body
        found = [n for n in names if _VERSIONED.fullmatch(n) and n.rsplit("-v", 1)[0]
                 == self.name]
        return sorted(found, key=_version_of)

    def _create(self) -> str:
        """A new, unaliased version after every existing one (refreshing only when
        swapped in). Two rebuilds at once collide on the name: one of them fails."""
        versions = self._versions()
        name = f"{self.name}-v{_version_of(versions[-1]) + 1 if versions else 1}"
        try:
            self.client.indices.create(index=name, mappings=self.mappings,
                                       settings={"index": {"refresh_interval": "-1"}})
        except ApiError as exc:
            if exc.meta.status == 400 and "already_exists" in str(exc.message):
                raise IndexUnavailable(f"Elasticsearch at {self.url}: {name} exists already: "
                                       "is another reindex running?") from None
            raise
        return name

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (TransportError, ApiError) as exc:
            raise IndexUnavailable(f"Elasticsearch at {self.url}: {what} failed: "
                                   f"{self._scrub(_reason(exc))}") from None

    def _scrub(self, text: str) -> str:
        text = redact_url(text)
        return text.replace(self._api_key, "***") if self._api_key else text

    # -- writing ---------------------------------------------------------------------------
    def apply(self, changes: Iterable[tuple[int, Record]]) -> int:
        changes = list(changes)
        if not changes:
            return 0
        self.prepare()
        with self._errors("indexing"):
            live = self._live()  # once: the records and the seq that covers them go together
            self._write(live, changes)
            if self._write_meta(live, max(seq for seq, _ in changes)) == "created":
                self._drop_if_stray(live)
        return len(changes)

    def _drop_if_stray(self, index: str) -> None:
        """A rebuild may swap the alias and delete `index` while a batch is being written
        to it; the server then creates it again (from the template) for the late writes.
        Such an index, older than the live one and not behind the alias, is dropped (the
        live index's seq does not cover the batch: catch_up replays it there)."""
        live = self._live(missing_ok=True)
        if live is not None and live != index and _version_of(index) < _version_of(live):
            log.info("dropping %s, recreated by writes that raced a reindex", index)
            self.client.options(ignore_status=404).indices.delete(index=index)

    def _write(self, index: str, changes: list[tuple[int, Record]]) -> None:
        """Bulk-index live records and delete deleted ones. Every item must succeed, find
        a newer version already there, or be refused as a document (then a placeholder
        takes its place) before the caller moves the seq; anything else (the server or
        the index failing) raises IndexUnavailable."""
        by_id = {doc_id(record.id): (seq, record) for seq, record in changes}
        failed, refused = self._bulk(_action(index, seq, record, self.techniques)
                                     for seq, record in changes)
        if failed:
            raise IndexUnavailable(f"Elasticsearch at {self.url} failed {len(failed)} "
                                   f"write(s), e.g. {self._scrub(failed[0])}")
        placeholders = []
        for _id, reason in refused:
            seq, record = by_id[_id]
            log.warning("Elasticsearch refused the document of record %r (change %d): %s; "
                        "it is left out of search until a new version of it is accepted",
                        record.id, seq, reason)
            placeholders.append({"_index": index, "_id": _id, "_op_type": "index",
                                 "version": seq, "version_type": "external",
                                 "_source": rejected(record.id, seq, reason)})
        if placeholders:
            failed, refused = self._bulk(placeholders)
            if failed or refused:
                raise IndexUnavailable(f"Elasticsearch at {self.url} failed to mark refused "
                                       f"documents: {self._scrub((failed or refused)[0])}")

    def _bulk(self, actions: Iterable[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        """(failures, [(_id, reason) of refused documents]) of one streaming bulk."""
        failed, refused = [], []
        for ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=500, raise_on_error=False,
                max_retries=self.retries, initial_backoff=0.5, max_backoff=5,
                retry_on_status=(429, 503)):
            op, result = next(iter(item.items()))
            status = result.get("status")
            if ok or (op, status) in _FINE:
                continue
            if op == "index" and _is_refusal(status):
                refused.append((result.get("_id"), _refusal_reason(result)))
            else:
                failed.append(f"{result.get('_id')}: {_item_reason(result)}")
        return failed, refused

    def _write_meta(self, index: str, seq: int) -> str:
        """Record `seq` as applied (never moving it back) and make the batch searchable.
        Returns the outcome ("created", "updated", or "" when a newer seq was there)."""
        done = self.client.options(ignore_status=409).index(
            index=index, id=META_ID, document={"doc": "meta", "seq": seq},
            version=seq, version_type="external", refresh=True)
        return str(done.body.get("result", "")) if done.meta.status < 300 else ""

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
        return self._count("record")

    def rejected(self) -> int:
        """Records whose documents the server refused and that have no accepted version
        since (each was logged with its id and the reason)."""
        return self._count("rejected")

    def _count(self, doc: str) -> int:
        self.prepare()
        with self._errors("counting"):
            return int(self.client.count(index=self.name, query={"term": {"doc": doc}})["count"])

    def clear(self) -> None:
        """Swap in an empty index (the old one is deleted)."""
        with self._lock:
            self._connect(rebuilding=True)
        with self._errors("clearing"):
            self._swap(self._create())

    def rebuild(self, store: ChangeSource, *, batch: int = 1000) -> int:
        """Build a new index version from the store aside, then point the alias at it in one
        atomic `_aliases` call and delete the older versions: searches always see a complete
        index. Works on an index of an older schema (that is what it is for) and next to
        live writers: what they apply meanwhile goes to the old index and is not claimed by
        the new one's seq, so the `catch_up` after the swap replays it. Returns the number
        of changes read from the store."""
        with self._lock:
            self._connect(rebuilding=True)
        with self._errors("rebuilding"):
            new, seq, done = self._create(), 0, 0
            try:
                while changes := store.changes_since(seq, batch):
                    # deletions too: a record this build wrote from an earlier batch may have
                    # been deleted since (the store keeps changing while it is read)
                    self._write(new, changes)
                    seq, done = changes[-1][0], done + len(changes)
                self._write_meta(new, seq)
            except BaseException:
                self.client.options(ignore_status=404).indices.delete(index=new)
                raise
            self._swap(new)
        self._ready = False  # check the schema of what is live now
        return done

    def _swap(self, new: str) -> None:
        """Make `new` the one index behind the alias, unless a newer complete version is
        live already (another rebuild finished first): then `new` is dropped instead.
        One `_aliases` call adds the alias to `new` and removes it from the index(es) it
        was on; should a concurrent swap (or a stand-in whose `_aliases` is not atomic)
        leave several behind the alias, the newest keeps it. Then the versions older than
        the live one are deleted (the replaced index, interrupted builds)."""
        self.client.indices.put_settings(index=new, settings={"index": {
            "refresh_interval": None}})
        self.client.indices.refresh(index=new)
        aliased = self._aliased()
        if aliased and _version_of(aliased[-1]) > _version_of(new):
            log.warning("a newer index %s went live while %s was built; keeping it",
                        aliased[-1], new)
            self.client.options(ignore_status=404).indices.delete(index=new)
            return
        self.client.indices.update_aliases(actions=[
            {"add": {"index": new, "alias": self.name, "is_write_index": True}},
            *({"remove": {"index": n, "alias": self.name}} for n in aliased if n != new)])
        aliased = self._aliased()
        if len(aliased) > 1:
            self.client.options(ignore_status=404).indices.update_aliases(actions=[
                {"remove": {"index": n, "alias": self.name}} for n in aliased[:-1]])
        live = aliased[-1] if aliased else new
        for name in self._versions():
            if _version_of(name) < _version_of(live):
                self.client.options(ignore_status=404).indices.delete(index=name)

    def _aliased(self) -> list[str]:
        """The indices behind the alias, oldest first (one, unless a swap is racing)."""
        found = self.client.options(ignore_status=404).indices.get_alias(name=self.name)
        return [] if found.meta.status == 404 else sorted(found.body, key=_version_of)

    # -- reading ---------------------------------------------------------------------------
    def search(self, query: Query, now: datetime) -> Result:
        body = queries.request(query, now)  # QueryError before any I/O
        self.prepare()
        with self._errors("searching"):
            response = self.client.search(index=self.name, **body)
        return queries.result(query, response.body)

    def stamps(self, now: datetime, *, date_from: datetime | None = None,
               date_to: datetime | None = None, after: tuple[datetime, str] | None = None,
               size: int = 100, filters: Mapping[str, tuple[str, ...]] | None = None,
               ) -> list[tuple[datetime, str]]:
        """See `SearchIndex.stamps`: `search_after` on (oai_stamp, id), never an offset."""
        body = queries.stamps_request(now, date_from, date_to, after, size, filters)
        self.prepare()
        with self._errors("listing datestamps"):
            response = self.client.search(index=self.name, **body)
        return queries.stamps_result(response.body)

    def count_stamps(self, now: datetime, *, date_from: datetime | None = None,
                     date_to: datetime | None = None,
                     filters: Mapping[str, tuple[str, ...]] | None = None) -> int:
        """See `SearchIndex.count_stamps`: the count API on the query of `stamps`."""
        query = queries.stamps_query(now, date_from, date_to, filters)
        self.prepare()
        with self._errors("counting datestamps"):
            return int(self.client.count(index=self.name, query=query)["count"])

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


def _action(index: str, seq: int, record: Record,
            techniques: Vocabulary | None) -> dict[str, Any]:
    action: dict[str, Any] = {"_index": index, "_id": doc_id(record.id), "version": seq,
                              "version_type": "external"}
    if record.deleted:
        return {**action, "_op_type": "delete"}
    return {**action, "_op_type": "index", "_source": document(record, seq, techniques)}


def _reason(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _item_reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return f"HTTP {result.get('status')}"


def _version_of(name: str) -> int:
    m = _VERSIONED.fullmatch(name)
    return int(m.group(1)) if m else 0


def _is_refusal(status: Any) -> bool:
    """A 4xx answer about the document itself (400 mapper/parsing errors and the like), as
    opposed to the server or the index being unavailable, overloaded or forbidden."""
    return isinstance(status, int) and 400 <= status < 500 and status not in _NOT_REFUSALS


def _refusal_reason(result: dict[str, Any]) -> str:
    """Why a document was refused, without its content: the error types and the field
    (Elasticsearch's reasons may quote a preview of the value)."""
    error = result.get("error")
    if not isinstance(error, dict):
        return f"HTTP {result.get('status')}"
    types = [error.get("type")]
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("type"):
        types.append(cause["type"])
    field = _FIELD.search(str(error.get("reason", "")))
    return " / ".join(str(t) for t in types) + (f" (field {field.group(1)})" if field else "")
