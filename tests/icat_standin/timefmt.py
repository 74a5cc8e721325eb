"""Time zones, ICAT's ``yyyy-MM-dd'T'HH:mm:ss.SSSXXX`` output and the timestamp literals of queries."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_STAMP = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?\s*$", re.IGNORECASE)


def make_zone(zone: str | tzinfo) -> tzinfo:
    """'+01:00' / '-0500' -> fixed offset; 'Z' / 'UTC' -> UTC; otherwise an IANA name."""
    if isinstance(zone, tzinfo):
        return zone
    if zone in ("Z", "UTC", "GMT", "+00:00"):
        return timezone.utc
    m = _OFFSET.match(zone)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    return ZoneInfo(zone)


def parse_datetime(text: str, zone: tzinfo) -> datetime:
    """Parse '2018-08-31 07:45:20 +0000', '2010-09-30T10:27:24+00:00', '2014-01-01' ...; a value
    without zone is read in `zone` (the server's "JVM" zone). Returns an aware UTC datetime."""
    m = _STAMP.match(text)
    if not m:
        raise ValueError(f"Badly formatted date {text!r}")
    y, mo, d, h, mi, s, frac, z = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    if z is None:
        tz = zone
    elif z.upper() in ("Z", "UTC", "GMT"):
        tz = timezone.utc
    else:
        tz = make_zone(z)
    return dt.replace(tzinfo=tz).astimezone(timezone.utc)


class Formatter:
    """Formats aware datetimes as ICAT does, in the server zone; cached per value."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._cache: dict[datetime, str] = {}

    def __call__(self, dt: datetime) -> str:
        s = self._cache.get(dt)
        if s is None:
            local = dt.astimezone(self.zone)
            off = local.utcoffset() or timedelta(0)
            if off == timedelta(0):
                zs = "Z"
            else:
                mins = int(off.total_seconds()) // 60
                sign = "-" if mins < 0 else "+"
                mins = abs(mins)
                zs = f"{sign}{mins // 60:02d}:{mins % 60:02d}"
            s = f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{zs}"
            if len(self._cache) > 500_000:
                self._cache.clear()
            self._cache[dt] = s
        return s
