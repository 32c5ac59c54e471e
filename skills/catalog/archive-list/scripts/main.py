#!/usr/bin/env python3
# archive-list: lists the entries of a zip or tar archive and flags unsafe ones.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args, workspace_path  # noqa: E402
from warden_archive import members, unsafe_reason  # noqa: E402


def main():
    args = read_args()
    archive = arg(args, "archive", "string")
    limit = arg(args, "limit", "integer", 1000, minimum=1, maximum=100000)
    full = workspace_path(archive, "archive", must_exist=True, kind="file")
    kind, items = members(full)
    entries, unsafe = [], 0
    for m in items:
        e = {"name": m.name, "type": m.kind, "size": m.size}
        why = unsafe_reason(m.name) or ("link" if m.kind in ("symlink", "hardlink") else "device" if m.kind in ("device", "fifo") else None)
        if why:
            e["unsafe"] = why
            unsafe += 1
        entries.append(e)
    emit({"archive": archive, "format": kind, "entries": len(entries), "total_bytes": sum(m.size for m in items if m.kind == "file"),
          "unsafe_entries": unsafe, "truncated": len(entries) > limit, "members": entries[:limit]})


main()
