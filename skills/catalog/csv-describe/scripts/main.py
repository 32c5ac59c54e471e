#!/usr/bin/env python3
# csv-describe: profiles each column of a CSV table: type, empties, distinct, range, top values.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args  # noqa: E402
from warden_csv import load_table, number  # noqa: E402


import collections
import datetime


def kind(cells):
    vals = [c.strip() for c in cells if c.strip() != ""]
    if not vals:
        return "empty"
    if all(v.lstrip("-").isdigit() for v in vals):
        return "integer"
    if all(number(v) is not None for v in vals):
        return "number"
    if all(v.lower() in ("true", "false", "yes", "no") for v in vals):
        return "boolean"
    try:
        for v in vals:
            datetime.date.fromisoformat(v[:10])
        return "date"
    except ValueError:
        return "text"


def main():
    args = read_args()
    columns, rows, delimiter = load_table(args)
    top = arg(args, "top_values", "integer", 3, minimum=0, maximum=50)
    described = []
    for c in columns:
        cells = [r[c] for r in rows]
        filled = [v for v in cells if v.strip() != ""]
        info = {"name": c, "type": kind(cells), "non_empty": len(filled), "empty": len(cells) - len(filled),
                "distinct": len(set(filled))}
        if info["type"] in ("integer", "number"):
            nums = [int(v) if info["type"] == "integer" else number(v) for v in filled]
            info.update(min=min(nums), max=max(nums), mean=round(sum(nums) / len(nums), 6), sum=sum(nums))
        elif filled:
            info.update(min=min(filled), max=max(filled))
        if top:
            info["top_values"] = [{"value": v, "count": n} for v, n in collections.Counter(filled).most_common(top)]
        described.append(info)
    emit({"rows": len(rows), "columns": described, "delimiter": delimiter})


main()
