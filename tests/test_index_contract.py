"""The contract every search index backend passes, checked against a brute-force oracle
computed in plain Python over the same records (tests/oracle.py)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from gateway.index import Query, QueryError, catch_up, rebuild
from gateway.index.embedded import EmbeddedIndex
from gateway.store import Batch, Store

from .conftest import BACKENDS
from .factories import NOW, corpus, make_record
from .oracle import brute_facets, brute_search, facet_values


@pytest.fixture(params=BACKENDS)
def make_index(request, tmp_path):
    """A factory of empty indexes of one backend (Elasticsearch: over real HTTP)."""
    if request.param == "elasticsearch":
        return request.getfixturevalue("es_index")

    def factory():
        return EmbeddedIndex(tmp_path / "index.sqlite")
    return factory


@pytest.fixture
def records():
    return corpus(120)


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
]
SORTS = ["date", "-date", "title"]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[:60])
@pytest.mark.parametrize("sort", SORTS)
def test_results_and_order_equal_brute_force(index, records, query, sort):
    q = Query(**{**query.__dict__, "sort": sort})
    expected = brute_search(records, q, NOW)
    assert index.search(q, NOW).total == len(expected)
    assert all_pages(index, q) == [r.id for r in expected]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[:60])
def test_facet_counts_equal_brute_force(index, records, query):
    fields = ("facility", "instrument", "technique", "kind", "year")
    q = Query(**{**query.__dict__, "facets": fields})
    result = index.search(q, NOW)
    expected = brute_facets(brute_search(records, q, NOW), fields)
    got = {f: {v.value: v.count for v in vs} for f, vs in result.facets.items()}
    assert got == expected


def test_relevance_ranks_title_matches_first_and_pages_are_complete(index, records):
    q = Query(text="zeolite")
    expected = {r.id for r in brute_search(records, q, NOW)}
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
    result = index.search(Query(facets=("technique",)), NOW)
    labels = {t.iri: t.label for r in records for t in r.techniques}
    assert result.facets["technique"]
    assert all(v.label == labels[v.value] for v in result.facets["technique"])


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
    expected = brute_search([r for r in records if r.id != records[2].id], q, NOW)
    assert all_pages(index, q) == [r.id for r in expected]
