# warden_files: folder walks for the skills that list, search, measure, hash or pack workspace folders (file-list,
# file-find, file-grep, file-tree, disk-usage, folder-checksums, archive-*): a walk never follows symlinks. Part of
# Warden's default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import datetime
import os
import stat

from warden_skill import relative, warn


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def walk(top, max_depth=None, hidden=False):
    """(full_path, relative_to_top, lstat, depth) of everything under `top`, depth-first in name order, never
    following symlinks (a link inside the workspace could point outside it)."""
    def names(folder):
        try:
            return iter(sorted(n for n in os.listdir(folder) if hidden or not n.startswith(".")))
        except OSError as e:
            warn("skipping %r: %s" % (relative(folder), e.strerror))
            return iter(())
    stack = [(top, names(top), 0)]
    while stack:
        folder, it, depth = stack[-1]
        name = next(it, None)
        if name is None:
            stack.pop()
            continue
        full = os.path.join(folder, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        yield full, os.path.relpath(full, top), st, depth + 1
        if stat.S_ISDIR(st.st_mode) and (max_depth is None or depth + 1 < max_depth):
            stack.append((full, names(full), depth + 1))


def type_name(st):
    return "dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode) else "other"
