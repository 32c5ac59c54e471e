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
from warden_skill import MAX_INPUT_BYTES, arg, emit, read_args, relative, workspace_path  # noqa: E402
from warden_regex import compile_pattern  # noqa: E402
from warden_files import walk  # noqa: E402

import stat


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
