#!/usr/bin/env python3
# markdown-to-html: renders Markdown to HTML with Python-Markdown.
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

import html
import importlib

import markdown

EXTENSIONS = {"tables": "tables", "fenced_code": "fenced_code", "toc": "toc", "footnotes": "footnotes",
              "def_list": "def_list", "abbr": "abbr", "sane_lists": "sane_lists", "nl2br": "nl2br"}


def main():
    args = read_args()
    text = text_input(args)
    standalone = arg(args, "standalone", "boolean", False)
    title = arg(args, "title", "string", None)
    wanted = arg(args, "extensions", "array", ["tables", "fenced_code", "sane_lists"])
    for e in wanted:
        if e not in EXTENSIONS:
            fail("argument 'extensions': unknown %r; use %s" % (e, ", ".join(EXTENSIONS)), 2)
    # Extension objects, not names: by name, Python-Markdown first scans every installed package's entry points,
    # which costs more than the rendering.
    body = markdown.markdown(text, extensions=[importlib.import_module("markdown.extensions." + EXTENSIONS[e]).makeExtension()
                                               for e in wanted], output_format="html")
    if title is None:
        first = next((l.lstrip("#").strip() for l in text.splitlines() if l.startswith("# ")), None)
        title = first or "Document"
    out = body
    if standalone:
        out = ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n</head>\n<body>\n%s\n</body>\n</html>\n"
               % (html.escape(title), body))
    written = write_output(args, out)
    emit({"title": title, "written": written} if written else {"title": title, "html": out})


main()
