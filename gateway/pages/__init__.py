"""The HTML surface: landing pages with content negotiation and FAIR Signposting, the
search page, the sitemap and robots.txt (docs/pages.md). One blueprint per module."""
from __future__ import annotations

from . import landing, search, sitemap
from .common import page_globals

BLUEPRINTS = (landing.bp, search.bp, sitemap.bp)
landing.bp.app_context_processor(page_globals)
