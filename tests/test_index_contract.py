"""The contract every search index backend passes, checked against a brute-force oracle
computed in plain Python over the same records (tests/oracle.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from gateway.api.params import parameter_range
from gateway.index import FACET_FIELDS, IndexAhead, IndexOutdated, Query, QueryError, catch_up, \
    rebuild
from gateway.index.embedded import EmbeddedIndex
from gateway.store import Batch, Store
from gateway.vocabulary import load_techniques

from .conftest import BACKENDS
from .factories import NOW, PANET, corpus, make_record
from .oracle import PANET_OWL, brute_facets, brute_search, brute_stamps, facet_values, panet
from .search_corpus import XAS, varied_corpus

VOCABULARY = load_techniques(PANET_OWL)


@pytest.fixture(params=BACKENDS)
def make_index(request, tmp_path):
    """A factory of empty indexes of one backend (Elasticsearch: over real HTTP), with the
    PaNET vocabulary unless told otherwise."""
    if request.param == "elasticsearch":
        es = request.getfixturevalue("es_index")
        return lambda techniques=VOCABULARY: es(techniques=techniques)
    made = iter(range(1000))

    def factory(techniques=VOCABULARY):
        return EmbeddedIndex(tmp_path / f"index{next(made) or ''}.sqlite", techniques=techniques)
    return factory


@pytest.fixture
def records():
    return varied_corpus(120)


@pytest.fixture
def index(make_index, records, tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=list(records)), NOW)
    idx = make_index()
    catch_up(store, idx)
    yield idx
    idx.close()


def all_pages(index, query: Query, size: int = 7) -> list[str]:
    ids, cursor = [], None
    for _ in range(1000):
        page = index.search(Query(**{**query.__dict__, "size": size, "cursor": cursor}), NOW)
        ids += [h.id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return ids
    raise AssertionError("paging did not end")


QUERIES = [
    Query(),
    Query(text="cerium"),
    Query(text="CERIUM oxide"),
    Query(text='"of cerium"'),
    Query(text="angstrom"),          # diacritics folded
    Query(text="cath*"),             # prefix
    Query(text="ID11"),              # instrument name is searchable
    Query(text="foil"),              # part of Cu_foil: '_' separates words
    Query(text="Cu_foil"),           # ... and the whole, as a phrase
    Query(text="lab6*"),
    Query(text="lab6_st*"),          # phrase whose last word is a prefix
    Query(text='"cerium oxide" film*'),
    Query(text="MÜLLER"),
    Query(filters={"facility": ("ESRF",)}),
    Query(filters={"facility": ("ESRF", "PSI"), "kind": ("dataset",)}),
    Query(filters={"technique": ("http://purl.org/pan-science/PaNET/PaNET01188",)}),
    Query(text="protein", filters={"instrument": ("ID13", "D22")}),
    Query(filters={"year": ("2020",)}),
    Query(date_from=date(2019, 6, 1), date_to=date(2021, 12, 31)),
    Query(date_from=date(1, 1, 1), date_to=date(9999, 12, 31)),  # only records with a date
    Query(text="nomatchwhatsoever"),
    Query(filters={"licence": ("CC0-1.0",)}),
    Query(filters={"access": ("open",), "facility": ("ILL",)}),
    Query(filters={"technique": (XAS,)}),                # deep: EXAFS records too
    Query(filters={"technique": (PANET + "PaNET00100",)}),  # photon probe: most of them
    Query(text="oxide", filters={"technique": (PANET + "PaNET01022",)}),  # diffraction
    Query(parameters=(parameter_range("photon_energy:0.88..0.99:keV"),)),
    Query(parameters=(parameter_range("photon_energy:935:eV"),)),
    Query(parameters=(parameter_range("sample_temperature:..300:K"),)),
    Query(parameters=(parameter_range("sample_temperature:30..:celsius"),)),  # + spans
    Query(parameters=(parameter_range("sample_temperature:340..400:K"),)),  # spans only
    Query(parameters=(parameter_range("temperature:81..83"),)),       # as recorded
    Query(parameters=(parameter_range("wavelength:0.5..3:angstrom"),
                      parameter_range("photon_energy:..1:keV"))),     # AND-ed
    Query(parameters=(parameter_range("wavelength:0.5..3:K"),)),      # wrong dimension
    Query(text="cerium", parameters=(parameter_range("temperature:80..81:K"),),
          filters={"licence": ("CC-BY-4.0", "ODbL-1.0")}),
]
SORTS = ["date", "-date", "title", "-title"]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[:60])
@pytest.mark.parametrize("sort", SORTS)
def test_results_and_order_equal_brute_force(index, records, query, sort):
    q = Query(**{**query.__dict__, "sort": sort})
    expected = brute_search(records, q, NOW, deep=True)
    assert index.search(q, NOW).total == len(expected)
    assert all_pages(index, q) == [r.id for r in expected]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[:60])
def test_facet_counts_equal_brute_force(index, records, query):
    fields = FACET_FIELDS
    q = Query(**{**query.__dict__, "facets": fields})
    result = index.search(q, NOW)
    expected = brute_facets(brute_search(records, q, NOW, deep=True), fields, deep=True)
    got = {f: {v.value: v.count for v in vs} for f, vs in result.facets.items()}
    assert got == expected


def test_relevance_ranks_title_matches_first_and_pages_are_complete(index, records):
    q = Query(text="zeolite")
    expected = {r.id for r in brute_search(records, q, NOW, deep=True)}
    ids = all_pages(index, q, size=5)
    assert len(ids) == len(set(ids)) and set(ids) == expected
    scores = [h.score for h in index.search(Query(text="zeolite", size=100), NOW).hits]
    assert all(s is not None and s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_embargoed_records_are_invisible_until_release(index, records):
    embargoed = [r for r in records if r.dates.release_date and r.dates.release_date > NOW]
    assert embargoed
    everything = Query(size=1000, facets=("facility",))
    visible = {h.id for h in index.search(everything, NOW).hits}
    assert not visible & {r.id for r in embargoed}
    later = NOW + timedelta(days=31)
    assert {r.id for r in embargoed} <= {h.id for h in index.search(everything, later).hits}
    counted = sum(v.count for v in index.search(everything, NOW).facets["facility"])
    assert counted == len(visible)


@pytest.mark.parametrize("text", ['"', 'a"b', "title:x", "NEAR(a b)", "*", "AND OR NOT",
                                  "(((", "a -b", "^x", "x:y:z", "\x00", "' OR 1=1 --", "é*",
                                  '"unbalanced phrase', "{col}: x", "a + b"])
def test_no_query_text_raises_an_engine_error(index, text):
    result = index.search(Query(text=text), NOW)
    assert result.total >= 0


def test_cursor_is_bound_to_its_query(index):
    page = index.search(Query(text="oxide", size=2), NOW)
    assert page.next_cursor
    with pytest.raises(QueryError):
        index.search(Query(text="cerium", size=2, cursor=page.next_cursor), NOW)
    with pytest.raises(QueryError):
        index.search(Query(size=2, cursor="not-a-cursor!"), NOW)


def test_deleted_records_leave_the_index(make_index, records, tmp_path):
    store = Store(tmp_path / "s2.sqlite")
    store.apply_batch("test", Batch(upserts=records[:10]), NOW)
    idx = make_index()
    catch_up(store, idx)
    before = idx.count()
    store.apply_batch("test", Batch(deletes=[records[1].id]), NOW)
    catch_up(store, idx)
    assert idx.count() == before - 1
    assert records[1].id not in {h.id for h in idx.search(Query(size=100), NOW + timedelta(
        days=400)).hits}


def test_update_replaces_document(make_index, tmp_path):
    store = Store(tmp_path / "s3.sqlite")
    store.apply_batch("test", Batch(upserts=[make_record(1, title="Old title about quartz")]), NOW)
    idx = make_index()
    catch_up(store, idx)
    store.apply_batch("test", Batch(upserts=[make_record(1, title="New title about basalt")]),
                      NOW)
    catch_up(store, idx)
    assert idx.search(Query(text="quartz"), NOW).total == 0
    assert idx.search(Query(text="basalt"), NOW).total == 1
    assert idx.count() == 1


def test_facet_values_cover_every_field(records):
    # guards the oracle itself: every record contributes to kind, and facets are non-trivial
    values = facet_values(records[0])
    assert values["kind"] == {records[0].kind}


def test_technique_facet_carries_labels(index, records):
    """The record's own label for its techniques, PaNET's for the ancestors they bring."""
    result = index.search(Query(facets=("technique",)), NOW)
    labels = {**panet()[1], **{t.iri: t.label for r in records for t in r.techniques}}
    assert len(result.facets["technique"]) > 20
    assert all(v.label == labels[v.value] for v in result.facets["technique"])


def test_the_corpus_tells_the_new_facets_and_ranges_apart(records):
    # guards the oracle and the corpus: each new query answers something, not everything
    public = brute_search(records, Query(), NOW)
    new = QUERIES[QUERIES.index(Query(text="nomatchwhatsoever")) + 1:]
    wrong_dimension = [q for q in new if any(p.unit == "K" and p.name == "wavelength"
                                             for p in q.parameters)]
    assert len(wrong_dimension) == 1 and not brute_search(records, wrong_dimension[0], NOW)
    for query in new:
        if query not in wrong_dimension:
            assert 0 < len(brute_search(records, query, NOW, deep=True)) < len(public), query
    deep = brute_search(records, Query(filters={"technique": (XAS,)}), NOW, deep=True)
    flat = brute_search(records, Query(filters={"technique": (XAS,)}), NOW)
    assert len(deep) > len(flat)
    facets = brute_facets(public, ("licence", "access"))
    assert len(facets["licence"]) == 3 and set(facets["access"]) == {"open"}


def test_an_ancestor_counts_each_record_once(index, records):
    """A record tagged with both XAS and EXAFS (under XAS) counts once under XAS."""
    both = [r for r in records if {XAS, PANET + "PaNET01198"} <= {t.iri for t in r.techniques}]
    assert both
    q = Query(facets=("technique",), filters={"technique": (XAS,)})
    result = index.search(q, NOW)
    counts = {v.value: v.count for v in result.facets["technique"]}
    assert counts[XAS] == result.total == len(brute_search(records, q, NOW, deep=True))


def test_without_a_vocabulary_technique_filters_are_exact(make_index, records, tmp_path):
    store = Store(tmp_path / "flat.sqlite")
    store.apply_batch("test", Batch(upserts=records), NOW)
    idx = make_index(techniques=None)
    catch_up(store, idx)
    q = Query(filters={"technique": (XAS,)}, facets=("technique",))
    expected = brute_search(records, q, NOW)
    result = idx.search(q, NOW)
    assert result.total == len(expected) < len(brute_search(records, q, NOW, deep=True))
    assert {v.value: v.count for v in result.facets["technique"]} == brute_facets(
        expected, ("technique",))["technique"]


def test_an_index_built_with_another_vocabulary_needs_a_reindex(make_index, records, tmp_path):
    store = Store(tmp_path / "v.sqlite")
    store.apply_batch("test", Batch(upserts=records[:10]), NOW)
    flat = make_index(techniques=None)
    catch_up(store, flat)
    flat.close()
    if isinstance(flat, EmbeddedIndex):  # the same index, opened with the vocabulary
        deep = EmbeddedIndex(flat.path, techniques=VOCABULARY)
    else:
        deep = type(flat)(flat._url, flat.name, timeout=30, techniques=VOCABULARY)
    with pytest.raises(IndexOutdated, match="fairgate reindex"):
        deep.search(Query(), NOW)
    with pytest.raises(IndexOutdated):
        deep.last_seq()
    rebuild(store, deep)
    q = Query(filters={"technique": (PANET + "PaNET00100",)}, size=100)
    later = NOW + timedelta(days=400)
    assert deep.search(q, later).total == len(brute_search(records[:10], q, later, deep=True))
    deep.close()


def test_a_prefix_matches_every_word_it_starts(make_index, tmp_path):
    """More distinct words than any default expansion limit (50) share the prefix."""
    words = [f"prefixword{i:03d}" for i in range(120)]
    store = Store(tmp_path / "s4.sqlite")
    store.apply_batch("test", Batch(upserts=[make_record(i, title=f"Scan of {w}")
                                             for i, w in enumerate(words)]), NOW)
    idx = make_index()
    catch_up(store, idx)
    assert idx.search(Query(text="prefixw*", size=0), NOW).total == 120
    assert len(all_pages(idx, Query(text="prefixw*"), size=50)) == 120


def test_rebuild_replays_the_store(index, records, tmp_path):
    store = Store(tmp_path / "store.sqlite")  # the store the index fixture filled
    store.apply_batch("test", Batch(deletes=[records[2].id]), NOW)
    q = Query(sort="title", facets=("facility",))
    replayed = rebuild(store, index)
    assert replayed == len(records)
    assert index.last_seq() == store.last_seq()
    assert index.count() == len(records) - 1
    expected = brute_search([r for r in records if r.id != records[2].id], q, NOW, deep=True)
    assert all_pages(index, q) == [r.id for r in expected]


# -- OAI-PMH iteration: (public datestamp, id) keyset ------------------------------------
T1, T2, T3 = NOW - timedelta(days=100), NOW - timedelta(days=40), NOW - timedelta(days=3)


@pytest.fixture
def stamped(make_index, tmp_path):
    """(index, store records with their datestamps): three harvests at T1, T2, T3 (ties on
    the datestamp within each), releases spread over the past 120 days (so many are later
    than the datestamp), a quarter embargoed until NOW + 30 days, two records deleted."""
    records = corpus(120)
    store = Store(tmp_path / "stamps.sqlite")
    for when, part in ((T1, records[:50]), (T2, records[50:90]), (T3, records[90:])):
        store.apply_batch("test", Batch(upserts=part), when)
    store.apply_batch("test", Batch(deletes=[records[7].id, records[60].id]),
                      NOW - timedelta(days=1))
    idx = make_index()
    catch_up(store, idx)
    held = [r for _, r in store.changes_since(0, 10_000)]
    yield idx, held
    idx.close()


def all_stamps(index, now, size=7, **bounds):
    out, after = [], None
    for _ in range(1000):
        page = index.stamps(now, after=after, size=size, **bounds)
        assert len(page) <= size
        out += page
        if len(page) < size:
            return out
        after = page[-1]
    raise AssertionError("paging did not end")


STAMP_CASES = [
    dict(),
    dict(date_from=NOW - timedelta(days=50), date_to=NOW - timedelta(days=4)),
    dict(date_from=T2, date_to=T2),  # inclusive at both ends
    dict(date_from=T3 + timedelta(seconds=1)),
    dict(date_to=T1 - timedelta(seconds=1)),
    dict(filters={"facility": ("ESRF",)}),
    dict(filters={"kind": ("document",)}, date_from=T1),
]


@pytest.mark.parametrize("bounds", STAMP_CASES, ids=lambda b: repr(b)[:50])
@pytest.mark.parametrize("later", [0, 31], ids=["now", "after-embargo"])
@pytest.mark.parametrize("size", [1, 7, 1000])
def test_stamps_page_in_oai_order_equal_to_the_access_policy(stamped, bounds, later, size):
    index, records = stamped
    now = NOW + timedelta(days=later)
    expected = brute_stamps(records, now, **bounds)
    assert all_stamps(index, now, size=size, **bounds) == expected


@pytest.mark.parametrize("bounds", STAMP_CASES, ids=lambda b: repr(b)[:50])
@pytest.mark.parametrize("later", [0, 31], ids=["now", "after-embargo"])
def test_count_stamps_equals_the_access_policy(stamped, bounds, later):
    index, records = stamped
    now = NOW + timedelta(days=later)
    assert index.count_stamps(now, **bounds) == len(brute_stamps(records, now, **bounds))


def test_stamps_corpus_has_what_the_contract_needs(stamped):
    _, records = stamped
    public = brute_stamps(records, NOW)
    stamps = [s for s, _ in public]
    assert len(set(stamps)) < len(stamps)  # ties on the datestamp
    assert any(r.dates.release_date and r.datestamp < r.dates.release_date <= NOW
               for r in records if not r.deleted)  # released after being stamped
    assert any(r.deleted for r in records)
    assert len(brute_stamps(records, NOW + timedelta(days=31))) > len(public)  # embargoes


def test_stamps_continue_after_a_key_that_is_no_longer_there(stamped):
    index, records = stamped
    full = brute_stamps(records, NOW)
    key = (full[10][0], full[10][1] + "~")  # between two ids of one datestamp, or after
    assert index.stamps(NOW, after=key, size=1000) == [k for k in full if k > key]
    assert index.stamps(NOW, after=(datetime.max.replace(tzinfo=NOW.tzinfo), ""), size=5) == []


def test_stamps_refuse_an_unknown_filter(stamped):
    index, _ = stamped
    with pytest.raises(QueryError):
        index.stamps(NOW, filters={"colour": ("red",)})


# -- an index ahead of its store (store restored or recreated) ---------------------------
def test_an_index_ahead_of_the_store_is_reported_not_skipped(make_index, records, tmp_path):
    old = Store(tmp_path / "old.sqlite")
    old.apply_batch("test", Batch(upserts=records[:20]), NOW)
    idx = make_index()
    catch_up(old, idx)
    restored = Store(tmp_path / "restored.sqlite")  # e.g. from an older backup
    restored.apply_batch("test", Batch(upserts=records[:5]), NOW)
    with pytest.raises(IndexAhead, match="fairgate reindex") as caught:
        catch_up(restored, idx)
    assert (caught.value.index_seq, caught.value.store_seq) == (20, 5)
    # a harvest into that store keeps writing it and says why the index is not following
    from gateway.harvest import Runner
    from harvesters.events import Mark, Upsert

    class One:
        name = "test"

        def harvest(self, checkpoint):
            yield Upsert(records[5])
            yield Mark("one", 1)

    report = Runner(restored, idx, clock=lambda: NOW).run(One())
    assert report.status == "ok" and restored.get(records[5].id) is not None
    assert report.index_lag == 0 and "fairgate reindex" in report.index_error
    rebuild(restored, idx)
    assert catch_up(restored, idx) == 0
    assert idx.last_seq() == 6 and idx.count() == 6


def test_health_says_when_the_index_is_ahead_of_the_store(backend_config, records, tmp_path):
    from gateway.app import create_app
    from gateway.config import Config
    from gateway.context import open_index
    config = Config(data_dir=tmp_path / "gw", **backend_config)
    other = Store(tmp_path / "other.sqlite")
    other.apply_batch("test", Batch(upserts=records[:10]), NOW)
    index = open_index(config)
    catch_up(other, index)
    index.close()
    client = create_app(config, clock=lambda: NOW).test_client()  # its own, empty store
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json() == {"status": "index_ahead_of_store",
                                 "action": "run `fairgate reindex`"}


def test_an_embedded_index_from_before_oai_stamps_is_refilled(records, tmp_path):
    import sqlite3
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=records[:10]), T2)
    path = tmp_path / "old-index.sqlite"
    old = sqlite3.connect(path)  # the schema of the previous release, with data in it
    previous = EmbeddedIndex.SCHEMA.replace(",\n    oai_stamp    TEXT NOT NULL DEFAULT ''", "")
    previous = previous.replace("CREATE INDEX IF NOT EXISTS docs_oai_stamp ON docs "
                                "(oai_stamp, id);", "")
    assert "oai_stamp" not in previous
    old.executescript(previous)
    old.execute("INSERT INTO docs (id, sort_date, title_sort) VALUES ('x', '', 'x')")
    old.execute("INSERT INTO meta VALUES ('last_seq', '10')")
    old.commit()
    old.close()
    idx = EmbeddedIndex(path)
    assert idx.last_seq() == 0 and idx.count() == 0  # emptied: catch_up refills it
    assert catch_up(store, idx) == 10
    held = [r for _, r in store.changes_since(0)]
    assert idx.stamps(NOW, size=100) == brute_stamps(held, NOW)


def test_an_embedded_index_from_before_facets_and_parameters_needs_a_reindex(records, tmp_path):
    """A file of the previous release (no `params` table, no `meta.schema`), with data:
    refused as outdated rather than answering without licence, access or ranges."""
    import sqlite3
    store = Store(tmp_path / "store.sqlite")
    store.apply_batch("test", Batch(upserts=records[:10]), T2)
    path = tmp_path / "old-index.sqlite"
    old = sqlite3.connect(path)
    old.executescript(EmbeddedIndex.SCHEMA[:EmbeddedIndex.SCHEMA.index("CREATE TABLE IF NOT "
                                                                       "EXISTS params")])
    old.execute("INSERT INTO docs (id, sort_date, title_sort) VALUES ('x', '', 'x')")
    old.execute("INSERT INTO meta VALUES ('last_seq', '10')")
    old.commit()
    old.close()
    idx = EmbeddedIndex(path)
    with pytest.raises(IndexOutdated, match="fairgate reindex"):
        idx.search(Query(), NOW)
    assert rebuild(store, idx) == 10
    q = Query(parameters=(parameter_range("temperature:80..82:K"),), facets=("licence",))
    later = NOW + timedelta(days=400)
    result = idx.search(q, later)
    expected = brute_search(records[:10], q, later)
    assert result.total == len(expected) > 0
    assert {v.value: v.count for v in result.facets["licence"]} == brute_facets(
        expected, ("licence",))["licence"]
