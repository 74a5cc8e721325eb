"""Fixtures every test module may use: the index backends (every surface runs on each
backend in BACKENDS) and the app's clock.

Elasticsearch tests talk over real HTTP to the server named by FAIRGATE_TEST_ES_URL (the
test command starts a noida-db stand-in and sets it: `python -m tests.es_server python -m
pytest`). Without it they are skipped with the reason, except under CI (CI=true), where a
missing or unreachable server is a failure. Each test gets index names of its own and
drops them afterwards.
"""
from __future__ import annotations

import os
import uuid
from typing import Any, Callable, Iterator

import pytest
import rdflib
import requests

from .es_server import URL_VARIABLE
from .factories import NOW
from .schemaorg_judge import Vocabulary, google_required_shape, schemaorg_vocabulary

BACKENDS = ["embedded", "elasticsearch"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the Elasticsearch tests must run)", pytrace=False)
    pytest.skip(f"{reason}; run the tests with `python -m tests.es_server python -m pytest`")


@pytest.fixture(scope="session")
def es_url() -> str:
    url = os.environ.get(URL_VARIABLE, "").rstrip("/")
    if not url:
        _unavailable(f"no Elasticsearch server: {URL_VARIABLE} is not set")
    try:
        requests.get(url, timeout=5).raise_for_status()
    except requests.RequestException as exc:
        _unavailable(f"Elasticsearch server at {url} does not answer: {exc}")
    return url


def unique_name() -> str:
    return f"fgtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def es_index(es_url: str) -> Iterator[Callable[..., Any]]:
    """Factory of `ElasticIndex`es with fresh names, all dropped after the test."""
    from gateway.index.elastic import ElasticIndex
    made: list[ElasticIndex] = []

    def factory(name: str | None = None, **options: Any) -> ElasticIndex:
        options.setdefault("timeout", 30)
        index = ElasticIndex(es_url, name or unique_name(), **options)
        made.append(index)
        return index

    yield factory
    for index in made:
        index.drop()
        index.close()


@pytest.fixture(params=BACKENDS)
def backend_config(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Config keys selecting one backend (with a fresh Elasticsearch alias)."""
    if request.param == "embedded":
        yield {"index": "embedded"}
        return
    url = request.getfixturevalue("es_url")
    name = unique_name()
    yield {"index": "elasticsearch", "elasticsearch_url": url, "elasticsearch_index": name,
           "elasticsearch_timeout": 30}
    from gateway.index.elastic import ElasticIndex
    leftover = ElasticIndex(url, name)
    leftover.drop()
    leftover.close()


@pytest.fixture
def clock() -> list:
    """The app's clock: a one-item list holding NOW that a test may move
    (`create_app(..., clock=lambda: clock[0])`)."""
    return [NOW]


@pytest.fixture
def vocab() -> Vocabulary:
    """The schema.org v30 vocabulary as a judge (tests/schemaorg_judge.py)."""
    return schemaorg_vocabulary()


@pytest.fixture
def google_required() -> rdflib.Graph:
    """Google Dataset Search's required shape (science-on-schema.org)."""
    return google_required_shape()
