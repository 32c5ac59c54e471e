#!/usr/bin/env python3
# pdf-info: reads a PDF's metadata (pages, title, author, page size, encryption) with poppler's pdfinfo.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args, workspace_path  # noqa: E402
from warden_poppler import poppler  # noqa: E402


import re


def main():
    args = read_args()
    path = arg(args, "path", "string")
    full = workspace_path(path, "path", must_exist=True, kind="file")
    out = poppler("pdfinfo", ["-enc", "UTF-8", "--", full])
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    info = {"path": path, "fields": fields}
    if "Pages" in fields and fields["Pages"].isdigit():
        info["pages"] = int(fields["Pages"])
    for key, name in (("Title", "title"), ("Author", "author"), ("Creator", "creator"), ("Producer", "producer"),
                      ("PDF version", "pdf_version"), ("CreationDate", "created"), ("ModDate", "modified")):
        if key in fields:
            info[name] = fields[key]
    info["encrypted"] = fields.get("Encrypted", "no").startswith("yes")
    m = re.match(r"([\d.]+) x ([\d.]+) pts", fields.get("Page size", ""))
    if m:
        info["page_size_pt"] = [float(m.group(1)), float(m.group(2))]
    emit(info)


main()
