#!/usr/bin/env python3
# statistics: computes descriptive statistics of a list of numbers, a text or a CSV column.
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
from warden_skill import arg, emit, fail, read_args, text_input  # noqa: E402

import math
import re
import statistics as st


def percentile(sorted_values, p):
    """Linear interpolation between closest ranks (the default of NumPy and of spreadsheets' PERCENTILE)."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    k = (len(sorted_values) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def numbers_from(args):
    given = [k for k in ("values", "text", "path") if args.get(k) is not None]
    if len(given) != 1:
        fail("give exactly one of 'values' (an array of numbers), 'text' (numbers in text) or 'path' (+ 'column' for a CSV)", 2)
    if given[0] == "values":
        values = arg(args, "values", "array")
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            fail("argument 'values' must hold only numbers, found %s" % json.dumps(bad[0]), 2)
        return [float(v) for v in values]
    column = arg(args, "column", "string", None)
    if given[0] == "path" and column is not None:
        import csv
        import io
        text = text_input(args)
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if column not in (reader.fieldnames or []):
            fail("argument 'column': no column %r; the columns are %s" % (column, ", ".join(reader.fieldnames or [])), 2)
        out = []
        for n, row in enumerate(reader, start=2):
            cell = (row.get(column) or "").strip()
            if cell:
                try:
                    out.append(float(cell))
                except ValueError:
                    fail("row %d of column %r holds %r, not a number" % (n, column, cell))
        return out
    text = text_input(args)
    return [float(x) for x in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", text)]


def main():
    args = read_args()
    values = numbers_from(args)
    pcts = arg(args, "percentiles", "array", [25, 50, 75, 90, 95, 99])
    digits = arg(args, "precision", "integer", 6, minimum=0, maximum=15)
    if not values:
        fail("no numbers found in the input")
    for p in pcts:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 100:
            fail("argument 'percentiles' entries must be numbers from 0 to 100, got %s" % json.dumps(p), 2)
    r = lambda x: round(x, digits)
    s = sorted(values)
    n = len(s)
    counts = {}
    for v in s:
        counts[v] = counts.get(v, 0) + 1
    top = max(counts.values())
    result = {
        "count": n, "sum": r(math.fsum(s)), "mean": r(math.fsum(s) / n), "median": r(st.median(s)),
        "mode": [r(v) for v in counts if counts[v] == top] if top > 1 else [],
        "min": r(s[0]), "max": r(s[-1]), "range": r(s[-1] - s[0]),
        "variance_sample": r(st.variance(s)) if n > 1 else None, "stdev_sample": r(st.stdev(s)) if n > 1 else None,
        "variance_population": r(st.pvariance(s)), "stdev_population": r(st.pstdev(s)),
        "percentiles": {("p%g" % p): r(percentile(s, p)) for p in pcts},
    }
    if all(v > 0 for v in s):
        result["geometric_mean"] = r(st.geometric_mean(s))
    q1, q3 = percentile(s, 25), percentile(s, 75)
    result["iqr"] = r(q3 - q1)
    result["outliers"] = [r(v) for v in s if v < q1 - 1.5 * (q3 - q1) or v > q3 + 1.5 * (q3 - q1)]
    emit(result)


main()
