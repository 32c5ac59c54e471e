# warden_skill: the calling convention of Warden's default skill catalog (issue 8, docs/skills-catalog.md
# "Calling convention" and "Paths"), shared by every skill's scripts/main.py. A skill reads its arguments as one
# JSON object on stdin, works in the workspace (its current directory), writes its result on stdout and, on
# failure, exits non-zero with one line `NAME: message` on stderr. The executor mounts this folder read-only beside
# the skill and passes its path in WARDEN_SKILL_LIB; a script run from the source tree finds it at ../../.lib.
# Standard library only: a skill's import of this module must stay as cheap as python3's own start-up.
import json
import os
import sys

# Larger inputs would not fit the default 256 MB memory limit once decoded.
MAX_INPUT_BYTES = 64 * 1024 * 1024

# Exit codes (docs/skills-catalog.md): the work failed, the arguments are bad.
EXIT_FAILED = 1
EXIT_BAD_ARGUMENTS = 2

_REQUIRED = object()
_KINDS = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def skill_dir():
    """The running skill's folder: WARDEN_SKILL_DIR as the executor sets it, else the folder above the script."""
    return os.environ.get("WARDEN_SKILL_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(sys.argv[0])))


def skill_name():
    """The running skill's name, which the manifest format makes equal to its folder name."""
    return os.path.basename(os.path.normpath(skill_dir()))


def warn(message):
    """A note on stderr that does not end the run (e.g. a folder a walk could not read)."""
    sys.stderr.write("%s: %s\n" % (skill_name(), " ".join(str(message).split())))


def fail(message, code=EXIT_FAILED):
    """Ends the run: one line on stderr, exit `code` (EXIT_BAD_ARGUMENTS or EXIT_FAILED)."""
    warn(message)
    sys.exit(code)


def read_args():
    """The call's arguments: the JSON object on stdin ({} when stdin is empty)."""
    try:
        raw = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        fail("arguments on stdin are not UTF-8 (%s); send one JSON object" % e, EXIT_BAD_ARGUMENTS)
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except ValueError as e:
        fail("arguments on stdin are not valid JSON (%s); send one JSON object" % e, EXIT_BAD_ARGUMENTS)
    if not isinstance(args, dict):
        fail("arguments must be one JSON object, got %s" % type(args).__name__, EXIT_BAD_ARGUMENTS)
    return args


def arg(args, key, kind, default=_REQUIRED, choices=None, minimum=None, maximum=None):
    """The argument `key` checked against its JSON type, enum and bounds; `default` when absent or null, and a
    missing-argument failure when there is no default. The executor validates against the schema too, but a skill
    may be run directly and must not trust its caller."""
    if key not in args or args[key] is None:
        if default is _REQUIRED:
            fail("missing required argument %r" % key, EXIT_BAD_ARGUMENTS)
        return default
    value = args[key]
    ok = isinstance(value, _KINDS[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
    if not ok:
        fail("argument %r must be a %s, got %s" % (key, kind, json.dumps(value)[:60]), EXIT_BAD_ARGUMENTS)
    if choices is not None and value not in choices:
        fail("argument %r must be one of %s, got %s" % (key, "|".join(map(str, choices)), json.dumps(value)[:60]),
             EXIT_BAD_ARGUMENTS)
    if minimum is not None and value < minimum:
        fail("argument %r must be >= %s, got %s" % (key, minimum, value), EXIT_BAD_ARGUMENTS)
    if maximum is not None and value > maximum:
        fail("argument %r must be <= %s, got %s" % (key, maximum, value), EXIT_BAD_ARGUMENTS)
    return value


def workspace_root():
    """The workspace, with symlinks resolved: the current directory."""
    return os.path.realpath(os.getcwd())


def workspace_path(value, field, must_exist=False, kind=None):
    """The absolute path of the workspace-relative `value` (argument `field`), following symlinks. Refuses anything
    that ends up outside the workspace: absolute paths, `..` that climbs out, symlinks pointing away. `kind` "file"
    or "dir" refuses an existing entry of the other kind."""
    if not isinstance(value, str) or value == "":
        fail("argument %r must be a non-empty relative path" % field, EXIT_BAD_ARGUMENTS)
    if "\0" in value:
        fail("argument %r contains a NUL byte" % field, EXIT_BAD_ARGUMENTS)
    if os.path.isabs(value):
        fail("argument %r: absolute path %r refused; give a path relative to the workspace" % (field, value),
             EXIT_BAD_ARGUMENTS)
    root = workspace_root()
    full = os.path.realpath(os.path.join(root, value))
    if full != root and not full.startswith(root + os.sep):
        fail("argument %r: path %r leaves the workspace; use a path inside it" % (field, value), EXIT_BAD_ARGUMENTS)
    if must_exist and not os.path.exists(full):
        fail("argument %r: %r does not exist in the workspace" % (field, value))
    if kind == "file" and os.path.exists(full) and not os.path.isfile(full):
        fail("argument %r: %r is not a regular file" % (field, value))
    if kind == "dir" and os.path.exists(full) and not os.path.isdir(full):
        fail("argument %r: %r is not a folder" % (field, value))
    return full


def relative(full):
    """An absolute path as the caller should see it: relative to the workspace."""
    return os.path.relpath(full, workspace_root())


def read_bytes(full, field):
    """The contents of the file `full` (from argument `field`), refusing files over MAX_INPUT_BYTES."""
    try:
        size = os.path.getsize(full)
        if size > MAX_INPUT_BYTES:
            fail("argument %r: %r is %d bytes, more than the %d this skill reads" %
                 (field, relative(full), size, MAX_INPUT_BYTES))
        with open(full, "rb") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %r: %s" % (relative(full), e.strerror))


def read_text(full, field, encoding="utf-8"):
    """The file `full` decoded as `encoding`; a decoding error points at encoding-convert."""
    data = read_bytes(full, field)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        fail("%r is not valid %s text (%s); convert it first with encoding-convert" % (relative(full), encoding, e))


def text_input(args, text_key="text", path_key="path"):
    """Inline `text` or the contents of the workspace file `path`: exactly one of them."""
    has_text, has_path = args.get(text_key) is not None, args.get(path_key) is not None
    if has_text == has_path:
        fail("give exactly one of %r (inline text) or %r (a file in the workspace)" % (text_key, path_key),
             EXIT_BAD_ARGUMENTS)
    if has_text:
        return arg(args, text_key, "string")
    return read_text(workspace_path(arg(args, path_key, "string"), path_key, must_exist=True, kind="file"), path_key)


def write_file(full, content):
    """Writes `content` (str as UTF-8, or bytes) to `full` atomically (`full.partial`, then rename), creating its
    folders, so that a failed run leaves no half-written file."""
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        tmp = full + ".partial"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, full)
    except OSError as e:
        fail("cannot write %r: %s" % (relative(full), e.strerror))


def write_output(args, content, key="output"):
    """Writes `content` to the workspace file named by argument `key`; returns its workspace-relative path, or None
    when the argument is absent."""
    if args.get(key) is None:
        return None
    full = workspace_path(arg(args, key, "string"), key)
    if os.path.isdir(full):
        fail("argument %r: %r is a folder; give a file name" % (key, relative(full)), EXIT_BAD_ARGUMENTS)
    write_file(full, content)
    return relative(full)


def read_manifest():
    """This skill's own skill.json as a dict ({} when it cannot be read)."""
    try:
        with open(os.path.join(skill_dir(), "skill.json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def output_limit_bytes():
    """limits.output_kb of this skill's skill.json in bytes (default 1024 KB): where the executor cuts stdout."""
    try:
        return int(read_manifest().get("limits", {}).get("output_kb", 1024)) * 1024
    except (ValueError, TypeError, AttributeError):
        return 1024 * 1024


def emit(value, text=None):
    """Prints the result: `value` as one JSON document, or `text` for a text-output skill. A result over the
    output limit fails instead, since a JSON document cut by the executor is worse than a clear error."""
    out = (json.dumps(value, ensure_ascii=False) if text is None else text) + "\n"
    size, limit = len(out.encode("utf-8")), output_limit_bytes()
    if size > limit:
        fail("the result is %d KB, over this skill's output limit of %d KB; give 'output' to write it to a file in "
             "the workspace, or narrow the request (a limit, a filter, a page range)" %
             ((size + 1023) // 1024, limit // 1024))
    sys.stdout.write(out)


def emit_or_write(args, summary, key, value, content=None):
    """Finishes a skill whose result may go to a file: with argument `output`, writes `content` (default `value`)
    there and emits `summary` plus {"written": path}; without it, emits `summary` plus {key: value}."""
    written = write_output(args, value if content is None else content)
    result = dict(summary)
    if written:
        result["written"] = written
    else:
        result[key] = value
    emit(result)
