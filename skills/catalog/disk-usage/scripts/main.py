#!/usr/bin/env python3
# disk-usage: totals file sizes under a folder, by extension and by entry, with the largest files.
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
from warden_files import walk  # noqa: E402

import stat


def main():
    args = read_args()
    path = arg(args, "path", "string", ".")
    top = workspace_path(path, "path", must_exist=True, kind="dir")
    n_top = arg(args, "top", "integer", 10, minimum=0, maximum=1000)
    hidden = arg(args, "include_hidden", "boolean", True)
    total, files, dirs = 0, [], 0
    by_ext, by_child = {}, {}
    for full, rel, st, _ in walk(top, hidden=hidden):
        if stat.S_ISDIR(st.st_mode):
            dirs += 1
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        total += st.st_size
        files.append((st.st_size, relative(full)))
        ext = os.path.splitext(rel)[1].lower() or "(none)"
        e = by_ext.setdefault(ext, {"files": 0, "bytes": 0})
        e["files"] += 1
        e["bytes"] += st.st_size
        child = rel.split(os.sep)[0]
        by_child[child] = by_child.get(child, 0) + st.st_size
    files.sort(key=lambda x: (-x[0], x[1]))
    emit({"path": relative(top), "total_bytes": total, "files": len(files), "dirs": dirs,
          "largest": [{"path": p, "bytes": s} for s, p in files[:n_top]],
          "by_extension": dict(sorted(by_ext.items(), key=lambda kv: -kv[1]["bytes"])),
          "by_entry": dict(sorted(by_child.items(), key=lambda kv: -kv[1]))})


main()
