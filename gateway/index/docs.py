"""What an index document holds, derived from a Record: shared by every backend, so all
backends filter, facet and sort on the same values."""
from __future__ import annotations

from mappings.record import Record, iso


def sort_date(record: Record) -> str:
    """ISO date-time (UTC, 'Z') used for date sorting and date-range filters; '' if none."""
    d = record.dates
    when = d.collected_start or d.created or d.collected_end
    return iso(when) or ""


def oai_stamp(record: Record) -> str | None:
    """The record's OAI-PMH datestamp once it is public: max(datestamp, release_date), as
    ISO UTC with seconds (fixed width, so text order is time order); None without a
    datestamp (a record the store has not stamped). Equals
    `mappings.access.public_datestamp` whenever the record is public and its datestamp is
    not in the future."""
    stamp = iso(record.datestamp)
    if stamp is None:
        return None
    release = iso(record.dates.release_date)
    return max(stamp, release) if release else stamp


def year(record: Record) -> str | None:
    return sort_date(record)[:4] or None


def index_terms(record: Record) -> list[tuple[str, str, str | None]]:
    """(field, value, label) rows for filters and facets; multi-valued fields repeat."""
    rows: list[tuple[str, str, str | None]] = [("kind", record.kind, None)]
    if record.facility:
        rows.append(("facility", record.facility.name, None))
    if record.instrument:
        rows.append(("instrument", record.instrument.name, None))
    if (y := year(record)) is not None:
        rows.append(("year", y, None))
    seen = set()
    for t in record.techniques:
        if t.iri not in seen:
            seen.add(t.iri)
            rows.append(("technique", t.iri, t.label))
    return rows


def text_fields(record: Record) -> tuple[str, str, str, str, str, str]:
    """(title, description, keywords, people, samples, extra) as searchable text."""
    people = [p.name for p in (*record.creators, *record.contributors)]
    people += [p.affiliation.name for p in (*record.creators, *record.contributors)
               if p.affiliation]
    samples = [s for smp in record.samples for s in (smp.name, smp.chemical_formula,
                                                      smp.description) if s]
    extra = [t.label for t in record.techniques]
    extra += [x.name for x in (record.facility, record.instrument) if x]
    extra += [i.value for i in record.identifiers]
    extra += [record.pid or ""]
    extra += [p.name for p in record.parameters]
    return (record.title, record.description or "", " ".join(record.keywords),
            " ".join(people), " ".join(samples), " ".join(extra))
