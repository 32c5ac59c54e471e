#!/usr/bin/env python3
# calculate: evaluates arithmetic expressions with its own parser (never eval).
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args  # noqa: E402

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
