"""harvesters.icat.client against the ICAT stand-in: login forms, typed errors, retries with
backoff, timeouts, session expiry and refresh, and secrets kept out of messages."""
from __future__ import annotations

import json
import socket

import pytest

from gateway.sources import ICAT_OPTIONS, SourceError, build_harvester
from harvesters.icat import (BadParameterError, Credentials, IcatClient, IcatError,
                             IcatUnavailable, InternalError, NotImplementedByServer,
                             SessionError, ValidationError)
from harvesters.icat.errors import ERRORS, error_for

from .icat_standin import IcatStandin

PASSWORD = "pw-client-secret"


@pytest.fixture(scope="module")
def icat():
    with IcatStandin(max_entities=5, lifetime_minutes=60) as s:
        s.add_user("db", "reader", PASSWORD, reader_all=True)
        for i in range(8):
            s.create("Facility", name=f"F{i}")
        yield s


def client(s: IcatStandin, **kw) -> IcatClient:
    delays: list[float] = []
    options = dict(sleep=delays.append, retries=2, backoff=0.5)
    c = IcatClient(s.base_url, Credentials("db", username="reader", password=PASSWORD),
                   **{**options, **kw})
    c.delays = delays  # type: ignore[attr-defined]
    return c


def test_login_version_properties_search_logout(icat):
    icat.clear_requests()
    with client(icat) as c:
        assert c.version() == "6.2.0"
        assert c.properties()["maxEntities"] == 5 and c.max_entities == 5
        rows = c.search("SELECT f FROM Facility f WHERE f.id > 0 ORDER BY f.id LIMIT 0, 3")
        assert [list(r) for r in rows] == [["Facility"]] * 3
        assert c.logins == 1
    methods = [(m, p) for m, p, _ in icat.requests]
    assert ("POST", "/icat/session") in methods and methods[-1] == (
        "DELETE", "/icat/session/{sessionId}")
    login = next(params for m, p, params in icat.requests if p == "/icat/session")
    assert login == {"plugin": "db"}


def test_login_body_is_one_form_field():
    form = Credentials("db", username="u", password="p").login_form()
    assert list(form) == ["json"]
    assert json.loads(form["json"]) == {"plugin": "db",
                                        "credentials": [{"username": "u"}, {"password": "p"}]}
    assert json.loads(Credentials().login_form()["json"]) == {"plugin": "anon", "credentials": []}


def test_anonymous_login(icat):
    with IcatClient(icat.base_url) as c:
        c.login()
        assert c.logins == 1


@pytest.mark.parametrize("creds, message", [
    (Credentials("db", username="reader", password="wrong"), "do not match"),
    (Credentials("nosuch"), "Authenticator mnemonic nosuch not recognised"),
])
def test_failed_login_is_a_session_error(icat, creds, message):
    c = IcatClient(icat.base_url, creds, retries=0)
    with pytest.raises(SessionError, match=message) as err:
        c.login()
    assert err.value.status == 403 and err.value.code == "SESSION"


def test_errors_are_typed(icat):
    c = client(icat)
    with pytest.raises(BadParameterError) as err:
        c.search("SELECT nonsense FROM")
    assert err.value.status == 400 and not c.delays  # 4xx: not retried
    with pytest.raises(ValidationError, match="more than 5"):
        c.search("SELECT f FROM Facility f")  # 8 rows, maxEntities 5
    icat.fail_next(1, status=501, code="NOT_IMPLEMENTED")
    with pytest.raises(NotImplementedByServer):
        c.search("SELECT f FROM Facility f LIMIT 0, 1")
    assert not c.delays  # 501: not retried either


def test_error_codes_map_to_classes():
    assert {code: cls.__name__ for code, cls in ERRORS.items()} == {
        "SESSION": "SessionError", "VALIDATION": "ValidationError",
        "BAD_PARAMETER": "BadParameterError",
        "INSUFFICIENT_PRIVILEGES": "InsufficientPrivilegesError",
        "NO_SUCH_OBJECT_FOUND": "NoSuchObjectError",
        "OBJECT_ALREADY_EXISTS": "ObjectAlreadyExistsError", "INTERNAL": "InternalError",
        "NOT_IMPLEMENTED": "NotImplementedByServer"}
    err = error_for("WEIRD", "x", 418, offset=3)
    assert type(err) is IcatError and (err.code, err.status, err.offset) == ("WEIRD", 418, 3)
    assert str(error_for("INTERNAL", "db down", 500)) == "INTERNAL: db down (HTTP 500)"


def test_5xx_is_retried_with_backoff(icat):
    c = client(icat)
    icat.fail_next(2, status=503)
    assert len(c.search("SELECT f FROM Facility f LIMIT 0, 2")) == 2
    assert c.delays == [0.5, 1.0]
    icat.fail_next(3, status=500)
    with pytest.raises(InternalError, match="after 3 attempts") as err:
        c.search("SELECT f FROM Facility f LIMIT 0, 2")
    assert err.value.status == 500
    assert c.delays == [0.5, 1.0, 0.5, 1.0]


def test_backoff_is_capped(icat):
    c = client(icat, retries=4, backoff=1.0, max_backoff=3.0)
    icat.fail_next(4)
    c.search("SELECT f FROM Facility f LIMIT 0, 1")
    assert c.delays == [1.0, 2.0, 3.0, 3.0]


def test_timeouts_are_retried_then_unavailable():
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        delays: list[float] = []
        c = IcatClient(url, Credentials("db", username="u", password=PASSWORD), timeout=0.2,
                       retries=1, sleep=delays.append)
        with pytest.raises(IcatUnavailable, match="no answer within 0.2 s") as err:
            c.login()
    assert delays == [0.5] and err.value.status is None
    assert "after 2 attempts" in str(err.value) and PASSWORD not in str(err.value)


def test_connection_refused_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    c = IcatClient(f"http://127.0.0.1:{port}", retries=1, sleep=lambda _: None)
    with pytest.raises(IcatUnavailable, match="cannot connect"):
        c.version()


def test_session_expiry_logs_in_again(icat):
    c = client(icat)
    c.search("SELECT f FROM Facility f LIMIT 0, 1")
    icat.expire_sessions()
    assert len(c.search("SELECT f FROM Facility f LIMIT 0, 1")) == 1
    assert c.logins == 2


def test_session_is_refreshed_after_half_its_lifetime(icat):
    now = [0.0]
    c = client(icat, monotonic=lambda: now[0])
    c.properties()  # lifetimeMinutes 60
    c.search("SELECT f FROM Facility f LIMIT 0, 1")
    icat.clear_requests()
    now[0] = 29 * 60.0
    c.search("SELECT f FROM Facility f LIMIT 0, 1")
    assert not [r for r in icat.requests if r[0] == "PUT"]
    now[0] = 31 * 60.0
    c.search("SELECT f FROM Facility f LIMIT 0, 1")
    assert [r[:2] for r in icat.requests if r[0] == "PUT"] == [
        ("PUT", "/icat/session/{sessionId}")]
    assert c.logins == 1


def test_session_ids_and_passwords_are_scrubbed_from_messages(icat):
    c = client(icat)
    c.login()
    sid = c._session_id
    icat.sessions.clear()  # the server forgot the session: ICAT quotes its id in the message
    with pytest.raises(SessionError) as err:
        c._search(sid, "SELECT f FROM Facility f LIMIT 0, 1")
    assert sid not in str(err.value) and "***" in str(err.value)
    icat.fail_next(1, status=400, code="BAD_PARAMETER", message=f"bad {PASSWORD}")
    with pytest.raises(BadParameterError) as err:
        c.search("SELECT f FROM Facility f LIMIT 0, 1")
    assert PASSWORD not in str(err.value)
    for text in (repr(c), str(c.credentials), repr(c.credentials)):
        assert PASSWORD not in text


# --- the source builder ----------------------------------------------------------------------

def test_icat_source_options(monkeypatch, tmp_path):
    h = build_harvester("esnf", {"type": "icat", "url": "https://icat.example.org/",
                                 "facility": "ESNF", "page_size": 50})
    assert h.url == "https://icat.example.org" and h.page_size == 50
    assert h.client().credentials.plugin == "anon"
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    h = build_harvester("esnf", {"type": "icat", "url": "http://x", "plugin": "db",
                                 "username": "reader", "password_file": str(secret)})
    assert h.client().credentials.login_form()["json"].count(PASSWORD) == 1
    monkeypatch.setenv("ICAT_PW", PASSWORD)
    h = build_harvester("esnf", {"type": "icat", "url": "http://x", "plugin": "db",
                                 "username": "reader", "password_env": "ICAT_PW"})
    assert PASSWORD in h.client().credentials.login_form()["json"]


@pytest.mark.parametrize("content", [PASSWORD, PASSWORD + "\n", PASSWORD + "\r\n",
                                     PASSWORD + "\n# rotated 2026-01-01\nold-password\n"])
def test_password_file_is_its_first_line(tmp_path, content):
    """docs/configuration.md: the first line, without its line ending; later lines ignored."""
    secret = tmp_path / "pw"
    secret.write_bytes(content.encode())
    h = build_harvester("esnf", {"type": "icat", "url": "http://x", "plugin": "db",
                                 "username": "reader", "password_file": str(secret)})
    assert json.loads(h.client().credentials.login_form()["json"])["credentials"] == [
        {"username": "reader"}, {"password": PASSWORD}]


@pytest.mark.parametrize("content", ["", "\n", "\nsecond line"])
def test_password_file_with_an_empty_first_line_is_refused(tmp_path, content):
    secret = tmp_path / "pw"
    secret.write_text(content)
    with pytest.raises(SourceError, match="first line .* is empty"):
        build_harvester("esnf", {"type": "icat", "url": "http://x", "plugin": "db",
                                 "username": "reader", "password_file": str(secret)})


@pytest.mark.parametrize("options, message", [
    ({}, "'url'"),
    ({"url": "http://x", "password": PASSWORD}, "do not write the password"),
    ({"url": "ftp://x"}, "not an http"),
    ({"url": "http://x", "plugin": "db"}, "needs a username"),
    ({"url": "http://x", "username": "u"}, "anon plugin takes no username"),
    ({"url": "http://x", "plugin": "db", "username": "u", "password_env": "NO_SUCH_VAR_X"},
     "NO_SUCH_VAR_X"),
    ({"url": "http://x", "page_size": 0}, "page_size"),
    ({"url": "http://x", "timeout": "long"}, "timeout"),
    ({"url": "http://x", "facility_ror": "ESRF"}, "ROR"),
    ({"url": "http://x", "colour": "red"}, "unknown option"),
])
def test_bad_icat_source_options(options, message):
    with pytest.raises(SourceError, match=message) as err:
        build_harvester("x", {"type": "icat", **options})
    assert PASSWORD not in str(err.value)


def test_every_icat_option_is_documented():
    import re
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    section = doc[doc.index('### `type = "icat"`'):]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert ICAT_OPTIONS - {"type"} <= documented


def test_no_io_at_construction():
    c = IcatClient("http://127.0.0.1:1")  # nothing listens there; nothing is sent yet
    assert c.logins == 0 and c._http is None
