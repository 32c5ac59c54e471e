# warden_poppler: running poppler-utils (pdftotext, pdfinfo) for pdf-text, pdf-info and document-word-count. Part of
# Warden's default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import shutil
import subprocess

from warden_skill import fail


def poppler(tool, argv):
    exe = shutil.which(tool)
    if not exe:
        fail("%s is missing; install the Debian package poppler-utils" % tool)
    try:
        proc = subprocess.run([exe] + argv, capture_output=True, timeout=25, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        fail("%s took more than 25 s; try a smaller page range" % tool)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        fail("%s failed (exit %d): %s" % (tool, proc.returncode, msg[-1] if msg else "no message"))
    return proc.stdout.decode("utf-8", "replace")
