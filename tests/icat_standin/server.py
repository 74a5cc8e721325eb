"""The ICAT REST stand-in: sessions, /icat/version, /icat/properties and the entityManager search
and get over an in-memory store, with ICAT's errors, maxEntities checks and read rules."""
from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from . import jpql
from .errors import IcatError, bad
from .render import Renderer
from .store import Store, StoreError
from .timefmt import Formatter, make_zone

VERSION = "6.2.0"
ROOT_ID = "simple/root"

# Read rules for users that are not "root" (reader_all), modelled on the public rules of
# python-icat's icatdump-6.2.yaml (icat-rest.md §8): public tables, investigations released
# before now, and everything hanging below a released investigation (or a published
# DataPublication). One rule list per entity; a row is readable if one rule matches it.
PUBLIC_TABLES = {"Application", "DataPublicationType", "DatafileFormat", "DatasetType", "Facility",
                 "FacilityCycle", "Instrument", "InvestigationType", "ParameterType",
                 "PermissibleStringValue", "SampleType", "Technique", "User"}
_REL = "i.releaseDate < CURRENT_TIMESTAMP"
READ_RULES: dict[str, list[str]] = {
    "Investigation": ["SELECT o FROM Investigation o WHERE o.releaseDate < CURRENT_TIMESTAMP"],
    "Dataset": [f"SELECT o FROM Dataset o JOIN o.investigation AS i WHERE {_REL}"],
    **{e: [f"SELECT o FROM {e} o JOIN o.investigation AS i WHERE {_REL}"]
       for e in ("InvestigationUser", "Keyword", "InvestigationInstrument", "InvestigationParameter",
                 "Sample", "Publication", "InvestigationFunding", "Shift",
                 "InvestigationFacilityCycle")},
    **{e: [f"SELECT o FROM {e} o JOIN o.dataset AS ds JOIN ds.investigation AS i WHERE {_REL}"]
       for e in ("DatasetParameter", "DatasetTechnique", "DatasetInstrument", "Datafile")},
    "DatafileParameter": ["SELECT o FROM DatafileParameter o JOIN o.datafile AS df "
                          f"JOIN df.dataset AS ds JOIN ds.investigation AS i WHERE {_REL}"],
    "SampleParameter": ["SELECT o FROM SampleParameter o JOIN o.sample AS s "
                        f"JOIN s.investigation AS i WHERE {_REL}"],
    "FundingReference": ["SELECT o FROM FundingReference o JOIN o.investigations AS f "
                         f"JOIN f.investigation AS i WHERE {_REL}",
                         "SELECT o FROM FundingReference o JOIN o.publications AS f "
                         "JOIN f.publication AS p WHERE p.publicationDate < CURRENT_TIMESTAMP"],
    "DataPublication": ["SELECT o FROM DataPublication o "
                        "WHERE o.publicationDate < CURRENT_TIMESTAMP"],
    **{e: [f"SELECT o FROM {e} o JOIN o.publication AS p "
           "WHERE p.publicationDate < CURRENT_TIMESTAMP"]
       for e in ("DataPublicationUser", "DataPublicationDate", "RelatedItem",
                 "DataPublicationFunding")},
    "Subject": ["SELECT o FROM Subject o JOIN o.dataPublication AS p "
                "WHERE p.publicationDate < CURRENT_TIMESTAMP"],
    "Affiliation": ["SELECT o FROM Affiliation o JOIN o.user AS u JOIN u.publication AS p "
                    "WHERE p.publicationDate < CURRENT_TIMESTAMP"],
}

AUTHENTICATORS = {
    "db": {"mnemonic": "db", "keys": [{"name": "username"}, {"name": "password", "hide": True}],
           "friendly": "Database"},
    "simple": {"mnemonic": "simple",
               "keys": [{"name": "username"}, {"name": "password", "hide": True}],
               "friendly": "Simple", "admin": True},
    "anon": {"mnemonic": "anon", "keys": [], "friendly": "Anonymous"},
}


class _Session:
    __slots__ = ("user", "expires")

    def __init__(self, user: str, expires: datetime) -> None:
        self.user = user
        self.expires = expires


class IcatStandin:
    """An ICAT 6.2 REST server on loopback, fed from a python-icat dump and/or a generator."""

    def __init__(self, *, max_entities: int = 10000, lifetime_minutes: int = 120,
                 zone: str = "+01:00", clock: Callable[[], datetime] | None = None) -> None:
        self.max_entities = max_entities
        self.lifetime_minutes = lifetime_minutes
        self.zone = make_zone(zone)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.store = Store(self._now, self.zone)
        self.fmt = Formatter(self.zone)
        self.users: dict[tuple[str, str], str] = {}        # (plugin, username) -> password
        self.root_users: set[str] = set()
        self.public_tables = set(PUBLIC_TABLES)
        self.read_rules = {k: list(v) for k, v in READ_RULES.items()}
        self._rule_cache: dict[str, jpql.Compiled] = {}
        self.sessions: dict[str, _Session] = {}
        self._lock = threading.RLock()            # store + sessions
        self._req_lock = threading.Lock()
        self._requests: list[tuple[str, str, dict]] = []
        self._fail: list[tuple[int, str]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None
        self.writer = ROOT_ID

    # ------------------------------------------------------------------ time
    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("clock() must return an aware datetime")
        return now.astimezone(timezone.utc)

    # ------------------------------------------------------------------ data
    def load_dump(self, path) -> dict[str, int]:
        from .dump import load_dump
        with self._lock:
            return load_dump(self, path)

    def generate(self, n_datasets: int, *, seed: int = 2026, datasets_per_investigation: int = 20,
                 parameters_per_dataset: int = 3, datafiles_per_dataset: int = 1) -> dict[str, int]:
        import gc

        from .generate import generate
        with self._lock:
            enabled = gc.isenabled()
            gc.disable()    # hundreds of thousands of small dicts: the collector only slows us
            try:
                return generate(self, n_datasets, seed=seed,
                                datasets_per_investigation=datasets_per_investigation,
                                parameters_per_dataset=parameters_per_dataset,
                                datafiles_per_dataset=datafiles_per_dataset)
            finally:
                # keep the (large, acyclic) store out of later collections: full collections
                # over ~10^6 rows would otherwise add 100 ms pauses to requests
                gc.freeze()
                if enabled:
                    gc.enable()

    def create(self, entity_type: str, **fields: Any) -> int:
        with self._lock:
            try:
                self.store.entity(entity_type)
                return self.store.insert(entity_type, fields, user=self.writer, when=self._now())
            except StoreError as e:
                raise ValueError(str(e)) from None

    def update(self, entity_type: str, entity_id: int, **fields: Any) -> None:
        with self._lock:
            try:
                self.store.update(entity_type, entity_id, fields, user=self.writer,
                                  when=self._now())
            except StoreError as e:
                raise ValueError(str(e)) from None

    def delete(self, entity_type: str, entity_id: int) -> None:
        with self._lock:
            try:
                self.store.delete(entity_type, entity_id)
            except StoreError as e:
                raise ValueError(str(e)) from None

    def get(self, entity_type: str, entity_id: int) -> dict[str, Any]:
        with self._lock:
            self.store.entity(entity_type)
            row = self.store.rows[entity_type].get(entity_id)
            if row is None:
                raise KeyError(f"{entity_type}[id:{entity_id}] not found.")
            return dict(row)

    def find(self, entity_type: str, **field_equals: Any) -> list[int]:
        with self._lock:
            ent = self.store.entity(entity_type)
            want = {}
            for k, v in field_equals.items():
                if k in ent.attrs:
                    want[k] = self.store.coerce(ent, k, v)
                else:
                    want[k] = v
            rows = self.store.rows[entity_type]
            return [i for i in self.store.ids[entity_type]
                    if all(rows[i].get(k) == v for k, v in want.items())]

    def count(self, entity_type: str) -> int:
        return len(self.store.ids[entity_type])

    # ------------------------------------------------------------------ users and sessions
    def add_user(self, plugin: str, username: str, password: str, *,
                 reader_all: bool = False) -> str:
        if plugin not in ("db", "simple"):
            raise ValueError("users live in the 'db' or 'simple' authenticator")
        self.users[(plugin, username)] = password
        name = f"{plugin}/{username}"
        if reader_all:
            self.root_users.add(name)
        return name

    def expire_sessions(self) -> None:
        with self._lock:
            past = self._now() - timedelta(seconds=1)
            for s in self.sessions.values():
                s.expires = past

    def _login(self, body: str | None) -> dict:
        if body is None:
            raise bad("json must not be null")
        try:
            data = json.loads(body)
        except ValueError as e:
            raise bad(f"JsonException {e}") from None
        plugin = data.get("plugin") if isinstance(data, dict) else None
        creds: dict[str, str] = {}
        for c in (data.get("credentials") or []) if isinstance(data, dict) else []:
            if isinstance(c, dict):
                creds.update({k: v for k, v in c.items() if isinstance(v, str)})
        if plugin not in AUTHENTICATORS:
            raise IcatError("SESSION", f"Authenticator mnemonic {plugin} not recognised")
        if plugin == "anon":
            user = "anon/anon"
        else:
            username, password = creds.get("username"), creds.get("password")
            if username is None or password is None:
                raise IcatError("SESSION", "The username and password must be specified")
            if self.users.get((plugin, username)) != password:
                raise IcatError("SESSION", "The username and password do not match")
            user = f"{plugin}/{username}"
        sid = str(uuid.uuid4())
        with self._lock:
            self.sessions[sid] = _Session(
                user, self._now() + timedelta(minutes=self.lifetime_minutes))
        return {"sessionId": sid}

    def _session(self, sid: str | None) -> _Session:
        if not sid:
            raise IcatError("SESSION", "Session Id cannot be null or empty.")
        s = self.sessions.get(sid)
        if s is None:
            raise IcatError("SESSION", f"Unable to find user by sessionid: {sid}")
        if s.expires <= self._now():
            raise IcatError("SESSION", f"Session id:{sid} has expired")
        return s

    # ------------------------------------------------------------------ authorization
    def _readable_fn(self, user: str, now: datetime) -> Callable | None:
        if user in self.root_users:
            return None
        memo: dict[tuple[str, int], bool] = {}
        ctx = jpql.Context(self.store, user=user, now=now, readable=None)
        public = self.public_tables

        def readable(etype: str, row: dict) -> bool:
            if etype in public:
                return True
            key = (etype, row["id"])
            ok = memo.get(key)
            if ok is None:
                ok = False
                for rule in self.read_rules.get(etype, ()):
                    if self._rule(rule).matches(row, ctx):
                        ok = True
                        break
                memo[key] = ok
            return ok
        return readable

    def _rule(self, text: str) -> jpql.Compiled:
        c = self._rule_cache.get(text)
        if c is None:
            c = self._rule_cache[text] = jpql.Compiled(jpql.parse(text, self.store.schema),
                                                       self.store)
        return c

    # ------------------------------------------------------------------ queries
    def search(self, user: str, query: str | None) -> Any:
        """Run a search as `user` and return the JSON-ready result (what the server sends)."""
        if query is None:
            raise bad("query is not set")
        if not query.strip().upper().startswith("SELECT"):
            raise bad("The concise (pre-JPQL) query syntax is not supported by this stand-in: "
                      + query)
        with self._lock:
            q = jpql.parse(query, self.store.schema)
            c = jpql.Compiled(q, self.store)
            now = self._now()
            readable = self._readable_fn(user, now)
            ctx = jpql.Context(self.store, user=user, now=now, readable=readable)
            rows, entities = c.run(ctx, self.max_entities)
            r = Renderer(self.store, self.fmt, readable, self.max_entities)
            if entities:
                etype = c.select_paths[0].etype
                out = []
                for row in rows:
                    if row is None:
                        r.bump()
                        out.append(None)
                    else:
                        out.append({etype: r.entity(etype, row, c.include)})
                return out
            types = [rp.etype if rp.last is None else None for rp in c.select_paths]
            if len(types) == 1:
                return [r.value(v, types[0]) for v in rows]
            return [[r.value(v, t) for v, t in zip(row, types)] for row in rows]

    def get_by_id(self, user: str, query: str | None, entity_id: str) -> dict:
        if query is None:
            raise bad("query is not set")
        try:
            rid = int(entity_id)
        except ValueError:
            raise bad(f"id must be an integer: {entity_id}") from None
        with self._lock:
            g = jpql.parse_get(query, self.store.schema)
            names = {g.entity.upper()} | ({g.var} if g.var else set())
            inc = jpql.build_include(self.store.schema, g.entity, g.include, names) \
                if g.include is not None else None
            row = self.store.rows[g.entity].get(rid)
            if row is None:
                raise IcatError("NO_SUCH_OBJECT_FOUND", f"{g.entity}[id:{rid}] not found.")
            readable = self._readable_fn(user, self._now())
            if readable is not None and not readable(g.entity, row):
                raise IcatError("INSUFFICIENT_PRIVILEGES",
                                f"READ access to this {g.entity} is not allowed.")
            r = Renderer(self.store, self.fmt, readable, self.max_entities)
            return {g.entity: r.entity(g.entity, row, inc)}

    # ------------------------------------------------------------------ faults
    def fail_next(self, n: int, status: int = 503, code: str = "INTERNAL",
                  message: str = "Injected failure") -> None:
        with self._req_lock:
            self._fail = [(status, code, message)] * n

    def _take_failure(self):
        with self._req_lock:
            if self._fail:
                return self._fail.pop(0)
        return None

    @property
    def requests(self) -> list[tuple[str, str, dict]]:
        with self._req_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._req_lock:
            self._requests.clear()

    def _record(self, method: str, path: str, params: dict) -> None:
        with self._req_lock:
            self._requests.append((method, path, params))

    # ------------------------------------------------------------------ server
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        self._serve(self.port or 0)
        return self.base_url

    def _serve(self, port: int) -> None:
        server = _Server(("127.0.0.1", port), _Handler)
        server.standin = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"icat-standin-{self.port}", daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(5)

    def stop(self) -> None:
        self._halt()

    def set_down(self, down: bool) -> None:
        """While down nothing listens on the port (connection refused); up again on the same port."""
        if down:
            self._halt()
        elif self._server is None:
            if self.port is None:
                raise RuntimeError("start() first")
            self._serve(self.port)

    @property
    def is_down(self) -> bool:
        return self._server is None

    def __enter__(self) -> "IcatStandin":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = True
    standin: IcatStandin

    def __init__(self, *a, **kw) -> None:
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        super().__init__(*a, **kw)

    def close_connections(self) -> None:
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_SESSION_PATH = re.compile(r"^/icat/session/([^/]+)$")
_USER_PATH = re.compile(r"^/icat/user/(.+)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.conns_lock:
            self.server.conns.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.conns_lock:
                self.server.conns.discard(self.connection)

    def log_message(self, *args) -> None:   # quiet
        pass

    # -- plumbing
    def _send(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(
            body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        # headers and body in one write: no Nagle / delayed-ACK stalls on keep-alive connections
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.flush_headers()

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        s = self.server.standin
        url = urlsplit(self.path)
        path = unquote(url.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._body()
        form = {}
        if body and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"),
                                                  keep_blank_values=True).items()}
        logged = {k: v for k, v in params.items() if k != "sessionId"}
        m = _SESSION_PATH.match(path)
        log_path = "/icat/session/{sessionId}" if m else path
        if path == "/icat/session" and method == "POST":
            try:
                logged = {"plugin": json.loads(form.get("json", "{}")).get("plugin")}
            except (ValueError, AttributeError):
                logged = {}
        s._record(method, log_path, logged)
        try:
            status, out = self._route(s, method, path, params, form, m)
        except IcatError as e:
            status, out = e.status, e.body()
        except Exception as e:   # noqa: BLE001 - ICAT maps anything else to INTERNAL
            status, out = 500, {"code": "INTERNAL", "message": f"{type(e).__name__} {e}"}
        self._send(status, out)

    def _route(self, s: IcatStandin, method: str, path: str, params: dict, form: dict, m):
        if path == "/icat/entityManager":
            fail = s._take_failure()
            if fail is not None:
                status, code, message = fail
                return status, {"code": code, "message": message}
            if method == "GET":
                user = s._session(params.get("sessionId")).user
                if "id" in params:
                    return 200, s.get_by_id(user, params.get("query"), params["id"])
                return 200, s.search(user, params.get("query"))
            raise IcatError("NOT_IMPLEMENTED", "Writes over REST are not implemented by the "
                            "ICAT stand-in (use IcatStandin.create/update/delete).")
        if path == "/icat/session" and method == "POST":
            return 200, s._login(form.get("json"))
        if m is not None:
            sid = m.group(1)
            if method == "GET":
                with s._lock:
                    sess = s._session(sid)
                    left = (sess.expires - s._now()).total_seconds() / 60.0
                return 200, {"userName": sess.user, "remainingMinutes": left}
            if method == "PUT":
                with s._lock:
                    sess = s._session(sid)
                    sess.expires = s._now() + timedelta(minutes=s.lifetime_minutes)
                return 204, None
            if method == "DELETE":
                with s._lock:
                    s._session(sid)
                    del s.sessions[sid]
                return 204, None
        if path == "/icat/version" and method == "GET":
            return 200, {"version": VERSION}
        if path == "/icat/properties" and method == "GET":
            return 200, {"maxEntities": s.max_entities, "lifetimeMinutes": s.lifetime_minutes,
                         "authenticators": list(AUTHENTICATORS.values()),
                         "containerType": "Payara"}
        um = _USER_PATH.match(path)
        if um is not None and method == "GET":
            name = um.group(1)
            with s._lock:
                now = s._now()
                logged_in = any(x.user == name and x.expires > now for x in s.sessions.values())
            return 200, {"loggedIn": logged_in}
        raise IcatError("NOT_IMPLEMENTED", "Operation not implemented by this ICAT server.")
