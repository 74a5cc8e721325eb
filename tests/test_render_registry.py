"""The format registry and the rules every format obeys together: one registry read by
OAI-PMH, content negotiation and the docs; the data policy (no e-mail addresses, nothing
downloadable while embargoed) in every rendering; the render version moves whenever any
rendering changes (the OAI-PMH datestamp rule depends on it)."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import rdflib
from lxml import etree
from rdflib.compare import to_canonical_graph

from mappings import formats
from mappings.validation import EMAIL_RE

from .golden import REGEN
from .render_fixtures import CONTEXT, FIXTURES

ROOT = Path(__file__).resolve().parents[1]
FINGERPRINT = ROOT / "tests" / "golden" / "RENDER_FINGERPRINT.json"
RDF_PARSERS = {"text/turtle": "turtle", "application/rdf+xml": "xml"}


def rdf_format(fmt: formats.Format) -> str | None:
    if fmt.media_type in RDF_PARSERS:
        return RDF_PARSERS[fmt.media_type]
    if fmt.name.startswith("dcat-") and fmt.media_type == "application/ld+json":
        return "json-ld"
    return None


def parse_rdf(text: str, parser: str) -> rdflib.Graph:
    """JSON-LD through pyld (rdflib's JSON-LD reader warns about its own deprecations)."""
    if parser == "json-ld":
        from .test_render_dcat import parse
        return parse(text, parser)
    return rdflib.Graph().parse(data=text, format=parser)


def canonical(fmt: formats.Format, text: str) -> str:
    """A form of the output that ignores what carries no meaning (RDF blank node labels
    and triple order), so the fingerprint moves only when the content does."""
    parser = rdf_format(fmt)
    if parser is None:
        return text
    graph = parse_rdf(text, parser)
    return "\n".join(sorted(to_canonical_graph(graph).serialize(format="nt").splitlines()))


@pytest.fixture(scope="module")
def rendered():
    return {(name, key): fmt.render(record, CONTEXT)
            for name, fmt in formats.FORMATS.items() for key, record in FIXTURES.items()}


def test_registry_is_complete_and_unambiguous():
    names = set(formats.FORMATS)
    assert {"datacite-xml", "datacite-json", "oai_datacite", "oai_dc", "oai_openaire",
            "schemaorg", "dcat-turtle", "dcat-rdfxml", "dcat-jsonld", "panosc"} <= names
    prefixes = [f.oai.prefix for f in formats.oai_formats()]
    assert len(prefixes) == len(set(prefixes))
    assert {"oai_dc", "oai_datacite", "oai_openaire"} <= set(prefixes)
    for fmt in formats.FORMATS.values():
        assert re.fullmatch(r"[a-z0-9_-]+", fmt.name)
        assert re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", fmt.media_type), fmt.media_type
        assert fmt.extension and "." not in fmt.extension
        if fmt.oai:
            assert fmt.is_xml and fmt.oai.namespace.startswith("http")
            assert fmt.oai.schema.endswith(".xsd")
    # two formats share a media type only when a profile tells them apart
    for media_type in {f.media_type for f in formats.FORMATS.values()}:
        same = formats.by_media_type(media_type)
        if len(same) > 1 and not media_type.endswith("/xml"):
            assert len({f.profile for f in same}) == len(same), media_type
    assert formats.by_oai_prefix("oai_dc").name == "oai_dc"
    assert formats.by_oai_prefix("nope") is None
    with pytest.raises(KeyError, match="unknown format 'nope'"):
        formats.get("nope")


def test_every_format_renders_every_fixture_to_parseable_text(rendered):
    for (name, key), text in rendered.items():
        fmt = formats.FORMATS[name]
        assert isinstance(text, str) and text.strip(), (name, key)
        if fmt.is_xml and rdf_format(fmt) is None:
            assert not text.lstrip().startswith("<?xml"), (name, key)  # embeddable in OAI
            etree.fromstring(text.encode())
        elif rdf_format(fmt):
            assert len(parse_rdf(text, rdf_format(fmt))) > 0
        elif fmt.media_type.endswith("json"):
            json.loads(text)


def test_no_email_address_in_any_rendering(rendered):
    """Personal contact data never leaves: the only address allowed is the functional
    mailbox the operator configured for DCAT contact points."""
    for (name, key), text in rendered.items():
        found = set(EMAIL_RE.findall(text.replace(CONTEXT.contact_email, "")))
        assert not found, (name, key, found)


def test_nothing_downloadable_while_embargoed(rendered):
    url = FIXTURES["embargoed"].files.access_url
    assert url == FIXTURES["maximal"].files.access_url
    assert url in rendered[("schemaorg", "maximal")]  # the same record, released, links it
    for name in formats.FORMATS:
        assert url not in rendered[(name, "embargoed")], name


def test_renderings_are_deterministic():
    for name, fmt in formats.FORMATS.items():
        record = FIXTURES["maximal"]
        assert canonical(fmt, fmt.render(record, CONTEXT)) == canonical(
            fmt, fmt.render(record, CONTEXT)), name


def test_render_version_moves_with_the_output(rendered):
    """If this fails after a mapping change: bump RENDER_VERSION in mappings/formats.py,
    then run `FAIRGATE_REGEN_GOLDEN=1 python -m pytest tests/test_render_registry.py`."""
    digest = hashlib.sha256()
    for name, key in sorted(rendered):
        digest.update(f"{name}\0{key}\0".encode())
        digest.update(canonical(formats.FORMATS[name], rendered[(name, key)]).encode())
    now = {"render_version": formats.RENDER_VERSION, "sha256": digest.hexdigest()}
    stored = json.loads(FINGERPRINT.read_text()) if FINGERPRINT.exists() else None
    if REGEN:
        if stored and stored["sha256"] != now["sha256"]:
            assert now["render_version"] > stored["render_version"], \
                "the renderings changed: bump RENDER_VERSION before regenerating"
        FINGERPRINT.parent.mkdir(exist_ok=True)
        FINGERPRINT.write_text(json.dumps(now, indent=2) + "\n")
        return
    assert stored is not None, f"{FINGERPRINT} is missing: regenerate it"
    if now["render_version"] == stored["render_version"]:
        assert now["sha256"] == stored["sha256"], \
            "renderings changed but RENDER_VERSION did not (see this test's docstring)"
    else:
        assert now["sha256"] != stored["sha256"], "RENDER_VERSION moved but no output changed"
        pytest.fail("RENDER_VERSION moved: regenerate the fingerprint (see docstring)")


def test_docs_table_lists_every_format():
    text = (ROOT / "docs" / "formats.md").read_text()
    for fmt in formats.FORMATS.values():
        row = next((line for line in text.splitlines()
                    if line.startswith(f"| `{fmt.name}` |")), None)
        assert row, f"docs/formats.md has no table row for {fmt.name}"
        assert f"`{fmt.media_type}`" in row
        if fmt.oai:
            assert f"`{fmt.oai.prefix}`" in row
