"""DataCite JSON (`datacite-json`), judged by the `datacite` package (1.4.1): its JSON Schema
4.5 accepts every fixture, and its own XML rendering of our JSON (`schema45.tostring`) equals
our `datacite-xml` in canonical form, so the two formats cannot drift apart.

Golden files: tests/golden/<fixture>.datacite-json.json, compared by value.
Regenerate them with `FAIRGATE_REGEN_GOLDEN=1 python -m pytest tests/test_render_datacite_json.py`.
"""
from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest
from datacite import schema45
from lxml import etree

from mappings import datacite, rights

from .render_fixtures import CONTEXT, FIXTURES, NOW
from .golden import GOLDEN_FIXTURES, golden_text
from .test_render_xml import KERNEL, NS, c14n


def ours(key: str) -> dict:
    return json.loads(datacite.render_json(FIXTURES[key], CONTEXT))


def comparable(resource: etree._Element) -> str:
    """C14N of a kernel resource with its top-level children sorted by tag name.

    The one normalisation: `<resource>` is an `xs:all` in kernel 4.5, so the order of its
    children carries no meaning, and the package writes them in its rule order (e.g.
    alternateIdentifiers first, identifier after resourceType). Everything below the top
    level (creator's sequence, attributes, texts, list order) is compared as it is. Both
    sides carry the same xsi:schemaLocation (kernel-4.5), so it needs no normalising."""
    copy_ = etree.fromstring(etree.tostring(resource))
    copy_[:] = sorted(copy_, key=lambda child: child.tag)
    return c14n(copy_)


def package_xml(data: dict) -> etree._Element:
    # tostring builds children with lxml.builder.E (no namespace) under a kernel-4 default
    # namespace; only after a serialise/parse round trip are they in kernel-4, as a
    # harvester reading the text would see them. xml:lang is written under a bogus "xml"
    # namespace URI but serialises as xml:lang, so the round trip fixes it too.
    return etree.fromstring(schema45.tostring(data).encode())


def without_non_doi_identifier(record_key: str, resource: etree._Element, data: dict
                               ) -> etree._Element:
    """DataCite JSON can hold only a DOI (`doi`); kernel XML requires `<identifier>`. For a
    record without a DOI our XML carries its landing page as identifierType URL
    (docs/formats.md) and the package's XML has no identifier: check that, then drop it."""
    ident = resource.find("k:identifier", NS)
    if "doi" in data:
        assert (ident.get("identifierType"), ident.text) == ("DOI", data["doi"])
        return resource
    record = FIXTURES[record_key]
    assert (ident.get("identifierType"), ident.text) == datacite.primary_identifier(
        record, CONTEXT)
    resource.remove(ident)
    return resource


@pytest.mark.parametrize("key", FIXTURES)
def test_the_package_json_schema_accepts_every_fixture(key):
    data = ours(key)
    if not schema45.validate(data):
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in schema45.validator.iter_errors(data)]
        pytest.fail("\n".join(errors))


@pytest.mark.parametrize("key", FIXTURES)
def test_package_xml_of_our_json_equals_our_xml(key):
    data = ours(key)
    theirs = package_xml(data)
    assert etree.QName(theirs).namespace == KERNEL
    mine = etree.fromstring(datacite.render_xml(FIXTURES[key], CONTEXT).encode())
    mine = without_non_doi_identifier(key, mine, data)
    assert comparable(mine) == comparable(theirs)


def test_the_comparison_is_not_vacuous():
    """Negative control: a change anywhere in the JSON shows in the comparison."""
    data = ours("maximal")
    mine = comparable(etree.fromstring(datacite.render_xml(FIXTURES["maximal"], CONTEXT)
                                       .encode()))
    for path, value in ((("creators", 0, "nameIdentifiers", 0, "schemeUri"), "https://x.org"),
                        (("subjects", 3, "subject"), "batteries"),
                        (("rightsList", 1, "rightsUri"), "http://example.org/r")):
        changed = copy.deepcopy(data)
        target = changed
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        assert comparable(package_xml(changed)) != mine, path
    reordered = copy.deepcopy(data)
    reordered["creators"].reverse()
    assert comparable(package_xml(reordered)) != mine


def test_rendered_json_is_the_intermediate_structure():
    for key, record in FIXTURES.items():
        data = ours(key)
        assert data == datacite.build(record, CONTEXT)
        assert data["schemaVersion"] == "http://datacite.org/schema/kernel-4"
        assert isinstance(data["publisher"], dict) and data["publisher"]["name"]
        assert data.get("doi") == rights.doi(record), key
        assert data["publicationYear"] == str(rights.publication_year(record, NOW))


def test_rights_and_embargo_in_json():
    data = ours("embargoed")
    uris = [r.get("rightsUri") for r in data["rightsList"]]
    assert uris == ["info:eu-repo/semantics/embargoedAccess",
                    "http://purl.org/coar/access_right/c_f1cf",
                    "https://creativecommons.org/licenses/by/4.0/legalcode"]
    available = [d for d in data["dates"] if d["dateType"] == "Available"]
    assert available == [{"date": "2029-06-30", "dateType": "Available",
                          "dateInformation": "End of embargo"}]
    later = replace(CONTEXT, now=FIXTURES["embargoed"].dates.release_date)
    opened = datacite.build(FIXTURES["embargoed"], later)
    assert opened["rightsList"][1]["rightsUri"] == "http://purl.org/coar/access_right/c_abf2"
    assert [d for d in opened["dates"] if d["dateType"] == "Available"] == available


def test_non_ascii_is_kept_as_text():
    text = datacite.render_json(FIXTURES["non-ascii"], CONTEXT)
    assert "酸化セリウム" in text and "\\u" not in text
    assert json.loads(text)["titles"][0]["title"] == FIXTURES["non-ascii"].title


@pytest.mark.parametrize("key", GOLDEN_FIXTURES)
def test_golden(key):
    name = f"{key}.datacite-json.json"
    data = ours(key)
    text = golden_text(name, lambda: json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    assert data == json.loads(text), name
