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
from warden_dates import parse_when, zone  # noqa: E402


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
