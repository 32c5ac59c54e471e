#!/usr/bin/env python3
# sort-lines: sorts lines, removes duplicates and counts repeated lines (sort, uniq, uniq -c).
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, emit_or_write, read_args, text_input  # noqa: E402

import collections
import re

NUM = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)")


def main():
    args = read_args()
    text = text_input(args)
    do_sort = arg(args, "sort", "boolean", True)
    numeric = arg(args, "numeric", "boolean", False)
    reverse = arg(args, "reverse", "boolean", False)
    ignore_case = arg(args, "ignore_case", "boolean", False)
    unique = arg(args, "unique", "boolean", False)
    count = arg(args, "count", "boolean", False)
    skip_blank = arg(args, "skip_blank", "boolean", False)
    lines = text.splitlines()
    if skip_blank:
        lines = [l for l in lines if l.strip()]
    fold = (lambda s: s.casefold()) if ignore_case else (lambda s: s)
    total = len(lines)
    if count:
        counter = collections.Counter()
        first = {}
        for l in lines:
            counter[fold(l)] += 1
            first.setdefault(fold(l), l)
        items = [{"line": first[k], "count": n} for k, n in counter.items()]
        items.sort(key=lambda it: (-it["count"], fold(it["line"])))
        emit({"lines_in": total, "distinct": len(items), "counts": items})
        return
    if unique:
        seen, kept = set(), []
        for l in lines:
            if fold(l) not in seen:
                seen.add(fold(l))
                kept.append(l)
        lines = kept
    if do_sort:
        if numeric:
            def key(l):
                m = NUM.match(l)
                return (0, float(m.group(1)), fold(l)) if m else (1, 0.0, fold(l))
        else:
            key = fold
        lines.sort(key=key, reverse=reverse)
    elif reverse:
        lines.reverse()
    out = "\n".join(lines) + ("\n" if lines else "")
    emit_or_write(args, {"lines_in": total, "lines_out": len(lines), "duplicates_removed": total - len(lines)},
                  "text", out)


main()
