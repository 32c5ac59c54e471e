#!/usr/bin/env python3
# archive-extract: extracts zip and tar archives inside the workspace with zip-slip and zip-bomb protection.
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
from warden_archive import members, unsafe_reason  # noqa: E402


import tarfile
import zipfile


MAX_TOTAL_BYTES = 1 << 30  # an archive that inflates past this is treated as a zip bomb
MAX_MEMBERS = 100000


def main():
    args = read_args()
    archive = arg(args, "archive", "string")
    full = workspace_path(archive, "archive", must_exist=True, kind="file")
    base = os.path.basename(archive)
    suffix = next((x for x in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".tar", ".zip")
                   if base.lower().endswith(x) and len(base) > len(x)), None)
    default_dest = base[:-len(suffix)] if suffix else os.path.splitext(base)[0] or base + ".d"
    dest = arg(args, "destination", "string", os.path.join(os.path.dirname(archive), default_dest) or default_dest)
    overwrite = arg(args, "overwrite", "boolean", False)
    dest_full = workspace_path(dest, "destination", kind="dir")
    kind, items = members(full)
    if len(items) > MAX_MEMBERS:
        fail("the archive has %d entries, more than the %d allowed" % (len(items), MAX_MEMBERS))
    # INVARIANT: every entry is checked before the first byte is written, so a hostile archive writes nothing.
    plan, skipped, total = [], [], 0
    for m in items:
        why = unsafe_reason(m.name)
        if why:
            fail("refusing %r: entry %r would land outside the destination (%s, zip slip); nothing was extracted" % (archive, m.name, why))
        target = os.path.realpath(os.path.join(dest_full, m.name.replace("\\", "/")))
        if target != dest_full and not target.startswith(dest_full + os.sep):
            fail("refusing %r: entry %r resolves outside the destination; nothing was extracted" % (archive, m.name))
        if m.kind not in ("file", "dir"):
            skipped.append({"name": m.name, "type": m.kind})  # links and devices are never recreated
            continue
        if m.kind == "file":
            total += m.size
            if total > MAX_TOTAL_BYTES:
                fail("the archive inflates past %d bytes; refusing it as a possible zip bomb" % MAX_TOTAL_BYTES)
            if os.path.lexists(target) and not overwrite:
                fail("%r already exists; set overwrite=true or choose another destination; nothing was extracted" % relative(target))
        plan.append((m, target))
    written, written_bytes = 0, 0
    try:
        os.makedirs(dest_full, exist_ok=True)
        for m, target in plan:
            if m.kind == "dir":
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.islink(target):
                os.unlink(target)
            src = m.open()
            with src, open(target, "wb") as out:
                # Counted while copying: a header can lie about the size.
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    written_bytes += len(chunk)
                    if written_bytes > MAX_TOTAL_BYTES:
                        fail("the archive inflates past %d bytes; stopped (possible zip bomb)" % MAX_TOTAL_BYTES)
                    out.write(chunk)
            os.chmod(target, (m.mode & 0o755) | 0o600 if m.mode else 0o644)
            written += 1
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        fail("extraction failed at %r: %s" % (relative(target), getattr(e, "strerror", None) or e))
    emit({"archive": archive, "format": kind, "destination": relative(dest_full), "files": written,
          "bytes": written_bytes, "skipped": skipped})


main()
