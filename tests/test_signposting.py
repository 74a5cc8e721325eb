"""FAIR Signposting read back by an independent client, the `signposting` package, over
real HTTP: level 1 from `Link` headers and from HTML `<link>` elements, level 2 from both
link set serialisations; for a public record, an embargoed one (nothing at all) and the
same record once released."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.error import HTTPError

import pytest
import requests
import signposting

from gateway.pages.negotiation import OFFERS
from gateway.pages.signposting import MAX_HEADER_AUTHORS
from mappings.formats import FORMATS
from mappings.record import Person

from .apps import build_app, live
from .render_fixtures import FIXTURES, NOW

MAXIMAL = FIXTURES["maximal"]
EMBARGOED = FIXTURES["embargoed"]
NO_DOI = replace(FIXTURES["files-no-size"], id="esrf:dataset:nodoi")
MANY_AUTHORS = replace(MAXIMAL, id="esrf:dataset:many-authors", creators=tuple(
    Person(f"Author {i}", orcid=f"https://orcid.org/0000-0001-{i // 10000:04d}-{i % 10000:04d}")
    for i in range(400)))
CLOCK = [NOW]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("signposting")
    yield from live(lambda url: build_app(data, [*FIXTURES.values(), NO_DOI, MANY_AUTHORS], CLOCK,
                                          base_url=url))


@pytest.fixture(autouse=True)
def reset_clock():
    CLOCK[0] = NOW
    yield
    CLOCK[0] = NOW


def landing(server, record) -> str:
    return f"{server.url}/{record.kind}s/{record.id}"


def expected_level1(server, record, files: bool = True) -> dict:
    url = landing(server, record)
    return {
        "citeAs": f"https://doi.org/{record.pid}" if record.pid else url,
        "describedBy": {(f"{url}?format={name}", OFFERS[name].media_type, OFFERS[name].profile)
                        for name in FORMATS},
        "items": ({(record.files.access_url, record.files.formats[0])}
                  if files and record.files and record.files.access_url else set()),
        "license": "https://spdx.org/licenses/CC-BY-4.0",
        "types": {"https://schema.org/Dataset", "https://schema.org/AboutPage"},
        "authors": {p.orcid for p in record.creators if p.orcid},
    }


def level1(found: signposting.Signposting) -> dict:
    return {
        "citeAs": found.citeAs.target,
        "describedBy": {(s.target, s.type, next(iter(s.profiles), None))
                        for s in found.describedBy},
        "items": {(s.target, s.type) for s in found.items},
        "license": found.license.target,
        "types": {s.target for s in found.types},
        "authors": {s.target for s in found.authors},
    }


@pytest.mark.parametrize("record", [MAXIMAL, NO_DOI], ids=["doi", "no-doi"])
def test_level1_in_http_headers_and_html(server, record):
    expected = expected_level1(server, record)
    http = signposting.find_signposting_http(landing(server, record))
    html = signposting.find_signposting_html(landing(server, record))
    assert level1(http) == expected
    assert level1(html) == expected
    assert {(s.target, s.type) for s in http.linksets} == {
        (f"{landing(server, record)}?format=linkset-json", "application/linkset+json"),
        (f"{landing(server, record)}?format=linkset", "application/linkset")}


def test_no_doi_means_cite_as_the_landing_page(server):
    found = signposting.find_signposting_http(landing(server, NO_DOI))
    assert found.citeAs.target == landing(server, NO_DOI)
    assert not found.items  # files without a public URL: nothing to link


@pytest.mark.parametrize("accept", ["application/linkset+json", "application/linkset"])
def test_level2_linkset_has_every_origin(server, accept):
    url = landing(server, MAXIMAL)
    linkset_url = f"{url}?format={'linkset-json' if accept.endswith('json') else 'linkset'}"
    found = signposting.find_signposting_linkset(linkset_url, accept)
    assert level1(found.for_context(url)) == expected_level1(server, MAXIMAL)
    for name in FORMATS:  # every metadata resource describes the landing page
        meta = found.for_context(f"{url}?format={name}")
        assert {s.target for s in meta.describes} == {url}
    content = found.for_context(MAXIMAL.files.access_url)
    assert content.collection.target == url
    # negotiated at the landing URL itself, with the package's own Accept header
    assert level1(signposting.find_signposting_linkset(url).for_context(url)) == level1(
        found.for_context(url))


def test_a_metadata_resource_points_back(server):
    found = signposting.find_signposting_http(f"{landing(server, MAXIMAL)}?format=datacite-xml")
    assert {s.target for s in found.describes} == {landing(server, MAXIMAL)}


def test_embargoed_record_has_no_signposting_until_released(server):
    url = landing(server, EMBARGOED)
    with pytest.raises(HTTPError) as err:
        signposting.find_signposting_http(url)
    assert err.value.code == 404 and "Link" not in err.value.headers
    for linkset in ("linkset-json", "linkset"):
        resp = requests.get(f"{url}?format={linkset}", timeout=10)
        assert resp.status_code == 404 and EMBARGOED.pid not in resp.text
    with pytest.raises(requests.HTTPError):
        signposting.find_signposting_html(url)
    CLOCK[0] = EMBARGOED.dates.release_date + timedelta(seconds=1)
    released = signposting.find_signposting_http(url)
    assert level1(released) == expected_level1(server, EMBARGOED)
    assert {s.target for s in released.items} == {EMBARGOED.files.access_url}



def test_the_link_header_stays_bounded_with_many_authors(server):
    """400 ORCID creators: the Link header (and the page's <link>s) name the first
    MAX_HEADER_AUTHORS, the link set names them all; the header stays far below the 8 KB
    that servers and proxies accept."""
    url = landing(server, MANY_AUTHORS)
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200 and len(resp.headers["Link"]) < 8192
    first = {p.orcid for p in MANY_AUTHORS.creators[:MAX_HEADER_AUTHORS]}
    http = signposting.find_signposting_http(url)
    assert {s.target for s in http.authors} == first
    assert {s.target for s in signposting.find_signposting_html(url).authors} == first
    assert resp.headers["Link"].count('rel="author"') == MAX_HEADER_AUTHORS
    # the other links do not grow with the record: one per format, at most one item
    assert len(http.describedBy) == len(FORMATS) and len(http.items) <= 1
    assert len(resp.headers["Link"].split(", <")) == (
        1 + MAX_HEADER_AUTHORS + len(FORMATS) + len(http.items) + 1 + 2 + 2)
    found = signposting.find_signposting_linkset(f"{url}?format=linkset-json")
    assert {s.target for s in found.for_context(url).authors} == {
        p.orcid for p in MANY_AUTHORS.creators}
