"""Two XSD engines on /oai (../shared/reference/oai-pmh.md sections 11 and 12, "two XSD engines
on every response type"): lxml (libxml2) and xmlschema (pure Python) judge a matrix of real
responses of the app, every verb, every metadata prefix, token pages with deleted headers and
the error codes, and both must say valid; then both must give the reference's regression
verdicts on mutated responses and on the examples shipped with the DataCite and OpenAIRE
schemas. The embedded backend is enough: the XML does not depend on the index backend."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import xmlschema
from lxml import etree

from gateway.app import create_app
from gateway.config import Config
from gateway.index import catch_up
from gateway.store import Batch

from .factories import NOW, corpus
from .test_oai_protocol import error_codes
from .xsd import (DRIVERS, NS, XSD, assert_valid_oai_both, lxml_errors, uri_mapper,
                  xmlschema_errors, xmlschema_schema)

BASE = "https://data.example.org/gw"
STAMPED = NOW - timedelta(days=1)
DELETED = NOW - timedelta(hours=1)
PREFIXES = ("oai_dc", "oai_datacite", "oai_openaire", "datacite")
DATACITE_45 = sorted((XSD / "datacite-4.5" / "example").glob("*.xml"))
DATACITE_46 = sorted((XSD / "datacite-4.6" / "example").glob("*.xml"))
# 4.6 examples using what 4.5 lacks (Award, Project, Coverage, Translator, new relation types)
NEW_IN_46 = {"datacite-example-award-v4.xml", "datacite-example-coverage-v4.xml",
             "datacite-example-full-v4.xml", "datacite-example-project-v4.xml",
             "datacite-example-translation-original-v4.xml",
             "datacite-example-translation-translated-v4.xml"}
# OpenAIRE's samples (the bundle prefixes their upstream names with "sample_"): the reference's
# verdicts; mocksample has resourceTypeGeneral="publication"
OPENAIRE_VERDICTS = {"minimal": True, "journalarticle1": True, "mocksample": False}
OPENAIRE_SAMPLES = sorted(path for path in (XSD / "openaire-lit-4.0").glob("sample_*.xml")
                          if path.stem.removeprefix("sample_").removeprefix("sample_")
                          in OPENAIRE_VERDICTS)

CORPUS = corpus(40)
PUBLIC, GONE, GONE_EMBARGOED = CORPUS[1], CORPUS[5], CORPUS[4]  # CORPUS[4] is under embargo


def oai_id(record) -> str:
    return f"oai:data.example.org:{record.id}"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One app over 40 records (a quarter under embargo), one public and one embargoed record
    deleted after the harvest; pages of 9."""
    app = create_app(Config(data_dir=tmp_path_factory.mktemp("engines"), base_url=BASE,
                            oai_page_size=9, index="embedded"), clock=lambda: NOW)
    gw = app.extensions["fairgate"]
    gw.store.apply_batch("test", Batch(upserts=CORPUS), STAMPED)
    gw.store.apply_batch("test", Batch(deletes=[GONE.id, GONE_EMBARGOED.id]), DELETED)
    catch_up(gw.store, gw.index)
    yield app.test_client()
    gw.close()


def get(client, query: dict) -> bytes:
    resp = client.get("/oai", query_string=query)
    assert resp.status_code == 200
    return resp.data


# -- the matrix: single responses -------------------------------------------------------------
CASES = {
    "Identify": ({"verb": "Identify"}, []),
    "ListMetadataFormats": ({"verb": "ListMetadataFormats"}, []),
    "ListMetadataFormats-identifier": ({"verb": "ListMetadataFormats",
                                        "identifier": oai_id(PUBLIC)}, []),
    "ListSets": ({"verb": "ListSets"}, []),
    **{f"GetRecord-{p}": ({"verb": "GetRecord", "identifier": oai_id(PUBLIC),
                           "metadataPrefix": p}, []) for p in PREFIXES},
    **{f"GetRecord-deleted-{p}": ({"verb": "GetRecord", "identifier": oai_id(GONE),
                                   "metadataPrefix": p}, []) for p in PREFIXES},
    "badVerb-none": ({}, ["badVerb"]),
    "badVerb-junk": ({"verb": "junk"}, ["badVerb"]),
    "badArgument-GetRecord": ({"verb": "GetRecord", "identifier": oai_id(PUBLIC)},
                              ["badArgument"]),
    "badArgument-ListRecords": ({"verb": "ListRecords"}, ["badArgument"]),
    "badArgument-from": ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc",
                          "from": "junk"}, ["badArgument"]),
    "cannotDisseminateFormat-GetRecord": ({"verb": "GetRecord", "identifier": oai_id(PUBLIC),
                                           "metadataPrefix": "marc21"},
                                          ["cannotDisseminateFormat"]),
    "cannotDisseminateFormat-ListRecords": ({"verb": "ListRecords", "metadataPrefix": "marc21"},
                                            ["cannotDisseminateFormat"]),
    "idDoesNotExist": ({"verb": "GetRecord", "identifier": "oai:data.example.org:nothing",
                        "metadataPrefix": "oai_dc"}, ["idDoesNotExist"]),
    "idDoesNotExist-embargoed-deleted": ({"verb": "GetRecord",
                                          "identifier": oai_id(GONE_EMBARGOED),
                                          "metadataPrefix": "oai_dc"}, ["idDoesNotExist"]),
    "noRecordsMatch": ({"verb": "ListRecords", "metadataPrefix": "oai_dc",
                        "until": "2000-01-01"}, ["noRecordsMatch"]),
    "badResumptionToken": ({"verb": "ListRecords", "resumptionToken": "junk"},
                           ["badResumptionToken"]),
}


@pytest.mark.parametrize("case", CASES)
def test_both_engines_find_a_response_valid(client, case):
    query, codes = CASES[case]
    doc = assert_valid_oai_both(get(client, query))
    assert error_codes(doc) == codes
    if case.startswith("GetRecord-deleted"):
        assert doc.find("o:GetRecord/o:record/o:header", NS).get("status") == "deleted"
    elif case.startswith("GetRecord"):
        assert doc.find("o:GetRecord/o:record/o:metadata", NS) is not None


# -- the matrix: every page of the lists, with tokens and deleted headers ---------------------
@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_both_engines_find_every_page_of_a_list_valid(client, verb, prefix):
    doc = assert_valid_oai_both(get(client, {"verb": verb, "metadataPrefix": prefix}))
    pages, deleted = [doc], 0
    while (token := doc.find(f"o:{verb}/o:resumptionToken", NS)) is not None and token.text:
        doc = assert_valid_oai_both(get(client, {"verb": verb, "resumptionToken": token.text}))
        pages.append(doc)
    for page in pages:
        assert not error_codes(page)
        deleted += len(page.findall(".//o:header[@status='deleted']", NS))
    assert len(pages) >= 3, "the matrix must hold token pages"
    assert pages[0].find(f"o:{verb}/o:resumptionToken", NS).get("completeListSize")
    assert deleted == 1  # GONE; the embargoed deletion is never disclosed


# -- regression verdicts (section 11): both engines must reject and accept alike --------------
def verdicts(body: bytes, name: str) -> tuple[list[str], list[str]]:
    return lxml_errors(body, name), xmlschema_errors(body, name)


def serialize(doc: etree._Element) -> bytes:
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def test_an_offset_datestamp_is_invalid_on_both_engines(client):
    body = get(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert verdicts(body, "drv_dc.xsd") == ([], [])
    doc = etree.fromstring(body)
    stamp = doc.find(".//o:header/o:datestamp", NS)
    stamp.text = stamp.text.replace("12:00:00Z", "13:00:00+01:00")
    assert stamp.text.endswith("+01:00")
    by_lxml, by_xmlschema = verdicts(serialize(doc), "drv_dc.xsd")
    assert by_lxml and by_xmlschema
    assert "datestamp" in " ".join(by_lxml) and "datestamp" in " ".join(by_xmlschema)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_an_unknown_namespace_in_metadata_is_invalid_on_both_engines(client, prefix):
    body = get(client, {"verb": "GetRecord", "identifier": oai_id(PUBLIC),
                        "metadataPrefix": prefix})
    assert verdicts(body, DRIVERS[prefix]) == ([], [])
    doc = etree.fromstring(body)
    metadata = doc.find(".//o:metadata", NS)
    metadata.replace(metadata[0], etree.Element("{urn:example:unknown}resource"))
    by_lxml, by_xmlschema = verdicts(serialize(doc), DRIVERS[prefix])
    assert any("strict wildcard" in e for e in by_lxml), by_lxml
    assert any("metadata/{urn:example:unknown}resource" in e for e in by_xmlschema), \
        by_xmlschema


def wrapped(client, prefix: str, resource: etree._Element) -> bytes:
    """A real GetRecord response in `prefix` with its metadata resource swapped for another
    one (inside the payload for oai_datacite)."""
    doc = etree.fromstring(get(client, {"verb": "GetRecord", "identifier": oai_id(PUBLIC),
                                        "metadataPrefix": prefix}))
    holder = doc.find(".//o:metadata", NS)
    if prefix == "oai_datacite":
        holder = holder.find("{http://schema.datacite.org/oai/oai-1.1/}oai_datacite/"
                             "{http://schema.datacite.org/oai/oai-1.1/}payload")
    holder.replace(holder[0], copy.deepcopy(resource))
    return serialize(doc)


def example(path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def test_the_bundle_holds_the_examples():
    assert len(DATACITE_45) == 7
    assert NEW_IN_46 <= {p.name for p in DATACITE_46}
    assert OPENAIRE_SAMPLES


@pytest.mark.parametrize("path", DATACITE_45, ids=lambda p: p.stem)
def test_datacite_45_examples_in_oai_datacite_are_valid_on_both_engines(client, path):
    assert verdicts(wrapped(client, "oai_datacite", example(path)),
                    "drv_datacite45.xsd") == ([], [])


@pytest.mark.parametrize("path", DATACITE_46, ids=lambda p: p.stem)
def test_datacite_46_examples_split_45_from_46_on_both_engines(client, path):
    """The 4.5 judge is not lax: what only 4.6 has is INVALID under 4.5 on both engines,
    and every 4.6 example is VALID under 4.6."""
    body = wrapped(client, "oai_datacite", example(path))
    by_lxml, by_xmlschema = verdicts(body, "drv_datacite45.xsd")
    assert bool(by_lxml) == bool(by_xmlschema) == (path.name in NEW_IN_46), (by_lxml,
                                                                           by_xmlschema)
    assert verdicts(body, "drv_datacite46.xsd") == ([], [])


@pytest.mark.parametrize("path", OPENAIRE_SAMPLES, ids=lambda p: p.stem)
def test_openaire_samples_in_oai_openaire_get_the_reference_verdict(client, path):
    valid = OPENAIRE_VERDICTS[path.stem.removeprefix("sample_").removeprefix("sample_")]
    by_lxml, by_xmlschema = verdicts(wrapped(client, "oai_openaire", example(path)),
                                     "drv_openaire.xsd")
    assert (not by_lxml) == (not by_xmlschema) == valid, (by_lxml, by_xmlschema)
    if not valid:
        assert "publication" in " ".join(by_lxml) and "publication" in " ".join(by_xmlschema)


# -- the xmlschema judge itself ---------------------------------------------------------------
def test_xmlschema_never_fetches_an_unmapped_remote_schema():
    mapper = uri_mapper()
    assert mapper("http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd") == \
        (XSD / "OAI-PMH.xsd").as_uri()
    assert mapper("https://schema.datacite.org/meta/kernel-4.5/include/xml.xsd") == \
        (XSD / "datacite-4.5" / "include" / "xml.xsd").as_uri()
    with pytest.raises(LookupError, match="not mapped"):
        mapper("http://schema.datacite.org/meta/kernel-4/metadata.xsd")
    source = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
              '<xs:import namespace="urn:u" schemaLocation="https://example.org/u.xsd"/>'
              '</xs:schema>')
    with pytest.raises(LookupError, match="https://example.org/u.xsd"):
        xmlschema.XMLSchema10(source, uri_mapper=mapper, allow="local", use_fallback=False)
    # beside the engine's own meta-schemas, every schema compiled comes from the bundle
    for name in ("drv_dc.xsd", "drv_datacite45.xsd", "drv_openaire.xsd"):
        compiled = xmlschema_schema(name)
        loaded = [s.url for s in compiled.maps.iter_schemas()
                  if not isinstance(s, type(compiled.meta_schema))]
        assert len(loaded) > 5 and all(url.startswith(XSD.as_uri()) for url in loaded), loaded
