"""The six OAI-PMH verbs over one gateway (store, index, clock, configuration).

`Provider.respond` takes the request's arguments (every key with every value it was given)
and returns the response text: an OAI error is a normal response (HTTP 200), never an
exception that escapes.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import Callable, Iterable
from urllib.parse import quote, unquote, urlsplit

from mappings.access import Visibility, public_datestamp, visibility
from mappings.formats import Format, by_oai_prefix, oai_formats
from mappings.record import iso, parse_iso
from mappings.render import Context

from ..config import REPOSITORY_ID_RE, Config
from ..context import Gateway
from ..index import catch_up
from . import listing, sets, xml
from .args import OAIError, OAIRequest, parse
from .listing import Bounds, Item
from .tokens import ListState, Tokens, signing_key

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
FALLBACK_REPOSITORY_ID = "fairgate.invalid"
_PARENTS_KEPT = 256  # parent-set selections remembered for token pages
_LOCAL_SAFE = "-_.!~*'();/?:@&=+$,"  # the oai-identifier's local part, besides %XX


def repository_identifier(config: Config) -> str:
    """`repository_identifier`, else the host of the public URL if it is a dotted name
    (or an IPv4 address), else a placeholder under the reserved `.invalid` domain."""
    if config.repository_identifier:
        return config.repository_identifier
    host = urlsplit(config.public_url).hostname or ""
    return host if REPOSITORY_ID_RE.fullmatch(host) else FALLBACK_REPOSITORY_ID


def admin_email(config: Config) -> str:
    """`admin_email`, else the RFC 2142 role mailbox of the repository's domain."""
    return config.admin_email or f"webmaster@{repository_identifier(config)}"


class Provider:
    def __init__(self, gw: Gateway):
        config = gw.config
        self.gw = gw
        self.base_url = config.public_url + "/oai"
        self.repository = repository_identifier(config)
        self.page_size = config.oai_page_size
        self.tokens = Tokens(signing_key(config.secret_key, config.data_dir))
        self._parents: dict[tuple[str, str], sets.Selection] = {}  # see _selection
        self._lock = threading.Lock()
        self._prefix = f"oai:{self.repository}:"
        self._verbs: dict[str, Callable[[OAIRequest, datetime], list[str]]] = {
            "Identify": self._identify, "ListMetadataFormats": self._list_metadata_formats,
            "ListSets": self._list_sets, "GetRecord": self._get_record,
            "ListIdentifiers": self._list_identifiers, "ListRecords": self._list_records}

    # -- identifiers ---------------------------------------------------------------------
    def identifier(self, record_id: str) -> str:
        return self._prefix + quote(record_id, safe=_LOCAL_SAFE)

    def record_id(self, identifier: str) -> str | None:
        """The record `identifier` names, if it is exactly the form `identifier` emits
        (one item, one identifier: `test%3Adataset%3Ar1` does not name `test:dataset:r1`)."""
        if not identifier.startswith(self._prefix) or len(identifier) == len(self._prefix):
            return None
        rid = unquote(identifier[len(self._prefix):])
        return rid if self.identifier(rid) == identifier else None

    # -- the endpoint ----------------------------------------------------------------------
    def respond(self, pairs: Iterable[tuple[str, list[str]]]) -> str:
        now = self.gw.clock().replace(microsecond=0)
        request: OAIRequest | None = None
        try:
            request = parse(pairs)
            body = self._verbs[request.verb](request, now)
        except OAIError as exc:
            echo = request.args if request is not None and exc.echo else None
            return xml.response(now, self.base_url, echo, [xml.error(exc.code, exc.message)])
        return xml.response(now, self.base_url, request.args, body)

    # -- verbs -------------------------------------------------------------------------------
    def _identify(self, request: OAIRequest, now: datetime) -> list[str]:
        self._catch_up()
        first = next(listing.items(self.gw, now, Bounds(None, now), sets.Selection(None),
                                   None, 20), None)
        live = listing.first_live(self.gw, now)
        sample = self.identifier(live.id if live else "source:dataset:1")
        config = self.gw.config
        return ["<Identify>", xml.element("repositoryName", config.repository_name),
                xml.element("baseURL", self.base_url),
                "<protocolVersion>2.0</protocolVersion>",
                xml.element("adminEmail", admin_email(config)),
                f"<earliestDatestamp>{iso(first.stamp if first else now)}</earliestDatestamp>",
                "<deletedRecord>persistent</deletedRecord>",
                f"<granularity>{GRANULARITY}</granularity>",
                xml.oai_identifier(self.repository, sample), "</Identify>"]

    def _list_metadata_formats(self, request: OAIRequest, now: datetime) -> list[str]:
        if "identifier" in request.args:
            self._item(request.args["identifier"], now)  # idDoesNotExist if unknown
        out = ["<ListMetadataFormats>"]
        for fmt in oai_formats():
            assert fmt.oai is not None
            out += ["<metadataFormat>", xml.element("metadataPrefix", fmt.oai.prefix),
                    xml.element("schema", fmt.oai.schema),
                    xml.element("metadataNamespace", fmt.oai.namespace), "</metadataFormat>"]
        return [*out, "</ListMetadataFormats>"]

    def _list_sets(self, request: OAIRequest, now: datetime) -> list[str]:
        if request.token is not None:
            raise OAIError("badResumptionToken", "ListSets is answered in one response; "
                           "this repository issues no resumption tokens for it")
        self._catch_up()
        body = [f"<set>{xml.element('setSpec', spec)}{xml.element('setName', name)}</set>"
                for spec, name in sets.list_sets(self.gw.index, now)]
        return ["<ListSets>", *body, "</ListSets>"]

    def _get_record(self, request: OAIRequest, now: datetime) -> list[str]:
        fmt = self._format(request.args["metadataPrefix"])
        item = self._item(request.args["identifier"], now)
        return ["<GetRecord>", self._record(item, fmt, self.gw.render_context(now)),
                "</GetRecord>"]

    def _list_identifiers(self, request: OAIRequest, now: datetime) -> list[str]:
        return self._list(request, now, headers_only=True)

    def _list_records(self, request: OAIRequest, now: datetime) -> list[str]:
        return self._list(request, now, headers_only=False)

    # -- lists -----------------------------------------------------------------------------
    def _list(self, request: OAIRequest, now: datetime, *, headers_only: bool) -> list[str]:
        """One page of ListIdentifiers/ListRecords, with its resumptionToken element: a
        token on every page but the last, an empty one on the last of several, none on a
        list of one page."""
        if request.token is not None:
            state = self.tokens.read(request.token, request.verb, now)
        else:
            state = self._start(request, now)
        fmt = by_oai_prefix(state.prefix)
        if fmt is None or fmt.oai is None:
            raise OAIError("badResumptionToken", f"the format {state.prefix} of this "
                           "resumption token is no longer served")
        selection = self._selection(state, now, first=request.token is None)
        if selection.filters is None:
            raise OAIError("noRecordsMatch", f"no set {state.set} in this repository")
        bounds = Bounds(parse_iso(state.date_from), parse_iso(state.until))
        after = _key(state.after) if state.cursor else None
        found, more = listing.page(self.gw, now, bounds, selection, after, self.page_size)
        if not found:
            raise OAIError("noRecordsMatch", "no records match the request")
        total = state.total
        if not state.cursor and more:  # the first page of several: count the list once
            total = listing.count(self.gw, now, bounds, selection)
        total = max(total, state.cursor + len(found) + int(more))
        context = self.gw.render_context(now)
        body = [self._header(item) if headers_only else self._record(item, fmt, context)
                for item in found]
        if more:
            last = found[-1]
            following = replace(state, after=(iso(last.stamp) or "", last.id),
                                cursor=state.cursor + len(found), total=total)
            token, expires = self.tokens.issue(following, now)
            body.append(xml.resumption_token(token, cursor=state.cursor, total=total,
                                             expires=expires))
        elif request.token is not None:
            body.append(xml.resumption_token("", cursor=state.cursor, total=total,
                                             expires=None))
        return [f"<{request.verb}>", *body, f"</{request.verb}>"]

    def _start(self, request: OAIRequest, now: datetime) -> ListState:
        """The state of a new list: `until` frozen at `now` at the latest, so records
        that change while it is harvested do not shift it."""
        fmt = self._format(request.args["metadataPrefix"])
        assert fmt.oai is not None
        self._catch_up()
        until = min(request.date_until or now, now)
        return ListState(request.verb, fmt.oai.prefix, request.args.get("set"),
                         iso(request.date_from), iso(until) or "", ("", ""), 0, 0)

    # -- helpers -----------------------------------------------------------------------------
    def _selection(self, state: ListState, now: datetime, *, first: bool) -> sets.Selection:
        """The selection of the list's set. A parent set (`facility`, `technique`) asks the
        index for the values public records have: on the first page of a list only; its
        token pages reuse them (every item of the frozen list was public with the same
        values then), unless this process did not serve that first page (a few lists are
        remembered per process)."""
        key = (state.set or "", state.until)
        if not first and (known := self._parents.get(key)) is not None:
            return known
        selection = sets.select(state.set, self.gw.index, now, self.gw.techniques)
        if state.set in sets.PARENTS:
            with self._lock:
                self._parents[key] = selection
                while len(self._parents) > _PARENTS_KEPT:
                    del self._parents[next(iter(self._parents))]
        return selection

    def _format(self, prefix: str) -> Format:
        fmt = by_oai_prefix(prefix)
        if fmt is None:
            raise OAIError("cannotDisseminateFormat", f"the format {prefix} is not served; "
                           "see ListMetadataFormats")
        return fmt

    def _item(self, identifier: str, now: datetime) -> Item:
        """The item `identifier` names as a harvester may see it at `now`: a public
        record, or a deleted header (announced tombstone, record withdrawn under a new
        embargo). idDoesNotExist for anything else, embargoed records included."""
        rid = self.record_id(identifier)
        record = self.gw.store.get(rid) if rid is not None else None
        if record is not None and visibility(record, now) is Visibility.PUBLIC:
            stamp = public_datestamp(record, now)
            if stamp is not None:
                return Item(stamp, record.id, record, False)
        deleted = self.gw.store.oai_deletion(record.id, now) if record is not None else None
        if deleted is not None:  # shown with its last public version
            return Item(deleted[0], deleted[1].id, deleted[1], True)
        raise OAIError("idDoesNotExist", f"{identifier} is not an item of this repository")

    def _header(self, item: Item) -> str:
        return xml.header(self.identifier(item.id), item.stamp,
                          sets.record_sets(item.record, self.gw.techniques), item.deleted)

    def _record(self, item: Item, fmt: Format, context: Context) -> str:
        metadata = None if item.deleted else fmt.render(item.record, context)
        return xml.record(self._header(item), metadata)

    def _catch_up(self) -> None:
        """Let the index catch up with the store first if it lags (e.g. a harvest died
        between its store commit and its index write)."""
        if self.gw.index.last_seq() < self.gw.store.last_seq():
            catch_up(self.gw.store, self.gw.index)


def _key(after: tuple[str, str]) -> tuple[datetime, str]:
    """The (datestamp, id) keyset of a token."""
    stamp = parse_iso(after[0])
    if stamp is None:
        raise OAIError("badResumptionToken", "the resumption token is not valid")
    return stamp, after[1]
