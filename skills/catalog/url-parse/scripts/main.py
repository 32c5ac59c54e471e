#!/usr/bin/env python3
# url-parse: parses URLs, percent-encodes or decodes text and builds URLs with query strings.
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
from warden_skill import arg, emit, fail, read_args  # noqa: E402

import urllib.parse


def main():
    args = read_args()
    action = arg(args, "action", "string", "parse", choices=["parse", "encode", "decode", "build"])
    if action == "parse":
        url = arg(args, "url", "string")
        try:
            p = urllib.parse.urlsplit(url)
            port = p.port
        except ValueError as e:
            fail("cannot parse %r: %s" % (url, e))
        query = {}
        for k, v in urllib.parse.parse_qsl(p.query, keep_blank_values=True):
            query.setdefault(k, []).append(v)
        emit({"scheme": p.scheme, "username": p.username, "host": p.hostname, "port": port,
              "path": urllib.parse.unquote(p.path), "query": {k: v[0] if len(v) == 1 else v for k, v in query.items()},
              "fragment": p.fragment, "is_absolute": bool(p.scheme and p.netloc)})
    elif action in ("encode", "decode"):
        text = arg(args, "text", "string")
        plus = arg(args, "form", "boolean", False)
        if action == "encode":
            out = urllib.parse.quote_plus(text) if plus else urllib.parse.quote(text, safe=arg(args, "safe", "string", ""))
        else:
            out = urllib.parse.unquote_plus(text) if plus else urllib.parse.unquote(text)
        emit({"result": out})
    else:
        base = arg(args, "url", "string")
        params = arg(args, "query", "object", {})
        p = urllib.parse.urlsplit(base)
        pairs = urllib.parse.parse_qsl(p.query, keep_blank_values=True)
        for k, v in params.items():
            for item in (v if isinstance(v, list) else [v]):
                pairs.append((k, item if isinstance(item, str) else json.dumps(item)))
        emit({"url": urllib.parse.urlunsplit(p._replace(query=urllib.parse.urlencode(pairs)))})


main()
