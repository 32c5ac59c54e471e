#!/usr/bin/env python3
# file-hash: computes SHA-256, MD5, SHA-1, SHA-512, SHA-3 or BLAKE2 digests of a file or text.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, workspace_path  # noqa: E402

import hashlib
import hmac

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s")


def main():
    args = read_args()
    algorithms = arg(args, "algorithms", "array", ["sha256"])
    expected = arg(args, "expected", "string", None)
    if not algorithms:
        fail("argument 'algorithms' is empty; e.g. [\"sha256\"]", 2)
    for a in algorithms:
        if a not in ALGORITHMS:
            fail("argument 'algorithms': unknown %r; use %s" % (a, ", ".join(ALGORITHMS)), 2)
    has_text, has_path = args.get("text") is not None, args.get("path") is not None
    if has_text == has_path:
        fail("give exactly one of 'text' (hashed as UTF-8) or 'path' (a file in the workspace)", 2)
    hashers = {a: hashlib.new(a) for a in algorithms}
    size = 0
    if has_text:
        data = arg(args, "text", "string").encode("utf-8")
        size = len(data)
        for h in hashers.values():
            h.update(data)
    else:
        full = workspace_path(arg(args, "path", "string"), "path", must_exist=True, kind="file")
        try:
            with open(full, "rb") as f:  # streamed: files larger than memory hash fine
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    size += len(chunk)
                    for h in hashers.values():
                        h.update(chunk)
        except OSError as e:
            fail("cannot read %r: %s" % (args["path"], e.strerror))
    digests = {a: h.hexdigest() for a, h in hashers.items()}
    result = {"bytes": size, "hashes": digests}
    if expected is not None:
        want = expected.strip().lower()
        result["matches"] = any(hmac.compare_digest(want, d) for d in digests.values())
    emit(result)


main()
