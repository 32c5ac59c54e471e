#!/usr/bin/env python3
# template-fill: fills {{placeholders}} in a template from JSON or YAML values.
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
from warden_skill import arg, emit_or_write, fail, read_args, read_text, text_input, workspace_path  # noqa: E402

import re

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*((?:\|\s*[a-z]+(?:\([^)]*\))?\s*)*)\}\}")
FILTERS = ("upper", "lower", "title", "trim", "json", "default")


def lookup(values, dotted):
    node = values
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None, False
    return node, True


def render(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def load_values(args):
    if args.get("values_path") is None:
        return arg(args, "values", "object", {})
    path = arg(args, "values_path", "string")
    text = read_text(workspace_path(path, "values_path", must_exist=True, kind="file"), "values_path")
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as e:  # both parsers raise their own error types; either way the file is unusable
        fail("cannot parse %r: %s" % (path, e))
    if not isinstance(data, dict):
        fail("%r must hold an object of values at the top level" % path)
    merged = dict(data)
    merged.update(arg(args, "values", "object", {}))
    return merged


def main():
    args = read_args()
    template = text_input(args, text_key="template", path_key="template_path")
    values = load_values(args)
    strict = arg(args, "strict", "boolean", True)
    missing, used = [], set()

    def substitute(m):
        name, chain = m.group(1), m.group(2)
        value, found = lookup(values, name)
        filters = re.findall(r"\|\s*([a-z]+)(?:\(([^)]*)\))?", chain)
        for f, param in filters:
            if f not in FILTERS:
                fail("unknown filter %r in %r; use %s" % (f, m.group(0), ", ".join(FILTERS)), 2)
            if f == "default" and not found:
                value, found = param.strip().strip("\"'"), True
        if not found:
            missing.append(name)
            return m.group(0)
        used.add(name)
        out = render(value)
        for f, _ in filters:
            out = {"upper": str.upper, "lower": str.lower, "title": str.title, "trim": str.strip,
                   "json": lambda s: json.dumps(value, ensure_ascii=False), "default": lambda s: s}[f](out)
        return out

    result = PLACEHOLDER.sub(substitute, template)
    if missing and strict:
        fail("no value for %s; add them to 'values' or set strict=false" % ", ".join(sorted(set(missing))))
    emit_or_write(args, {"placeholders_filled": len(used), "missing": sorted(set(missing))}, "text", result)


main()
