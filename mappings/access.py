"""The access policy, as a pure function of a record and the current time.

Every surface (search, records by id, OAI-PMH, pages, sitemaps) asks this module, so an
embargoed record leaks nowhere: public means "not deleted, and no release date in the future".
"""
from __future__ import annotations

import enum
from datetime import datetime

from .record import Record


class Visibility(enum.Enum):
    PUBLIC = "public"
    EMBARGOED = "embargoed"
    DELETED = "deleted"


def visibility(record: Record, now: datetime) -> Visibility:
    if record.deleted:
        return Visibility.DELETED
    release = record.dates.release_date
    if release is not None and release > now:
        return Visibility.EMBARGOED
    return Visibility.PUBLIC


def tombstone_disclosable(record: Record, now: datetime) -> bool:
    """A deleted record may be announced as deleted (OAI header, HTTP 410) only if its
    embargo had ended: the deletion of a never-public record reveals nothing."""
    release, deleted_at = record.dates.release_date, record.deleted_at
    if not record.deleted or deleted_at is None or deleted_at > now:
        return False
    return release is None or release <= deleted_at


def public_datestamp(record: Record, now: datetime) -> datetime | None:
    """When the public rendering last changed: the stored datestamp, or the moment the
    embargo ended if that is later (so incremental harvesters see newly released records)."""
    release = record.dates.release_date
    stamps = [d for d in (record.datestamp, release) if d is not None and d <= now]
    return max(stamps) if stamps else record.datestamp
