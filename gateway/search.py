"""One search path for every surface that searches (the native API, the search page): the
index answers, the record store has the last word on what is public."""
from __future__ import annotations

from mappings.access import Visibility, visibility
from mappings.record import Record

from .context import Gateway
from .index import Query, Result, catch_up


def run_search(gw: Gateway, query: Query) -> tuple[Result, dict[str, Record]]:
    """The index's result for `query` now, and the hits' records that are public now, by
    id. A hit whose record the store no longer holds as public (the index lags the store)
    is left out of the records: callers show only hits found there."""
    if gw.index.last_seq() < gw.store.last_seq():
        catch_up(gw.store, gw.index)  # e.g. a harvest died between store commit and index
    now = gw.clock()
    result = gw.index.search(query, now)
    records = gw.store.get_many([h.id for h in result.hits])
    return result, {i: r for i, r in records.items() if visibility(r, now) is Visibility.PUBLIC}
