#!/usr/bin/env python3
# text-diff: compares two texts or files and returns a unified diff.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit_or_write, fail, read_args, read_text, workspace_path  # noqa: E402

import difflib


def side(args, name):
    path, text = args.get(name), args.get(name + "_text")
    if (path is None) == (text is None):
        fail("give exactly one of %r (a workspace file) or %r (inline text)" % (name, name + "_text"), 2)
    if text is not None:
        return arg(args, name + "_text", "string"), name
    return read_text(workspace_path(arg(args, name, "string"), name, must_exist=True, kind="file"), name), path


def main():
    args = read_args()
    a, a_label = side(args, "a")
    b, b_label = side(args, "b")
    context = arg(args, "context", "integer", 3, minimum=0, maximum=1000)
    ignore_ws = arg(args, "ignore_whitespace", "boolean", False)
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    if ignore_ws:
        norm = lambda ls: [" ".join(l.split()) + "\n" for l in ls]
        a_lines, b_lines = norm(a_lines), norm(b_lines)
    diff = list(difflib.unified_diff(a_lines, b_lines, "a/" + a_label, "b/" + b_label, n=context))
    text = "".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n" for l in diff)
    added = sum(1 for l in diff if l.startswith("+") and not l.startswith("+++"))
    removed = sum(1 for l in diff if l.startswith("-") and not l.startswith("---"))
    ratio = difflib.SequenceMatcher(None, a_lines, b_lines).ratio() if len(a_lines) + len(b_lines) < 20000 else None
    similarity = round(ratio, 4) if ratio is not None else None
    emit_or_write(args, {"identical": not diff, "added": added, "removed": removed, "similarity": similarity},
                  "diff", text)


main()
