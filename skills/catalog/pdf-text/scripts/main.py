#!/usr/bin/env python3
# pdf-text: extracts the text of a PDF (all pages or a range) with poppler's pdftotext.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit_or_write, fail, read_args, workspace_path  # noqa: E402
from warden_poppler import poppler  # noqa: E402


def main():
    args = read_args()
    path = arg(args, "path", "string")
    full = workspace_path(path, "path", must_exist=True, kind="file")
    first = arg(args, "first_page", "integer", None, minimum=1)
    last = arg(args, "last_page", "integer", None, minimum=1)
    layout = arg(args, "layout", "boolean", False)
    if first and last and last < first:
        fail("argument 'last_page' (%d) is before 'first_page' (%d)" % (last, first), 2)
    argv = ["-enc", "UTF-8"]
    if first:
        argv += ["-f", str(first)]
    if last:
        argv += ["-l", str(last)]
    if layout:
        argv.append("-layout")
    text = poppler("pdftotext", argv + ["--", full, "-"])
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    text = text.replace("\f", "\n")
    emit_or_write(args, {"pages": len(pages), "words": len(text.split()), "characters": len(text)}, "text", text)


main()
