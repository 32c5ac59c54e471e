#!/usr/bin/env python3
# archive-create: packs workspace files and folders into zip, tar, tar.gz, tar.bz2 or tar.xz.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). Calling convention: the
# arguments arrive as one JSON object on stdin, the workspace is the current directory, the result goes to
# stdout; failures exit non-zero with one line on stderr. The helpers below are repeated in every skill on
# purpose: a skill runs alone in the sandbox and can read only its own folder.
import json
import os
import sys

SKILL = 'archive-create'

_REQUIRED = object()
MAX_INPUT_BYTES = 64 * 1024 * 1024  # larger inputs would not fit the default 256 MB memory limit once decoded


def fail(message, code=1):
    """One line on stderr, non-zero exit: 2 = bad arguments, 1 = the work itself failed."""
    sys.stderr.write("%s: %s\n" % (SKILL, " ".join(str(message).split())))
    sys.exit(code)


def read_args():
    try:
        raw = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        fail("arguments on stdin are not UTF-8 (%s); send one JSON object" % e, 2)
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except ValueError as e:
        fail("arguments on stdin are not valid JSON (%s); send one JSON object" % e, 2)
    if not isinstance(args, dict):
        fail("arguments must be one JSON object, got %s" % type(args).__name__, 2)
    return args


_KINDS = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def arg(args, key, kind, default=_REQUIRED, choices=None, minimum=None, maximum=None):
    """The argument `key` checked against its JSON type, enum and bounds (the executor validates too; a direct
    call must not be able to slip past)."""
    if key not in args or args[key] is None:
        if default is _REQUIRED:
            fail("missing required argument %r" % key, 2)
        return default
    value = args[key]
    ok = isinstance(value, _KINDS[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
    if not ok:
        fail("argument %r must be a %s, got %s" % (key, kind, json.dumps(value)[:60]), 2)
    if choices is not None and value not in choices:
        fail("argument %r must be one of %s, got %s" % (key, "|".join(map(str, choices)), json.dumps(value)[:60]), 2)
    if minimum is not None and value < minimum:
        fail("argument %r must be >= %s, got %s" % (key, minimum, value), 2)
    if maximum is not None and value > maximum:
        fail("argument %r must be <= %s, got %s" % (key, maximum, value), 2)
    return value


def workspace_path(value, field, must_exist=False, kind=None):
    """Resolves a workspace-relative path, following symlinks, and refuses anything that ends up outside the
    workspace (the current directory): absolute paths, `..` that climbs out, symlinks pointing away."""
    if not isinstance(value, str) or value == "":
        fail("argument %r must be a non-empty relative path" % field, 2)
    if "\0" in value:
        fail("argument %r contains a NUL byte" % field, 2)
    if os.path.isabs(value):
        fail("argument %r: absolute path %r refused; give a path relative to the workspace" % (field, value), 2)
    root = os.path.realpath(os.getcwd())
    full = os.path.realpath(os.path.join(root, value))
    if full != root and not full.startswith(root + os.sep):
        fail("argument %r: path %r leaves the workspace; use a path inside it" % (field, value), 2)
    if must_exist and not os.path.exists(full):
        fail("argument %r: %r does not exist in the workspace" % (field, value), 1)
    if kind == "file" and os.path.exists(full) and not os.path.isfile(full):
        fail("argument %r: %r is not a regular file" % (field, value), 1)
    if kind == "dir" and os.path.exists(full) and not os.path.isdir(full):
        fail("argument %r: %r is not a folder" % (field, value), 1)
    return full


def relative(full):
    """A path as the caller should see it: relative to the workspace."""
    rel = os.path.relpath(full, os.path.realpath(os.getcwd()))
    return "." if rel == "." else rel


def read_bytes(full, field):
    try:
        size = os.path.getsize(full)
        if size > MAX_INPUT_BYTES:
            fail("argument %r: %r is %d bytes, more than the %d this skill reads" % (field, relative(full), size, MAX_INPUT_BYTES))
        with open(full, "rb") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %r: %s" % (relative(full), e.strerror))


def read_text(full, field, encoding="utf-8"):
    data = read_bytes(full, field)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        fail("%r is not valid %s text (%s); convert it first with encoding-convert" % (relative(full), encoding, e))


def text_input(args, text_key="text", path_key="path"):
    """Inline `text` or the contents of the workspace file `path`: exactly one of them."""
    has_text, has_path = args.get(text_key) is not None, args.get(path_key) is not None
    if has_text == has_path:
        fail("give exactly one of %r (inline text) or %r (a file in the workspace)" % (text_key, path_key), 2)
    if has_text:
        return arg(args, text_key, "string")
    return read_text(workspace_path(arg(args, path_key, "string"), path_key, must_exist=True, kind="file"), path_key)


def write_output(args, content, key="output"):
    """Writes `content` (str or bytes) to the workspace file args[key], creating parent folders; returns its
    relative path, or None when the argument is absent."""
    if args.get(key) is None:
        return None
    full = workspace_path(arg(args, key, "string"), key)
    if os.path.isdir(full):
        fail("argument %r: %r is a folder; give a file name" % (key, relative(full)), 2)
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        tmp = full + ".partial"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, full)
    except OSError as e:
        fail("cannot write %r: %s" % (relative(full), e.strerror))
    return relative(full)


def output_limit_bytes():
    """limits.output_kb from this skill's own skill.json (default 1024): the executor cuts stdout there, and a cut
    JSON document is worse than a clear error."""
    folder = os.environ.get("WARDEN_SKILL_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(folder, "skill.json")) as f:
            return int(json.load(f).get("limits", {}).get("output_kb", 1024)) * 1024
    except (OSError, ValueError, TypeError, AttributeError):
        return 1024 * 1024


def emit(value, text=None):
    out = (json.dumps(value, ensure_ascii=False) if text is None else text) + "\n"
    size, limit = len(out.encode("utf-8")), output_limit_bytes()
    if size > limit:
        fail("the result is %d KB, over this skill's output limit of %d KB; give 'output' to write it to a file in the "
             "workspace, or narrow the request (a limit, a filter, a page range)" % ((size + 1023) // 1024, limit // 1024))
    sys.stdout.write(out)


# --- the skill ---
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
            sys.stderr.write("%s: skipping %r: %s\n" % (SKILL, relative(folder), e.strerror))
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
