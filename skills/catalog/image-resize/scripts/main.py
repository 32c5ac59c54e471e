#!/usr/bin/env python3
# image-resize: resizes an image by width, height or scale with Lanczos resampling.
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
