"""Deleted headers over OAI-PMH on both backends: tombstones (only when their deletion may
be disclosed), records withdrawn when their release date moved into the future (deleted
from the withdrawal until the new embargo ends, then back with the release as datestamp),
and the record store's withdrawal tracking with its migration."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree

from gateway.app import create_app
from gateway.config import Config
from gateway.index import catch_up
from gateway.store import Batch, Store
from mappings.access import Visibility, tombstone_disclosable, visibility
from mappings.record import Dates, Facility, Instrument, Technique, iso, with_hash

from .factories import NOW, PANET, make_record
from .test_oai_protocol import error_codes, harvest, header_of, ids, listed, oai, oracle_sets
from .xsd import NS

T0 = NOW - timedelta(days=10)  # first harvest
T1 = NOW - timedelta(days=5)   # re-embargo / deletions
PREFIXES = ("oai_dc", "oai_datacite", "oai_openaire")


def public(i, **kw):
    return make_record(i, release=T0 - timedelta(days=1), **kw)


def reembargoed(record, until):
    return with_hash(replace(record, dates=replace(record.dates, release_date=until)))


@pytest.fixture
def gateway(tmp_path, clock, backend_config):
    app = create_app(Config(data_dir=tmp_path, base_url="https://data.example.org",
                            oai_page_size=3, **backend_config), clock=lambda: clock[0])
    gw = app.extensions["fairgate"]
    yield app, gw
    gw.close()


def write(gw, when, upserts=(), deletes=()):
    gw.store.apply_batch("test", Batch(upserts=list(upserts), deletes=list(deletes)), when)
    catch_up(gw.store, gw.index)


def oai_id(record):
    return f"oai:data.example.org:{record.id}"


def headers(client, **args):
    return {ids([i])[0]: i for i in harvest(client, "ListIdentifiers",
                                            **{"metadataPrefix": "oai_dc", **args})[0]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_deleted_public_record_is_a_deleted_header_with_its_sets(gateway, prefix):
    app, gw = gateway
    gone, kept = public(1), public(2)
    secret = make_record(3, release=NOW + timedelta(days=100))  # deleted while embargoed
    write(gw, T0, [gone, kept, secret])
    write(gw, T1, deletes=[gone.id, secret.id])
    client = app.test_client()
    items, _ = harvest(client, "ListRecords", metadataPrefix=prefix)
    assert listed(items) == [(iso(T0), oai_id(kept), False), (iso(T1), oai_id(gone), True)]
    deleted = items[-1]
    assert deleted.find("o:metadata", NS) is None
    assert {s.text for s in header_of(deleted).iterfind("o:setSpec", NS)} >= {
        "openaire_data", "kind:dataset", f"facility:{gone.facility.name}",
        f"facility:{gone.facility.name}:{gone.instrument.name}"}
    doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(gone), "metadataPrefix": prefix})
    head = doc.find("o:GetRecord/o:record/o:header", NS)
    assert head.get("status") == "deleted" and head.findtext("o:datestamp",
                                                             namespaces=NS) == iso(T1)
    assert doc.find("o:GetRecord/o:record/o:metadata", NS) is None
    # never public: its deletion is not announced anywhere
    doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(secret),
                       "metadataPrefix": prefix})
    assert error_codes(doc) == ["idDoesNotExist"]
    # the deleted header is in the sets the record was in, and in incremental harvests
    assert oai_id(gone) in headers(client, set=f"facility:{gone.facility.name}")
    assert list(headers(client, **{"from": iso(T1)})) == [oai_id(gone)]


def test_a_reembargoed_record_is_deleted_until_its_new_embargo_ends(gateway, clock):
    app, gw = gateway
    record, other = public(1), public(2)
    write(gw, T0, [record, other])
    client = app.test_client()
    assert headers(client)[oai_id(record)].get("status") is None
    new_release = NOW + timedelta(days=30)
    hidden = with_hash(replace(reembargoed(record, new_release),
                               title="A title nobody may see yet"))
    write(gw, T1, [hidden])
    # withdrawn: a deleted header stamped with the moment of the change, no metadata
    found = headers(client)
    assert found[oai_id(record)].get("status") == "deleted"
    assert found[oai_id(record)].findtext("o:datestamp", namespaces=NS) == iso(T1)
    assert list(headers(client, **{"from": iso(T1)})) == [oai_id(record)]
    doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(record),
                       "metadataPrefix": "oai_datacite"})
    assert doc.find(".//o:header", NS).get("status") == "deleted"
    assert b"nobody may see" not in client.get(
        "/oai?verb=ListRecords&metadataPrefix=oai_dc").data
    # changed again while embargoed: still withdrawn since T1
    write(gw, T1 + timedelta(days=1), [with_hash(replace(hidden, title="Another hidden title"))])
    assert headers(client)[oai_id(record)].findtext("o:datestamp", namespaces=NS) == iso(T1)
    # the new embargo ends: the record is back, stamped with its release
    clock[0] = new_release + timedelta(hours=1)
    found = headers(client)
    assert found[oai_id(record)].get("status") is None
    assert found[oai_id(record)].findtext("o:datestamp", namespaces=NS) == iso(new_release)
    assert list(headers(client, **{"from": iso(new_release)})) == [oai_id(record)]
    doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(record),
                       "metadataPrefix": "oai_dc"})
    assert doc.find(".//o:metadata", NS) is not None
    assert "Another hidden title" in etree.tostring(doc, encoding="unicode")


def test_a_record_whose_embargo_ends_appears_stamped_with_the_release(gateway, clock):
    app, gw = gateway
    release = NOW + timedelta(days=2)
    write(gw, T0, [public(1), make_record(2, release=release)])
    client = app.test_client()
    assert list(headers(client)) == [oai_id(public(1))]
    clock[0] = release + timedelta(seconds=1)
    found = headers(client, **{"from": iso(release)[:10]})
    assert list(found) == [oai_id(make_record(2))]
    assert found[oai_id(make_record(2))].findtext("o:datestamp",
                                                  namespaces=NS) == iso(release)


# -- the record store's withdrawal tracking ------------------------------------------------------
def test_store_records_the_moment_a_public_record_goes_back_under_embargo(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    record, fresh = public(1), make_record(2, release=NOW + timedelta(days=9))
    store.apply_batch("t", Batch(upserts=[record, fresh]), T0)
    assert store.withdrawn_at(record.id) is None
    assert store.withdrawn_at(fresh.id) is None  # never public: nothing to withdraw
    store.apply_batch("t", Batch(upserts=[reembargoed(record, NOW + timedelta(days=9)),
                                          replace(fresh, title="changed")]), T1)
    assert store.withdrawn_at(record.id) == T1
    assert store.withdrawn_at(fresh.id) is None
    # a change while embargoed keeps the first withdrawal; public again clears it
    store.apply_batch("t", Batch(upserts=[with_hash(replace(
        reembargoed(record, NOW + timedelta(days=9)), title="x"))]), T1 + timedelta(days=1))
    assert store.withdrawn_at(record.id) == T1
    store.apply_batch("t", Batch(upserts=[with_hash(replace(record, title="y"))]), NOW)
    assert store.withdrawn_at(record.id) is None
    rows = store.oai_deletions(NOW)
    assert rows == []
    store.apply_batch("t", Batch(deletes=[record.id]), NOW)
    assert [(s, i) for s, i, _ in store.oai_deletions(NOW)] == [(NOW, record.id)]


def test_a_store_without_withdrawals_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    store = Store(path)
    store.apply_batch("t", Batch(upserts=[public(1)]), T0)
    store.close()
    db = sqlite3.connect(path)
    db.executescript("DROP INDEX records_withdrawn; DROP INDEX records_tombstones;"
                     " ALTER TABLE records DROP COLUMN withdrawn_at;")
    db.close()
    store = Store(path)
    assert store.get(public(1).id).title == public(1).title
    store.apply_batch("t", Batch(upserts=[reembargoed(public(1), NOW + timedelta(days=3))]), T1)
    assert store.withdrawn_at(public(1).id) == T1
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert {"records_withdrawn", "records_tombstones"} <= names
    store.close()


def test_no_dates_at_all_is_public_from_its_stamp(gateway):
    app, gw = gateway
    write(gw, T0, [make_record(5, dates=Dates())])
    assert list(headers(app.test_client())) == [oai_id(make_record(5))]


# -- the last public version: what a deleted header shows ---------------------------------------
SECRET = Technique(PANET + "PaNET01012", "a secret technique")


def secretly_moved(record, until):
    """`record` re-embargoed until `until`, moved to an instrument and a technique nobody
    may see yet."""
    return with_hash(replace(reembargoed(record, until), instrument=Instrument(
        "SecretInstrument"), techniques=(SECRET,), title="A title nobody may see yet"))


def responses(client) -> bytes:
    """ListSets and every item of both lists (all pages), as bytes."""
    out = [client.get("/oai?verb=ListSets").data]
    for verb in ("ListIdentifiers", "ListRecords"):
        out += [etree.tostring(i) for i in harvest(client, verb, metadataPrefix="oai_dc")[0]]
    return b"".join(out)


def set_specs(item) -> set[str]:
    return {s.text for s in header_of(item).iterfind("o:setSpec", NS)}


def test_a_withdrawn_record_shows_the_sets_of_its_last_public_version(gateway):
    app, gw = gateway
    record = public(1)
    write(gw, T0, [record, public(2)])
    client = app.test_client()
    before = set_specs(headers(client)[oai_id(record)])
    write(gw, T1, [secretly_moved(record, NOW + timedelta(days=30))])
    found = headers(client)[oai_id(record)]
    assert found.get("status") == "deleted" and set_specs(found) == before
    doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(record),
                       "metadataPrefix": "oai_dc"})
    assert set_specs(doc.find(".//o:header", NS)) == before
    secret_sets = (f"facility:{record.facility.name}:SecretInstrument", "technique:PaNET01012")
    for spec in secret_sets:
        assert error_codes(oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc",
                                        "set": spec})) == ["noRecordsMatch"]
    assert oai_id(record) in headers(client, set=f"facility:{record.facility.name}:"
                                                 f"{record.instrument.name}")
    assert b"Secret" not in responses(client) and b"PaNET01012" not in responses(client)


def test_a_record_deleted_while_withdrawn_stays_announced(gateway, clock):
    app, gw = gateway
    record, other = public(1), public(2)
    write(gw, T0, [record, other])
    client = app.test_client()
    before = set_specs(headers(client)[oai_id(record)])
    until = NOW + timedelta(days=30)
    write(gw, T1, [secretly_moved(record, until)])
    gone_at = T1 + timedelta(days=1)
    write(gw, gone_at, deletes=[record.id])
    for now in (NOW, until + timedelta(days=1)):  # during and after the embargo
        clock[0] = now
        found = headers(client)
        assert found[oai_id(record)].get("status") == "deleted"
        assert found[oai_id(record)].findtext("o:datestamp", namespaces=NS) == iso(gone_at)
        assert set_specs(found[oai_id(record)]) == before
        assert oai_id(record) in headers(client, set=f"facility:{record.facility.name}")
        doc = oai(client, {"verb": "GetRecord", "identifier": oai_id(record),
                           "metadataPrefix": "oai_dc"})
        assert doc.find(".//o:header", NS).get("status") == "deleted"
        assert b"Secret" not in responses(client)
    # the last public version is kept as a tombstone: erased like any deleted record
    kept = gw.store.oai_deletion(record.id, NOW)[1]
    assert kept.deleted and kept.creators == () and kept.instrument == record.instrument


def test_deleted_headers_are_counted_in_every_kind_of_set(gateway):
    """completeListSize (counted by the record store for a whole list or a kind, one by
    one for a facility) equals what the pages list."""
    app, gw = gateway
    records = [public(i) for i in range(12)] + [make_record(90, kind="document",
                                                            release=T0 - timedelta(days=1))]
    write(gw, T0, records)
    write(gw, T1, [secretly_moved(records[0], NOW + timedelta(days=9))],
          deletes=[r.id for r in records[3:7]] + [records[12].id])
    client = app.test_client()
    for spec in (None, "openaire_data", "kind", "kind:dataset", "kind:document", "facility",
                 f"facility:{records[0].facility.name}", "technique", "technique:PaNET01188",
                 f"facility:{records[0].facility.name}:{records[0].instrument.name}"):
        items, tokens = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc",
                                **({"set": spec} if spec else {}))
        assert all(t is None or int(t.get("completeListSize")) == len(items) for t in tokens)
        assert sorted(ids(items)) == sorted(
            oai_id(r) for r in records if spec is None or spec in oracle_sets(r)), spec
    all_items, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(all_items) == 13
    assert sum(header_of(i).get("status") == "deleted" for i in all_items) == 6


def test_the_store_announces_exactly_what_the_access_policy_allows(tmp_path):
    """`Store.oai_deletions` (the policy in SQL) against `mappings.access` in Python."""
    store = Store(tmp_path / "s.sqlite")
    soon, late = NOW + timedelta(days=2), NOW + timedelta(days=40)
    cases = {1: None, 2: T0 - timedelta(days=1), 3: soon, 4: T1 + timedelta(hours=1),
             5: late, 6: T0 - timedelta(days=1), 7: T0 - timedelta(days=1)}
    records = {i: make_record(i, release=r) for i, r in cases.items()}
    store.apply_batch("t", Batch(upserts=records.values()), T0)
    store.apply_batch("t", Batch(upserts=[reembargoed(records[6], soon),
                                          reembargoed(records[7], late)]), T1)
    store.apply_batch("t", Batch(deletes=[records[i].id for i in (1, 2, 3, 5, 7)]),
                      T1 + timedelta(days=1))
    for now in (T1 + timedelta(days=1), NOW, soon + timedelta(days=1), late + timedelta(1)):
        want = set()
        for i, r in records.items():
            stored = store.get(r.id)
            if stored.deleted and (tombstone_disclosable(stored, now) or i == 7):
                want.add(r.id)  # 7: deleted while withdrawn
            elif i == 6 and visibility(stored, now) is Visibility.EMBARGOED:
                want.add(r.id)
        assert {rid for _, rid, _ in store.oai_deletions(now)} == want, now
        assert store.count_oai_deletions(now) == len(want)


# -- identifiers, the sample, names XML cannot hold -------------------------------------------
def test_only_the_exact_identifier_names_a_record(gateway):
    app, gw = gateway
    record = public(1)
    write(gw, T0, [record])
    client = app.test_client()
    quoted = oai_id(record).replace(":", "%3A").replace("%3A", ":", 2)
    assert quoted != oai_id(record) and quoted.startswith("oai:data.example.org:test%3A")
    for verb in ("GetRecord", "ListMetadataFormats"):
        args = {"verb": verb, "identifier": quoted, "metadataPrefix": "oai_dc"}
        if verb == "ListMetadataFormats":
            del args["metadataPrefix"]
        assert error_codes(oai(client, args)) == ["idDoesNotExist"]
    assert not error_codes(oai(client, {"verb": "GetRecord", "identifier": oai_id(record),
                                        "metadataPrefix": "oai_dc"}))


def test_identify_samples_a_live_record_even_if_a_deletion_is_earlier(gateway):
    app, gw = gateway
    gone, kept = public(1), public(2)
    write(gw, T0, [gone])
    write(gw, T0 + timedelta(hours=1), deletes=[gone.id])
    write(gw, T1, [kept])
    client = app.test_client()
    ident = oai(client, "verb=Identify").find("o:Identify", NS)
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == iso(T0 + timedelta(hours=1))
    sample = ident.findtext(".//oi:sampleIdentifier", namespaces=NS)
    assert sample == oai_id(kept)
    doc = oai(client, {"verb": "GetRecord", "identifier": sample, "metadataPrefix": "oai_dc"})
    assert doc.find(".//o:metadata", NS) is not None


def test_names_with_characters_xml_cannot_hold_stay_well_formed(gateway):
    app, gw = gateway
    odd = public(1, facility=Facility("Bad\x02Facility & <Co>"),
                 instrument=Instrument("I\x1f1"))
    write(gw, T0, [odd])
    client = app.test_client()
    doc = oai(client, "verb=ListSets")  # parsed and judged by the XSD
    found = {s.findtext("o:setSpec", namespaces=NS): s.findtext("o:setName", namespaces=NS)
             for s in doc.iterfind("o:ListSets/o:set", NS)}
    assert found["facility:Bad~02Facility~20~26~20~3CCo~3E"] == "BadFacility & <Co>"
    assert found["facility:Bad~02Facility~20~26~20~3CCo~3E:I~1F1"] == (
        "I1 at BadFacility & <Co>")
    assert ids(harvest(client, "ListRecords", metadataPrefix="oai_dc",
                       set="facility:Bad~02Facility~20~26~20~3CCo~3E:I~1F1")[0]) == [oai_id(odd)]
    # a request with such characters: refused, in a well-formed response
    doc = oai(client, {"verb": "GetRecord", "identifier": "oai:x:\x02\x0b\"<",
                       "metadataPrefix": "oai_dc"})
    assert error_codes(doc) == ["badArgument"]


def test_xml_text_and_attr_clean_then_escape():
    from mappings.xmlutil import xml_attr, xml_text
    assert xml_text("a\x00b\x02<&>\ud800\ufffe\t") == "ab&lt;&amp;&gt;\t"
    assert xml_attr('"\x02\n') == "&quot;&#10;"
    etree.fromstring(f'<a b="{xml_attr(chr(1) + "x" + chr(11))}">{xml_text(chr(31))}</a>')
