#!/usr/bin/env python3
# image-convert: converts images between formats, optionally grayscale, rotated or flipped.
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
from warden_images import open_image, output_format, save_image  # noqa: E402

from PIL import ImageOps


def main():
    args = read_args()
    path = arg(args, "path", "string")
    output = arg(args, "output", "string")
    fmt = arg(args, "format", "string", None, choices=["png", "jpeg", "jpg", "gif", "bmp", "webp", "tiff", "ppm", "ico", "pdf"])
    quality = arg(args, "quality", "integer", 90, minimum=1, maximum=100)
    grayscale = arg(args, "grayscale", "boolean", False)
    rotate = arg(args, "rotate", "integer", 0, choices=[0, 90, 180, 270])
    flip = arg(args, "flip", "string", "none", choices=["none", "horizontal", "vertical"])
    overwrite = arg(args, "overwrite", "boolean", True)
    img = open_image(path)
    source = img.format
    if grayscale:
        img = ImageOps.grayscale(img)
    if rotate:
        img = img.rotate(-rotate, expand=True)  # clockwise, as people say it
    if flip == "horizontal":
        img = ImageOps.mirror(img)
    elif flip == "vertical":
        img = ImageOps.flip(img)
    result = save_image(img, output, output_format(output, fmt), quality, overwrite)
    result["source_format"] = source
    emit(result)


main()
