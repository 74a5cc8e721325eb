"""mappings.privacy: e-mail addresses out of free text."""
from __future__ import annotations

import pytest

from mappings.privacy import SCRUBBED, has_email, scrub


@pytest.mark.parametrize("text, expected", [
    ("contact jane.doe@example.org for access", f"contact {SCRUBBED} for access"),
    ("a@b.cd, x.y+tag@sub.host.eu", f"{SCRUBBED}, {SCRUBBED}"),
    ("MgB2 PDOS 43.37g 8K 120meV E0@240Hz T0@120Hz",
     "MgB2 PDOS 43.37g 8K 120meV E0@240Hz T0@120Hz"),  # IPNS title: no address
    ("no address here", "no address here"),
    ("Write to n.bour@uni.example.fr.", f"Write to {SCRUBBED}."),
    ("", ""),
    (None, None),
])
def test_scrub(text, expected):
    assert scrub(text) == expected
    assert has_email(text) is (expected != text)
    assert not has_email(scrub(text))
