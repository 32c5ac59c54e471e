#!/usr/bin/env python3
# archive-create: packs workspace files and folders into zip, tar, tar.gz, tar.bz2 or tar.xz.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, relative, workspace_path  # noqa: E402
from warden_archive import FORMATS, format_of  # noqa: E402
from warden_files import walk  # noqa: E402

import stat


import tarfile
import zipfile


def main():
    args = read_args()
    paths = arg(args, "paths", "array")
    output = arg(args, "output", "string")
    fmt = arg(args, "format", "string", None, choices=list(FORMATS))
    overwrite = arg(args, "overwrite", "boolean", False)
    if not paths:
        fail("argument 'paths' is empty; list the files or folders to pack", 2)
    out_full = workspace_path(output, "output")
    inputs = [workspace_path(p, "paths[%d]" % i, must_exist=True) if isinstance(p, str) else
              fail("argument 'paths[%d]' must be a string" % i, 2) for i, p in enumerate(paths)]
    fmt = fmt or format_of(output)
    if fmt is None:
        fail("cannot tell the format from %r; end it with .zip, .tar, .tar.gz, .tar.bz2 or .tar.xz, or give 'format'" % output, 2)
    if os.path.exists(out_full) and not overwrite:
        fail("%r exists; set overwrite=true to replace it" % output)
    root = os.path.realpath(os.getcwd())
    entries, skipped = [], []
    for full in inputs:
        items = [(full, os.lstat(full))]
        if os.path.isdir(full):
            items += [(f, st) for f, _, st, _ in walk(full, hidden=True)]
        for f, st in items:
            if f == out_full:
                continue
            if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                entries.append((f, os.path.relpath(f, root), st))
            else:
                skipped.append(relative(f))  # links could smuggle a path out of the workspace to whoever unpacks
    tmp = out_full + ".partial"
    total = 0
    try:
        os.makedirs(os.path.dirname(out_full), exist_ok=True)
        if fmt == "zip":
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for f, rel, st in entries:
                    zf.write(f, rel)
                    total += st.st_size if stat.S_ISREG(st.st_mode) else 0
        else:
            mode = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}[fmt]
            with tarfile.open(tmp, mode) as tf:
                for f, rel, st in entries:
                    tf.add(f, arcname=rel, recursive=False)
                    total += st.st_size if stat.S_ISREG(st.st_mode) else 0
        os.replace(tmp, out_full)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        fail("cannot write %r: %s" % (output, e.strerror or e))
    emit({"archive": relative(out_full), "format": fmt, "entries": len(entries),
          "files": sum(1 for _, _, st in entries if stat.S_ISREG(st.st_mode)), "bytes_in": total,
          "archive_bytes": os.path.getsize(out_full), "skipped": skipped})


main()
