# warden_dates: reading dates, times and time zones (zoneinfo) and describing a moment, for date-add, date-diff and
# datetime-convert. Part of Warden's default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import datetime
import email.utils
import zoneinfo

from warden_skill import fail

UTC = datetime.timezone.utc


def zone(name, field):
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail("argument %r: unknown time zone %r; use an IANA name such as Europe/Paris, America/New_York or UTC" % (field, name), 2)


def parse_when(value, field, tz=None, fmt=None):
    """An aware datetime from ISO 8601, a Unix timestamp (s, or ms when it is that large), RFC 2822, 'now', or
    `fmt` (strptime). Naive times are read in `tz` (default UTC)."""
    tz = tz or UTC
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000.0 if abs(value) > 1e11 else value
        return datetime.datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str) or not value.strip():
        fail("argument %r must be a date/time text or a Unix timestamp" % field, 2)
    text = value.strip()
    if text.lower() == "now":
        return datetime.datetime.now(UTC)
    if text.lower() == "today":
        return datetime.datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    if fmt:
        try:
            t = datetime.datetime.strptime(text, fmt)
        except ValueError as e:
            fail("argument %r: %r does not match format %r (%s)" % (field, text, fmt, e), 2)
    else:
        try:
            float(text)
            return parse_when(float(text), field)
        except ValueError:
            pass
        try:
            t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                t = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                fail("argument %r: cannot read %r as a date/time; use ISO 8601 (2024-03-05T14:30:00+01:00), a Unix "
                     "timestamp, RFC 2822, or give 'input_format'" % (field, text), 2)
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return t


def describe(t):
    off = t.utcoffset() or datetime.timedelta(0)
    return {"iso": t.isoformat(), "date": t.date().isoformat(), "time": t.time().replace(tzinfo=None).isoformat(),
            "timezone": str(t.tzinfo) if t.tzinfo is not UTC else "UTC", "utc_offset": fmt_offset(off),
            "abbreviation": t.tzname(), "weekday": t.strftime("%A"),
            "unix": int(t.timestamp()) if t.timestamp().is_integer() else t.timestamp(),
            "iso_week": "%d-W%02d" % t.isocalendar()[:2], "day_of_year": t.timetuple().tm_yday,
            "dst": bool(t.dst())}


def fmt_offset(off):
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)
