# warden_archive: zip and tar archives read the same way, whatever the format, for archive-create, archive-extract
# and archive-list, and the entry names that extraction refuses (docs/skills-catalog.md "Safety choices"). Part of
# Warden's default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import stat
import tarfile
import zipfile

from warden_skill import fail, relative

FORMATS = ("tar", "tar.gz", "tar.bz2", "tar.xz", "zip")


def format_of(name):
    low = name.lower()
    for suffix, fmt in ((".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".tbz2", "tar.bz2"),
                        (".tar.xz", "tar.xz"), (".txz", "tar.xz"), (".tar", "tar"), (".zip", "zip")):
        if low.endswith(suffix):
            return fmt
    return None


class Member:
    def __init__(self, name, kind, size, mode, opener):
        self.name, self.kind, self.size, self.mode, self.open = name, kind, size, mode, opener


def members(full):
    """Every entry of a zip or tar archive as Members, whatever the compression (detected from the bytes)."""
    if zipfile.is_zipfile(full):
        try:
            zf = zipfile.ZipFile(full)
        except (zipfile.BadZipFile, OSError) as e:
            fail("cannot open the zip archive %r: %s" % (relative(full), e))
        out = []
        for info in zf.infolist():
            unix_mode = info.external_attr >> 16
            kind = "dir" if info.is_dir() else "symlink" if stat.S_ISLNK(unix_mode) else "file"
            out.append(Member(info.filename, kind, info.file_size, unix_mode & 0o777,
                              (lambda i=info: zf.open(i))))
        return "zip", out
    try:
        tf = tarfile.open(full, "r:*")
    except (tarfile.TarError, OSError) as e:
        fail("%r is neither a zip nor a tar archive (%s)" % (relative(full), e))
    out = []
    try:
        for ti in tf.getmembers():
            kind = ("dir" if ti.isdir() else "file" if ti.isreg() else "symlink" if ti.issym() else
                    "hardlink" if ti.islnk() else "device" if (ti.ischr() or ti.isblk()) else "fifo" if ti.isfifo() else "other")
            out.append(Member(ti.name, kind, ti.size, ti.mode & 0o777, (lambda t=ti: tf.extractfile(t))))
    except (tarfile.TarError, EOFError, OSError) as e:
        fail("the archive %r is damaged: %s" % (relative(full), e))
    with open(full, "rb") as f:
        magic = f.read(6)
    compression = ("tar.gz" if magic[:2] == b"\x1f\x8b" else "tar.bz2" if magic[:3] == b"BZh" else
                   "tar.xz" if magic == b"\xfd7zXZ\x00" else "tar")
    return compression, out


def unsafe_reason(name):
    """Why a member name must not be extracted (zip-slip), or None."""
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return "absolute path"
    if ".." in n.split("/"):
        return "'..' component"
    if "\0" in n:
        return "NUL byte"
    return None
