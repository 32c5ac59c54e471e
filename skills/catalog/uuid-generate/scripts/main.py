#!/usr/bin/env python3
# uuid-generate: generates random UUIDs, hex or URL-safe tokens, passwords, or name-based UUIDs.
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

import secrets
import string
import uuid


def main():
    args = read_args()
    kind = arg(args, "kind", "string", "uuid4", choices=["uuid4", "hex", "urlsafe", "password", "uuid5"])
    count = arg(args, "count", "integer", 1, minimum=1, maximum=1000)
    length = arg(args, "length", "integer", 16, minimum=4, maximum=1024)
    if kind == "uuid5":
        # Name-based and reproducible: the same namespace URL + name always gives the same id.
        name = arg(args, "name", "string")
        values = [str(uuid.uuid5(uuid.NAMESPACE_URL, name))]
    elif kind == "uuid4":
        values = [str(uuid.uuid4()) for _ in range(count)]
    elif kind == "hex":
        values = [secrets.token_hex((length + 1) // 2)[:length] for _ in range(count)]
    elif kind == "urlsafe":
        values = [secrets.token_urlsafe(length)[:length] for _ in range(count)]
    else:
        alphabet = string.ascii_letters + string.digits + "!#$%&*+-=?@^_"
        values = []
        while len(values) < count:
            pw = "".join(secrets.choice(alphabet) for _ in range(length))
            if length < 8 or (any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw)):
                values.append(pw)
    emit({"kind": kind, "values": values})


main()
