// Runs the text skills of the default catalog (issue 8): statistics, regex extract/replace, diff and patch,
// hashing, base64, encoding detection/conversion, sort/uniq, templates, URLs and ids.
#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "skills/catalog/catalog_test_support.h"

namespace warden::catalog_test {
namespace {

using nlohmann::json;

TEST_CASE("text-stats counts lines, words, sentences and frequent words", "[catalog][text]") {
  Workspace ws;
  ws.Write("t.txt", "The cat sat.\nThe dog's ball ran!\n\nNew paragraph here?\n");
  auto out = Skill("text-stats", ws).Ok({{"path", "t.txt"}, {"top_words", 1}});
  CHECK(out["lines"] == 4);
  CHECK(out["words"] == 10);
  CHECK(out["blank_lines"] == 1);
  CHECK(out["sentences"] == 3);
  CHECK(out["paragraphs"] == 2);
  CHECK(out["top_words"] == json::parse(R"([{"word": "the", "count": 2}])"));
  out = Skill("text-stats", ws).Ok({{"text", "héllo wörld"}});
  CHECK(out["words"] == 2);
  CHECK(out["characters"] == 11);
  CHECK(out["bytes"] == 13);
}

TEST_CASE("regex-extract returns matches with positions and groups", "[catalog][text]") {
  Workspace ws;
  ws.Write("log.txt", "mail ada@example.com today\nand bob@test.org, ada@example.com\n");
  SkillCall call{"regex-extract", ws};
  auto out = call.Ok({{"path", "log.txt"}, {"pattern", R"((?P<user>[\w.+-]+)@([\w-]+\.[\w.]+))"}});
  CHECK(out["count"] == 3);
  CHECK(out["matches"][1]["match"] == "bob@test.org");
  CHECK(out["matches"][1]["line"] == 2);
  CHECK(out["matches"][1]["column"] == 5);
  CHECK(out["matches"][1]["named"]["user"] == "bob");
  out = call.Ok({{"path", "log.txt"}, {"pattern", R"(@([\w.]+))"}, {"group", 1}, {"unique", true}});
  CHECK(out["returned"] == 2);
  CHECK(out["matches"][0]["match"] == "example.com");
  out = call.Ok({{"text", "A.B a.b"}, {"pattern", "a.b"}, {"fixed_string", true}, {"ignore_case", true}});
  CHECK(out["count"] == 2);
  CHECK_THAT(call.Fails({{"text", "x"}, {"pattern", "(("}}, 2), Catch::Contains("bad regular expression"));
  CHECK_THAT(call.Fails({{"text", "x"}, {"pattern", "x"}, {"group", 2}}, 2), Catch::Contains("only 0 groups"));
}

TEST_CASE("regex-replace substitutes with groups and edits files in place", "[catalog][text]") {
  Workspace ws;
  SkillCall call{"regex-replace", ws};
  auto out = call.Ok({{"text", "2024-03-05 and 2023-12-31"}, {"pattern", R"((\d{4})-(\d{2})-(\d{2}))"},
                      {"replacement", R"(\3/\2/\1)"}});
  CHECK(out["replacements"] == 2);
  CHECK(out["text"] == "05/03/2024 and 31/12/2023");
  ws.Write("src/app.py", "old_name = 1\nprint(old_name)\n");
  out = call.Ok({{"path", "src/app.py"}, {"pattern", "old_name"}, {"replacement", "new_name"}, {"in_place", true},
                 {"count", 1}});
  CHECK(out["replacements"] == 1);
  CHECK(ws.Read("src/app.py") == "new_name = 1\nprint(old_name)\n");
  CHECK_THAT(call.Fails({{"text", "ab"}, {"pattern", "a"}, {"replacement", R"(\9)"}}, 2), Catch::Contains("bad replacement"));
  CHECK_THAT(call.Fails({{"text", "ab"}, {"pattern", "a"}, {"replacement", "b"}, {"in_place", true}}, 2),
             Catch::Contains("needs 'path'"));
}

TEST_CASE("text-diff and text-patch round-trip a change, all or nothing", "[catalog][text]") {
  Workspace ws;
  ws.Write("old/notes.txt", "one\ntwo\nthree\n");
  ws.Write("notes.txt", "one\ntwo\nthree\n");
  ws.Write("new.txt", "one\n2\nthree\nfour\n");
  auto diff = Skill("text-diff", ws).Ok({{"a", "notes.txt"}, {"b", "new.txt"}});
  CHECK(diff["identical"] == false);
  CHECK(diff["added"] == 2);
  CHECK(diff["removed"] == 1);
  CHECK_THAT(diff["diff"].get<std::string>(), Catch::StartsWith("--- a/notes.txt\n+++ b/new.txt\n@@ -1,3 +1,4 @@\n"));
  CHECK(Skill("text-diff", ws).Ok({{"a_text", "x \n"}, {"b_text", "x\n"}, {"ignore_whitespace", true}})["identical"] == true);

  // Point both headers at notes.txt, as `git diff` does, and apply with -p1.
  std::string patch = std::regex_replace(diff["diff"].get<std::string>(), std::regex("b/new.txt"), "b/notes.txt");
  ws.Write("change.diff", patch);
  SkillCall apply{"text-patch", ws};
  auto out = apply.Ok({{"patch", "change.diff"}, {"dry_run", true}});
  CHECK(out["applied"] == false);
  CHECK(ws.Read("notes.txt") == "one\ntwo\nthree\n");
  out = apply.Ok({{"patch", "change.diff"}});
  CHECK(out["files"] == json({"notes.txt"}));
  CHECK(ws.Read("notes.txt") == "one\n2\nthree\nfour\n");
  // Applying again fails and changes nothing; reverse restores the original.
  CHECK_THAT(apply.Fails({{"patch", "change.diff"}}, 1), Catch::Contains("nothing was changed"));
  CHECK(ws.Read("notes.txt") == "one\n2\nthree\nfour\n");
  apply.Ok({{"patch", "change.diff"}, {"reverse", true}});
  CHECK(ws.Read("notes.txt") == "one\ntwo\nthree\n");
  // A two-file patch whose second hunk does not fit leaves the first file untouched too.
  ws.Write("a.txt", "a\n");
  ws.Write("b.txt", "b\n");
  apply.Fails({{"patch_text", "--- a.txt\n+++ a.txt\n@@ -1 +1 @@\n-a\n+A\n--- b.txt\n+++ b.txt\n@@ -1 +1 @@\n-zzz\n+B\n"},
               {"strip", 0}}, 1);
  CHECK(ws.Read("a.txt") == "a\n");
  CHECK_THAT(apply.Fails({{"patch_text", "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n"}}, 2),
             Catch::Contains("leaves the workspace"));
  CHECK_THAT(apply.Fails({{"patch_text", "not a diff"}}, 1), Catch::Contains("names no files"));
}

TEST_CASE("file-hash computes known digests and verifies", "[catalog][text]") {
  Workspace ws;
  ws.Write("hello.txt", "hello");
  SkillCall call{"file-hash", ws};
  auto out = call.Ok({{"path", "hello.txt"}, {"algorithms", {"sha256", "md5", "sha1"}}});
  CHECK(out["bytes"] == 5);
  CHECK(out["hashes"]["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  CHECK(out["hashes"]["md5"] == "5d41402abc4b2a76b9719d911017c592");
  CHECK(out["hashes"]["sha1"] == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
  CHECK(call.Ok({{"text", "hello"}, {"expected", "5D41402ABC4B2A76B9719D911017C592"}, {"algorithms", {"md5"}}})["matches"] == true);
  CHECK(call.Ok({{"text", "hellO"}, {"expected", "5d41402abc4b2a76b9719d911017c592"}, {"algorithms", {"md5"}}})["matches"] == false);
  CHECK_THAT(call.Fails({{"text", "x"}, {"algorithms", {"crc32"}}}, 2), Catch::Contains("unknown 'crc32'"));
}

TEST_CASE("base64-codec encodes and decodes text and binary files", "[catalog][text]") {
  Workspace ws;
  SkillCall call{"base64-codec", ws};
  CHECK(call.Ok({{"mode", "encode"}, {"text", "hello world"}})["result"] == "aGVsbG8gd29ybGQ=");
  CHECK(call.Ok({{"mode", "decode"}, {"text", "aGVsbG8gd29ybGQ"}})["result"] == "hello world");
  CHECK(call.Ok({{"mode", "encode"}, {"text", "\xc3\xbf\xc3\xbe?"}, {"url_safe", true}})["result"] == "w7_Dvj8=");
  ws.Write("bin.b64", "AAH/\n");
  call.Ok({{"mode", "decode"}, {"path", "bin.b64"}, {"output", "bin.dat"}});
  CHECK(ws.Read("bin.dat") == std::string("\x00\x01\xff", 3));
  CHECK_THAT(call.Fails({{"mode", "decode"}, {"path", "bin.b64"}}, 1), Catch::Contains("give 'output'"));
  CHECK_THAT(call.Fails({{"mode", "decode"}, {"text", "a$b"}}, 1), Catch::Contains("not valid base64"));
}

TEST_CASE("encoding-detect and encoding-convert handle legacy and UTF-16 text", "[catalog][text]") {
  Workspace ws;
  ws.Write("cp.txt", "caf\xe9 \x93quoted\x94\r\nline\r\n");
  ws.Write("u16.txt", std::string("\xff\xfeh\0i\0", 6));
  ws.Write("plain.txt", "just ascii\n");
  ws.Write("bin.dat", std::string("\x7f" "ELF\0\0\0\x01\x02\0\0\0", 13));
  SkillCall detect{"encoding-detect", ws};
  auto out = detect.Ok({{"path", "cp.txt"}});
  CHECK(out["encoding"] == "cp1252");
  CHECK(out["line_endings"] == "crlf");
  CHECK(detect.Ok({{"path", "u16.txt"}})["encoding"] == "utf-16-le");
  CHECK(detect.Ok({{"path", "u16.txt"}})["bom"] == true);
  CHECK(detect.Ok({{"path", "plain.txt"}})["encoding"] == "ascii");
  CHECK(detect.Ok({{"path", "bin.dat"}})["is_binary"] == true);

  SkillCall convert{"encoding-convert", ws};
  out = convert.Ok({{"path", "cp.txt"}, {"output", "cp.utf8.txt"}, {"line_endings", "lf"}});
  CHECK(out["from"] == "cp1252");
  CHECK(ws.Read("cp.utf8.txt") == "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d\nline\n");
  convert.Ok({{"path", "u16.txt"}, {"output", "u16.txt"}});
  CHECK(ws.Read("u16.txt") == "hi");
  convert.Ok({{"path", "plain.txt"}, {"output", "p16.txt"}, {"to", "utf-16-be"}});
  CHECK(ws.Read("p16.txt").substr(0, 4) == std::string("\0j\0u", 4));
  CHECK_THAT(convert.Fails({{"path", "cp.utf8.txt"}, {"output", "x.txt"}, {"to", "ascii"}}, 1), Catch::Contains("errors=replace"));
  CHECK_THAT(convert.Fails({{"path", "cp.txt"}, {"output", "x.txt"}, {"from", "klingon"}}, 2), Catch::Contains("unknown encoding"));
  CHECK(!ws.Exists("x.txt"));
}

TEST_CASE("sort-lines sorts, dedupes and counts", "[catalog][text]") {
  Workspace ws;
  SkillCall call{"sort-lines", ws};
  auto out = call.Ok({{"text", "b\na\nb\n10\n9\n"}, {"unique", true}, {"numeric", true}});
  CHECK(out["text"] == "9\n10\na\nb\n");
  CHECK(out["duplicates_removed"] == 1);
  CHECK(call.Ok({{"text", "b\nA\na\nB\n"}, {"sort", false}, {"unique", true}, {"ignore_case", true}})["text"] == "b\nA\n");
  CHECK(call.Ok({{"text", "x\ny\n"}, {"reverse", true}})["text"] == "y\nx\n");
  out = call.Ok({{"text", "b\na\nb\n\n"}, {"count", true}, {"skip_blank", true}});
  CHECK(out["counts"] == json::parse(R"([{"line": "b", "count": 2}, {"line": "a", "count": 1}])"));
  ws.Write("w.txt", "pear\napple\npear\n");
  call.Ok({{"path", "w.txt"}, {"unique", true}, {"output", "w.txt"}});
  CHECK(ws.Read("w.txt") == "apple\npear\n");
}

TEST_CASE("template-fill substitutes values, filters and defaults", "[catalog][text]") {
  Workspace ws;
  ws.Write("v.yaml", "name: ada lovelace\norder:\n  id: 42\n  items: [pen, ink]\n");
  ws.Write("letter.txt", "Dear {{ name | title }}, order {{order.id}} ({{ order.items.1 | upper }}) ships {{ day | default(\"soon\") }}.");
  SkillCall call{"template-fill", ws};
  auto out = call.Ok({{"template_path", "letter.txt"}, {"values_path", "v.yaml"}, {"values", {{"day", "Monday"}}}});
  CHECK(out["text"] == "Dear Ada Lovelace, order 42 (INK) ships Monday.");
  out = call.Ok({{"template", "{{a}} {{b}}"}, {"values", {{"a", {1, 2}}}}, {"strict", false}});
  CHECK(out["text"] == "[1, 2] {{b}}");
  CHECK(out["missing"] == json({"b"}));
  CHECK_THAT(call.Fails({{"template", "{{who}} {{what}}"}}, 1), Catch::Contains("no value for what, who"));
  CHECK_THAT(call.Fails({{"template", "{{a | shout}}"}, {"values", {{"a", 1}}}}, 2), Catch::Contains("unknown filter"));
}

TEST_CASE("url-parse parses, encodes and builds URLs", "[catalog][text]") {
  Workspace ws;
  SkillCall call{"url-parse", ws};
  auto out = call.Ok({{"url", "https://user@example.com:8080/a%20b?q=x&tag=1&tag=2#top"}});
  CHECK(out["host"] == "example.com");
  CHECK(out["port"] == 8080);
  CHECK(out["username"] == "user");
  CHECK(out["path"] == "/a b");
  CHECK(out["query"] == json::parse(R"({"q": "x", "tag": ["1", "2"]})"));
  CHECK(call.Ok({{"action", "encode"}, {"text", "a b&c/d"}})["result"] == "a%20b%26c%2Fd");
  CHECK(call.Ok({{"action", "decode"}, {"text", "a+b%21"}, {"form", true}})["result"] == "a b!");
  CHECK(call.Ok({{"action", "build"}, {"url", "https://api.example.com/s?x=1"}, {"query", {{"q", "a&b"}, {"n", {1, 2}}}}})["url"] ==
        "https://api.example.com/s?x=1&n=1&n=2&q=a%26b");
  CHECK_THAT(call.Fails({{"url", "http://h:99999/"}}, 1), Catch::Contains("cannot parse"));
}

TEST_CASE("uuid-generate makes well-formed unique ids, tokens and passwords", "[catalog][text]") {
  Workspace ws;
  SkillCall call{"uuid-generate", ws};
  auto out = call.Ok({{"count", 5}});
  std::set<std::string> seen;
  for (const auto& v : out["values"]) {
    CHECK(std::regex_match(v.get<std::string>(), std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
    seen.insert(v.get<std::string>());
  }
  CHECK(seen.size() == 5);
  CHECK(std::regex_match(call.Ok({{"kind", "hex"}, {"length", 9}})["values"][0].get<std::string>(), std::regex("[0-9a-f]{9}")));
  const std::string pw = call.Ok({{"kind", "password"}, {"length", 24}})["values"][0];
  CHECK(pw.size() == 24);
  CHECK(std::regex_search(pw, std::regex("[a-z]")));
  CHECK(std::regex_search(pw, std::regex("[A-Z]")));
  CHECK(std::regex_search(pw, std::regex("[0-9]")));
  // uuid5 is deterministic: RFC 4122's namespace URL + the name.
  CHECK(call.Ok({{"kind", "uuid5"}, {"name", "https://example.com"}})["values"][0] == call.Ok({{"kind", "uuid5"}, {"name", "https://example.com"}})["values"][0]);
  CHECK_THAT(call.Fails({{"kind", "uuid5"}}, 2), Catch::Contains("'name'"));
  CHECK_THAT(call.Fails({{"count", 0}}, 2), Catch::Contains(">= 1"));
}

}  // namespace
}  // namespace warden::catalog_test
