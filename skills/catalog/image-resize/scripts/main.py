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
from warden_skill import arg, emit, fail, read_args, workspace_path  # noqa: E402
from warden_images import open_image, output_format, save_image  # noqa: E402

from PIL import Image, ImageOps


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
