#!/usr/bin/env python3
# encoding-detect: guesses the character encoding, BOM and line endings of a file.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args, read_bytes, workspace_path  # noqa: E402
from warden_charset import detect, line_endings  # noqa: E402


def main():
    args = read_args()
    path = arg(args, "path", "string")
    data = read_bytes(workspace_path(path, "path", must_exist=True, kind="file"), "path")
    encoding, confidence, bom, binary = detect(data)
    result = {"path": path, "bytes": len(data), "encoding": encoding, "confidence": confidence, "bom": bom,
              "is_binary": binary}
    if not binary:
        result["line_endings"] = line_endings(data.decode(encoding, errors="replace"))
    emit(result)


main()
