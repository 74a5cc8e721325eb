"""OAI-PMH request arguments: read, checked and typed before any verb runs (§3.1-3.3, §3.6).

The rules an HTTP framework gets wrong by default are explicit here: a key given twice (in
the query string, the POST body or both) is an error, never silently merged; every argument
must be known to the verb; `resumptionToken` is exclusive; dates must be of one of the two
granularities and the same one on both ends.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from mappings.xmlutil import clean

# verb -> (required arguments, optional arguments)
VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
}
RESUMABLE = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})

# the patterns of OAI-PMH.xsd, so every echoed argument keeps the response valid
PREFIX_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
SETSPEC_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
# a URI (anyURI) of printable ASCII without the characters RFC 3986 never allows
IDENTIFIER_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-_.!~*'();/?:@&=+$,%#\[\]]+")
DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
SECOND_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class OAIError(Exception):
    """An OAI-PMH error (sent with HTTP 200). `echo` says whether the request's arguments
    may be echoed in `<request>` (not for badVerb/badArgument: §3.2)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message

    @property
    def echo(self) -> bool:
        return self.code not in ("badVerb", "badArgument")


@dataclass(frozen=True)
class OAIRequest:
    verb: str
    args: dict[str, str] = field(default_factory=dict)  # as given, verb included
    date_from: datetime | None = None  # inclusive, UTC
    date_until: datetime | None = None  # inclusive, UTC (a day `until` is its last second)

    @property
    def token(self) -> str | None:
        return self.args.get("resumptionToken")


def parse(pairs: Iterable[tuple[str, list[str]]]) -> OAIRequest:
    """Check the request's arguments (each key with all the values it was given, from the
    query string and the form body together) and type them; raise `OAIError` otherwise."""
    given: dict[str, list[str]] = {}
    for key, values in pairs:
        given.setdefault(key, []).extend(values)
    verbs = given.pop("verb", [])
    if not verbs:
        raise OAIError("badVerb", "the verb argument is missing")
    if len(verbs) > 1:
        raise OAIError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", "the verb is not one of " + ", ".join(VERBS))
    repeated = sorted(k for k, v in given.items() if len(v) > 1)
    if repeated:
        raise OAIError("badArgument", f"repeated argument(s): {', '.join(repeated)}")
    args = {k: v[0] for k, v in given.items()}
    required, optional = VERBS[verb]
    allowed = required | optional | ({"resumptionToken"} if verb in RESUMABLE else set())
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise OAIError("badArgument", f"argument(s) not allowed with {verb}: "
                       f"{', '.join(unknown)}")
    for key, value in args.items():
        if not value or clean(value) != value:
            raise OAIError("badArgument", f"the {key} argument is empty or holds characters "
                           "that are not allowed")
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument")
        return OAIRequest(verb, {"verb": verb, **args})
    missing = sorted(required - set(args))
    if missing:
        raise OAIError("badArgument", f"missing argument(s) for {verb}: {', '.join(missing)}")
    _check_syntax(args)
    date_from, date_until = _dates(args.get("from"), args.get("until"))
    return OAIRequest(verb, {"verb": verb, **args}, date_from, date_until)


def _check_syntax(args: dict[str, str]) -> None:
    if "metadataPrefix" in args and not PREFIX_RE.fullmatch(args["metadataPrefix"]):
        raise OAIError("badArgument", "metadataPrefix is not a valid prefix")
    if "set" in args and not SETSPEC_RE.fullmatch(args["set"]):
        raise OAIError("badArgument", "set is not a valid setSpec")
    if "identifier" in args and not IDENTIFIER_RE.fullmatch(args["identifier"]):
        raise OAIError("badArgument", "identifier is not a valid URI")


def _dates(text_from: str | None, text_until: str | None
           ) -> tuple[datetime | None, datetime | None]:
    """The inclusive bounds of from/until (§3.3): both of one granularity, from <= until."""
    date_from, g_from = _date(text_from, "from", end=False)
    date_until, g_until = _date(text_until, "until", end=True)
    if g_from and g_until and g_from != g_until:
        raise OAIError("badArgument", "from and until are of different granularities")
    if date_from and date_until and date_from > date_until:
        raise OAIError("badArgument", "from is later than until")
    return date_from, date_until


def _date(text: str | None, name: str, *, end: bool) -> tuple[datetime | None, str | None]:
    """(UTC datetime, granularity) of a from/until value; a day is its first second, or
    its last if `end`."""
    if text is None:
        return None, None
    try:
        if DAY_RE.fullmatch(text):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return (day.replace(hour=23, minute=59, second=59) if end else day), "day"
        if SECOND_RE.fullmatch(text):
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=timezone.utc), "second"
    except ValueError:
        pass
    raise OAIError("badArgument", f"{name} is not a date YYYY-MM-DD or a time "
                   "YYYY-MM-DDThh:mm:ssZ")
