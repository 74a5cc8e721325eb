"""Validation of canonical records, with a marshmallow schema for their JSON form.

`validate(record)` raises `RecordInvalid` whose `errors` maps each offending field path
(`creators.0.orcid`, `dates.release_date`) to its messages. `RecordSchema` loads and checks
a record's JSON dict (as produced by `mappings.record.to_dict`).
"""
from __future__ import annotations

import re
from typing import Any

from marshmallow import (RAISE, Schema, ValidationError, fields, validate as v,
                         validates_schema)

from .record import KINDS, Record, from_dict, to_dict

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*:(document|dataset):[A-Za-z0-9._~%/:@!$&'()*+,;=-]+$")
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ORCID_RE = re.compile(r"^https://orcid\.org/\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
ROR_RE = re.compile(r"^https://ror\.org/0[a-hj-km-np-tv-z0-9]{6}\d{2}$")
PANET_RE = re.compile(r"^http://purl\.org/pan-science/PaNET/PaNET\d+$")
SPDX_RE = re.compile(r"^[A-Za-z0-9.+-]+$")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


class RecordInvalid(ValueError):
    """A record that breaks the model's rules. `errors`: {field path: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))


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


class ParameterSchema(_Strict):
    name = _text
    value = fields.Raw(required=True, validate=lambda x: isinstance(x, (int, float, str))
                       and not isinstance(x, bool))
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
    access_url = _opt(validate=v.URL())


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
    content_hash = _opt(validate=v.Regexp(r"^[0-9a-f]{64}$"))


def _many(schema: type[Schema]) -> fields.List:
    return fields.List(fields.Nested(schema), load_default=list)


class RecordSchema(_Strict):
    """The JSON form of a `Record` (see `to_dict`)."""

    id = fields.String(required=True, validate=v.Regexp(ID_RE, error="not '<source>:<kind>:<id>'"))
    kind = fields.String(required=True, validate=v.OneOf(KINDS))
    title = fields.String(required=True, validate=v.Length(min=1, max=2000))
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


__all__ = ["RecordInvalid", "RecordSchema", "validate", "load", "check_dict"]
