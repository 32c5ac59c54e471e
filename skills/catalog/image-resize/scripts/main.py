#!/usr/bin/env python3
# image-resize: resizes an image by width, height or scale with Lanczos resampling.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). Calling convention: the
# arguments arrive as one JSON object on stdin, the workspace is the current directory, the result goes to
# stdout; failures exit non-zero with one line on stderr. The helpers below are repeated in every skill on
# purpose: a skill runs alone in the sandbox and can read only its own folder.
import json
import os
import sys

SKILL = 'image-resize'

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
from PIL import Image, ImageOps, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 50_000_000  # decompression-bomb guard: a 50 MP RGBA image and one resized copy fit 768 MB
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP", ".webp": "WEBP",
           ".tif": "TIFF", ".tiff": "TIFF", ".ppm": "PPM", ".ico": "ICO", ".pdf": "PDF"}


def open_image(path, field="path"):
    full = workspace_path(path, field, must_exist=True, kind="file")
    try:
        img = Image.open(full)
        img.load()
    except UnidentifiedImageError:
        fail("%r is not an image format Pillow can read (PNG, JPEG, GIF, BMP, WebP, TIFF, PPM ...)" % path)
    except Image.DecompressionBombError as e:
        fail("%r is too large to open safely: %s" % (path, e))
    except OSError as e:
        fail("cannot read the image %r: %s" % (path, e))
    source_format = img.format
    img = ImageOps.exif_transpose(img)  # photos are stored sideways with an EXIF rotation; work on what people see
    img.format = source_format
    return img


def output_format(output, explicit=None):
    if explicit:
        return explicit.upper().replace("JPG", "JPEG")
    ext = os.path.splitext(output)[1].lower()
    if ext not in FORMATS:
        fail("cannot tell the image format from %r; end it with %s or give 'format'" % (output, " ".join(sorted(FORMATS))), 2)
    return FORMATS[ext]


def save_image(img, output, fmt, quality=None, overwrite=True):
    full = workspace_path(output, "output")
    if os.path.exists(full) and not overwrite:
        fail("%r exists; set overwrite=true to replace it" % output)
    if fmt in ("JPEG", "BMP", "PPM", "PDF") and img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        img = background  # formats without alpha: flatten onto white, not black
    elif fmt == "GIF" and img.mode not in ("P", "L"):
        img = img.convert("P", palette=Image.ADAPTIVE)
    options = {}
    if quality is not None and fmt in ("JPEG", "WEBP"):
        options["quality"] = quality
    if fmt == "PNG":
        options["optimize"] = True
    if fmt == "ICO":
        # Pillow keeps only its standard icon sizes that fit the image; give it the image's own (at most 256).
        options["sizes"] = [(min(img.width, 256), min(img.height, 256))]
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        tmp = full + ".partial"
        img.save(tmp, format=fmt, **options)
        os.replace(tmp, full)
    except (OSError, ValueError, KeyError) as e:
        fail("cannot write %r as %s: %s" % (output, fmt, e))
    return {"output": relative(full), "format": fmt, "width": img.width, "height": img.height,
            "bytes": os.path.getsize(full)}


def main():
    args = read_args()
    path = arg(args, "path", "string")
    output = arg(args, "output", "string")
    workspace_path(path, "path", must_exist=True, kind="file")
    workspace_path(output, "output")
    width = arg(args, "width", "integer", None, minimum=1, maximum=20000)
    height = arg(args, "height", "integer", None, minimum=1, maximum=20000)
    scale = arg(args, "scale", "number", None, minimum=0.01, maximum=20)
    fit = arg(args, "fit", "string", "contain", choices=["contain", "cover", "stretch"])
    quality = arg(args, "quality", "integer", 90, minimum=1, maximum=100)
    if scale is None and width is None and height is None:
        fail("give 'width', 'height' (or both) or 'scale'", 2)
    img = open_image(path)
    w0, h0 = img.size
    if scale is not None:
        size = (max(1, round(w0 * scale)), max(1, round(h0 * scale)))
    elif width and height:
        size = (width, height)
    elif width:
        size = (width, max(1, round(h0 * width / w0)))
    else:
        size = (max(1, round(w0 * height / h0)), height)
    if scale is None and width and height and fit == "contain":
        ratio = min(width / w0, height / h0)
        size = (max(1, round(w0 * ratio)), max(1, round(h0 * ratio)))
        out = img.resize(size, Image.LANCZOS)
    elif scale is None and width and height and fit == "cover":
        out = ImageOps.fit(img, size, Image.LANCZOS)
    else:
        out = img.resize(size, Image.LANCZOS)
    result = save_image(out, output, output_format(output, arg(args, "format", "string", None)), quality)
    result["original"] = {"width": w0, "height": h0}
    emit(result)


main()
