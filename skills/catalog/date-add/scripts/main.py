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
from warden_dates import UTC, describe, parse_when, zone  # noqa: E402

import datetime


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
