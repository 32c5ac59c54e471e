#!/usr/bin/env python3
# image-info: reports format, size, colour mode, frames, DPI and EXIF of an image.
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
from warden_images import Image  # noqa: E402  (Pillow, with the catalog's decompression-bomb cap set)

from PIL import ExifTags, UnidentifiedImageError


def main():
    args = read_args()
    path = arg(args, "path", "string")
    full = workspace_path(path, "path", must_exist=True, kind="file")
    try:
        img = Image.open(full)
    except UnidentifiedImageError:
        fail("%r is not an image format Pillow can read (PNG, JPEG, GIF, BMP, WebP, TIFF, PPM ...)" % path)
    except OSError as e:
        fail("cannot read the image %r: %s" % (path, e))
    info = {"path": path, "format": img.format, "width": img.width, "height": img.height, "mode": img.mode,
            "bytes": os.path.getsize(full), "frames": getattr(img, "n_frames", 1),
            "has_alpha": img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info,
            "megapixels": round(img.width * img.height / 1e6, 3)}
    if "dpi" in img.info:
        info["dpi"] = [round(float(v), 2) for v in img.info["dpi"]]
    exif = {}
    try:
        for tag, value in img.getexif().items():
            name = ExifTags.TAGS.get(tag, str(tag))
            if isinstance(value, (str, int, float)):
                exif[name] = value.strip("\x00 ") if isinstance(value, str) else value
    except (AttributeError, OSError, ValueError):
        pass
    if exif:
        info["exif"] = exif
    emit(info)


main()
