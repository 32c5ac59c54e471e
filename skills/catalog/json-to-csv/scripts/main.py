#!/usr/bin/env python3
# json-to-csv: converts a JSON array of objects (or of arrays) into CSV.
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
from warden_skill import arg, emit_or_write, fail, read_args, text_input  # noqa: E402

import csv
import io


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def main():
    args = read_args()
    text = text_input(args)
    delimiter = arg(args, "delimiter", "string", ",")
    columns = arg(args, "columns", "array", None)
    if len(delimiter) != 1:
        fail("argument 'delimiter' must be one character, got %r" % delimiter, 2)
    try:
        data = json.loads(text)
    except ValueError as e:
        fail("input is not valid JSON: %s" % e)
    if isinstance(data, dict):
        # {"rows": [...]} as written by csv-to-json, or one object = one row
        data = data["rows"] if isinstance(data.get("rows"), list) else [data]
    if not isinstance(data, list):
        fail("input must be a JSON array of objects (or of arrays), got %s" % type(data).__name__)
    if data and all(isinstance(r, list) for r in data):
        header, body = None, data
    elif all(isinstance(r, dict) for r in data):
        if columns is None:
            columns = []
            for r in data:
                for k in r:
                    if k not in columns:
                        columns.append(k)
        header, body = [str(c) for c in columns], [[r.get(c) for c in columns] for r in data]
    else:
        fail("input array mixes objects and other values; every element must be an object (or every one an array)")
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header is not None:
        w.writerow(header)
    for r in body:
        w.writerow([cell(v) for v in r])
    emit_or_write(args, {"columns": header or [], "row_count": len(body)}, "csv", out.getvalue())


main()
