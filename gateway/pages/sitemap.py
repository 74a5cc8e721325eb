"""/sitemap.xml and /robots.txt: the landing pages of the records public now, for search
engines (sitemaps.org protocol 0.9).

Up to `MAX_URLS` public records, /sitemap.xml is the sitemap itself; beyond, it is a
sitemap index of /sitemap-<n>.xml files (n from 1) of `MAX_URLS` URLs each. The URLs come
from the search index's datestamp listing (`SearchIndex.stamps`: public live records in
ascending (public datestamp, id) order, read by keyset), so embargoed and deleted records
are never listed, and `lastmod` is the public datestamp (when the public rendering last
changed, or when the embargo ended).

The choice between sitemap and index, and the number of files, come from one count
(`SearchIndex.count_stamps`): the index reads no datestamps. Its entries carry no
`lastmod` (optional in the protocol): a file's newest datestamp is only known by reading
the listing up to its end, and a record updated anywhere moves every later file's window.
"""
from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Iterator

from flask import Blueprint, Response

from mappings.record import iso
from mappings.render import landing_path
from mappings.xmlutil import xml_text

from ..context import current_gateway
from .common import error_page

bp = Blueprint("sitemap", __name__)

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # the protocol's limit per sitemap file (tests lower it)
CHUNK = 1000       # stamps read per index request


def public_stamps(now: datetime) -> Iterator[tuple[datetime, str]]:
    """(public datestamp, id) of every record public at `now`, ascending, read by keyset
    only as far as the caller consumes it."""
    index, after = current_gateway().index, None
    while True:
        page = index.stamps(now, after=after, size=CHUNK)
        yield from page
        if len(page) < CHUNK:
            return
        after = page[-1]


def landing_url(record_id: str) -> str:
    """The landing page of a record, from its id (`source:kind:native`) alone."""
    kind = record_id.split(":", 2)[1]
    return current_gateway().config.public_url + landing_path(kind, record_id)


def file_count(total: int) -> int:
    """Sitemap files for `total` public records: 1 (the sitemap itself, maybe empty) up to
    MAX_URLS, else one per MAX_URLS started."""
    return max(1, -(-total // MAX_URLS))


def _urlset(entries: list[tuple[datetime, str]]) -> str:
    rows = "".join(f"<url><loc>{xml_text(landing_url(rid))}</loc>"
                   f"<lastmod>{iso(stamp)}</lastmod></url>\n" for stamp, rid in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NS}">\n{rows}</urlset>\n'


def _index(files: int) -> str:
    base = xml_text(current_gateway().config.public_url)
    rows = "".join(f"<sitemap><loc>{base}/sitemap-{n}.xml</loc></sitemap>\n"
                   for n in range(1, files + 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NS}">\n{rows}'
            "</sitemapindex>\n")


def _xml(body: str) -> Response:
    return Response(body, content_type="application/xml; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """The sitemap, or the index of sitemap files when there are more than MAX_URLS."""
    now = current_gateway().clock()
    files = file_count(current_gateway().index.count_stamps(now))
    if files == 1:  # at most MAX_URLS, even if records were published since the count
        return _xml(_urlset(list(islice(public_stamps(now), MAX_URLS))))
    return _xml(_index(files))


@bp.get("/sitemap-<int:number>.xml")
def sitemap_file(number: int) -> Response:
    """One file of the sitemap index: public records number (n-1)*MAX_URLS + 1 onwards
    (the listing is read by keyset from its start, datestamps and ids only)."""
    now = current_gateway().clock()
    entries = []
    if number >= 1:
        start = (number - 1) * MAX_URLS
        entries = list(islice(public_stamps(now), start, start + MAX_URLS))
    if not entries and number != 1:
        return error_page(404, "not_found", f"no sitemap file {number}")
    return _xml(_urlset(entries))


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl the landing pages (listed in the sitemap), not the endless search and API
    URL space."""
    base = current_gateway().config.public_url
    body = ("User-agent: *\nDisallow: /search\nDisallow: /?\nDisallow: /api/\n"
            f"\nSitemap: {base}/sitemap.xml\n")
    return Response(body, content_type="text/plain; charset=utf-8")
