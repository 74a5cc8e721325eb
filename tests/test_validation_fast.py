"""`validate` on Record dataclasses gives exactly the marshmallow schema's outcome.

`validate` first asks `certainly_valid` (a direct check of the dataclasses, no dict, no
schema) and falls back to `RecordSchema` when that is not sure. Here both run side by side
over valid records and over records broken in every way the schema knows (and in ways it
does not expect: wrong types, subclasses), one fault at a time and in random combinations:

- soundness: `certainly_valid` never vouches for a record the schema rejects;
- sameness: `validate` raises with the schema's error dict (paths, messages, their order);
- coverage: well-formed records, however unusual, take the fast path.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from mappings import validation as val
from mappings.icat import dataset_to_record, investigation_to_record
from mappings.record import (Affiliation, Dates, Facility, Files, Funding, Identifier,
                             Instrument, Parameter, Person, Provenance, Record, Related, Sample,
                             Technique, to_dict)
from mappings.validation import RecordInvalid, certainly_valid, check_dict, validate

from .factories import NOW, corpus, make_record
from .test_icat_mapping import CTX, dataset, investigation

EAST = timezone(timedelta(hours=2))
ORCID_X = "https://orcid.org/0000-0002-1694-233X"


def full_record() -> Record:
    """A valid record with every optional part filled (so every path below exists)."""
    r = make_record(7)
    return replace(
        r, pid="10.5072/abc", contributors=(Person("Bo Ek", "Bo", "Ek", ORCID_X,
                                                   Affiliation("PSI"), "local contact"),),
        facility=Facility("ESRF", "https://ror.org/02550n020"), instrument=Instrument("ID11", "x"),
        techniques=(Technique("http://purl.org/pan-science/PaNET/PaNET01188", "saxs"),),
        files=Files(2, 10, ("nxs",), "https://example.org/files"),
        related=(Related("IsPartOf", "test:document:r00001", "Local"),),
        funding=(Funding("EC", None, "123", "https://cordis.europa.eu/x"),),
        dates=replace(r.dates, created=NOW, modified=NOW, release_date=NOW),
        datestamp=NOW, deleted_at=NOW)


def mutate(obj: Any, path: str, value: Any) -> Any:
    """`obj` with the value at a dotted path (`creators.0.orcid`) replaced."""
    head, _, rest = path.partition(".")
    if isinstance(obj, tuple):
        items = list(obj)
        items[int(head)] = mutate(items[int(head)], rest, value) if rest else value
        return tuple(items)
    return replace(obj, **{head: mutate(getattr(obj, head), rest, value) if rest else value})


def schema_errors(record: Record) -> dict[str, list[str]]:
    """What `validate` answered before the fast path: the schema on `to_dict`."""
    return check_dict(to_dict(record))


def validate_errors(record: Record) -> dict[str, list[str]]:
    try:
        assert validate(record) is record
    except RecordInvalid as exc:
        return exc.errors
    return {}


def assert_same(record: Record) -> dict[str, list[str]]:
    expected = schema_errors(record)
    assert list(validate_errors(record).items()) == list(expected.items())
    if certainly_valid(record):
        assert expected == {}, "certainly_valid vouched for a record the schema rejects"
    return expected


# (path, value): values that break a rule of the schema
BAD: list[tuple[str, Any]] = [
    ("id", "no colons"), ("id", "Test:dataset:r00007"), ("id", "test:thing:r00007"),
    ("id", "test:dataset:"), ("id", "test:dataset:a b"), ("id", ""), ("id", None), ("id", 5),
    ("id", "test:document:r00007"), ("id", "other:dataset:r00007"),
    ("kind", "collection"), ("kind", "Dataset"), ("kind", None), ("kind", 1),
    ("title", ""), ("title", "x" * 2001), ("title", None), ("title", 7),
    ("provenance", None), ("provenance", "test"), ("provenance.source", "Bad Source"),
    ("provenance.source", ""), ("provenance.native_id", ""), ("provenance.native_id", None),
    ("provenance.source_url", 5), ("provenance.content_hash", "abc"),
    ("provenance.content_hash", "A" * 64), ("provenance.harvested_at", "2026-01-01"),
    ("pid", 5), ("description", ["a"]),
    ("keywords", ("",)), ("keywords", ("ok", "")), ("keywords", (1,)), ("keywords", None),
    ("keywords", "word"),
    ("creators.0.name", ""), ("creators.0.name", "ada@example.org"),
    ("creators.0.name", "Ada (ada.l@maths.ac.uk)"), ("creators.0.name", None),
    ("creators.0.given_name", "x@y.io"), ("creators.0.family_name", "l@x.org"),
    ("creators.0.given_name", 3),
    ("creators.0.orcid", "0000-0002-1825-0097"), ("creators.0.orcid", ORCID_X.lower()),
    ("creators.0.orcid", "https://orcid.org/0000-0002-1825-0098"),
    ("creators.0.orcid", "http://orcid.org/0000-0002-1825-0097"),
    ("creators.0.orcid", "https://orcid.org/0000-0002-1825-0097\n"),
    ("creators.0.affiliation.name", ""), ("creators.0.affiliation.ror", "ror:02550n020"),
    ("creators.0.affiliation.ror", "https://ror.org/02550n02"),
    ("creators.0.affiliation.ror", "https://ror.org/12550n020"),
    ("creators.0.affiliation", "ESRF"), ("creators.0.role", 5), ("creators.0", None),
    ("creators.0", "Ada"), ("creators", None), ("creators", make_record(1).creators[0]),
    ("contributors.0.name", "bo@psi.ch"), ("contributors.0.orcid", "https://orcid.org/x"),
    ("facility.name", ""), ("facility.ror", "https://ror.org/02550N020"), ("facility", "ESRF"),
    ("instrument.name", ""), ("instrument.pid", 3),
    ("techniques.0.iri", "http://purl.org/pan-science/PaNET/PaNETx"),
    ("techniques.0.iri", "https://purl.org/pan-science/PaNET/PaNET01188"),
    ("techniques.0.label", ""), ("techniques.0", None),
    ("samples.0.name", ""), ("samples.0.chemical_formula", 1),
    ("parameters.0.name", ""), ("parameters.0.value", None), ("parameters.0.unit", 5),
    ("dates.collected_end", NOW - timedelta(days=4000)),
    ("dates.release_date", datetime(999, 1, 1, tzinfo=timezone.utc)),
    ("dates.created", datetime(1000, 1, 1, 0, 30, tzinfo=EAST)),  # year 999 in UTC
    ("dates.modified", "2020-01-01"), ("dates.created", "yesterday"), ("dates", None),
    ("license", "CC BY 4.0"), ("license", ""), ("license", 5),
    ("files.count", -1), ("files.count", None), ("files.count", "many"), ("files.count", True),
    ("files.size", -1), ("files.formats", None), ("files.formats", (1,)),
    ("files.access_url", "not a url"), ("files.access_url", ""),
    ("files.access_url", "mailto:x@y.org"), ("files", "none"),
    ("identifiers.0.type", ""), ("identifiers.0.value", ""), ("identifiers.0.value", None),
    ("related.0.relation", ""), ("related.0.identifier", ""), ("related.0.identifier_type", ""),
    ("funding.0.funder_name", ""), ("funding.0.award_number", 1),
    ("datestamp", "2020"), ("deleted", None), ("deleted", "maybe"), ("deleted_at", "x"),
    ("parameters.0.value", True), ("parameters.0.value", [1]), ("parameters.0.value", None),
    ("parameters.0.value", float("nan")), ("parameters.0.value", float("inf")),
]

# (path, value): unusual values the schema accepts; the fast path must accept them too
GOOD: list[tuple[str, Any]] = [
    ("id", "test:dataset:r00007"), ("id", "test:dataset:r00007\n"),  # `$` allows a final \n
    ("title", "x" * 2000), ("title", "Å 東京 \"q\"\n"),
    ("pid", None), ("description", ""), ("keywords", ()), ("keywords", ("ß", "naïve")),
    ("creators.0.orcid", ORCID_X), ("creators.0.orcid", None), ("creators.0.affiliation", None),
    ("creators.0.name", "Ada at example dot org"), ("creators", ()), ("contributors", ()),
    ("facility", None), ("facility.ror", None), ("instrument", None), ("techniques", ()),
    ("parameters.0.value", 3), ("parameters.0.value", "fly-scan"), ("parameters.0.value", -0.5),
    ("parameters.0.unit", None),
    ("dates", Dates()), ("dates.collected_start", datetime(2020, 1, 1, 12)),
    ("dates.collected_end", None), ("dates.release_date", datetime(2030, 1, 1, tzinfo=EAST)),
    ("dates.created", datetime(1001, 1, 1, tzinfo=EAST)),
    ("license", None), ("license", "MIT"), ("license", "GPL-3.0+"),
    ("files", None), ("files.count", 0), ("files.size", None), ("files.formats", ("",)),
    ("files.formats", ()), ("files.access_url", "ftp://example.org/x"),
    ("files.access_url", None), ("provenance.content_hash", None),
    ("provenance.content_hash", "0" * 64), ("provenance.harvested_at", datetime(2026, 1, 1)),
    ("datestamp", None), ("deleted", True), ("deleted_at", None),
]

# (path, value): accepted by the schema, but the fast path leaves them to it (not sure)
UNSURE: list[tuple[str, Any]] = [
    ("keywords", ["a", "list"]), ("files.count", 2.0),
    ("deleted", 1), ("title", b"bytes"),
    ("dates.collected_end", None),  # placeholder replaced below (same second, earlier)
]


def test_rules_follow_every_field_of_every_dataclass_and_schema():
    schemas = {Affiliation: val.AffiliationSchema, Person: val.PersonSchema,
               Facility: val.FacilitySchema, Instrument: val.InstrumentSchema,
               Technique: val.TechniqueSchema, Sample: val.SampleSchema,
               Parameter: val.ParameterSchema, Dates: val.DatesSchema, Files: val.FilesSchema,
               Identifier: val.IdentifierSchema, Related: val.RelatedSchema,
               Funding: val.FundingSchema, Provenance: val.ProvenanceSchema,
               Record: val.RecordSchema}
    assert set(val._RULES) == set(schemas)
    for cls, (checks, _) in val._RULES.items():
        names = [f.name for f in dataclasses.fields(cls)]
        assert [name for name, _ in checks] == names, cls
        assert list(schemas[cls]().fields) == names, cls


def test_valid_records_take_the_fast_path():
    records = [*corpus(60), full_record(), investigation_to_record(investigation(), CTX),
               dataset_to_record(dataset(), CTX)]
    for r in records:
        assert certainly_valid(r), r.id
        assert schema_errors(r) == {}
        assert validate(r) is r


@pytest.mark.parametrize("path,value", BAD, ids=[f"{p}={v!r}"[:60] for p, v in BAD])
def test_each_broken_rule_gives_the_schema_errors(path, value):
    record = mutate(full_record(), path, value)
    errors = assert_same(record)
    assert errors, "the schema accepts this: move it to GOOD or UNSURE"
    assert not certainly_valid(record)


@pytest.mark.parametrize("path,value", GOOD, ids=[f"{p}={v!r}"[:60] for p, v in GOOD])
def test_each_unusual_valid_value_takes_the_fast_path(path, value):
    record = mutate(full_record(), path, value)
    assert assert_same(record) == {}
    assert certainly_valid(record)


def test_values_the_fast_path_is_not_sure_of_are_left_to_the_schema():
    base = full_record()
    start = datetime(2020, 1, 1, 12, 0, 0, 900000, tzinfo=timezone.utc)
    same_second = replace(base.dates, collected_start=start,
                          collected_end=start - timedelta(microseconds=500000))
    records = [mutate(base, p, v) for p, v in UNSURE[:-1]] + [replace(base, dates=same_second)]
    for r in records:
        assert assert_same(r) == {}  # the schema accepts them (after to_dict's rounding)
        assert not certainly_valid(r)


def test_subclasses_and_naive_mixes_are_judged_by_the_schema():
    @dataclasses.dataclass(frozen=True)
    class Wider(Affiliation):
        email: str = "a@b.org"

    base = full_record()
    wider = mutate(base, "creators.0.affiliation", Wider("ESRF"))
    assert "creators.0.affiliation.email" in assert_same(wider)
    naive_start = mutate(base, "dates.collected_start", datetime(2030, 1, 1))
    assert "dates.collected_end" in assert_same(naive_start)  # naive taken as UTC, both ways


def test_random_combinations_agree():
    rnd = random.Random(2026)
    bases = [full_record(), make_record(3), investigation_to_record(investigation(), CTX),
             dataset_to_record(dataset(), CTX)]
    for _ in range(600):
        base = rnd.choice(bases)
        good_only = rnd.random() < 0.3
        palette = GOOD if good_only else GOOD + BAD + UNSURE[:-1]
        record = base
        for path, value in rnd.sample(palette, rnd.randint(1, 5)):
            try:
                record = mutate(record, path, value)
            except (AttributeError, IndexError, TypeError, ValueError):
                continue  # the path does not exist on this base (or was replaced)
        errors = assert_same(record)
        if good_only and errors == {} and record.id == base.id:
            assert certainly_valid(record)


def test_runner_failure_reason_is_unchanged():
    bad = mutate(mutate(full_record(), "creators.0.orcid", "https://orcid.org/0000-0002-1825-0098"),
                 "license", "CC BY 4.0")
    with pytest.raises(RecordInvalid) as info:
        validate(bad)
    assert str(info.value) == str(RecordInvalid(schema_errors(bad)))
