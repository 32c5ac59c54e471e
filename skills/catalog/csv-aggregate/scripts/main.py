#!/usr/bin/env python3
# csv-aggregate: groups CSV rows and computes count, sum, avg, min, max, median, distinct.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit_or_write, fail, read_args  # noqa: E402
from warden_csv import check_column, load_table, number, table_csv  # noqa: E402


import statistics

FUNCS = ("count", "sum", "avg", "min", "max", "median", "distinct", "first", "last")


def parse_metric(spec, columns):
    if not isinstance(spec, str):
        fail("argument 'metrics' entries must be strings like 'count' or 'sum:amount'", 2)
    func, _, col = spec.partition(":")
    if func not in FUNCS:
        fail("argument 'metrics': unknown function %r; use one of %s" % (func, ", ".join(FUNCS)), 2)
    if func != "count" or col:
        if not col:
            fail("argument 'metrics': %r needs a column, e.g. '%s:price'" % (func, func), 2)
        check_column(columns, col, "metrics")
    return func, col, spec.replace(":", "_")


def compute(func, col, group):
    if func == "count":
        return len(group) if not col else sum(1 for r in group if r[col].strip() != "")
    cells = [r[col] for r in group]
    if func == "distinct":
        return len(set(cells))
    if func == "first":
        return cells[0] if cells else None
    if func == "last":
        return cells[-1] if cells else None
    nums = [number(c) for c in cells if c.strip() != ""]
    if any(n is None for n in nums):
        bad = next(c for c in cells if c.strip() != "" and number(c) is None)
        if func in ("min", "max"):
            vals = [c for c in cells if c.strip() != ""]
            return (min if func == "min" else max)(vals) if vals else None
        fail("column %r holds %r, which is not a number; %s needs numbers" % (col, bad, func))
    if not nums:
        return None
    value = {"sum": lambda: sum(nums), "avg": lambda: sum(nums) / len(nums), "min": lambda: min(nums),
             "max": lambda: max(nums), "median": lambda: statistics.median(nums)}[func]()
    return int(value) if float(value).is_integer() and func != "avg" else round(value, 10)


def main():
    args = read_args()
    columns, rows, delimiter = load_table(args)
    group_by = arg(args, "group_by", "array", [])
    metrics = arg(args, "metrics", "array", ["count"])
    sort_by = arg(args, "sort_by", "string", "")
    for c in group_by:
        check_column(columns, c, "group_by")
    specs = [parse_metric(m, columns) for m in metrics]
    if not specs:
        fail("argument 'metrics' is empty; ask for at least one, e.g. ['count']", 2)
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in group_by), []).append(r)
    out = []
    for key, group in groups.items():
        row = dict(zip(group_by, key))
        for func, col, label in specs:
            row[label] = compute(func, col, group)
        out.append(row)
    out_columns = list(group_by) + [label for _, _, label in specs]
    if sort_by:
        col = sort_by.lstrip("-")
        if col not in out_columns:
            fail("argument 'sort_by': %r is not an output column; use one of %s" % (col, ", ".join(out_columns)), 2)
        out.sort(key=lambda r: (r[col] is None, r[col] if isinstance(r[col], (int, float)) else str(r[col])),
                 reverse=sort_by.startswith("-"))
    emit_or_write(args, {"columns": out_columns, "groups": len(out)},
                  "rows", out, content=table_csv(out_columns, out, delimiter))


main()
