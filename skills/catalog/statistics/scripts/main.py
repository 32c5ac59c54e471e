#!/usr/bin/env python3
# statistics: computes descriptive statistics of a list of numbers, a text or a CSV column.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). Calling convention: the
# arguments arrive as one JSON object on stdin, the workspace is the current directory, the result goes to
# stdout; failures exit non-zero with one line on stderr. The helpers below are repeated in every skill on
# purpose: a skill runs alone in the sandbox and can read only its own folder.
import json
import os
import sys

SKILL = 'statistics'

_REQUIRED = object()
MAX_INPUT_BYTES = 64 * 1024 * 1024  # larger inputs would not fit the default 256 MB memory limit once decoded


def fail(message, code=1):
    """One line on stderr, non-zero exit: 2 = bad arguments, 1 = the work itself failed."""
    sys.stderr.write("%s: %s\n" % (SKILL, " ".join(str(message).split())))
    sys.exit(code)


def read_args():
    try:
        raw = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        fail("arguments on stdin are not UTF-8 (%s); send one JSON object" % e, 2)
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except ValueError as e:
        fail("arguments on stdin are not valid JSON (%s); send one JSON object" % e, 2)
    if not isinstance(args, dict):
        fail("arguments must be one JSON object, got %s" % type(args).__name__, 2)
    return args


_KINDS = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def arg(args, key, kind, default=_REQUIRED, choices=None, minimum=None, maximum=None):
    """The argument `key` checked against its JSON type, enum and bounds (the executor validates too; a direct
    call must not be able to slip past)."""
    if key not in args or args[key] is None:
        if default is _REQUIRED:
            fail("missing required argument %r" % key, 2)
        return default
    value = args[key]
    ok = isinstance(value, _KINDS[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
    if not ok:
        fail("argument %r must be a %s, got %s" % (key, kind, json.dumps(value)[:60]), 2)
    if choices is not None and value not in choices:
        fail("argument %r must be one of %s, got %s" % (key, "|".join(map(str, choices)), json.dumps(value)[:60]), 2)
    if minimum is not None and value < minimum:
        fail("argument %r must be >= %s, got %s" % (key, minimum, value), 2)
    if maximum is not None and value > maximum:
        fail("argument %r must be <= %s, got %s" % (key, maximum, value), 2)
    return value


def workspace_path(value, field, must_exist=False, kind=None):
    """Resolves a workspace-relative path, following symlinks, and refuses anything that ends up outside the
    workspace (the current directory): absolute paths, `..` that climbs out, symlinks pointing away."""
    if not isinstance(value, str) or value == "":
        fail("argument %r must be a non-empty relative path" % field, 2)
    if "\0" in value:
        fail("argument %r contains a NUL byte" % field, 2)
    if os.path.isabs(value):
        fail("argument %r: absolute path %r refused; give a path relative to the workspace" % (field, value), 2)
    root = os.path.realpath(os.getcwd())
    full = os.path.realpath(os.path.join(root, value))
    if full != root and not full.startswith(root + os.sep):
        fail("argument %r: path %r leaves the workspace; use a path inside it" % (field, value), 2)
    if must_exist and not os.path.exists(full):
        fail("argument %r: %r does not exist in the workspace" % (field, value), 1)
    if kind == "file" and os.path.exists(full) and not os.path.isfile(full):
        fail("argument %r: %r is not a regular file" % (field, value), 1)
    if kind == "dir" and os.path.exists(full) and not os.path.isdir(full):
        fail("argument %r: %r is not a folder" % (field, value), 1)
    return full


def relative(full):
    """A path as the caller should see it: relative to the workspace."""
    rel = os.path.relpath(full, os.path.realpath(os.getcwd()))
    return "." if rel == "." else rel


def read_bytes(full, field):
    try:
        size = os.path.getsize(full)
        if size > MAX_INPUT_BYTES:
            fail("argument %r: %r is %d bytes, more than the %d this skill reads" % (field, relative(full), size, MAX_INPUT_BYTES))
        with open(full, "rb") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %r: %s" % (relative(full), e.strerror))


def read_text(full, field, encoding="utf-8"):
    data = read_bytes(full, field)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        fail("%r is not valid %s text (%s); convert it first with encoding-convert" % (relative(full), encoding, e))


def text_input(args, text_key="text", path_key="path"):
    """Inline `text` or the contents of the workspace file `path`: exactly one of them."""
    has_text, has_path = args.get(text_key) is not None, args.get(path_key) is not None
    if has_text == has_path:
        fail("give exactly one of %r (inline text) or %r (a file in the workspace)" % (text_key, path_key), 2)
    if has_text:
        return arg(args, text_key, "string")
    return read_text(workspace_path(arg(args, path_key, "string"), path_key, must_exist=True, kind="file"), path_key)


def write_output(args, content, key="output"):
    """Writes `content` (str or bytes) to the workspace file args[key], creating parent folders; returns its
    relative path, or None when the argument is absent."""
    if args.get(key) is None:
        return None
    full = workspace_path(arg(args, key, "string"), key)
    if os.path.isdir(full):
        fail("argument %r: %r is a folder; give a file name" % (key, relative(full)), 2)
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        tmp = full + ".partial"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, full)
    except OSError as e:
        fail("cannot write %r: %s" % (relative(full), e.strerror))
    return relative(full)


def output_limit_bytes():
    """limits.output_kb from this skill's own skill.json (default 1024): the executor cuts stdout there, and a cut
    JSON document is worse than a clear error."""
    folder = os.environ.get("WARDEN_SKILL_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(folder, "skill.json")) as f:
            return int(json.load(f).get("limits", {}).get("output_kb", 1024)) * 1024
    except (OSError, ValueError, TypeError, AttributeError):
        return 1024 * 1024


def emit(value, text=None):
    out = (json.dumps(value, ensure_ascii=False) if text is None else text) + "\n"
    size, limit = len(out.encode("utf-8")), output_limit_bytes()
    if size > limit:
        fail("the result is %d KB, over this skill's output limit of %d KB; give 'output' to write it to a file in the "
             "workspace, or narrow the request (a limit, a filter, a page range)" % ((size + 1023) // 1024, limit // 1024))
    sys.stdout.write(out)


# --- the skill ---
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
