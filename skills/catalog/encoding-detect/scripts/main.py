#!/usr/bin/env python3
# encoding-detect: guesses the character encoding, BOM and line endings of a file.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args, read_bytes, workspace_path  # noqa: E402

BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def detect(data):
    """(encoding, confidence, has_bom, is_binary) from the bytes alone: BOMs, the NUL pattern of UTF-16 without a
    BOM, a strict UTF-8 decode, then the single-byte Windows/ISO Latin family."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name, "high", True, False
    if not data:
        return "ascii", "high", False, False
    sample = data[:65536]
    nul = sample.count(b"\x00")
    if nul:
        even, odd = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        if odd > len(sample) // 4 and even == 0:
            return "utf-16-le", "medium", False, False
        if even > len(sample) // 4 and odd == 0:
            return "utf-16-be", "medium", False, False
        return None, "high", False, True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > len(sample) // 20:
        return None, "medium", False, True
    if all(b < 128 for b in sample):
        return "ascii", "high", False, False
    try:
        data.decode("utf-8")
        return "utf-8", "high", False, False
    except UnicodeDecodeError:
        pass
    # 0x80-0x9F are C1 controls in ISO-8859-1 but punctuation (curly quotes, dashes, euro) in cp1252.
    if any(0x80 <= b <= 0x9F for b in sample):
        try:
            data.decode("cp1252")
            return "cp1252", "medium", False, False
        except UnicodeDecodeError:
            pass
    return "iso-8859-1", "low", False, False


def line_endings(text):
    crlf = text.count("\r\n")
    lf, cr = text.count("\n") - crlf, text.count("\r") - crlf
    kinds = [k for k, n in (("crlf", crlf), ("lf", lf), ("cr", cr)) if n]
    return "none" if not kinds else kinds[0] if len(kinds) == 1 else "mixed"


def main():
    args = read_args()
    path = arg(args, "path", "string")
    data = read_bytes(workspace_path(path, "path", must_exist=True, kind="file"), "path")
    encoding, confidence, bom, binary = detect(data)
    result = {"path": path, "bytes": len(data), "encoding": encoding, "confidence": confidence, "bom": bom,
              "is_binary": binary}
    if not binary:
        result["line_endings"] = line_endings(data.decode(encoding, errors="replace"))
    emit(result)


main()
