"""The search page (/ and /search): the same answers as /api/search (facets, counts, hits,
order, paging), highlighted matches, no JavaScript needed, labelled controls, and no
trace of embargoed records. Both index backends."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from lxml import html as lxml_html

from .factories import NOW, corpus
from .apps import app_over

BASE = "https://data.example.org/gw"
RECORDS = corpus(60)
HIDDEN = [r for r in RECORDS if r.dates.release_date and r.dates.release_date > NOW]


@pytest.fixture
def client(tmp_path, backend_config):
    with app_over(tmp_path, RECORDS, [NOW], base_url=BASE, page_size=7,
                  **backend_config) as app:
        yield app.test_client()


def get(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "text/html"
    return lxml_html.fromstring(resp.data)


def shown_facets(tree) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for a in tree.xpath("//a[contains(@class, 'facet-value')]"):
        out.setdefault(a.get("data-facet"), {})[a.get("data-value")] = int(
            a.xpath("string(span[@class='count'])"))
    return out


def hit_ids(tree) -> list[str]:
    return [urlsplit(h).path.rsplit("/", 1)[-1] for h in tree.xpath("//a[@class='hit-link']/@href")]


def api(client, **args):
    return client.get("/api/search", query_string=args).get_json()


@pytest.mark.parametrize("url", ["/", "/search", "/search?q=oxide", "/?q=cerium&facility=ESRF"])
def test_page_agrees_with_the_api(client, url):
    tree = get(client, url)
    args = {k: v for k, v in parse_qs(urlsplit(url).query).items()}
    body = client.get("/api/search", query_string=args).get_json()
    assert int(tree.xpath("string(//span[@class='total'])")) == body["total"]
    assert hit_ids(tree) == [h["id"] for h in body["hits"]]
    assert shown_facets(tree) == {f: {v["value"]: v["count"] for v in vs}
                                  for f, vs in body["facets"].items() if vs}


def test_follow_a_facet_then_page_through(client):
    tree = get(client, "/search?sort=title")
    link = tree.xpath("//a[@data-facet='facility' and @data-value='ESRF']")[0]
    count = int(link.xpath("string(span[@class='count'])"))
    tree = get(client, link.get("href"))
    assert int(tree.xpath("string(//span[@class='total'])")) == count
    chosen = tree.xpath("//a[@data-facet='facility' and @aria-current='true']")
    assert [a.get("data-value") for a in chosen] == ["ESRF"]
    assert chosen[0].get("aria-label") == "Remove filter Facility: ESRF"
    # the query form keeps the filter when the text changes (no JavaScript involved)
    assert ("facility", "ESRF") in [(i.get("name"), i.get("value"))
                                    for i in tree.xpath("//form//input[@type='hidden']")]
    seen = hit_ids(tree)
    while (nxt := tree.xpath("//a[@rel='next']/@href")):
        tree = get(client, nxt[0])
        seen += hit_ids(tree)
        assert tree.xpath("//nav[@class='pager']//a[text()='First page']")
    expected = api(client, sort="title", facility="ESRF", size=100)
    assert seen == [h["id"] for h in expected["hits"]] and len(seen) == count
    # removing the filter brings the whole result back
    tree = get(client, chosen[0].get("href"))
    assert int(tree.xpath("string(//span[@class='total'])")) == len(RECORDS) - len(HIDDEN)


def test_matches_are_highlighted_and_escaped(client):
    tree = get(client, "/search?q=cerium")
    marks = tree.xpath("//li[@class='hit']//mark/text()")
    assert marks and {m.casefold() for m in marks} == {"cerium"}
    raw = client.get("/search", query_string={"q": "<script>alert(1)</script>"}).data
    assert b"<script>alert" not in raw and b"&lt;script&gt;" in raw


def test_no_embargoed_record_is_visible(client):
    for hidden in HIDDEN[:3]:
        for q in (hidden.title, f'"{hidden.title}"', hidden.id):
            tree = get(client, "/search?" + urlencode({"q": q}))
            assert hidden.id not in hit_ids(tree)
        tree = get(client, "/search?" + urlencode({"q": f'"{hidden.title}"'}))
        assert tree.xpath("string(//span[@class='total'])") == "0" and not shown_facets(tree)
    tree = get(client, "/search")
    assert int(tree.xpath("string(//span[@class='total'])")) == len(RECORDS) - len(HIDDEN)


def test_controls_have_labels_and_work_without_script(client):
    tree = get(client, "/")
    assert not tree.xpath("//script")
    form = tree.xpath("//form[@role='search']")[0]
    assert form.get("method") == "get"
    for control in form.xpath(".//input[not(@type='hidden')] | .//select"):
        assert tree.xpath(f"//label[@for='{control.get('id')}']"), control.get("name")
    assert form.xpath(".//button[@type='submit']")
    assert tree.xpath("//nav[@aria-labelledby='facets-h']")


def test_bad_input_is_a_page_with_the_reason(client):
    tree = get(client, "/search?size=abc", status=400)
    assert "size" in tree.xpath("string(//p[@class='error'])")
    get(client, "/search?cursor=garbage", status=400)
    get(client, "/search?bogus=1", status=400)
