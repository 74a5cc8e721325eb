"""The people written into NXuser groups: ORCID iDs, e-mail addresses, and who is on a session.

Names and affiliations come from `catalogue`; identities are drawn once per person from the
plan's generator.
"""
from __future__ import annotations

import random
import unicodedata

from .catalogue import PEOPLE
from .summary import DemoUser


def orcid_check_digit(base15: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for ch in base15:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _orcid(rng: random.Random) -> str:
    """An iD from the never-issued block 0000-0000-…, so no real person is named."""
    digits = "00000000" + "".join(str(rng.randrange(10)) for _ in range(7))
    full = digits + orcid_check_digit(digits)
    return "-".join(full[i:i + 4] for i in range(0, 16, 4))


def _email(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    parts = ascii_name.lower().replace("-", "").split()
    return f"{parts[0][0]}.{parts[-1]}@example.org"


def identity(rng: random.Random, name: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(ORCID URL, ORCID as written, facility_user_id, telephone) of a person, drawn once."""
    orcid = _orcid(rng) if name != "Josiah Carberry" else "0000-0002-1825-0097"  # ORCID's own example
    if rng.random() < 0.15:
        return None, None, None, None
    written = orcid if rng.random() < 0.7 else "https://orcid.org/" + orcid
    uid = _email(name).split("@")[0].replace(".", "") if rng.random() < 0.3 else None
    phone = f"+33 1 99 00 {rng.randrange(10, 100)} {rng.randrange(10, 100)}" if rng.random() < 0.1 else None
    return "https://orcid.org/" + orcid, written, uid, phone


def person(ids: dict, name: str, affiliation: str, role: str):
    orcid, written, uid, phone = ids[name]
    return (DemoUser(name, orcid, affiliation, role, _email(name)), written, uid, phone)


def people_for(rng: random.Random, ids: dict, staff: str):
    visitors = rng.sample(PEOPLE, rng.randint(1, 2))
    roles = ("principal investigator", "user")
    people = [person(ids, n, a, roles[min(i, 1)]) for i, (n, a) in enumerate(visitors)]
    return tuple(people) + (person(ids, staff, "ESRF", "local contact"),)
