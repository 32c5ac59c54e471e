#!/usr/bin/env python3
# text-patch: applies a unified diff to files in the workspace with GNU patch, all or nothing.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, text_input, workspace_path  # noqa: E402

import re
import shutil
import subprocess
import tempfile

HEADER = re.compile(r"^(?:---|\+\+\+) (\S+)")


def targets(patch_text, strip):
    """Every file the patch names, after stripping `strip` leading components, so that each can be checked
    against the workspace before GNU patch touches anything."""
    names = set()
    for line in patch_text.splitlines():
        m = HEADER.match(line)
        if not m or m.group(1) == "/dev/null":
            continue
        parts = m.group(1).split("/")
        if len(parts) <= strip and strip:
            fail("patch names %r, which has fewer than %d leading folders to strip; lower 'strip'" % (m.group(1), strip), 2)
        names.add("/".join(parts[strip:]))
    if not names:
        fail("the patch names no files: expected a unified diff with ---/+++ headers")
    return sorted(names)


def main():
    args = read_args()
    patch_text = text_input(args, text_key="patch_text", path_key="patch")
    strip = arg(args, "strip", "integer", 1, minimum=0, maximum=20)
    dry_run = arg(args, "dry_run", "boolean", False)
    reverse = arg(args, "reverse", "boolean", False)
    files = targets(patch_text, strip)
    for name in files:
        workspace_path(name, "patch target")
    exe = shutil.which("patch")
    if not exe:
        fail("the 'patch' program is missing; install the Debian package patch")
    with tempfile.NamedTemporaryFile("w", suffix=".diff", delete=False) as f:
        f.write(patch_text if patch_text.endswith("\n") else patch_text + "\n")
        tmp = f.name
    argv = [exe, "-p%d" % strip, "--batch", "--forward", "--no-backup-if-mismatch", "--reject-file=-", "-i", tmp]
    if reverse:
        argv.append("--reverse")
    try:
        # A dry run first: GNU patch applies the hunks that fit and drops the rest, and a half-applied patch is
        # worse than none.
        proc = subprocess.run(argv + ["--dry-run"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        if proc.returncode == 0 and not dry_run:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(tmp)
    report = (proc.stdout + proc.stderr).strip().replace("checking file", "patching file")
    if proc.returncode != 0:
        fail("the patch does not apply, nothing was changed: %s" % report.replace("\n", "; "))
    patched = [l[len("patching file "):].strip().strip("'") for l in report.splitlines() if l.startswith("patching file ")]
    emit({"applied": not dry_run, "dry_run": dry_run, "files": patched or files, "report": report})


main()
