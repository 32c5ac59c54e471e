#!/usr/bin/env python3
# calculate: evaluates arithmetic expressions with its own parser (never eval).
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). Calling convention: the
# arguments arrive as one JSON object on stdin, the workspace is the current directory, the result goes to
# stdout; failures exit non-zero with one line on stderr. The helpers below are repeated in every skill on
# purpose: a skill runs alone in the sandbox and can read only its own folder.
import json
import os
import sys

SKILL = 'calculate'

_REQUIRED = object()
MAX_INPUT_BYTES = 64 * 1024 * 1024  # larger inputs would not fit the default 256 MB memory limit once decoded


def fail(message, code=1):
    """One line on stderr, non-zero exit: 2 = bad arguments, 1 = the work itself failed."""
    sys.stderr.write("%s: %s\n" % (SKILL, " ".join(str(message).split())))
    sys.exit(code)


def read_args():
    try:
        raw = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        fail("arguments on stdin are not UTF-8 (%s); send one JSON object" % e, 2)
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except ValueError as e:
        fail("arguments on stdin are not valid JSON (%s); send one JSON object" % e, 2)
    if not isinstance(args, dict):
        fail("arguments must be one JSON object, got %s" % type(args).__name__, 2)
    return args


_KINDS = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def arg(args, key, kind, default=_REQUIRED, choices=None, minimum=None, maximum=None):
    """The argument `key` checked against its JSON type, enum and bounds (the executor validates too; a direct
    call must not be able to slip past)."""
    if key not in args or args[key] is None:
        if default is _REQUIRED:
            fail("missing required argument %r" % key, 2)
        return default
    value = args[key]
    ok = isinstance(value, _KINDS[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
    if not ok:
        fail("argument %r must be a %s, got %s" % (key, kind, json.dumps(value)[:60]), 2)
    if choices is not None and value not in choices:
        fail("argument %r must be one of %s, got %s" % (key, "|".join(map(str, choices)), json.dumps(value)[:60]), 2)
    if minimum is not None and value < minimum:
        fail("argument %r must be >= %s, got %s" % (key, minimum, value), 2)
    if maximum is not None and value > maximum:
        fail("argument %r must be <= %s, got %s" % (key, maximum, value), 2)
    return value


def workspace_path(value, field, must_exist=False, kind=None):
    """Resolves a workspace-relative path, following symlinks, and refuses anything that ends up outside the
    workspace (the current directory): absolute paths, `..` that climbs out, symlinks pointing away."""
    if not isinstance(value, str) or value == "":
        fail("argument %r must be a non-empty relative path" % field, 2)
    if "\0" in value:
        fail("argument %r contains a NUL byte" % field, 2)
    if os.path.isabs(value):
        fail("argument %r: absolute path %r refused; give a path relative to the workspace" % (field, value), 2)
    root = os.path.realpath(os.getcwd())
    full = os.path.realpath(os.path.join(root, value))
    if full != root and not full.startswith(root + os.sep):
        fail("argument %r: path %r leaves the workspace; use a path inside it" % (field, value), 2)
    if must_exist and not os.path.exists(full):
        fail("argument %r: %r does not exist in the workspace" % (field, value), 1)
    if kind == "file" and os.path.exists(full) and not os.path.isfile(full):
        fail("argument %r: %r is not a regular file" % (field, value), 1)
    if kind == "dir" and os.path.exists(full) and not os.path.isdir(full):
        fail("argument %r: %r is not a folder" % (field, value), 1)
    return full


def relative(full):
    """A path as the caller should see it: relative to the workspace."""
    rel = os.path.relpath(full, os.path.realpath(os.getcwd()))
    return "." if rel == "." else rel


def read_bytes(full, field):
    try:
        size = os.path.getsize(full)
        if size > MAX_INPUT_BYTES:
            fail("argument %r: %r is %d bytes, more than the %d this skill reads" % (field, relative(full), size, MAX_INPUT_BYTES))
        with open(full, "rb") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %r: %s" % (relative(full), e.strerror))


def read_text(full, field, encoding="utf-8"):
    data = read_bytes(full, field)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        fail("%r is not valid %s text (%s); convert it first with encoding-convert" % (relative(full), encoding, e))


def text_input(args, text_key="text", path_key="path"):
    """Inline `text` or the contents of the workspace file `path`: exactly one of them."""
    has_text, has_path = args.get(text_key) is not None, args.get(path_key) is not None
    if has_text == has_path:
        fail("give exactly one of %r (inline text) or %r (a file in the workspace)" % (text_key, path_key), 2)
    if has_text:
        return arg(args, text_key, "string")
    return read_text(workspace_path(arg(args, path_key, "string"), path_key, must_exist=True, kind="file"), path_key)


def write_output(args, content, key="output"):
    """Writes `content` (str or bytes) to the workspace file args[key], creating parent folders; returns its
    relative path, or None when the argument is absent."""
    if args.get(key) is None:
        return None
    full = workspace_path(arg(args, key, "string"), key)
    if os.path.isdir(full):
        fail("argument %r: %r is a folder; give a file name" % (key, relative(full)), 2)
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        tmp = full + ".partial"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, full)
    except OSError as e:
        fail("cannot write %r: %s" % (relative(full), e.strerror))
    return relative(full)


def output_limit_bytes():
    """limits.output_kb from this skill's own skill.json (default 1024): the executor cuts stdout there, and a cut
    JSON document is worse than a clear error."""
    folder = os.environ.get("WARDEN_SKILL_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(folder, "skill.json")) as f:
            return int(json.load(f).get("limits", {}).get("output_kb", 1024)) * 1024
    except (OSError, ValueError, TypeError, AttributeError):
        return 1024 * 1024


def emit(value, text=None):
    out = (json.dumps(value, ensure_ascii=False) if text is None else text) + "\n"
    size, limit = len(out.encode("utf-8")), output_limit_bytes()
    if size > limit:
        fail("the result is %d KB, over this skill's output limit of %d KB; give 'output' to write it to a file in the "
             "workspace, or narrow the request (a limit, a filter, a page range)" % ((size + 1023) // 1024, limit // 1024))
    sys.stdout.write(out)


# --- the skill ---
import math
import re

# A recursive-descent parser: expressions are tokenised and evaluated by this file alone; Python's eval never
# sees them. Grammar (lowest binding first):
#   expr := term (('+'|'-') term)* ; term := unary (('*'|'/'|'//'|'%') unary)* ; unary := ('-'|'+') unary | power
#   power := postfix ('^'|'**' unary)? ; postfix := atom ('!' | '%')* ; atom := NAME '(' args ')' | NAME | NUMBER
#   | '(' expr ')'. A '%' with no operand after it is a percentage (50% = 0.5), otherwise the remainder.
TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_]\w*)|(\*\*|//|[-+*/%^(),!]))")
FUNCS = {
    "sqrt": (1, math.sqrt), "cbrt": (1, lambda x: math.copysign(abs(x) ** (1 / 3), x)), "abs": (1, abs),
    "sin": (1, math.sin), "cos": (1, math.cos), "tan": (1, math.tan), "asin": (1, math.asin), "acos": (1, math.acos),
    "atan": (1, math.atan), "atan2": (2, math.atan2), "sinh": (1, math.sinh), "cosh": (1, math.cosh),
    "tanh": (1, math.tanh), "exp": (1, math.exp), "ln": (1, math.log), "log": ((1, 2), math.log),
    "log10": (1, math.log10), "log2": (1, math.log2), "floor": (1, math.floor), "ceil": (1, math.ceil),
    "round": ((1, 2), lambda x, n=0: round(x, int(n))), "min": (None, min), "max": (None, max),
    "hypot": (None, math.hypot), "gcd": (2, lambda a, b: math.gcd(int(a), int(b))), "radians": (1, math.radians),
    "degrees": (1, math.degrees), "factorial": (1, None), "sum": (None, lambda *a: sum(a)),
    "avg": (None, lambda *a: sum(a) / len(a)),
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}
MAX_EXPONENT = 10000


class Parser:
    def __init__(self, text, variables):
        self.tokens, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m or m.end() == pos:
                fail("cannot read %r at character %d of the expression" % (text[pos:pos + 8].strip() or text[pos], pos + 1), 2)
            num, name, op = m.groups()
            self.tokens.append(("num", float(num) if any(c in num for c in ".eE") else int(num)) if num else ("name", name) if name else ("op", op))
            pos = m.end()
        self.i, self.vars = 0, variables

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            fail("expected %r but found %r" % (value, tok[1] if tok[0] != "end" else "the end of the expression"), 2)
        self.i += 1
        return tok

    def parse(self):
        if not self.tokens:
            fail("the expression is empty", 2)
        v = self.expr()
        if self.peek()[0] != "end":
            fail("unexpected %r after a complete expression" % (self.peek()[1],), 2)
        return v

    def expr(self):
        v = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            v = v + self.term() if self.take()[1] == "+" else v - self.term()
        return v

    def term(self):
        v = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "//", "%"):
            op, rhs = self.take()[1], self.unary()
            if op != "*" and rhs == 0:
                fail("division by zero", 1)
            v = v * rhs if op == "*" else v / rhs if op == "/" else v // rhs if op == "//" else v % rhs
        return v

    def unary(self):
        if self.peek() in (("op", "-"), ("op", "+")):
            return -self.unary() if self.take()[1] == "-" else self.unary()
        return self.power()

    def power(self):
        base = self.postfix()
        if self.peek() in (("op", "^"), ("op", "**")):
            self.take()
            exp = self.unary()  # right-associative: 2^3^2 = 2^9
            if abs(exp) > MAX_EXPONENT and abs(base) > 1:
                fail("exponent %s is too large (limit %d)" % (exp, MAX_EXPONENT), 1)
            if isinstance(base, int) and isinstance(exp, int) and exp > 0 and base.bit_length() * exp > 1_000_000:
                fail("%s^%s has more than a million bits; too large to compute" % (base if base.bit_length() < 64 else "(a huge number)", exp), 1)
            if isinstance(base, int) and isinstance(exp, int) and exp < 0:
                base = float(base)
            return base ** exp
        return base

    def postfix(self):
        v = self.atom()
        while True:
            if self.peek() == ("op", "!"):
                self.take()
                v = factorial(v)
            elif self.peek() == ("op", "%") and self.percent_follows():
                self.take()
                v = v / 100  # "15%" with nothing after it to take a remainder by is a percentage
            else:
                return v

    def percent_follows(self):
        after = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else ("end", None)
        return after[0] == "end" or after in (("op", ")"), ("op", ","), ("op", "+"), ("op", "-"), ("op", "*"),
                                              ("op", "/"), ("op", "^"), ("op", "**"))

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "op" and value == "(":
            v = self.expr()
            self.take(")")
            return v
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(value)
            if value in self.vars:
                return self.vars[value]
            if value in CONSTANTS:
                return CONSTANTS[value]
            fail("unknown name %r; define it in 'variables' or use one of %s" % (value, ", ".join(CONSTANTS)), 2)
        fail("unexpected %r" % (value if kind != "end" else "end of the expression"), 2)

    def call(self, name):
        if name not in FUNCS:
            fail("unknown function %r; available: %s" % (name, ", ".join(sorted(FUNCS))), 2)
        self.take("(")
        args = []
        if self.peek() != ("op", ")"):
            args.append(self.expr())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.expr())
        self.take(")")
        arity, fn = FUNCS[name]
        ok = arity is None and args or isinstance(arity, int) and len(args) == arity or isinstance(arity, tuple) and len(args) in arity
        if not ok:
            fail("%s() takes %s argument(s), got %d" % (name, arity if arity else "one or more", len(args)), 2)
        if name == "factorial":
            return factorial(args[0])
        return fn(*args)


def factorial(v):
    if v != int(v) or v < 0 or v > 1000:
        fail("factorial needs a whole number from 0 to 1000, got %s" % v, 1)
    return math.factorial(int(v))


def main():
    args = read_args()
    expression = arg(args, "expression", "string")
    variables = arg(args, "variables", "object", {})
    precision = arg(args, "precision", "integer", None, minimum=0, maximum=30)
    for k, v in variables.items():
        if not re.fullmatch(r"[A-Za-z_]\w*", k) or isinstance(v, bool) or not isinstance(v, (int, float)):
            fail("argument 'variables': %r must be a name mapped to a number" % k, 2)
    try:
        value = Parser(expression, variables).parse()
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        fail("cannot evaluate %r: %s" % (expression, e), 1)
    if isinstance(value, float):
        # 15 significant digits hide binary floating-point noise: 0.1 + 0.2 answers 0.3, as a calculator does.
        value = round(value, precision) if precision is not None else float("%.15g" % value)
        if value.is_integer() and abs(value) < 2 ** 53:
            value = int(value)
    if isinstance(value, int) and abs(value) > 10 ** 300:
        emit({"expression": expression, "result": str(value), "note": "integer too large for JSON numbers; given as text"})
        return
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        emit({"expression": expression, "result": str(value)})
        return
    emit({"expression": expression, "result": value})


main()
