#!/usr/bin/env python3
# file-find: finds files and folders by glob name, size and modification time, recursively.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, relative, workspace_path  # noqa: E402
from warden_files import iso_time, type_name, walk  # noqa: E402

import datetime


import fnmatch

def parse_time(text, field):
    try:
        t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail("argument %r: %r is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T12:00:00Z)" % (field, text), 2)
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


def main():
    args = read_args()
    path = arg(args, "path", "string", ".")
    top = workspace_path(path, "path", must_exist=True, kind="dir")
    name = arg(args, "name", "string", "*")
    ignore_case = arg(args, "ignore_case", "boolean", True)
    want = arg(args, "type", "string", "file", choices=["file", "dir", "any"])
    min_size = arg(args, "min_size", "integer", None, minimum=0)
    max_size = arg(args, "max_size", "integer", None, minimum=0)
    newer = arg(args, "modified_after", "string", None)
    older = arg(args, "modified_before", "string", None)
    depth = arg(args, "max_depth", "integer", None, minimum=1)
    hidden = arg(args, "include_hidden", "boolean", False)
    limit = arg(args, "limit", "integer", 1000, minimum=1, maximum=100000)
    after = parse_time(newer, "modified_after") if newer else None
    before = parse_time(older, "modified_before") if older else None
    patterns = [p.strip() for p in name.split(",") if p.strip()] or ["*"]
    matches = []
    for full, rel, st, _ in walk(top, max_depth=depth, hidden=hidden):
        t = type_name(st)
        if want != "any" and t != want:
            continue
        base = os.path.basename(rel)
        cmp_base = base.lower() if ignore_case else base
        if not any(fnmatch.fnmatchcase(cmp_base, p.lower() if ignore_case else p) or
                   fnmatch.fnmatchcase(rel, p) for p in patterns):
            continue
        if t == "file" and ((min_size is not None and st.st_size < min_size) or (max_size is not None and st.st_size > max_size)):
            continue
        if (after is not None and st.st_mtime <= after) or (before is not None and st.st_mtime >= before):
            continue
        matches.append({"path": relative(full), "type": t, "size": st.st_size if t == "file" else None,
                        "modified": iso_time(st.st_mtime)})
    emit({"count": len(matches), "truncated": len(matches) > limit, "matches": matches[:limit]})


main()
