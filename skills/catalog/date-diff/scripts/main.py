#!/usr/bin/env python3
# date-diff: computes the time between two dates in seconds, days, weeks, calendar months, years and business days.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args  # noqa: E402

import datetime
import email.utils
import zoneinfo

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


def business_days(a, b):
    """Monday-to-Friday days from a (inclusive) to b (exclusive); negative when b is earlier."""
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    days = (b - a).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5 + sum(1 for i in range(rest) if (a.weekday() + i) % 7 < 5)
    return sign * count


def human(seconds):
    s = int(abs(seconds))
    parts = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        n, s = divmod(s, size)
        if n:
            parts.append("%d %s%s" % (n, name, "s" if n != 1 else ""))
    text = ", ".join(parts) or "0 seconds"
    return ("-" + text) if seconds < 0 else text


def main():
    args = read_args()
    tz = zone(arg(args, "timezone", "string", "UTC"), "timezone")
    start = parse_when(args.get("start"), "start", tz) if "start" in args else fail("missing required argument 'start'", 2)
    end = parse_when(args.get("end", "now"), "end", tz)
    delta = end - start
    seconds = delta.total_seconds()
    # Calendar months and years: what people mean by "3 months between", counted in the first value's zone.
    e_local = end.astimezone(start.tzinfo)
    months = (e_local.year - start.year) * 12 + (e_local.month - start.month)
    if months > 0 and (e_local.day, e_local.time()) < (start.day, start.time()):
        months -= 1
    elif months < 0 and (e_local.day, e_local.time()) > (start.day, start.time()):
        months += 1
    emit({"start": start.isoformat(), "end": end.isoformat(), "seconds": seconds, "minutes": round(seconds / 60, 4),
          "hours": round(seconds / 3600, 4), "days": round(seconds / 86400, 4), "weeks": round(seconds / 604800, 4),
          "whole_days": int(seconds // 86400) if seconds >= 0 else -int(-seconds // 86400),
          "calendar_months": months, "years": months // 12 if months >= 0 else -((-months) // 12),
          "business_days": business_days(start.astimezone(tz).date(), e_local.astimezone(tz).date()),
          "human": human(seconds)})


main()
