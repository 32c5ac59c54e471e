#!/usr/bin/env python3
# file-tree: draws the folder structure as a tree, like the tree command.
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
from warden_files import type_name  # noqa: E402

import stat


def human(n):
    for unit in ("B", "K", "M", "G", "T"):
        if n < 1024 or unit == "T":
            return ("%d%s" % (n, unit)) if unit == "B" else ("%.1f%s" % (n, unit))
        n /= 1024.0


def main():
    args = read_args()
    path = arg(args, "path", "string", ".")
    top = workspace_path(path, "path", must_exist=True, kind="dir")
    depth = arg(args, "max_depth", "integer", 3, minimum=1, maximum=50)
    hidden = arg(args, "include_hidden", "boolean", False)
    sizes = arg(args, "show_sizes", "boolean", False)
    dirs_only = arg(args, "dirs_only", "boolean", False)
    limit = arg(args, "max_entries", "integer", 2000, minimum=1, maximum=100000)
    lines = [relative(top) + "/"]
    counts = {"dir": 0, "file": 0}
    shown = 0

    def visit(folder, prefix, level):
        nonlocal shown
        try:
            names = sorted(n for n in os.listdir(folder) if hidden or not n.startswith("."))
        except OSError as e:
            lines.append(prefix + "[cannot read: %s]" % e.strerror)
            return
        entries = []
        for n in names:
            st = os.lstat(os.path.join(folder, n))
            if dirs_only and not stat.S_ISDIR(st.st_mode):
                continue
            entries.append((n, st))
        for i, (n, st) in enumerate(entries):
            if shown >= limit:
                lines.append(prefix + "... (more entries; raise max_entries)")
                return
            last = i == len(entries) - 1
            t = type_name(st)
            counts["dir" if t == "dir" else "file"] += 1
            label = n + ("/" if t == "dir" else "")
            if t == "symlink":
                label += " -> " + os.readlink(os.path.join(folder, n))
            elif sizes and t == "file":
                label += " (%s)" % human(st.st_size)
            lines.append(prefix + ("└── " if last else "├── ") + label)
            shown += 1
            if t == "dir" and level < depth:
                visit(os.path.join(folder, n), prefix + ("    " if last else "│   "), level + 1)

    visit(top, "", 1)
    lines.append("")
    lines.append("%d directories, %d files" % (counts["dir"], counts["file"]))
    emit(None, text="\n".join(lines))


main()
