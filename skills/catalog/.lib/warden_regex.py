# warden_regex: the regular-expression arguments (pattern, flags) shared by regex-extract, regex-replace and
# file-grep. Part of Warden's default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import re

from warden_skill import arg, fail


def compile_pattern(args):
    pattern = arg(args, "pattern", "string")
    flags = 0
    if arg(args, "ignore_case", "boolean", False):
        flags |= re.IGNORECASE
    if arg(args, "multiline", "boolean", False):
        flags |= re.MULTILINE
    if arg(args, "dotall", "boolean", False):
        flags |= re.DOTALL
    if arg(args, "fixed_string", "boolean", False):
        pattern = re.escape(pattern)
    try:
        return re.compile(pattern, flags)
    except re.error as e:
        fail("bad regular expression %r: %s%s" % (pattern, e.msg, " at position %d" % e.pos if e.pos is not None else ""), 2)
