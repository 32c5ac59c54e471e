#!/usr/bin/env python3
# json-format: pretty-prints, minifies or validates JSON.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, text_input, write_output  # noqa: E402

def main():
    args = read_args()
    text = text_input(args)
    mode = arg(args, "mode", "string", "pretty", choices=["pretty", "minify", "validate"])
    indent = arg(args, "indent", "integer", 2, minimum=0, maximum=8)
    sort_keys = arg(args, "sort_keys", "boolean", False)
    try:
        value = json.loads(text)
    except ValueError as e:
        if mode == "validate":
            emit({"valid": False, "error": e.msg, "line": e.lineno, "column": e.colno})
            return
        fail("not valid JSON at line %d column %d: %s" % (e.lineno, e.colno, e.msg))
    if mode == "validate":
        emit({"valid": True, "type": {dict: "object", list: "array", str: "string", bool: "boolean",
                                      type(None): "null"}.get(type(value), "number")})
        return
    if mode == "minify":
        out = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    else:
        out = json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys)
    written = write_output(args, out + "\n")
    emit({"written": written, "bytes": len(out.encode())} if written else {"text": out})


main()
