#!/usr/bin/env python3
# file-grep: searches file contents for a regular expression, recursively, like grep -rn.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import MAX_INPUT_BYTES, arg, emit, fail, read_args, relative, warn, workspace_path  # noqa: E402

import datetime
import stat


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def walk(top, max_depth=None, hidden=False):
    """(full_path, relative_to_top, lstat, depth) of everything under `top`, depth-first in name order, never
    following symlinks (a link inside the workspace could point outside it)."""
    def names(folder):
        try:
            return iter(sorted(n for n in os.listdir(folder) if hidden or not n.startswith(".")))
        except OSError as e:
            warn("skipping %r: %s" % (relative(folder), e.strerror))
            return iter(())
    stack = [(top, names(top), 0)]
    while stack:
        folder, it, depth = stack[-1]
        name = next(it, None)
        if name is None:
            stack.pop()
            continue
        full = os.path.join(folder, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        yield full, os.path.relpath(full, top), st, depth + 1
        if stat.S_ISDIR(st.st_mode) and (max_depth is None or depth + 1 < max_depth):
            stack.append((full, names(full), depth + 1))


def type_name(st):
    return "dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode) else "other"


import re


def compile_pattern(args):
    pattern = arg(args, "pattern", "string")
    flags = 0
    if arg(args, "ignore_case", "boolean", False):
        flags |= re.IGNORECASE
    if arg(args, "multiline", "boolean", False):
        flags |= re.MULTILINE
    if arg(args, "dotall", "boolean", False):
        flags |= re.DOTALL
    if arg(args, "fixed_string", "boolean", False):
        pattern = re.escape(pattern)
    try:
        return re.compile(pattern, flags)
    except re.error as e:
        fail("bad regular expression %r: %s%s" % (pattern, e.msg, " at position %d" % e.pos if e.pos is not None else ""), 2)


import fnmatch

def main():
    args = read_args()
    rx = compile_pattern(args)
    path = arg(args, "path", "string", ".")
    top = workspace_path(path, "path", must_exist=True)
    include = arg(args, "include", "string", "*")
    limit = arg(args, "max_matches", "integer", 500, minimum=1, maximum=100000)
    hidden = arg(args, "include_hidden", "boolean", False)
    files_only = arg(args, "files_only", "boolean", False)
    patterns = [p.strip() for p in include.split(",") if p.strip()] or ["*"]
    if os.path.isfile(top):
        candidates = [top]
    else:
        candidates = [f for f, rel, st, _ in walk(top, hidden=hidden)
                      if stat.S_ISREG(st.st_mode) and any(fnmatch.fnmatch(os.path.basename(rel), p) for p in patterns)]
    matches, files, total, scanned = [], [], 0, 0
    for f in candidates:
        try:
            if os.path.getsize(f) > MAX_INPUT_BYTES:
                continue
            with open(f, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if b"\x00" in data[:8192]:
            continue  # binary files are skipped, as grep -I does
        scanned += 1
        hit = False
        for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if rx.search(line):
                hit = True
                total += 1
                if not files_only and len(matches) < limit:
                    matches.append({"path": relative(f), "line": n, "text": line[:500]})
        if hit:
            files.append(relative(f))
    result = {"files_scanned": scanned, "files_matched": len(files), "count": total}
    if files_only:
        result["files"] = files
    else:
        result.update(truncated=total > len(matches), matches=matches)
    emit(result)


main()
