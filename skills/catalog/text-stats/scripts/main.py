#!/usr/bin/env python3
# text-stats: counts lines, words, characters, sentences and frequent words of a text.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, read_args, text_input  # noqa: E402

import collections
import re

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def main():
    args = read_args()
    text = text_input(args)
    top = arg(args, "top_words", "integer", 10, minimum=0, maximum=200)
    min_len = arg(args, "min_word_length", "integer", 1, minimum=1)
    lines = text.splitlines()
    words = WORD.findall(text)
    counts = collections.Counter(w.lower() for w in words if len(w) >= min_len)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    emit({
        "lines": len(lines),
        "words": len(words),
        "characters": len(text),
        "characters_no_spaces": sum(1 for ch in text if not ch.isspace()),
        "bytes": len(text.encode("utf-8")),
        "blank_lines": sum(1 for l in lines if not l.strip()),
        "sentences": len(sentences),
        "paragraphs": len(paragraphs),
        "unique_words": len(counts),
        "average_word_length": round(sum(map(len, words)) / len(words), 2) if words else 0,
        "longest_line": max((len(l) for l in lines), default=0),
        "reading_time_minutes": round(len(words) / 200.0, 1),
        "top_words": [{"word": w, "count": n} for w, n in counts.most_common(top)],
    })


main()
