#!/usr/bin/env python3
# date-add: adds or subtracts years, months, weeks, days, hours, minutes, seconds or an ISO 8601 duration to a date.
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


import calendar
import re

ISO_DURATION = re.compile(r"^([-+])?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                          r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.I)
FIELDS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")


def add_months(t, months):
    """Calendar months, clamping the day: Jan 31 + 1 month = Feb 28/29."""
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    if not 1 <= year <= 9999:
        fail("the result falls outside years 1-9999")
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def main():
    args = read_args()
    tz = zone(arg(args, "timezone", "string", "UTC"), "timezone")
    t = parse_when(args.get("value", "now"), "value", tz)
    amounts = {f: 0 for f in FIELDS}
    duration = arg(args, "duration", "string", None)
    if duration is not None:
        m = ISO_DURATION.match(duration.strip())
        if not m or duration.strip().upper() in ("P", "PT", "-P", "+P"):
            fail("argument 'duration': %r is not an ISO 8601 duration such as P1Y2M10DT2H30M or -P3D" % duration, 2)
        sign = -1 if m.group(1) == "-" else 1
        for f, g in zip(FIELDS, m.groups()[1:]):
            amounts[f] += sign * float(g or 0)
    for f in FIELDS:
        v = arg(args, f, "number", 0)
        amounts[f] += v
    for f in ("years", "months"):
        if amounts[f] != int(amounts[f]):
            fail("argument %r must be a whole number (calendar %s have no fixed length)" % (f, f), 2)
    try:
        t = add_months(t, int(amounts["years"]) * 12 + int(amounts["months"]))
        # Days and weeks count on the local wall clock (a day across a DST change is still "same time tomorrow");
        # hours, minutes and seconds are exact elapsed time.
        t = (t.replace(tzinfo=None) + datetime.timedelta(weeks=amounts["weeks"], days=amounts["days"])).replace(tzinfo=t.tzinfo)
        t = (t.astimezone(UTC) + datetime.timedelta(hours=amounts["hours"], minutes=amounts["minutes"],
                                                    seconds=amounts["seconds"])).astimezone(t.tzinfo)
    except OverflowError:
        fail("the result falls outside years 1-9999")
    result = describe(t)
    result["added"] = {k: (int(v) if float(v).is_integer() else v) for k, v in amounts.items() if v}
    emit(result)


main()
