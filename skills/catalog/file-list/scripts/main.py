#!/usr/bin/env python3
# file-list: lists one folder of the workspace with types, sizes and modification times.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args, relative, workspace_path  # noqa: E402
from warden_files import iso_time, type_name, walk  # noqa: E402


def main():
    args = read_args()
    path = arg(args, "path", "string", ".")
    full = workspace_path(path, "path", must_exist=True, kind="dir")
    hidden = arg(args, "include_hidden", "boolean", False)
    sort = arg(args, "sort", "string", "name", choices=["name", "size", "modified"])
    limit = arg(args, "limit", "integer", 1000, minimum=1, maximum=100000)
    entries = []
    for f, rel, st, _ in walk(full, max_depth=1, hidden=hidden):
        e = {"name": rel, "type": type_name(st), "size": st.st_size if type_name(st) == "file" else None,
             "modified": iso_time(st.st_mtime)}
        if e["type"] == "symlink":
            e["target"] = os.readlink(f)
        entries.append(e)
    if sort == "size":
        entries.sort(key=lambda e: -(e["size"] or 0))
    elif sort == "modified":
        entries.sort(key=lambda e: e["modified"], reverse=True)
    else:
        entries.sort(key=lambda e: (e["type"] != "dir", e["name"].lower()))
    emit({"path": relative(full), "count": len(entries), "truncated": len(entries) > limit, "entries": entries[:limit]})


main()
