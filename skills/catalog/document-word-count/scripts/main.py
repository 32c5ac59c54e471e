#!/usr/bin/env python3
# document-word-count: counts words, characters and reading time of PDF, DOCX, ODT, HTML, Markdown and text documents.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, read_bytes, relative, workspace_path  # noqa: E402
from warden_poppler import poppler  # noqa: E402


import html.parser
import re
import zipfile

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


class TextOnly(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")
        self.parts.append(" ")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style") and self.skip > 0
        self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def office_text(full, member):
    """The text of a .docx or .odt: their body is XML inside a zip; tags are dropped, paragraph ends kept."""
    try:
        with zipfile.ZipFile(full) as z:
            xml = z.read(member).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        fail("cannot read %r as an office document: %s" % (relative(full), e))
    xml = re.sub(r"</(?:w:p|text:p|text:h)>", "\n", xml)
    return html.unescape(re.sub(r"<[^>]+>", " " if member.endswith("content.xml") else "", xml))


def document_text(full, path):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".pdf":
        return poppler("pdftotext", ["-enc", "UTF-8", "--", full, "-"]), "pdf"
    if ext == ".docx":
        return office_text(full, "word/document.xml"), "docx"
    if ext == ".odt":
        return office_text(full, "content.xml"), "odt"
    text = read_bytes(full, "paths").decode("utf-8", "replace")
    if ext in (".html", ".htm", ".xhtml"):
        p = TextOnly()
        p.feed(text)
        return "".join(p.parts), "html"
    if ext in (".md", ".markdown"):
        text = re.sub(r"```.*?```", " ", text, flags=re.S)  # code blocks are not prose
        return re.sub(r"[#>*_`\[\]()|-]+", " ", text), "markdown"
    return text, "text"


def main():
    args = read_args()
    paths = arg(args, "paths", "array")
    wpm = arg(args, "words_per_minute", "integer", 200, minimum=50, maximum=2000)
    if not paths:
        fail("argument 'paths' is empty; list documents such as report.pdf or notes.md", 2)
    docs, total = [], 0
    for i, p in enumerate(paths):
        if not isinstance(p, str):
            fail("argument 'paths[%d]' must be a string" % i, 2)
        full = workspace_path(p, "paths[%d]" % i, must_exist=True, kind="file")
        text, kind = document_text(full, p)
        words = len(WORD.findall(text))
        total += words
        docs.append({"path": p, "type": kind, "words": words, "characters": len(" ".join(text.split())),
                     "reading_minutes": round(words / float(wpm), 1)})
    emit({"documents": docs, "total_words": total, "total_reading_minutes": round(total / float(wpm), 1)})


main()
