# warden_images: opening and saving images with Pillow for image-convert, image-info, image-resize and
# image-thumbnail, with the decompression-bomb cap of docs/skills-catalog.md "Safety choices". Part of Warden's
# default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import os

from PIL import Image, ImageOps, UnidentifiedImageError

from warden_skill import fail, relative, workspace_path

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
