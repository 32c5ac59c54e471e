#!/usr/bin/env python3
# encoding-convert: re-encodes a text file (e.g. Latin-1 or UTF-16 to UTF-8) and normalises line endings.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). Calling convention: the
# arguments arrive as one JSON object on stdin, the workspace is the current directory, the result goes to
# stdout; failures exit non-zero with one line on stderr. The helpers below are repeated in every skill on
# purpose: a skill runs alone in the sandbox and can read only its own folder.
import json
import os
import sys

SKILL = 'encoding-convert'

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
