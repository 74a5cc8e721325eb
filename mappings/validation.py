"""Validation of canonical records, with a marshmallow schema for their JSON form.

`validate(record)` raises `RecordInvalid` whose `errors` maps each offending field path
(`creators.0.orcid`, `dates.release_date`) to its messages. `RecordSchema` loads and checks
a record's JSON dict (as produced by `mappings.record.to_dict`); it is the one definition of
the rules and of their messages.

`validate` runs for every harvested record, and the schema costs about ten times the mapping.
So it first asks `certainly_valid`, a direct check of the dataclasses against the same rules
(same regular expressions, same limits) that only ever answers True for a record the schema
accepts. Anything it is not sure of (a broken field, an unexpected type, a subclass) goes to
the schema, which gives the verdict and the error paths and messages: for every record the
outcome is exactly the schema's. tests/test_validation_fast.py holds the two side by side.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable

from marshmallow import (RAISE, Schema, ValidationError, fields, validate as v,
                         validates_schema)

from .record import (KINDS, Affiliation, Dates, Facility, Files, Funding, Identifier,
                     Instrument, Parameter, Person, Provenance, Record, Related, Sample,
                     Technique, from_dict, to_dict)

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*:(document|dataset):[A-Za-z0-9._~%/:@!$&'()*+,;=-]+$")
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ORCID_RE = re.compile(r"^https://orcid\.org/\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
ROR_RE = re.compile(r"^https://ror\.org/0[a-hj-km-np-tv-z0-9]{6}\d{2}$")
PANET_RE = re.compile(r"^http://purl\.org/pan-science/PaNET/PaNET\d+$")
SPDX_RE = re.compile(r"^[A-Za-z0-9.+-]+$")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
TITLE_MAX = 2000


class RecordInvalid(ValueError):
    """A record that breaks the model's rules. `errors`: {field path: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))


@lru_cache(maxsize=8192)  # the same people come back in record after record
def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 11,2 check digit of an ORCID iD (https://orcid.org/... form)."""
    digits = orcid.rsplit("/", 1)[-1].replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def _orcid(value: str) -> None:
    if not ORCID_RE.match(value):
        raise ValidationError("not an ORCID iD URL (https://orcid.org/0000-0000-0000-0000)")
    if not orcid_checksum_ok(value):
        raise ValidationError("ORCID iD check digit is wrong")


def _no_email(value: str) -> None:
    if EMAIL_RE.search(value):
        raise ValidationError("looks like an e-mail address; personal contact data is not stored")


_ror = v.Regexp(ROR_RE, error="not a ROR id URL (https://ror.org/0xxxxxxxx)")
_url = v.URL()
_text = fields.String(required=True, validate=v.Length(min=1))


def _opt(**kw: Any) -> fields.String:
    return fields.String(load_default=None, allow_none=True, **kw)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class AffiliationSchema(_Strict):
    name = _text
    ror = _opt(validate=_ror)


class PersonSchema(_Strict):
    name = fields.String(required=True, validate=[v.Length(min=1), _no_email])
    given_name = _opt(validate=_no_email)
    family_name = _opt(validate=_no_email)
    orcid = _opt(validate=_orcid)
    affiliation = fields.Nested(AffiliationSchema, load_default=None, allow_none=True)
    role = _opt()


class FacilitySchema(_Strict):
    name = _text
    ror = _opt(validate=_ror)


class InstrumentSchema(_Strict):
    name = _text
    pid = _opt()


class TechniqueSchema(_Strict):
    iri = fields.String(required=True, validate=v.Regexp(PANET_RE, error="not a PaNET IRI"))
    label = _text


class SampleSchema(_Strict):
    name = _text
    chemical_formula = _opt()
    description = _opt()


def _parameter_value(value: Any) -> None:
    # marshmallow 4 ignores a validator's return value: raise, never return False
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError("must be a number or a string")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError("must be a finite number")


class ParameterSchema(_Strict):
    name = _text
    value = fields.Raw(required=True, validate=_parameter_value)
    unit = _opt()


class DatesSchema(_Strict):
    collected_start = fields.AwareDateTime(load_default=None, allow_none=True)
    collected_end = fields.AwareDateTime(load_default=None, allow_none=True)
    created = fields.AwareDateTime(load_default=None, allow_none=True)
    modified = fields.AwareDateTime(load_default=None, allow_none=True)
    release_date = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def _order(self, data: dict, **_: Any) -> None:
        start, end = data.get("collected_start"), data.get("collected_end")
        if start and end and end < start:
            raise ValidationError("ends before it starts", field_name="collected_end")


class FilesSchema(_Strict):
    count = fields.Integer(required=True, validate=v.Range(min=0))
    size = fields.Integer(load_default=None, allow_none=True, validate=v.Range(min=0))
    formats = fields.List(fields.String())
    access_url = _opt(validate=_url)


class IdentifierSchema(_Strict):
    type = _text
    value = _text


class RelatedSchema(_Strict):
    relation = _text
    identifier = _text
    identifier_type = _text


class FundingSchema(_Strict):
    funder_name = _text
    funder_identifier = _opt()
    award_number = _opt()
    award_uri = _opt()


class ProvenanceSchema(_Strict):
    source = fields.String(required=True, validate=v.Regexp(SOURCE_RE, error="not a source name"))
    native_id = _text
    source_url = _opt()
    harvested_at = fields.AwareDateTime(load_default=None, allow_none=True)
    content_hash = _opt(validate=v.Regexp(HASH_RE))


def _many(schema: type[Schema]) -> fields.List:
    return fields.List(fields.Nested(schema), load_default=list)


class RecordSchema(_Strict):
    """The JSON form of a `Record` (see `to_dict`)."""

    id = fields.String(required=True, validate=v.Regexp(ID_RE, error="not '<source>:<kind>:<id>'"))
    kind = fields.String(required=True, validate=v.OneOf(KINDS))
    title = fields.String(required=True, validate=v.Length(min=1, max=TITLE_MAX))
    provenance = fields.Nested(ProvenanceSchema, required=True)
    pid = _opt()
    description = _opt()
    keywords = fields.List(fields.String(validate=v.Length(min=1)), load_default=list)
    creators = _many(PersonSchema)
    contributors = _many(PersonSchema)
    facility = fields.Nested(FacilitySchema, load_default=None, allow_none=True)
    instrument = fields.Nested(InstrumentSchema, load_default=None, allow_none=True)
    techniques = _many(TechniqueSchema)
    samples = _many(SampleSchema)
    parameters = _many(ParameterSchema)
    dates = fields.Nested(DatesSchema, load_default=dict)
    license = _opt(validate=v.Regexp(SPDX_RE, error="not an SPDX identifier"))
    files = fields.Nested(FilesSchema, load_default=None, allow_none=True)
    identifiers = _many(IdentifierSchema)
    related = _many(RelatedSchema)
    funding = _many(FundingSchema)
    datestamp = fields.AwareDateTime(load_default=None, allow_none=True)
    deleted = fields.Boolean(load_default=False)
    deleted_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data: dict, **_: Any) -> None:
        rid, kind, prov = data.get("id", ""), data.get("kind"), data.get("provenance")
        if kind and rid.count(":") >= 2 and rid.split(":")[1] != kind:
            raise ValidationError(f"kind part does not match kind {kind!r}", field_name="id")
        if prov and rid and not rid.startswith(prov["source"] + ":"):
            raise ValidationError("does not start with the provenance source", field_name="id")


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict -> {"creators.0.orcid": [...]}."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, sub in messages.items():
        path = prefix if key == "_schema" and prefix else (f"{prefix}.{key}" if prefix else str(key))
        for p, msgs in flatten(sub, path).items():
            out.setdefault(p, []).extend(msgs)
    return out


_SCHEMA = RecordSchema()  # stateless between calls; built once, not per record


def check_dict(data: dict[str, Any]) -> dict[str, list[str]]:
    """Field path -> messages for a record's JSON dict; empty when valid."""
    return flatten(_SCHEMA.validate(data))


def validate(record: Record) -> Record:
    """Return the record unchanged, or raise `RecordInvalid` naming every bad field path."""
    if not certainly_valid(record):
        errors = check_dict(to_dict(record))
        if errors:
            raise RecordInvalid(errors)
    return record


def load(data: dict[str, Any]) -> Record:
    """A validated `Record` from untrusted JSON; raises `RecordInvalid`."""
    errors = check_dict(data)
    if errors:
        raise RecordInvalid(errors)
    return from_dict(data)


# --- the direct check of Record dataclasses (see the module doc) ------------------------------

Check = Callable[[Any], bool]


def _text_ok(x: Any) -> bool:  # _text: a string of at least one character
    return isinstance(x, str) and x != ""


def _str_or_none(x: Any) -> bool:  # _opt() without a validator
    return x is None or isinstance(x, str)


def _matching(regex: re.Pattern[str]) -> Check:  # v.Regexp: regex.match
    match = regex.match
    return lambda x: isinstance(x, str) and match(x) is not None


def _optional(check: Check) -> Check:
    return lambda x: x is None or check(x)


def _no_email_ok(x: Any) -> bool:
    return isinstance(x, str) and EMAIL_RE.search(x) is None


def _orcid_ok(x: Any) -> bool:
    return isinstance(x, str) and ORCID_RE.match(x) is not None and orcid_checksum_ok(x)


def _url_ok(x: Any) -> bool:
    try:
        _url(x)
    except ValidationError:
        return False
    return True


def _count_ok(x: Any) -> bool:  # Integer with Range(min=0); bool and float left to the schema
    return type(x) is int and x >= 0


def _time_ok(x: Any) -> bool:
    """None, or a datetime that `iso` writes as four-digit-year UTC (so the schema parses it)."""
    return x is None or (type(x) is datetime and 1000 < x.year < 9999
                         and (x.tzinfo is None or x.utcoffset() is not None))


def _value_ok(x: Any) -> bool:  # ParameterSchema.value
    return type(x) in (int, str) or (type(x) is float and math.isfinite(x))


def _valid(cls: type) -> Check:
    return lambda x: certainly_valid(x, cls)


def _valid_tuple(cls: type) -> Check:
    return _tuple_of(_valid(cls))


def _tuple_of(item: Check) -> Check:
    """A tuple (not a list: `to_dict` leaves lists as they are) whose items pass `item`."""
    def check(xs: Any) -> bool:
        if type(xs) is not tuple:
            return False
        for x in xs:
            if not item(x):
                return False
        return True
    return check


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def _dates_ordered(d: Dates) -> bool:  # DatesSchema._order
    start, end = d.collected_start, d.collected_end
    return start is None or end is None or _utc(end) >= _utc(start)


def _record_consistent(r: Record) -> bool:  # RecordSchema._consistent (id matches the regex)
    return r.id.split(":")[1] == r.kind and r.id.startswith(r.provenance.source + ":")


def _person_name(x: Any) -> bool:  # PersonSchema.name: Length(min=1) and _no_email
    return _text_ok(x) and _no_email_ok(x)


_ror_ok = _optional(_matching(ROR_RE))

# Per dataclass: (field, check) in field order, then a check of the whole. Each mirrors the
# schema's field of the same name (tests/test_validation_fast.py holds them together).
_RULES: dict[type, tuple[tuple[tuple[str, Check], ...], Check | None]] = {
    Affiliation: ((("name", _text_ok), ("ror", _ror_ok)), None),
    Person: ((("name", _person_name), ("given_name", _optional(_no_email_ok)),
              ("family_name", _optional(_no_email_ok)), ("orcid", _optional(_orcid_ok)),
              ("affiliation", _optional(_valid(Affiliation))), ("role", _str_or_none)), None),
    Facility: ((("name", _text_ok), ("ror", _ror_ok)), None),
    Instrument: ((("name", _text_ok), ("pid", _str_or_none)), None),
    Technique: ((("iri", _matching(PANET_RE)), ("label", _text_ok)), None),
    Sample: ((("name", _text_ok), ("chemical_formula", _str_or_none),
              ("description", _str_or_none)), None),
    Parameter: ((("name", _text_ok), ("value", _value_ok), ("unit", _str_or_none)), None),
    Dates: (tuple((name, _time_ok) for name in ("collected_start", "collected_end", "created",
                                                  "modified", "release_date")),
            _dates_ordered),
    Files: ((("count", _count_ok), ("size", _optional(_count_ok)),
             ("formats", _tuple_of(lambda x: isinstance(x, str))),
             ("access_url", _optional(_url_ok))), None),
    Identifier: ((("type", _text_ok), ("value", _text_ok)), None),
    Related: ((("relation", _text_ok), ("identifier", _text_ok),
               ("identifier_type", _text_ok)), None),
    Funding: ((("funder_name", _text_ok), ("funder_identifier", _str_or_none),
               ("award_number", _str_or_none), ("award_uri", _str_or_none)), None),
    Provenance: ((("source", _matching(SOURCE_RE)), ("native_id", _text_ok),
                  ("source_url", _str_or_none), ("harvested_at", _time_ok),
                  ("content_hash", _optional(_matching(HASH_RE)))), None),
    Record: ((("id", _matching(ID_RE)), ("kind", lambda x: isinstance(x, str) and x in KINDS),
              ("title", lambda x: isinstance(x, str) and 0 < len(x) <= TITLE_MAX),
              ("provenance", _valid(Provenance)), ("pid", _str_or_none),
              ("description", _str_or_none), ("keywords", _tuple_of(_text_ok)),
              ("creators", _valid_tuple(Person)), ("contributors", _valid_tuple(Person)),
              ("facility", _optional(_valid(Facility))),
              ("instrument", _optional(_valid(Instrument))),
              ("techniques", _valid_tuple(Technique)),
              ("samples", _valid_tuple(Sample)), ("parameters", _valid_tuple(Parameter)),
              ("dates", _valid(Dates)), ("license", _optional(_matching(SPDX_RE))),
              ("files", _optional(_valid(Files))), ("identifiers", _valid_tuple(Identifier)),
              ("related", _valid_tuple(Related)), ("funding", _valid_tuple(Funding)),
              ("datestamp", _time_ok), ("deleted", lambda x: type(x) is bool),
              ("deleted_at", _time_ok)), _record_consistent),
}


def certainly_valid(obj: Any, cls: type = Record) -> bool:
    """True only when `obj` is exactly a `cls` (a canonical dataclass) that `RecordSchema`
    (or the nested schema for `cls`) accepts in its `to_dict` form. False means "not sure":
    the caller asks the schema, the only source of error messages."""
    if type(obj) is not cls:
        return False
    checks, whole = _RULES[cls]
    for name, check in checks:
        if not check(getattr(obj, name)):
            return False
    return whole is None or whole(obj)


__all__ = ["RecordInvalid", "RecordSchema", "certainly_valid", "validate", "load",
           "check_dict"]


def check_source_context(source: str, harvested_at: datetime, *, license: str | None,
                         embargo_days: int | None, facility_ror: str | None = None) -> None:
    """The checks every harvester context makes on its settings (ValueError naming the bad
    one): a source name, an aware harvest time, an SPDX licence, a ROR, embargo days >= 0."""
    if not SOURCE_RE.match(source):
        raise ValueError(f"source name {source!r}: lower-case letters, digits, - and _")
    if harvested_at.tzinfo is None:
        raise ValueError("harvested_at must carry a time zone")
    if embargo_days is not None and embargo_days < 0:
        raise ValueError("embargo_days must be >= 0")
    if license is not None and not SPDX_RE.match(license):
        raise ValueError(f"license {license!r} is not an SPDX identifier")
    if facility_ror is not None and not ROR_RE.match(facility_ror):
        raise ValueError(f"facility ROR {facility_ror!r} is not https://ror.org/0…")
