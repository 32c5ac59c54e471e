#!/usr/bin/env python3
# base64-codec: base64-encodes or -decodes text and files (standard or URL-safe alphabet).
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

import base64
import binascii


def main():
    args = read_args()
    mode = arg(args, "mode", "string", choices=["encode", "decode"])
    url_safe = arg(args, "url_safe", "boolean", False)
    has_text, has_path = args.get("text") is not None, args.get("path") is not None
    if has_text == has_path:
        fail("give exactly one of 'text' or 'path' (a file in the workspace)", 2)
    if has_text:
        data = arg(args, "text", "string").encode("utf-8")
    else:
        data = read_bytes(workspace_path(arg(args, "path", "string"), "path", must_exist=True, kind="file"), "path")
    if mode == "encode":
        out = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(data).decode("ascii")
        written = write_output(args, out)
        emit({"written": written, "bytes_in": len(data)} if written else {"result": out, "bytes_in": len(data)})
        return
    cleaned = b"".join(data.split())
    cleaned += b"=" * (-len(cleaned) % 4)  # tolerate stripped padding, common in URLs and JWTs
    try:
        raw = base64.b64decode(cleaned, altchars=b"-_" if url_safe or b"-" in cleaned or b"_" in cleaned else None,
                               validate=True)
    except (binascii.Error, ValueError) as e:
        fail("input is not valid base64 (%s); set url_safe for the -_ alphabet" % e)
    written = write_output(args, raw)
    if written:
        emit({"written": written, "bytes_out": len(raw)})
        return
    try:
        emit({"result": raw.decode("utf-8"), "bytes_out": len(raw)})
    except UnicodeDecodeError:
        fail("the decoded %d bytes are binary, not UTF-8 text; give 'output' to save them to a file" % len(raw))


main()
