#!/usr/bin/env python3
# yaml-to-json: parses YAML (safely) and returns it as JSON.
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

import datetime

import yaml


def plain(value):
    """YAML timestamps and binary have no JSON type: dates become ISO 8601 text, bytes base64 text."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def main():
    args = read_args()
    text = text_input(args)
    every = arg(args, "all_documents", "boolean", False)
    try:
        docs = [plain(d) for d in yaml.safe_load_all(text)]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = " at line %d column %d" % (mark.line + 1, mark.column + 1) if mark else ""
        fail("not valid YAML%s: %s" % (where, getattr(e, "problem", None) or e))
    value = docs if every else (docs[0] if docs else None)
    written = write_output(args, json.dumps(value, ensure_ascii=False, indent=2) + "\n")
    emit({"written": written, "documents": len(docs)} if written else {"value": value, "documents": len(docs)})


main()
