#!/usr/bin/env python3
# csv-query: filters, sorts and selects rows and columns of a CSV table.
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
from warden_csv import check_column, load_table, number, table_csv  # noqa: E402


import re

OPS = ("=", "!=", "<", "<=", ">", ">=", "contains", "not_contains", "startswith", "endswith", "regex", "in",
       "empty", "not_empty")


def matcher(cond, columns, index):
    field = "where[%d]" % index
    if not isinstance(cond, dict):
        fail("argument %r must be an object {column, op, value}" % field, 2)
    col, op, value = cond.get("column"), cond.get("op", "="), cond.get("value")
    if not isinstance(col, str):
        fail("argument %r: 'column' must be a column name" % field, 2)
    check_column(columns, col, field + ".column")
    if op not in OPS:
        fail("argument %r: op must be one of %s, got %r" % (field, " ".join(OPS), op), 2)
    if op in ("empty", "not_empty"):
        return lambda r: (r[col].strip() == "") == (op == "empty")
    if value is None:
        fail("argument %r: op %r needs a 'value'" % (field, op), 2)
    if op == "in":
        if not isinstance(value, list):
            fail("argument %r: op 'in' needs 'value' to be an array" % field, 2)
        wanted = {str(v) for v in value}
        nums = {number(str(v)) for v in value} - {None}
        return lambda r: r[col] in wanted or (number(r[col]) is not None and number(r[col]) in nums)
    sval = value if isinstance(value, str) else json.dumps(value)
    if op == "regex":
        try:
            rx = re.compile(sval)
        except re.error as e:
            fail("argument %r: bad regex %r: %s" % (field, sval, e), 2)
        return lambda r: rx.search(r[col]) is not None
    if op in ("contains", "not_contains"):
        return lambda r: (sval.lower() in r[col].lower()) == (op == "contains")
    if op == "startswith":
        return lambda r: r[col].startswith(sval)
    if op == "endswith":
        return lambda r: r[col].endswith(sval)
    nv = number(sval)

    def compare(r):
        cell = r[col]
        a, b = (number(cell), nv) if nv is not None and number(cell) is not None else (cell, sval)
        return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    return compare


def sort_key(col):
    def key(r):
        n = number(r[col])
        return (0, n, "") if n is not None else (1, 0, r[col].lower())
    return key


def main():
    args = read_args()
    columns, rows, delimiter = load_table(args)
    where = arg(args, "where", "array", [])
    select = arg(args, "select", "array", None)
    sort_by = arg(args, "sort_by", "array", [])
    limit = arg(args, "limit", "integer", 1000, minimum=0)
    offset = arg(args, "offset", "integer", 0, minimum=0)
    distinct = arg(args, "distinct", "boolean", False)
    tests = [matcher(c, columns, i) for i, c in enumerate(where)]
    out = [r for r in rows if all(t(r) for t in tests)]
    for spec in reversed(sort_by):  # stable sorts, last key first, so the first key wins
        if not isinstance(spec, str) or not spec.lstrip("-"):
            fail("argument 'sort_by' entries must be column names, '-name' for descending", 2)
        col = spec.lstrip("-")
        check_column(columns, col, "sort_by")
        out.sort(key=sort_key(col), reverse=spec.startswith("-"))
    if select is not None:
        for c in select:
            check_column(columns, c, "select")
        columns = list(select)
        out = [{c: r[c] for c in columns} for r in out]
    if distinct:
        seen, unique = set(), []
        for r in out:
            k = tuple(r[c] for c in columns)
            if k not in seen:
                seen.add(k)
                unique.append(r)
        out = unique
    matched = len(out)
    out = out[offset:offset + limit]
    emit_or_write(args, {"columns": columns, "matched": matched, "returned": len(out)},
                  "rows", out, content=table_csv(columns, out, delimiter))


main()
