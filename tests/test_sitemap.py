"""/sitemap.xml (and its index beyond MAX_URLS), /robots.txt: only the records public now,
with their public datestamp as lastmod; on both index backends (the URLs come from the
index's datestamp listing)."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from lxml import etree

from gateway.pages import sitemap
from gateway.store import Batch
from mappings.access import Visibility, public_datestamp, visibility
from mappings.record import iso
from mappings.render import landing_path

from .factories import corpus, make_record
from .apps import app_over
from .render_fixtures import NOW

BASE = "https://data.example.org/gw"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
RECORDS = corpus(40)


@pytest.fixture
def app(tmp_path, clock, backend_config):
    with app_over(tmp_path, RECORDS, clock, base_url=BASE, **backend_config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def fetch(client, url: str) -> etree._Element:
    resp = client.get(url.removeprefix(BASE))
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    return etree.fromstring(resp.data)


def entries(root) -> dict[str, str]:
    assert etree.QName(root).localname == "urlset" and root.nsmap[None] == NS["s"]
    return {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
            for u in root.findall("s:url", NS)}


def expected(app, now) -> dict[str, str]:
    store = app.extensions["fairgate"].store
    out = {}
    for rec in store.get_many([r.id for r in RECORDS]).values():
        if visibility(rec, now) is Visibility.PUBLIC:
            out[f"{BASE}/{rec.kind}s/{rec.id}"] = iso(public_datestamp(rec, now))
    return out


def test_sitemap_lists_exactly_the_public_records(app, client, clock):
    got = entries(fetch(client, "/sitemap.xml"))
    assert got == expected(app, NOW)
    hidden = [r for r in RECORDS if r.dates.release_date and r.dates.release_date > NOW]
    assert hidden and not any(r.id in unquote(u) for r in hidden for u in got)
    # an embargo ends: the record is listed, lastmod = its release
    clock[0] = NOW + timedelta(days=31)
    later = entries(fetch(client, "/sitemap.xml"))
    assert len(later) == len(RECORDS) and later == expected(app, clock[0])
    assert later[f"{BASE}/{hidden[0].kind}s/{hidden[0].id}"] == iso(hidden[0].dates.release_date)


def test_deleted_records_leave_the_sitemap(app, client):
    gw = app.extensions["fairgate"]
    from gateway.index import catch_up
    victim = next(r for r in RECORDS if visibility(r, NOW) is Visibility.PUBLIC)
    gw.store.apply_batch("test", Batch(deletes=[victim.id]), NOW)
    catch_up(gw.store, gw.index)
    assert not [u for u in entries(fetch(client, "/sitemap.xml")) if victim.id in u]


def test_a_large_sitemap_becomes_an_index(app, client, monkeypatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 7)
    monkeypatch.setattr(sitemap, "CHUNK", 4)  # keyset paging across chunk edges too
    root = fetch(client, "/sitemap.xml")
    assert etree.QName(root).localname == "sitemapindex"
    files = [s.findtext("s:loc", namespaces=NS) for s in root.findall("s:sitemap", NS)]
    want = expected(app, NOW)
    assert files == [f"{BASE}/sitemap-{n}.xml" for n in range(1, -(-len(want) // 7) + 1)]
    union: dict[str, str] = {}
    for loc in files:
        part = entries(fetch(client, loc))
        assert 1 <= len(part) <= 7 and not union.keys() & part.keys()
        union |= part
    assert union == want
    assert client.get(f"/sitemap-{len(files) + 1}.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404


def reads(app, monkeypatch) -> list[int]:
    """Spy on the index: how many (datestamp, id) pairs each `stamps` call returned."""
    index = app.extensions["fairgate"].index
    calls: list[int] = []
    real = index.stamps

    def stamps(*args, **kwargs):
        page = real(*args, **kwargs)
        calls.append(len(page))
        return page
    monkeypatch.setattr(index, "stamps", stamps)
    return calls


def test_the_sitemap_index_is_chosen_by_a_count_and_reads_no_stamps(app, client, monkeypatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 7)
    monkeypatch.setattr(sitemap, "CHUNK", 4)
    calls = reads(app, monkeypatch)
    root = fetch(client, "/sitemap.xml")
    assert etree.QName(root).localname == "sitemapindex" and len(root) == -(-len(
        expected(app, NOW)) // 7)
    assert calls == []  # the number of files came from count_stamps alone
    entries(fetch(client, "/sitemap-1.xml"))
    assert sum(calls) <= 7 + 4  # file 1 reads its own URLs (and at most a chunk beyond)


def test_a_small_sitemap_reads_at_most_max_urls(app, client, monkeypatch):
    monkeypatch.setattr(sitemap, "CHUNK", 3)
    calls = reads(app, monkeypatch)
    assert entries(fetch(client, "/sitemap.xml")) == expected(app, NOW)
    assert sum(calls) == len(expected(app, NOW))


def test_sitemap_urls_are_the_landing_urls_of_the_renderings(tmp_path, clock):
    odd = make_record(1, id="test:dataset:donn~C3~A9es/run #2?x&y<z>")
    assert landing_path("dataset", odd.id) == (
        "/datasets/test:dataset:donn~C3~A9es%2Frun%20%232%3Fx%26y%3Cz%3E")
    with app_over(tmp_path, [odd], clock, base_url=BASE) as app:
        context = app.extensions["fairgate"].render_context(NOW)
        assert list(entries(fetch(app.test_client(), "/sitemap.xml"))) == [
            context.landing_url(odd)]


def test_the_base_url_is_written_as_xml_can_hold_it(tmp_path, clock, monkeypatch):
    """A base URL with `&` and a control character (Config accepts both): escaped and
    cleaned, so the sitemap and its index stay well-formed XML."""
    odd_base = "https://data.example.org/a&b\x01c"
    with app_over(tmp_path, RECORDS, clock, base_url=odd_base) as app:
        client = app.test_client()
        locs = list(entries(etree.fromstring(client.get("/sitemap.xml").data)))
        assert locs and all(loc.startswith("https://data.example.org/a&bc/") for loc in locs)
        monkeypatch.setattr(sitemap, "MAX_URLS", 7)
        root = etree.fromstring(client.get("/sitemap.xml").data)
        assert root.findtext("s:sitemap/s:loc", namespaces=NS) == (
            "https://data.example.org/a&bc/sitemap-1.xml")


def test_an_empty_catalogue_has_an_empty_sitemap(tmp_path, clock):
    with app_over(tmp_path, [make_record(1, release=NOW + timedelta(days=3))], clock,
                  base_url=BASE) as app:
        assert entries(fetch(app.test_client(), "/sitemap.xml")) == {}


def test_robots_txt_points_to_the_sitemap(client):
    resp = client.get("/robots.txt")
    assert resp.mimetype == "text/plain"
    lines = resp.get_data(as_text=True).splitlines()
    assert f"Sitemap: {BASE}/sitemap.xml" in lines and "User-agent: *" in lines
    assert "Disallow: /datasets" not in lines and "Disallow: /documents" not in lines
