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
from warden_dates import UTC, describe, parse_when, zone  # noqa: E402


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
