#!/usr/bin/env python3
# folder-checksums: writes or verifies a sha256sum-style checksum manifest of a folder.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, emit_or_write, fail, read_args, read_text, relative, workspace_path  # noqa: E402
from warden_files import walk  # noqa: E402

import stat


import hashlib

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")


def digest(full, algorithm):
    h = hashlib.new(algorithm)
    with open(full, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    args = read_args()
    path = arg(args, "path", "string", ".")
    top = workspace_path(path, "path", must_exist=True, kind="dir")
    algorithm = arg(args, "algorithm", "string", "sha256", choices=list(ALGORITHMS))
    verify = arg(args, "verify", "string", None)
    hidden = arg(args, "include_hidden", "boolean", False)
    current = {}
    skip = {workspace_path(v, k) for k, v in (("output", args.get("output")), ("verify", verify)) if isinstance(v, str)}
    for full, rel, st, _ in walk(top, hidden=hidden):
        if stat.S_ISREG(st.st_mode) and full not in skip:
            try:
                current[rel.replace(os.sep, "/")] = digest(full, algorithm)
            except OSError as e:
                fail("cannot read %r: %s" % (relative(full), e.strerror))
    if verify is not None:
        text = read_text(workspace_path(verify, "verify", must_exist=True, kind="file"), "verify")
        listed = {}
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                fail("%s:%d: expected '<hex digest>  <path>' as written by sha256sum" % (verify, n))
            listed[parts[1].lstrip("*").strip()] = parts[0].lower()
        changed = sorted(p for p in listed if p in current and current[p] != listed[p])
        missing = sorted(p for p in listed if p not in current)
        added = sorted(p for p in current if p not in listed)
        emit({"ok": not (changed or missing), "checked": len(listed), "changed": changed, "missing": missing,
              "new_files": added})
        return
    lines = "".join("%s  %s\n" % (h, p) for p, h in sorted(current.items()))
    emit_or_write(args, {"algorithm": algorithm, "files": len(current)},
                  "checksums", dict(sorted(current.items())), content=lines)


main()
