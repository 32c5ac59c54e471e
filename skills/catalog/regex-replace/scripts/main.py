#!/usr/bin/env python3
# regex-replace: replaces regular-expression matches in a text or a file, like sed s///g.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, text_input, write_output  # noqa: E402
from warden_regex import compile_pattern  # noqa: E402

import re


def main():
    args = read_args()
    rx = compile_pattern(args)
    replacement = arg(args, "replacement", "string")
    text = text_input(args)
    count = arg(args, "count", "integer", 0, minimum=0)
    in_place = arg(args, "in_place", "boolean", False)
    if in_place and args.get("path") is None:
        fail("argument 'in_place' needs 'path' (the file to rewrite)", 2)
    if in_place and args.get("output") is not None:
        fail("give either 'in_place' or 'output', not both", 2)
    try:
        new, n = rx.subn(replacement, text, count=count)
    except (re.error, IndexError) as e:
        fail("bad replacement %r: %s (use \\1 or \\g<name> for groups)" % (replacement, e), 2)
    if in_place:
        args["output"] = args["path"]
    written = write_output(args, new)
    emit({"replacements": n, "written": written} if written else {"replacements": n, "text": new})


main()
