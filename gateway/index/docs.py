"""What an index document holds, derived from a Record: shared by every backend, so all
backends filter, facet and sort on the same values."""
from __future__ import annotations

from typing import Protocol

from mappings.record import Parameter, Record, iso
from mappings.rights import LICENSES, OPEN, license_of
from mappings.units import number, to_si

from . import ACCESS_VALUES


class Vocabulary(Protocol):
    """What the index needs of the techniques vocabulary (`gateway.vocabulary.Techniques`)."""
    version: str

    def ancestors(self, iri: str) -> frozenset[str]: ...

    def label(self, iri: str) -> str | None: ...


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


def index_terms(record: Record, techniques: Vocabulary | None = None,
                ) -> list[tuple[str, str, str | None]]:
    """(field, value, label) rows for filters and facets; multi-valued fields repeat.
    With a `techniques` vocabulary, a record's techniques bring their ancestors along, so
    filtering on a broader technique finds the narrower ones and its facet count holds
    each record once."""
    # access: the right the formats state once the record is visible (docs/api.md#access)
    licence, state = license_of(record).spdx, OPEN.state.value
    rows: list[tuple[str, str, str | None]] = [
        ("kind", record.kind, None), ("licence", licence, value_label("licence", licence)),
        ("access", state, value_label("access", state))]
    if record.facility:
        rows.append(("facility", record.facility.name, None))
    if record.instrument:
        rows.append(("instrument", record.instrument.name, None))
    if (y := year(record)) is not None:
        rows.append(("year", y, None))
    rows += [("technique", iri, label) for iri, label in technique_labels(record, techniques)]
    return rows


def value_label(field: str, value: str) -> str | None:
    """The label of a facet value that follows from the value alone (licence, access), so
    a backend may add it when counting instead of storing it."""
    if field == "licence":
        known = LICENSES.get(value)
        return known.name if known else value
    return ACCESS_VALUES.get(value) if field == "access" else None


def technique_labels(record: Record, techniques: Vocabulary | None,
                     ) -> list[tuple[str, str | None]]:
    """(IRI, label) of the record's techniques, then of their ancestors that the vocabulary
    names (with its labels: an ontology's superclasses from elsewhere, e.g. OBO or
    Wikidata classes PaNET points to, would be unlabelled noise in a facet), each IRI once."""
    labels: dict[str, str | None] = {}
    for t in record.techniques:
        labels.setdefault(t.iri, t.label)
    if techniques is not None:
        for iri in list(labels):
            for broader in sorted(techniques.ancestors(iri)):
                if broader not in labels and (label := techniques.label(broader)):
                    labels[broader] = label
    return list(labels.items())


def numeric(p: Parameter) -> tuple[float, float | None, str | None] | None:
    """(value, SI value, SI unit) of a numeric parameter (a number, or text that is one, as
    PaNOSC sources send), SI parts None when its unit is unknown; None for other text and
    for numbers JSON cannot carry (NaN, ±inf, ints too large for a double), which no range
    can match."""
    value = number(p.value)
    if value is None:
        return None
    si = to_si(value, p.unit, name=p.name) if p.unit else None
    if si is None:
        return value, None, None
    return value, si[0], si[1]


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
