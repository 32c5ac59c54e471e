#!/usr/bin/env python3
# json-to-yaml: converts JSON into block-style YAML.
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

import yaml


def main():
    args = read_args()
    text = text_input(args)
    sort_keys = arg(args, "sort_keys", "boolean", False)
    try:
        value = json.loads(text)
    except ValueError as e:
        fail("input is not valid JSON: %s" % e)
    out = yaml.safe_dump(value, sort_keys=sort_keys, allow_unicode=True, default_flow_style=False)
    written = write_output(args, out)
    emit({"written": written} if written else {"yaml": out})


main()
