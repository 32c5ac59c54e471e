#!/usr/bin/env python3
# datetime-convert: parses dates/times and converts them between time zones, Unix timestamps and formats.
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


def main():
    args = read_args()
    value = args.get("value", "now")
    if "value" in args and isinstance(value, bool):
        fail("argument 'value' must be a date/time text or a Unix timestamp", 2)
    source_tz = zone(arg(args, "from_timezone", "string", "UTC"), "from_timezone")
    target = arg(args, "to_timezone", "string", None)
    fmt = arg(args, "format", "string", None)
    in_fmt = arg(args, "input_format", "string", None)
    t = parse_when(value, "value", source_tz, in_fmt)
    if target is not None:
        t = t.astimezone(zone(target, "to_timezone"))
    result = describe(t)
    result["utc"] = t.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if fmt:
        try:
            result["formatted"] = t.strftime(fmt)
        except ValueError as e:
            fail("argument 'format': %s" % e, 2)
    emit(result)


main()
