"""Semantics every output format must agree on: access rights, embargo dates, licences,
identifiers, publication year, personal names.

Each renderer asks this module instead of deciding for itself, so DataCite, OpenAIRE,
Dublin Core, schema.org, DCAT-AP and PaNOSC switch together when an embargo ends
(consumers take the first access value they recognise, so disagreement is a leak or a
false "closed"). See docs/formats.md and ../shared/reference/crosswalk.md sections 4-5.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from .access import Visibility, visibility
from .record import Person, Record, iso

COAR = "http://purl.org/coar/access_right/"
EU_ACCESS = "http://publications.europa.eu/resource/authority/access-right/"
EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"


class AccessState(enum.Enum):
    OPEN = "open"
    EMBARGOED = "embargoed"


@dataclass(frozen=True)
class AccessRights:
    state: AccessState
    coar: str          # COAR access right IRI
    coar_label: str    # its preferred label, e.g. "open access"
    eurepo: str        # info:eu-repo/semantics/... (what B2FIND and OpenAIRE v3 read)
    eu_nal: str        # EU access-right NAL IRI (DCAT-AP dct:accessRights)
    eu_nal_label: str

    @property
    def is_open(self) -> bool:
        return self.state is AccessState.OPEN


OPEN = AccessRights(AccessState.OPEN, COAR + "c_abf2", "open access",
                    "info:eu-repo/semantics/openAccess", EU_ACCESS + "PUBLIC", "public")
EMBARGOED = AccessRights(AccessState.EMBARGOED, COAR + "c_f1cf", "embargoed access",
                         "info:eu-repo/semantics/embargoedAccess", EU_ACCESS + "NON_PUBLIC",
                         "non-public")


def access_rights(record: Record, now: datetime) -> AccessRights:
    """Open once the release date has passed (or when there is none), embargoed before.

    Deleted records have no rendering (OAI-PMH shows a header only): asking is a bug."""
    state = visibility(record, now)
    if state is Visibility.DELETED:
        raise ValueError(f"{record.id} is deleted: deleted records are not rendered")
    return EMBARGOED if state is Visibility.EMBARGOED else OPEN


# --- licences -----------------------------------------------------------------------------

@dataclass(frozen=True)
class License:
    spdx: str                 # SPDX identifier, e.g. "CC-BY-4.0"
    name: str                 # human-readable name
    url: str                  # the licence text (legal code) URL
    eu_nal: str | None = None  # EU licence NAL IRI, when the NAL has one

    @property
    def spdx_url(self) -> str:
        """The SPDX page, which Signposting's `license` link and schema.org prefer."""
        return f"https://spdx.org/licenses/{self.spdx}"


LICENSES = {lic.spdx: lic for lic in (
    License("CC-BY-4.0", "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/legalcode", EU_LICENCE + "CC_BY_4_0"),
    License("CC0-1.0", "Creative Commons Zero v1.0 Universal",
            "https://creativecommons.org/publicdomain/zero/1.0/legalcode", EU_LICENCE + "CC0"),
    License("CC-BY-SA-4.0", "Creative Commons Attribution Share Alike 4.0 International",
            "https://creativecommons.org/licenses/by-sa/4.0/legalcode", EU_LICENCE + "CC_BYSA_4_0"),
    License("CC-BY-NC-4.0", "Creative Commons Attribution Non Commercial 4.0 International",
            "https://creativecommons.org/licenses/by-nc/4.0/legalcode", EU_LICENCE + "CC_BYNC_4_0"),
    License("ODbL-1.0", "Open Data Commons Open Database License v1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/", EU_LICENCE + "ODBL"),
)}
DEFAULT_LICENSE = "CC-BY-4.0"


def license_of(record: Record) -> License:
    """The record's licence; facility policy (CC-BY-4.0) when the source states none.

    An SPDX identifier we have no table entry for still gets a correct SPDX URL."""
    spdx = record.license or DEFAULT_LICENSE
    known = LICENSES.get(spdx)
    if known is not None:
        return known
    return License(spdx, spdx, f"https://spdx.org/licenses/{spdx}")


# --- dates ------------------------------------------------------------------------------------

def embargo_start(record: Record) -> datetime | None:
    """When the embargo began: the end of the experiment (else its start, else creation)."""
    d = record.dates
    return d.collected_end or d.collected_start or d.created


def embargo_end(record: Record) -> datetime | None:
    """The release date, exported whether or not it has passed (DataCite `Available`)."""
    return record.dates.release_date


def publication_year(record: Record, now: datetime) -> int:
    """Project policy (docs/formats.md): the year the data is (or will be) released; without
    a release date, the year it was collected or created; then the year the gateway first
    published this version (its datestamp, which moves only when the record does, so the
    rendering does not change by itself at New Year); failing all, the current year."""
    d = record.dates
    for when in (d.release_date, d.collected_start, d.created, d.modified, record.datestamp):
        if when is not None:
            return when.year
    return now.year


def day(when: datetime) -> str:
    """A datetime as its UTC calendar date, YYYY-MM-DD."""
    return iso(when)[:10]  # type: ignore[index]


def issued(record: Record, now: datetime) -> str:
    """The publication date every format gives (DataCite `Issued`, `dc:date`,
    `datePublished`, `dct:issued`): the release date when there is one, else only the
    publication year, the one date the policy vouches for."""
    release = embargo_end(record)
    return day(release) if release else str(publication_year(record, now))


# --- identifiers ----------------------------------------------------------------------------

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


def doi(record: Record) -> str | None:
    """The record's DOI in bare form (`10.15151/ESRF-ES-12345`), or None when its PID is not
    a DOI. Accepts `doi:` and resolver-URL forms in case a source kept them."""
    return normalise_doi(record.pid)


def normalise_doi(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                   "http://dx.doi.org/", "doi:"):
        if text[:len(prefix)].lower() == prefix:  # resolver URLs and `doi:` in any case
            text = text[len(prefix):]
            break
    return text if DOI_RE.match(text) else None


def doi_url(bare: str) -> str:
    return f"https://doi.org/{bare}"


def orcid_id(person: Person) -> str | None:
    """The bare ORCID iD (`0000-0002-1825-0097`), for formats that want no resolver."""
    return person.orcid.rsplit("/", 1)[-1] if person.orcid else None


def ror_id(url: str | None) -> str | None:
    return url.rsplit("/", 1)[-1] if url else None


# --- personal names ---------------------------------------------------------------------------

def family_given(person: Person) -> str:
    """"Family, Given" when both parts are known (DataCite, Dublin Core); else the name."""
    if person.family_name and person.given_name:
        return f"{person.family_name}, {person.given_name}"
    return person.name
