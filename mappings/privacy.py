"""Personal data in free text: e-mail addresses are removed before a value is stored.

Person fields drop a value that looks like an e-mail address (crosswalk.md §6: `User.email`,
NXuser email are never exported). Free text (titles, summaries and descriptions, keywords,
string parameters, sample names and descriptions) is kept, with every e-mail address in it
replaced by `SCRUBBED`. An address is what `validation.EMAIL_RE` finds (`name@host.tld`), the
same test the record validation applies; "E0@240Hz" (a title of the IPNS dump) has no dot after
the "@" and is not one. Pure functions.
"""
from __future__ import annotations

import re
from typing import overload

from .validation import EMAIL_RE

SCRUBBED = "[e-mail removed]"


def has_email(value: str | None) -> bool:
    """Whether `value` holds something that looks like an e-mail address."""
    return bool(value) and EMAIL_RE.search(value) is not None


@overload
def scrub(value: str) -> str: ...
@overload
def scrub(value: None) -> None: ...


def scrub(value: str | None) -> str | None:
    """`value` with every e-mail address replaced by SCRUBBED (None stays None)."""
    if not value or "@" not in value:
        return value
    return EMAIL_RE.sub(_replace, value)


def _replace(match: "re.Match[str]") -> str:
    """SCRUBBED for the address; a sentence's full stop after it stays."""
    address = match.group()
    return SCRUBBED + address[len(address.rstrip(".-")):]


__all__ = ["SCRUBBED", "has_email", "scrub"]
