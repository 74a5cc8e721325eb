"""OAI-PMH 2.0 conformance of /oai on both index backends: every response is judged by the
official XSDs (tests/xsd.py), and the rules an XSD cannot see are checked one by one: the
check groups of the openarchives.org validator (HTTP::OAIPMH::Validator) and of BASE OVAL
(../shared/reference/oai-pmh.md section 12), error codes and request echo, tokens, sets,
dates and the embargo policy."""
from __future__ import annotations

import re
from pathlib import Path
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from gateway.app import create_app
from gateway.config import Config
from gateway.index import catch_up
from gateway.store import Batch
from mappings.access import Visibility, public_datestamp, tombstone_disclosable, visibility
from mappings.formats import oai_formats
from mappings.record import Facility, Instrument, iso

from .factories import NOW, PANET, corpus, make_record
from .xsd import NS, assert_valid_oai

BASE = "https://data.example.org/gw"
REPO = "data.example.org"
STAMPED = NOW - timedelta(days=1)      # when the corpus was harvested
DELETED = NOW - timedelta(hours=1)     # when two records were deleted
PREFIXES = ("oai_dc", "oai_datacite", "oai_openaire", "datacite")


@pytest.fixture
def records():
    """60 records (a quarter under embargo), one with an awkward facility and instrument
    name; then a public one and an embargoed one deleted."""
    out = corpus(60)
    out.append(make_record(900, facility=Facility("Swiss Light Source (SLS) ~ x"),
                           instrument=Instrument("X04SA/MS:2 é")))
    return out


@pytest.fixture
def make_app(tmp_path, records, clock, backend_config):
    """Apps over one store and index (built once), with any page size."""
    made = []

    def factory(page_size: int = 7, **extra):
        app = create_app(Config(data_dir=tmp_path, base_url=BASE, oai_page_size=page_size,
                                **{**backend_config, **extra}), clock=lambda: clock[0])
        gw = app.extensions["fairgate"]
        if not made:
            gw.store.apply_batch("test", Batch(upserts=records), STAMPED)
            gw.store.apply_batch("test", Batch(deletes=[records[1].id, records[4].id]), DELETED)
            catch_up(gw.store, gw.index)
        made.append(gw)
        return app

    yield factory
    for gw in made:
        gw.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def oai(client, query: str | dict, method: str = "GET"):
    """One request; asserts HTTP 200, the content type and XSD validity; returns the root."""
    query = query if isinstance(query, str) else urlencode(query)
    if method == "GET":
        resp = client.get("/oai?" + query)
    else:
        resp = client.post("/oai", data=query,
                           content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/xml; charset=UTF-8"
    return assert_valid_oai(resp.data)


def error_codes(doc) -> list[str]:
    return [e.get("code") for e in doc.iterfind("o:error", NS)]


def harvest(client, verb: str, **args):
    """Every page of a list: (items, token elements); asserts no page is empty."""
    doc = oai(client, {"verb": verb, **args})
    pages = [doc]
    while (token := doc.find(f"o:{verb}/o:resumptionToken", NS)) is not None and token.text:
        doc = oai(client, {"verb": verb, "resumptionToken": token.text})
        pages.append(doc)
    items, tokens = [], []
    for page in pages:
        assert not error_codes(page), error_codes(page)
        found = page.findall(f"o:{verb}/o:header", NS) + page.findall(f"o:{verb}/o:record", NS)
        assert found, "an empty page"
        items += found
        tokens.append(page.find(f"o:{verb}/o:resumptionToken", NS))
    return items, tokens


def header_of(item):
    return item if item.tag.endswith("header") else item.find("o:header", NS)


def ids(items) -> list[str]:
    return [header_of(i).findtext("o:identifier", namespaces=NS) for i in items]


def oai_id(record_id: str) -> str:
    return f"oai:{REPO}:{record_id}"


def expected(app, now, date_from=None, until=None):
    """The oracle: (datestamp, oai identifier, deleted) by the access policy over the
    store's records, in OAI order."""
    store = app.extensions["fairgate"].store
    out = []
    for _, r in store.changes_since(0, 100_000):
        if r.deleted:
            if not tombstone_disclosable(r, now):
                continue
            stamp, deleted = r.deleted_at, True
        elif visibility(r, now) is Visibility.PUBLIC:
            stamp, deleted = public_datestamp(r, now), False
        elif (withdrawn := store.withdrawn_at(r.id)) is not None:
            stamp, deleted = withdrawn, True
        else:
            continue
        if (date_from and stamp < date_from) or (until and stamp > until):
            continue
        out.append((stamp, r.id, deleted))
    return [(iso(s), oai_id(i), d) for s, i, d in sorted(out)]


def listed(items):
    return [(header_of(i).findtext("o:datestamp", namespaces=NS), ids([i])[0],
             header_of(i).get("status") == "deleted") for i in items]


# -- Identify (validator group 1) -------------------------------------------------------------
def test_identify_in_xsd_order_with_a_dotted_oai_identifier(client, records):
    doc = oai(client, "verb=Identify")
    ident = doc.find("o:Identify", NS)
    assert [c.tag.split("}")[1] for c in ident] == [
        "repositoryName", "baseURL", "protocolVersion", "adminEmail", "earliestDatestamp",
        "deletedRecord", "granularity", "description"]
    assert ident.findtext("o:baseURL", namespaces=NS) == BASE + "/oai"
    assert doc.findtext("o:request", namespaces=NS) == BASE + "/oai"
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert re.fullmatch(r"\S+@(\S+\.)+\S+", ident.findtext("o:adminEmail", namespaces=NS))
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    earliest = ident.findtext("o:earliestDatestamp", namespaces=NS)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", earliest)
    items, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")
    assert earliest == min(s for s, _, _ in listed(items))
    descriptions = ident.findall("o:description", NS)
    assert len(descriptions) == 1
    assert descriptions[0].findtext("oi:oai-identifier/oi:repositoryIdentifier",
                                    namespaces=NS) == REPO
    sample = descriptions[0].findtext("oi:oai-identifier/oi:sampleIdentifier", namespaces=NS)
    assert not error_codes(oai(client, {"verb": "GetRecord", "identifier": sample,
                                        "metadataPrefix": "oai_dc"}))


def test_identify_names_the_configured_repository(make_app):
    app = make_app(repository_name="ESRF Data Portal", admin_email="dataportal@esrf.example.org",
                   repository_identifier="data.esrf.example.org")
    ident = oai(app.test_client(), "verb=Identify").find("o:Identify", NS)
    assert ident.findtext("o:repositoryName", namespaces=NS) == "ESRF Data Portal"
    assert ident.findtext("o:adminEmail", namespaces=NS) == "dataportal@esrf.example.org"
    assert ident.findtext(".//oi:repositoryIdentifier", namespaces=NS) == "data.esrf.example.org"
    assert ident.findtext(".//oi:sampleIdentifier", namespaces=NS).startswith(
        "oai:data.esrf.example.org:")


# -- errors and the request echo (validator group 7-8) ----------------------------------------
KNOWN = "test:dataset:r00002"
ERRORS = [
    ("", {"badVerb"}),
    ("verb=junk", {"badVerb"}),
    ("verb=Identify&verb=Identify", {"badVerb"}),
    ("verb=Identify&verb=ListSets", {"badVerb"}),
    ("verb=Identify&foo=bar", {"badArgument"}),
    ("verb=Identify&resumptionToken=abc", {"badArgument"}),
    ("verb=GetRecord&metadataPrefix=oai_dc", {"badArgument"}),
    (f"verb=GetRecord&identifier=oai:{REPO}:{KNOWN}", {"badArgument"}),
    ('verb=GetRecord&identifier=invalid"id&metadataPrefix=oai_dc',
     {"badArgument", "idDoesNotExist"}),
    ("verb=ListRecords", {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=junk", {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&until=junk", {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-30", {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01T00:00:00.5Z", {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01T00:00:00%2B01:00",
     {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05&until=2002-02-06T05:35:00Z",
     {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-02&until=2026-01-01",
     {"badArgument"}),
    ("verb=ListRecords&resumptionToken=junk&until=2026-01-01",
     {"badArgument", "badResumptionToken"}),
    ("verb=ListRecords&resumptionToken=junk", {"badResumptionToken"}),
    ("verb=ListIdentifiers&resumptionToken=junk", {"badResumptionToken"}),
    ("verb=ListSets&resumptionToken=junk", {"badResumptionToken"}),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&metadataPrefix=oai_dc", {"badArgument"}),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=", {"badArgument"}),
    ("verb=ListIdentifiers&metadataPrefix=a%3Cb", {"badArgument"}),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=a%20b", {"badArgument"}),
    ("verb=ListRecords&metadataPrefix=nope", {"cannotDisseminateFormat"}),
    ("verb=ListIdentifiers&metadataPrefix=nope", {"cannotDisseminateFormat"}),
    (f"verb=GetRecord&identifier=oai:{REPO}:{KNOWN}&metadataPrefix=nope",
     {"cannotDisseminateFormat"}),
    (f"verb=GetRecord&identifier=oai:{REPO}:nothing&metadataPrefix=oai_dc",
     {"idDoesNotExist"}),
    ("verb=GetRecord&identifier=oai:other.org:x&metadataPrefix=oai_dc", {"idDoesNotExist"}),
    (f"verb=ListMetadataFormats&identifier=oai:{REPO}:nothing", {"idDoesNotExist"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=nosuchset", {"noRecordsMatch"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=facility:Nowhere", {"noRecordsMatch"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=kind:thing", {"noRecordsMatch"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=facility:ESR~46", {"noRecordsMatch"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=technique:PaNET1:x", {"noRecordsMatch"}),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2999-01-01", {"noRecordsMatch"}),
]


@pytest.mark.parametrize("query,codes", ERRORS, ids=[q or "no-verb" for q, _ in ERRORS])
def test_errors_have_their_code_http_200_and_the_echo_rule(client, query, codes):
    for method in ("GET", "POST"):
        doc = oai(client, query, method)
        found = error_codes(doc)
        assert len(found) == 1 and found[0] in codes, (method, found)
        request = doc.find("o:request", NS)
        assert request.text == BASE + "/oai"
        if found[0] in ("badVerb", "badArgument"):
            assert dict(request.attrib) == {}  # the base URL only (§3.2)
        else:
            given = dict(pair.split("=", 1) for pair in query.split("&"))
            if "resumptionToken" in given:
                assert dict(request.attrib) == {"verb": given["verb"],
                                                "resumptionToken": "junk"}
            else:
                assert set(request.attrib) == set(given)


def test_a_key_repeated_across_query_string_and_body_is_repeated(client):
    for query, body, code in (("verb=Identify", "verb=Identify", "badVerb"),
                              ("verb=ListSets&set=x", "set=x", "badArgument"),
                              ("verb=ListIdentifiers&metadataPrefix=oai_dc",
                               "metadataPrefix=oai_dc", "badArgument")):
        resp = client.post("/oai?" + query, data=body,
                           content_type="application/x-www-form-urlencoded")
        assert resp.status_code == 200
        assert error_codes(assert_valid_oai(resp.data)) == [code]


def test_until_before_the_earliest_datestamp_matches_nothing(client):
    earliest = oai(client, "verb=Identify").findtext("o:Identify/o:earliestDatestamp",
                                                     namespaces=NS)
    year_before = datetime.fromisoformat(earliest.replace("Z", "+00:00")) - timedelta(days=365)
    for until in (iso(year_before), iso(year_before)[:10]):
        doc = oai(client, {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": until})
        assert error_codes(doc) == ["noRecordsMatch"]


# -- POST (validator group 9) ----------------------------------------------------------------
@pytest.mark.parametrize("query", ["verb=Identify", f"verb=GetRecord&identifier=oai:{REPO}:{KNOWN}"
                                   "&metadataPrefix=oai_dc",
                                   "verb=ListIdentifiers&metadataPrefix=oai_dc"])
def test_post_answers_as_get(client, query):
    get = client.get("/oai?" + query)
    post = client.post("/oai", data=query, content_type="application/x-www-form-urlencoded")
    assert get.data == post.data  # the clock is fixed: byte for byte
    assert not error_codes(assert_valid_oai(post.data))


# -- formats -------------------------------------------------------------------------------------
def test_list_metadata_formats_from_the_registry(client, records):
    expect = {f.oai.prefix: (f.oai.schema, f.oai.namespace) for f in oai_formats()}
    assert {"oai_dc", "oai_datacite", "oai_openaire"} <= set(expect)
    assert expect["oai_dc"] == ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                                "http://www.openarchives.org/OAI/2.0/oai_dc/")
    for query in ("verb=ListMetadataFormats", f"verb=ListMetadataFormats&identifier="
                  f"oai:{REPO}:{KNOWN}", f"verb=ListMetadataFormats&identifier="
                  f"oai:{REPO}:{records[1].id}"):  # a deleted record: its header in any
        doc = oai(client, query)
        found = {f.findtext("o:metadataPrefix", namespaces=NS): (
            f.findtext("o:schema", namespaces=NS), f.findtext("o:metadataNamespace",
                                                              namespaces=NS))
            for f in doc.iterfind("o:ListMetadataFormats/o:metadataFormat", NS)}
        assert found == expect


@pytest.mark.parametrize("prefix", PREFIXES)
def test_list_records_in_every_format_is_valid_and_complete(client, app, prefix):
    items, _ = harvest(client, "ListRecords", metadataPrefix=prefix)  # each page validated
    assert listed(items) == expected(app, NOW)
    for item in items:
        deleted = header_of(item).get("status") == "deleted"
        assert (item.find("o:metadata", NS) is None) == deleted


@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_record_in_every_format(client, app, records, prefix):
    record = records[2]
    doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(record.id),
                       "metadataPrefix": prefix})
    head = doc.find("o:GetRecord/o:record/o:header", NS)
    stored = app.extensions["fairgate"].store.get(record.id)
    assert head.findtext("o:datestamp", namespaces=NS) == iso(public_datestamp(stored, NOW))
    assert doc.find("o:GetRecord/o:record/o:metadata", NS) is not None
    assert doc.find("o:request", NS).attrib == {"verb": "GetRecord",
                                                 "identifier": oai_id(record.id),
                                                 "metadataPrefix": prefix}


# -- paging (validator group 10, OVAL) -----------------------------------------------------------
def test_paging_cursor_size_expiry_and_the_empty_last_token(client, app):
    items, tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")
    want = expected(app, NOW)
    assert listed(items) == want and len(items) > 3 * 7
    assert [int(t.get("cursor")) for t in tokens] == list(range(0, len(items), 7))
    assert {int(t.get("completeListSize")) for t in tokens} == {len(want)}
    assert all(t.text for t in tokens[:-1]) and not tokens[-1].text  # empty final token
    assert tokens[-1].get("expirationDate") is None
    for t in tokens[:-1]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+", t.text)  # URL-safe
        expires = datetime.fromisoformat(t.get("expirationDate").replace("Z", "+00:00"))
        assert expires >= NOW + timedelta(hours=24)


def test_no_empty_page_at_exact_multiples_and_no_token_on_one_page(make_app):
    total = len(harvest(make_app(1000).test_client(), "ListIdentifiers",
                        metadataPrefix="oai_dc")[0])
    sizes = {total, total - 1, total + 1, *[d for d in range(2, total) if total % d == 0][:2]}
    for size in sorted(sizes):
        items, tokens = harvest(make_app(size).test_client(), "ListIdentifiers",
                                metadataPrefix="oai_dc")
        assert len(items) == total
        if size >= total:
            assert tokens == [None]  # a single page carries no token element
        else:
            assert len(tokens) == -(-total // size)  # ceil: never an extra empty page
            assert not tokens[-1].text and int(tokens[-1].get("completeListSize")) == total


def test_replaying_a_token_returns_the_same_page(client, clock):
    first = oai(client, "verb=ListRecords&metadataPrefix=oai_dc")
    token = first.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
    query = {"verb": "ListRecords", "resumptionToken": token}
    again = client.get("/oai?" + urlencode(query)).data
    assert client.get("/oai?" + urlencode(query)).data == again
    clock[0] = NOW + timedelta(hours=20)  # later, still valid: the same items
    later = oai(client, query)
    assert ids(later.findall("o:ListRecords/o:record", NS)) == ids(
        assert_valid_oai(again).findall("o:ListRecords/o:record", NS))
    assert later.find("o:ListRecords/o:resumptionToken", NS).get("cursor") == "7"


def test_bad_tokens(client, clock):
    doc = oai(client, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    token = doc.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    payload, tag = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for verb, value in (("ListIdentifiers", f"{flipped}.{tag}"),
                        ("ListIdentifiers", payload),
                        ("ListRecords", token),  # another verb's token
                        ("ListIdentifiers", token + "x")):
        doc = oai(client, {"verb": verb, "resumptionToken": value})
        assert error_codes(doc) == ["badResumptionToken"]
    clock[0] = NOW + timedelta(hours=49)
    doc = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token})
    assert error_codes(doc) == ["badResumptionToken"]
    assert "expired" in doc.findtext("o:error", namespaces=NS)


def test_the_list_is_frozen_at_the_first_request(client, app, clock):
    first = oai(client, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    token = first.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    gw = app.extensions["fairgate"]
    clock[0] = NOW + timedelta(minutes=5)
    gw.store.apply_batch("test", Batch(upserts=[make_record(777)]), clock[0])
    catch_up(gw.store, gw.index)
    rest, _ = harvest_from(client, "ListIdentifiers", token)
    seen = ids(first.findall("o:ListIdentifiers/o:header", NS)) + ids(rest)
    assert oai_id(make_record(777).id) not in seen
    assert seen == [i for _, i, _ in expected(app, clock[0], until=NOW)]
    fresh, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")
    assert oai_id(make_record(777).id) in ids(fresh)


def harvest_from(client, verb, token):
    items, tokens = [], []
    while token:
        doc = oai(client, {"verb": verb, "resumptionToken": token})
        items += doc.findall(f"o:{verb}/o:header", NS) + doc.findall(f"o:{verb}/o:record", NS)
        element = doc.find(f"o:{verb}/o:resumptionToken", NS)
        tokens.append(element)
        token = element.text if element is not None else None
    return items, tokens


# -- dates (validator group 6, OVAL incremental harvests) ------------------------------------------
def test_from_equal_until_returns_exactly_that_datestamp(client, app):
    want = expected(app, NOW)
    for stamp in sorted({s for s, _, _ in want}):
        for bound in (stamp, stamp[:10]):  # seconds and day granularity
            items, _ = harvest(client, "ListRecords", metadataPrefix="oai_dc", **{
                "from": bound, "until": bound})
            got = listed(items)
            assert {i for s, i, _ in want if s.startswith(bound)} == {i for _, i, _ in got}
            assert all(s.startswith(bound) for s, _, _ in got)


def test_incremental_harvest_equals_the_full_one_filtered(client, app):
    full = listed(harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")[0])
    for since in sorted({s for s, _, _ in full}):
        part = listed(harvest(client, "ListIdentifiers", metadataPrefix="oai_dc",
                              **{"from": since})[0])
        assert part == [x for x in full if x[0] >= since]


# -- BASE OVAL quality checks on oai_dc ------------------------------------------------------------
DC = "{http://purl.org/dc/elements/1.1/}"


def test_oval_minimal_dublin_core(client, records):
    """Every disseminated oai_dc record has a title, an absolute-URL identifier and ISO 8601
    dates; languages are ISO 639 codes; no text is double-encoded UTF-8."""
    items, _ = harvest(client, "ListRecords", metadataPrefix="oai_dc")
    live = [i for i in items if i.find("o:metadata", NS) is not None]
    assert live
    for item in live:
        dc = item.find("o:metadata", NS)[0]
        values = {}
        for element in dc:
            values.setdefault(element.tag.removeprefix(DC), []).append(element.text or "")
        assert values.get("title") and all(values["title"])
        assert any(re.fullmatch(r"https?://\S+", v) for v in values.get("identifier", []))
        assert values.get("date")
        for date in values["date"]:
            assert re.fullmatch(r"\d{4}(-\d\d(-\d\d(T\d\d:\d\d(:\d\d)?Z?)?)?)?"
                                r"(/\d{4}(-\d\d(-\d\d)?)?)?", date), date
        for language in values.get("language", []):
            assert re.fullmatch(r"[a-z]{2,3}", language), language
        text = "".join(v for vs in values.values() for v in vs)
        assert not re.search("[\u00c2\u00c3][\u0080-\u00bf]", text), text  # double UTF-8
    assert any("Ångström" in "".join(i.itertext()) or "müller" in "".join(i.itertext())
               for i in live)


# -- sets (validator groups 2-5) -------------------------------------------------------------------
def oracle_sets(record) -> set[str]:
    """A record's setSpecs by the rules of docs/oai-pmh.md, written out independently."""
    def enc(name):
        return "".join(c if re.fullmatch(r"[A-Za-z0-9\-_.!*'()]", c) else
                       "".join(f"~{b:02X}" for b in c.encode()) for c in name)
    out = {"openaire_data", "kind", f"kind:{record.kind}"}
    if record.facility:
        out |= {"facility", f"facility:{enc(record.facility.name)}"}
        if record.instrument:
            out.add(f"facility:{enc(record.facility.name)}:{enc(record.instrument.name)}")
    for t in record.techniques:
        out |= {"technique", "technique:" + t.iri.removeprefix(PANET)}
    return out


def test_list_sets_and_every_set_selects_its_records(client, app, records):
    doc = oai(client, "verb=ListSets")
    specs = [s.findtext("o:setSpec", namespaces=NS) for s in doc.iterfind("o:ListSets/o:set", NS)]
    assert specs[0] == "openaire_data"
    assert doc.findtext("o:ListSets/o:set/o:setName", namespaces=NS) == "OpenAIRE"
    store = app.extensions["fairgate"].store
    held = {oai_id(r.id): r for _, r in store.changes_since(0, 100_000)}
    want = expected(app, NOW)
    public_sets = set().union(*(oracle_sets(held[i]) for _, i, d in want if not d))
    assert set(specs) == public_sets
    assert "facility:Swiss~20Light~20Source~20(SLS)~20~7E~20x" in specs
    for spec in specs:
        items, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        assert ids(items) == [i for _, i, _ in want if spec in oracle_sets(held[i])], spec
        for item in items:  # each header lists all of its record's sets
            head = header_of(item)
            assert {s.text for s in head.iterfind("o:setSpec", NS)} == oracle_sets(
                held[head.findtext("o:identifier", namespaces=NS)])


def test_the_first_set_has_an_oai_dc_record(client):
    """The validator takes its example record from the first set (group 3)."""
    first = oai(client, "verb=ListSets").findtext("o:ListSets/o:set/o:setSpec", namespaces=NS)
    items, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set=first)
    live = [i for i in items if header_of(i).get("status") != "deleted"]
    doc = oai(client, {"verb": "GetRecord", "identifier": ids(live)[0],
                       "metadataPrefix": "oai_dc"})
    assert first in {s.text for s in doc.iterfind(".//o:header/o:setSpec", NS)}


# -- the embargo policy ---------------------------------------------------------------------
def test_embargoed_records_leak_nowhere(client, records):
    hidden = [r for r in records if r.dates.release_date and r.dates.release_date > NOW]
    assert hidden
    bodies = b"".join(client.get("/oai?" + q).data for q in (
        "verb=ListRecords&metadataPrefix=oai_dc", "verb=ListSets", "verb=Identify"))
    token = True
    query = "verb=ListRecords&metadataPrefix=oai_datacite"
    while token:
        body = client.get("/oai?" + query).data
        bodies += body
        token = assert_valid_oai(body).findtext("o:ListRecords/o:resumptionToken",
                                                namespaces=NS)
        query = urlencode({"verb": "ListRecords", "resumptionToken": token or ""})
    for r in hidden:
        assert r.id.encode() not in bodies and r.title.encode() not in bodies
        doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(r.id),
                           "metadataPrefix": "oai_dc"})
        assert error_codes(doc) == ["idDoesNotExist"]
        doc = oai(client, {"verb": "ListMetadataFormats", "identifier": oai_id(r.id)})
        assert error_codes(doc) == ["idDoesNotExist"]


def test_an_unavailable_index_answers_503_with_a_numeric_retry_after(tmp_path):
    app = create_app(Config(data_dir=tmp_path, index="elasticsearch",
                            elasticsearch_url="http://127.0.0.1:9", elasticsearch_retries=0,
                            elasticsearch_timeout=1), clock=lambda: NOW)
    try:
        resp = app.test_client().get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
        assert resp.status_code == 503 and resp.headers["Retry-After"].isdigit()
    finally:
        app.extensions["fairgate"].close()


def test_response_dates_are_whole_seconds_in_utc(make_app, clock):
    clock[0] = datetime(2026, 11, 23, 12, 0, 0, 987654, tzinfo=timezone.utc)
    doc = oai(make_app().test_client(), "verb=Identify")
    assert doc.findtext("o:responseDate", namespaces=NS) == "2026-11-23T12:00:00Z"


# -- configuration and the signing key -------------------------------------------------------------
def test_tokens_are_signed_with_a_key_kept_in_the_data_dir(make_app, tmp_path):
    token = oai(make_app().test_client(), "verb=ListIdentifiers&metadataPrefix=oai_dc").findtext(
        "o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    key = tmp_path / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text().strip()) >= 32
    query = {"verb": "ListIdentifiers", "resumptionToken": token}
    assert not error_codes(oai(make_app().test_client(), query))  # another worker, same key
    other = make_app(secret_key="another configured key").test_client()
    assert error_codes(oai(other, query)) == ["badResumptionToken"]


@pytest.mark.parametrize("key,value", [("repository_identifier", "localhost"),
                                       ("repository_identifier", "data.example.org:8000"),
                                       ("admin_email", "nobody"),
                                       ("oai_page_size", 0), ("oai_page_size", 1001)])
def test_bad_oai_configuration_is_refused(key, value):
    from gateway.config import ConfigError
    with pytest.raises(ConfigError, match=key):
        Config(**{key: value})


@pytest.mark.parametrize("base_url,expected", [
    ("https://Data.Example.org:8443/x", "data.example.org"),
    ("http://localhost:8000", "fairgate.invalid"), ("", "127.0.0.1")])
def test_the_repository_identifier_defaults_to_the_public_host(base_url, expected):
    from gateway.oai.provider import admin_email, repository_identifier
    config = Config(base_url=base_url)
    assert repository_identifier(config) == expected
    assert admin_email(config) == f"webmaster@{expected}"


def test_technique_sets_follow_the_vocabulary_hierarchy(make_app, records):
    """With a PaNET hierarchy configured (deep technique filters in the index), a record is
    in the sets of its techniques' broader techniques too, and lists them."""
    panet = Path(__file__).resolve().parents[2] / "shared" / "data" / "panet" / "PaNET.csv"
    client = make_app(techniques_vocabulary=str(panet)).test_client()
    items, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")
    listed_sets = {ids([i])[0]: {s.text for s in header_of(i).iterfind("o:setSpec", NS)}
                   for i in items}
    held = {oai_id(r.id): r for r in records}
    broader = {spec for i, specs in listed_sets.items() for spec in specs
               if spec.startswith("technique:") and spec not in oracle_sets(held[i])}
    assert broader  # e.g. the parents of small angle x-ray scattering
    specs = {s.text for s in oai(client, "verb=ListSets").iterfind(".//o:setSpec", NS)}
    assert broader <= specs
    for spec in sorted(broader)[:3]:
        found, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        assert set(ids(found)) == {i for i, s in listed_sets.items() if spec in s}
        assert any(spec not in oracle_sets(held[i]) for i in ids(found))
