// Runs the document and image skills of the default catalog (issue 8): Markdown to HTML, HTML to text, PDF text
// and info (poppler-utils), document word counts, image info, resize, convert and thumbnails (python3-pil). Test
// inputs are made here (a hand-written PDF, a PPM image, a zipped DOCX) so no fixture is needed.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>

#include "skills/catalog/catalog_test_support.h"

namespace warden::catalog_test {
namespace {

using nlohmann::json;

// A one-page PDF 1.4 with `text` in Helvetica and an Info title, with a correct xref table.
std::string MakePdf(const std::string& text, const std::string& title) {
  const std::string stream = "BT /F1 24 Tf 72 700 Td (" + text + ") Tj ET";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
      "<< /Title (" + title + ") >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R /Info 6 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// A binary PPM (P6): left half red, right half blue.
std::string MakePpm(int width, int height) {
  std::string ppm = "P6\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n";
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) ppm += x < width / 2 ? std::string("\xff\x00\x00", 3) : std::string("\x00\x00\xff", 3);
  }
  return ppm;
}

void RequireTool(const char* tool, const char* package) {
  INFO(tool << " is missing: install the Debian package " << package << " (scripts/install-deps)");
  REQUIRE(std::filesystem::exists(std::string("/usr/bin/") + tool));
}

TEST_CASE("markdown-to-html renders tables, code and standalone pages", "[catalog][documents]") {
  Workspace ws;
  ws.Write("doc.md", "# Guide\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode <x>\n```\n\n- one\n- two\n");
  SkillCall call{"markdown-to-html", ws};
  auto out = call.Ok({{"path", "doc.md"}});
  const std::string html = out["html"];
  CHECK(out["title"] == "Guide");
  CHECK_THAT(html, Catch::Contains("<h1>Guide</h1>"));
  CHECK_THAT(html, Catch::Contains("<td>2</td>"));
  CHECK_THAT(html, Catch::Contains("<code>code &lt;x&gt;"));
  CHECK_THAT(html, Catch::Contains("<li>two</li>"));
  call.Ok({{"path", "doc.md"}, {"standalone", true}, {"title", "A & B"}, {"output", "site/doc.html"}});
  const std::string page = ws.Read("site/doc.html");
  CHECK_THAT(page, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(page, Catch::Contains("<title>A &amp; B</title>"));
  CHECK_THAT(call.Ok({{"text", "# T\n\n## Part\n"}, {"extensions", {"toc"}}})["html"].get<std::string>(), Catch::Contains("id=\"part\""));
  CHECK_THAT(call.Fails({{"text", "x"}, {"extensions", {"mermaid"}}}, 2), Catch::Contains("unknown 'mermaid'"));
}

TEST_CASE("html-to-text keeps readable text, the title and links", "[catalog][documents]") {
  Workspace ws;
  ws.Write("page.html",
           "<html><head><title>News</title><style>p{}</style></head><body><h1>Hi &amp; welcome</h1>"
           "<p>See <a href=\"/docs\">the docs</a>.</p><ul><li>one</li><li>two</li></ul>"
           "<script>alert(1)</script><img src=x alt=\"logo\"></body></html>");
  SkillCall call{"html-to-text", ws};
  auto out = call.Ok({{"path", "page.html"}, {"base_url", "https://example.com/a/"}});
  CHECK(out["title"] == "News");
  CHECK(out["text"] == "Hi & welcome\n\nSee the docs.\n\n- one\n- two\n\n[logo]\n");
  CHECK(out["links"] == json::parse(R"([{"text": "the docs", "href": "https://example.com/docs"}])"));
  CHECK(call.Ok({{"path", "page.html"}, {"inline_links", true}})["text"].get<std::string>().find("the docs (/docs).") != std::string::npos);
}

TEST_CASE("pdf-text and pdf-info read a PDF with poppler-utils", "[catalog][documents]") {
  RequireTool("pdftotext", "poppler-utils");
  RequireTool("pdfinfo", "poppler-utils");
  Workspace ws;
  ws.Write("report.pdf", MakePdf("Quarterly revenue grew", "Q3 Report"));
  auto out = Skill("pdf-text", ws).Ok({{"path", "report.pdf"}});
  CHECK(out["pages"] == 1);
  CHECK(out["words"] == 3);
  CHECK_THAT(out["text"].get<std::string>(), Catch::StartsWith("Quarterly revenue grew"));
  Skill("pdf-text", ws).Ok({{"path", "report.pdf"}, {"layout", true}, {"first_page", 1}, {"last_page", 1}, {"output", "r.txt"}});
  CHECK_THAT(ws.Read("r.txt"), Catch::Contains("Quarterly revenue grew"));
  auto info = Skill("pdf-info", ws).Ok({{"path", "report.pdf"}});
  CHECK(info["pages"] == 1);
  CHECK(info["title"] == "Q3 Report");
  CHECK(info["encrypted"] == false);
  CHECK(info["page_size_pt"] == json({595.0, 842.0}));
  ws.Write("fake.pdf", "not a pdf");
  CHECK_THAT(Skill("pdf-text", ws).Fails({{"path", "fake.pdf"}}, 1), Catch::Contains("pdftotext failed"));
  CHECK_THAT(Skill("pdf-text", ws).Fails({{"path", "report.pdf"}, {"first_page", 3}, {"last_page", 2}}, 2),
             Catch::Contains("before"));
}

TEST_CASE("document-word-count counts PDF, DOCX, HTML, Markdown and text", "[catalog][documents]") {
  RequireTool("pdftotext", "poppler-utils");
  Workspace ws;
  ws.Write("a.pdf", MakePdf("one two three four", "T"));
  ws.Write("b.md", "# Title here\n\nSome *bold* words.\n\n```\nnot counted code\n```\n");
  ws.Write("c.html", "<p>Hello <b>there</b> world</p><script>var x = 1;</script>");
  ws.Write("d.txt", "It's a well-known fact.\n");
  const auto r = warden::testing::RunProcess(
      {"/usr/bin/env", "-C", ws.path().string(), "/usr/bin/python3", "-c",
       "import zipfile\nz = zipfile.ZipFile('e.docx', 'w')\n"
       "z.writestr('word/document.xml', '<w:document><w:body><w:p><w:r><w:t>Word file</w:t></w:r></w:p>"
       "<w:p><w:r><w:t>has five words</w:t></w:r></w:p></w:body></w:document>')\nz.close()\n"});
  REQUIRE(r.exit_code == 0);
  auto out = Skill("document-word-count", ws).Ok({{"paths", {"a.pdf", "b.md", "c.html", "d.txt", "e.docx"}}});
  std::vector<int> words;
  for (const auto& d : out["documents"]) words.push_back(d["words"]);
  CHECK(words == std::vector<int>{4, 5, 3, 4, 5});
  CHECK(out["documents"][4]["type"] == "docx");
  CHECK(out["total_words"] == 21);
  CHECK_THAT(Skill("document-word-count", ws).Fails({{"paths", json::array()}}, 2), Catch::Contains("empty"));
}

TEST_CASE("image skills convert, inspect, resize and thumbnail images", "[catalog][images]") {
  Workspace ws;
  ws.Write("in.ppm", MakePpm(64, 32));
  auto conv = Skill("image-convert", ws).Ok({{"path", "in.ppm"}, {"output", "img/pic.png"}});
  CHECK(conv["format"] == "PNG");
  CHECK(conv["source_format"] == "PPM");
  auto info = Skill("image-info", ws).Ok({{"path", "img/pic.png"}});
  CHECK(info["format"] == "PNG");
  CHECK(info["width"] == 64);
  CHECK(info["height"] == 32);
  CHECK(info["mode"] == "RGB");
  CHECK(info["has_alpha"] == false);

  auto rot = Skill("image-convert", ws).Ok({{"path", "img/pic.png"}, {"output", "img/rot.jpg"}, {"rotate", 90}, {"grayscale", true}, {"quality", 70}});
  CHECK(rot["width"] == 32);
  CHECK(rot["height"] == 64);
  CHECK(Skill("image-info", ws).Ok({{"path", "img/rot.jpg"}})["mode"] == "L");

  // An icon keeps the image's own size (Pillow's default icon sizes would all be too large for it).
  CHECK(Skill("image-convert", ws).Ok({{"path", "img/pic.png"}, {"output", "img/pic.ico"}})["bytes"] > 100);
  CHECK(Skill("image-info", ws).Ok({{"path", "img/pic.ico"}})["width"] == 64);
  CHECK(Skill("image-convert", ws).Ok({{"path", "img/pic.png"}, {"output", "img/pic.pdf"}})["format"] == "PDF");

  SkillCall resize{"image-resize", ws};
  auto r = resize.Ok({{"path", "img/pic.png"}, {"output", "img/w16.png"}, {"width", 16}});
  CHECK(r["width"] == 16);
  CHECK(r["height"] == 8);
  r = resize.Ok({{"path", "img/pic.png"}, {"output", "img/box.webp"}, {"width", 20}, {"height", 20}});
  CHECK(r == json({{"output", "img/box.webp"}, {"format", "WEBP"}, {"width", 20}, {"height", 10}, {"bytes", r["bytes"]},
                   {"original", {{"width", 64}, {"height", 32}}}}));
  r = resize.Ok({{"path", "img/pic.png"}, {"output", "img/cover.png"}, {"width", 20}, {"height", 20}, {"fit", "cover"}});
  CHECK(r["width"] == 20);
  CHECK(r["height"] == 20);
  CHECK(resize.Ok({{"path", "img/pic.png"}, {"output", "img/half.bmp"}, {"scale", 0.5}})["width"] == 32);
  CHECK_THAT(resize.Fails({{"path", "img/pic.png"}, {"output", "img/x.png"}}, 2), Catch::Contains("width"));
  CHECK_THAT(resize.Fails({{"path", "img/pic.png"}, {"output", "img/x.xyz"}, {"width", 3}}, 2), Catch::Contains("image format"));

  auto t = Skill("image-thumbnail", ws).Ok({{"path", "img/pic.png"}, {"size", 16}});
  CHECK(t["output"] == "img/pic_thumb.png");
  CHECK(t["width"] == 16);
  CHECK(t["height"] == 8);
  CHECK(Skill("image-thumbnail", ws).Ok({{"path", "img/pic.png"}, {"size", 16}, {"square", true}, {"output", "sq.png"}})["height"] == 16);

  ws.Write("notes.txt", "not an image");
  CHECK_THAT(Skill("image-info", ws).Fails({{"path", "notes.txt"}}, 1), Catch::Contains("not an image format"));
}

}  // namespace
}  // namespace warden::catalog_test
