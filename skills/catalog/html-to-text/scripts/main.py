#!/usr/bin/env python3
# html-to-text: extracts readable plain text, the title and the links from HTML.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit_or_write, read_args, text_input  # noqa: E402

import html.parser
import re
import urllib.parse

BLOCK = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "ul", "ol", "table", "tr",
         "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "form", "figure", "hr", "dl", "dt", "dd"}
SKIP = {"script", "style", "noscript", "template", "head", "svg"}


class Extractor(html.parser.HTMLParser):
    def __init__(self, keep_links):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self.title = [], [], None
        self.skip, self.in_title, self.in_pre, self.href = 0, False, 0, None
        self.keep_links = keep_links

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in SKIP:
            self.skip += 1
        if tag == "title":
            self.in_title = True
        if tag == "pre":
            self.in_pre += 1
        if tag in BLOCK:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag == "img" and a.get("alt"):
            self.parts.append("[%s]" % a["alt"])
        if tag == "a" and a.get("href"):
            self.href = a["href"]
            self.links.append({"text": "", "href": a["href"]})

    def handle_endtag(self, tag):
        if tag in SKIP and self.skip:
            self.skip -= 1
        if tag == "title":
            self.in_title = False
        if tag == "pre" and self.in_pre:
            self.in_pre -= 1
        if tag in BLOCK:
            self.parts.append("\n\n")
        if tag == "a" and self.href is not None:
            if self.keep_links and self.links[-1]["text"] and not self.href.startswith("#"):
                self.parts.append(" (%s)" % self.href)
            self.href = None

    def handle_data(self, data):
        if self.in_title:
            self.title = (self.title or "") + data.strip()
            return
        if self.skip:
            return
        if self.href is not None:
            self.links[-1]["text"] += " ".join(data.split())
        self.parts.append(data if self.in_pre else re.sub(r"\s+", " ", data))


def main():
    args = read_args()
    text = text_input(args)
    keep_links = arg(args, "inline_links", "boolean", False)
    base = arg(args, "base_url", "string", None)
    p = Extractor(keep_links)
    p.feed(text)
    p.close()
    raw = "".join(p.parts)
    lines = [l.rstrip() if "\t" in l else l.strip() for l in raw.split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    links = p.links
    if base:
        links = [dict(l, href=urllib.parse.urljoin(base, l["href"])) for l in links]
    emit_or_write(args, {"title": p.title, "links": links, "words": len(out.split())}, "text", out)


main()
