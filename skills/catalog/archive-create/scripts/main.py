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
