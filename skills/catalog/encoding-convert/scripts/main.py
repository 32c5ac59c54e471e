#!/usr/bin/env python3
# encoding-convert: re-encodes a text file (e.g. Latin-1 or UTF-16 to UTF-8) and normalises line endings.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, read_bytes, workspace_path, write_output  # noqa: E402
from warden_charset import detect  # noqa: E402


import codecs


def main():
    args = read_args()
    path = arg(args, "path", "string")
    source = arg(args, "from", "string", "auto")
    target = arg(args, "to", "string", "utf-8")
    errors = arg(args, "errors", "string", "strict", choices=["strict", "replace", "ignore"])
    endings = arg(args, "line_endings", "string", "keep", choices=["keep", "lf", "crlf"])
    if args.get("output") is None:
        fail("missing required argument 'output': the file to write (it may equal 'path' to convert in place)", 2)
    data = read_bytes(workspace_path(path, "path", must_exist=True, kind="file"), "path")
    if source == "auto":
        source, _, bom, binary = detect(data)
        if binary:
            fail("%r looks binary, not text; give 'from' if it really is text" % path)
        if bom and source.startswith("utf-16"):
            source = "utf-16"  # the BOM-aware codecs drop the mark instead of decoding it as U+FEFF
        elif bom and source.startswith("utf-32"):
            source = "utf-32"
    for name, field in ((source, "from"), (target, "to")):
        try:
            codecs.lookup(name)
        except LookupError:
            fail("argument %r: unknown encoding %r (e.g. utf-8, utf-16, cp1252, iso-8859-1, shift_jis)" % (field, name), 2)
    try:
        text = data.decode(source, errors=errors)
    except UnicodeDecodeError as e:
        fail("%r is not valid %s at byte %d; try another 'from' or errors=replace" % (path, source, e.start))
    if endings != "keep":
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if endings == "crlf":
            text = text.replace("\n", "\r\n")
    try:
        out = text.encode(target, errors=errors)
    except UnicodeEncodeError as e:
        fail("character %r at position %d cannot be written in %s; use errors=replace or another 'to'" % (e.object[e.start], e.start, target))
    written = write_output(args, out)
    emit({"from": source, "to": target, "written": written, "bytes": len(out), "characters": len(text)})


main()
