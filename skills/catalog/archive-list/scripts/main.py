#!/usr/bin/env python3
# archive-list: lists the entries of a zip or tar archive and flags unsafe ones.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, relative, warn, workspace_path  # noqa: E402

import datetime
import stat


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def walk(top, max_depth=None, hidden=False):
    """(full_path, relative_to_top, lstat, depth) of everything under `top`, depth-first in name order, never
    following symlinks (a link inside the workspace could point outside it)."""
    def names(folder):
        try:
            return iter(sorted(n for n in os.listdir(folder) if hidden or not n.startswith(".")))
        except OSError as e:
            warn("skipping %r: %s" % (relative(folder), e.strerror))
            return iter(())
    stack = [(top, names(top), 0)]
    while stack:
        folder, it, depth = stack[-1]
        name = next(it, None)
        if name is None:
            stack.pop()
            continue
        full = os.path.join(folder, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        yield full, os.path.relpath(full, top), st, depth + 1
        if stat.S_ISDIR(st.st_mode) and (max_depth is None or depth + 1 < max_depth):
            stack.append((full, names(full), depth + 1))


def type_name(st):
    return "dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode) else "other"


import tarfile
import zipfile

FORMATS = ("tar", "tar.gz", "tar.bz2", "tar.xz", "zip")


def format_of(name):
    low = name.lower()
    for suffix, fmt in ((".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".tbz2", "tar.bz2"),
                        (".tar.xz", "tar.xz"), (".txz", "tar.xz"), (".tar", "tar"), (".zip", "zip")):
        if low.endswith(suffix):
            return fmt
    return None


class Member:
    def __init__(self, name, kind, size, mode, opener):
        self.name, self.kind, self.size, self.mode, self.open = name, kind, size, mode, opener


def members(full):
    """Every entry of a zip or tar archive as Members, whatever the compression (detected from the bytes)."""
    if zipfile.is_zipfile(full):
        try:
            zf = zipfile.ZipFile(full)
        except (zipfile.BadZipFile, OSError) as e:
            fail("cannot open the zip archive %r: %s" % (relative(full), e))
        out = []
        for info in zf.infolist():
            unix_mode = info.external_attr >> 16
            kind = "dir" if info.is_dir() else "symlink" if stat.S_ISLNK(unix_mode) else "file"
            out.append(Member(info.filename, kind, info.file_size, unix_mode & 0o777,
                              (lambda i=info: zf.open(i))))
        return "zip", out
    try:
        tf = tarfile.open(full, "r:*")
    except (tarfile.TarError, OSError) as e:
        fail("%r is neither a zip nor a tar archive (%s)" % (relative(full), e))
    out = []
    try:
        for ti in tf.getmembers():
            kind = ("dir" if ti.isdir() else "file" if ti.isreg() else "symlink" if ti.issym() else
                    "hardlink" if ti.islnk() else "device" if (ti.ischr() or ti.isblk()) else "fifo" if ti.isfifo() else "other")
            out.append(Member(ti.name, kind, ti.size, ti.mode & 0o777, (lambda t=ti: tf.extractfile(t))))
    except (tarfile.TarError, EOFError, OSError) as e:
        fail("the archive %r is damaged: %s" % (relative(full), e))
    with open(full, "rb") as f:
        magic = f.read(6)
    compression = ("tar.gz" if magic[:2] == b"\x1f\x8b" else "tar.bz2" if magic[:3] == b"BZh" else
                   "tar.xz" if magic == b"\xfd7zXZ\x00" else "tar")
    return compression, out


def unsafe_reason(name):
    """Why a member name must not be extracted (zip-slip), or None."""
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return "absolute path"
    if ".." in n.split("/"):
        return "'..' component"
    if "\0" in n:
        return "NUL byte"
    return None


def main():
    args = read_args()
    archive = arg(args, "archive", "string")
    limit = arg(args, "limit", "integer", 1000, minimum=1, maximum=100000)
    full = workspace_path(archive, "archive", must_exist=True, kind="file")
    kind, items = members(full)
    entries, unsafe = [], 0
    for m in items:
        e = {"name": m.name, "type": m.kind, "size": m.size}
        why = unsafe_reason(m.name) or ("link" if m.kind in ("symlink", "hardlink") else "device" if m.kind in ("device", "fifo") else None)
        if why:
            e["unsafe"] = why
            unsafe += 1
        entries.append(e)
    emit({"archive": archive, "format": kind, "entries": len(entries), "total_bytes": sum(m.size for m in items if m.kind == "file"),
          "unsafe_entries": unsafe, "truncated": len(entries) > limit, "members": entries[:limit]})


main()
