#!/usr/bin/env python3
# regex-extract: finds every match of a regular expression with its line, column and groups.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, text_input  # noqa: E402
from warden_regex import compile_pattern  # noqa: E402


import bisect


def main():
    args = read_args()
    rx = compile_pattern(args)
    text = text_input(args)
    limit = arg(args, "max_matches", "integer", 1000, minimum=1, maximum=100000)
    unique = arg(args, "unique", "boolean", False)
    group = arg(args, "group", "integer", 0, minimum=0)
    if group > rx.groups:
        fail("argument 'group' is %d but the pattern has only %d groups" % (group, rx.groups), 2)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    out, seen, total = [], set(), 0
    for m in rx.finditer(text):
        value = m.group(group)
        if value is None:
            continue
        total += 1
        if unique:
            if value in seen:
                continue
            seen.add(value)
        if len(out) >= limit:
            continue
        line = bisect.bisect_right(starts, m.start())
        item = {"match": value, "line": line, "column": m.start() - starts[line - 1] + 1}
        if rx.groups:
            item["groups"] = list(m.groups())
        if rx.groupindex:
            item["named"] = m.groupdict()
        out.append(item)
    emit({"count": total, "returned": len(out), "truncated": len(out) < (len(seen) if unique else total),
          "matches": out})


main()
