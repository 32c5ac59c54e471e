#!/usr/bin/env python3
# csv-to-json: converts CSV text or a CSV file into a JSON array of row objects.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit_or_write, fail, read_args  # noqa: E402
from warden_csv import read_rows  # noqa: E402


def convert_value(cell):
    """'42' -> 42, '3.5' -> 3.5, 'true' -> True, '' -> None; everything else stays text."""
    if cell == "":
        return None
    low = cell.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        if cell.strip() == cell and (cell.lstrip("-").isdigit()):
            return int(cell)
        f = float(cell)
        if f == f and f not in (float("inf"), float("-inf")) and cell.strip() == cell:
            return f
    except ValueError:
        pass
    return cell


def main():
    args = read_args()
    header = arg(args, "header", "boolean", True)
    types = arg(args, "infer_types", "boolean", True)
    rows, delimiter = read_rows(args)
    if header:
        if not rows:
            fail("the CSV is empty: no header row")
        columns = [c.strip() for c in rows[0]]
        body = rows[1:]
    else:
        width = max((len(r) for r in rows), default=0)
        columns = ["column%d" % (i + 1) for i in range(width)]
        body = rows
    records = []
    for n, r in enumerate(body, start=2 if header else 1):
        if len(r) > len(columns):
            fail("row %d has %d fields but the header has %d; check the delimiter %r" % (n, len(r), len(columns), delimiter))
        cells = r + [""] * (len(columns) - len(r))
        records.append({c: (convert_value(v) if types else v) for c, v in zip(columns, cells)})
    emit_or_write(args, {"columns": columns, "row_count": len(records), "delimiter": delimiter},
                  "rows", records, content=json.dumps(records, ensure_ascii=False, indent=2) + "\n")


main()
