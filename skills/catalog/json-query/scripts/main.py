#!/usr/bin/env python3
# json-query: evaluates a small JSONPath-like path language over a JSON document.
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
from warden_skill import arg, emit, fail, read_args, text_input  # noqa: E402

import re

# The path language (SKILL.md "Path language"): $ root, .key, ["key"], [n] (negative from the end), [a:b] slices,
# [*] or .* for every child, ..key for every descendant named key, [?(@.field OP literal)] filters.
TOKEN = re.compile(r"""\s*(?:
    (?P<dotdot>\.\.)(?P<ddname>[A-Za-z_][\w-]*|\*) |
    \.(?P<name>[A-Za-z_][\w-]*|\*) |
    \[\s*(?P<index>-?\d+)\s*\] |
    \[\s*(?P<slice>-?\d*\s*:\s*-?\d*)\s*\] |
    \[\s*(?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\] |
    \[\s*(?P<star>\*)\s*\] |
    \[\s*\?\(?\s*@(?P<fpath>(?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*(?:(?P<fop>==|!=|<=|>=|<|>|=~)\s*(?P<fval>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\])\s]+))?\s*\)?\s*\]
)""", re.X)


def parse(query):
    q = query.strip()
    if q.startswith("$"):
        q = q[1:]
    elif q and q[0] not in ".[":
        q = "." + q  # "a.b" means "$.a.b"
    steps, pos = [], 0
    while pos < len(q):
        m = TOKEN.match(q, pos)
        if not m:
            fail("bad query %r at character %d (%r); see the path language in SKILL.md" % (query, pos + 1, q[pos:pos + 10]), 2)
        g = m.groupdict()
        if g["dotdot"]:
            steps.append(("desc", g["ddname"]))
        elif g["name"] is not None:
            steps.append(("all",) if g["name"] == "*" else ("key", g["name"]))
        elif g["index"] is not None:
            steps.append(("index", int(g["index"])))
        elif g["slice"] is not None:
            a, b = [s.strip() for s in g["slice"].split(":")]
            steps.append(("slice", int(a) if a else None, int(b) if b else None))
        elif g["quoted"] is not None:
            steps.append(("key", literal(g["quoted"], query)))
        elif g["star"]:
            steps.append(("all",))
        else:
            sub = parse("$" + g["fpath"]) if g["fpath"] else []
            val = literal(g["fval"], query) if g["fval"] is not None else None
            if g["fop"] == "=~":
                try:
                    val = re.compile(str(val))
                except re.error as e:
                    fail("bad regex in filter of %r: %s" % (query, e), 2)
            steps.append(("filter", sub, g["fop"], val))
        pos = m.end()
    return steps


def literal(text, query):
    if text[0] == "'":
        text = '"' + text[1:-1].replace('"', '\\"') + '"'
    try:
        return json.loads(text)
    except ValueError:
        if text[0] == '"':
            fail("bad string literal %s in %r" % (text, query), 2)
        return text  # a bare word compares as a string


def children(node):
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def descendants(node):
    yield node
    for c in children(node):
        yield from descendants(c)


def holds(item, sub, op, val):
    found = run(sub, [item])
    if op is None:
        return bool(found)
    if not found:
        return False
    x = found[0]
    if op == "=~":
        return isinstance(x, str) and val.search(x) is not None
    if op in ("==", "!="):
        return (x == val) == (op == "==")
    try:
        return {"<": x < val, "<=": x <= val, ">": x > val, ">=": x >= val}[op]
    except TypeError:
        return False


def run(steps, nodes):
    for step in steps:
        out = []
        for n in nodes:
            if step[0] == "key":
                if isinstance(n, dict) and step[1] in n:
                    out.append(n[step[1]])
            elif step[0] == "index":
                if isinstance(n, list) and -len(n) <= step[1] < len(n):
                    out.append(n[step[1]])
            elif step[0] == "slice":
                if isinstance(n, list):
                    out.extend(n[step[1]:step[2]])
            elif step[0] == "all":
                out.extend(children(n))
            elif step[0] == "desc":
                for d in descendants(n):
                    if step[1] == "*":
                        out.extend(children(d))
                    elif isinstance(d, dict) and step[1] in d:
                        out.append(d[step[1]])
            else:
                out.extend(c for c in children(n) if holds(c, step[1], step[2], step[3]))
        nodes = out
    return nodes


def main():
    args = read_args()
    query = arg(args, "query", "string")
    text = text_input(args)
    first = arg(args, "first", "boolean", False)
    try:
        doc = json.loads(text)
    except ValueError as e:
        fail("input is not valid JSON: %s" % e)
    matches = run(parse(query), [doc])
    if first:
        emit({"query": query, "found": bool(matches), "value": matches[0] if matches else None})
    else:
        emit({"query": query, "count": len(matches), "matches": matches})


main()
