#!/usr/bin/env python3
# image-thumbnail: makes a small preview image that fits a square box, or a cropped square.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args  # noqa: E402
from warden_images import FORMATS, open_image, output_format, save_image  # noqa: E402

from PIL import Image, ImageOps


def main():
    args = read_args()
    path = arg(args, "path", "string")
    size = arg(args, "size", "integer", 128, minimum=8, maximum=2048)
    stem, ext = os.path.splitext(path)
    output = arg(args, "output", "string", "%s_thumb%s" % (stem, ext if ext.lower() in FORMATS else ".png"))
    square = arg(args, "square", "boolean", False)
    img = open_image(path)
    w0, h0 = img.size
    if square:
        thumb = ImageOps.fit(img, (size, size), Image.LANCZOS)
    else:
        thumb = img.copy()
        thumb.thumbnail((size, size), Image.LANCZOS)  # never enlarges a small image
    result = save_image(thumb, output, output_format(output), 85)
    result["original"] = {"width": w0, "height": h0}
    emit(result)


main()
