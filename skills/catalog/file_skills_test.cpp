// Runs the file skills of the default catalog (issue 8): list, find, grep, tree, disk usage, archives with
// zip-slip protection, folder checksums — never following a symlink out of the workspace.
#include <catch2/catch.hpp>

#include "skills/catalog/catalog_test_support.h"

namespace warden::catalog_test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void Populate(const Workspace& ws) {
  ws.Write("README.md", "# Project\nTODO: write docs\n");
  ws.Write("src/main.py", "print('hi')  # TODO fix\n");
  ws.Write("src/util/helpers.py", "def f():\n    return 1\n");
  ws.Write("data/big.csv", std::string(5000, 'x'));
  ws.Write(".hidden/secret.txt", "s");
  fs::create_symlink("/etc", ws.path() / "etc-link");
}

TEST_CASE("file-list lists one folder with types and sizes", "[catalog][files]") {
  Workspace ws;
  Populate(ws);
  SkillCall call{"file-list", ws};
  auto out = call.Ok(json::object());
  std::vector<std::string> names;
  for (const auto& e : out["entries"]) names.push_back(e["name"]);
  CHECK(names == std::vector<std::string>{"data", "src", "etc-link", "README.md"});
  CHECK(out["entries"][2]["type"] == "symlink");
  CHECK(out["entries"][2]["target"] == "/etc");
  out = call.Ok({{"path", "data"}, {"sort", "size"}});
  CHECK(out["entries"][0] == json({{"name", "big.csv"}, {"type", "file"}, {"size", 5000}, {"modified", out["entries"][0]["modified"]}}));
  CHECK(call.Ok({{"include_hidden", true}})["count"] == 5);
  CHECK_THAT(call.Fails({{"path", "README.md"}}, 1), Catch::Contains("not a folder"));
}

TEST_CASE("file-find matches globs, sizes and depth without following links", "[catalog][files]") {
  Workspace ws;
  Populate(ws);
  SkillCall call{"file-find", ws};
  auto out = call.Ok({{"name", "*.py"}});
  CHECK(out["count"] == 2);
  CHECK(out["matches"][0]["path"] == "src/main.py");
  CHECK(out["matches"][1]["path"] == "src/util/helpers.py");
  CHECK(call.Ok({{"name", "*.PY"}, {"max_depth", 2}})["count"] == 1);
  CHECK(call.Ok({{"min_size", 1000}})["matches"][0]["path"] == "data/big.csv");
  CHECK(call.Ok({{"type", "dir"}})["count"] == 3);
  CHECK(call.Ok({{"name", "*.md,*.csv"}, {"modified_after", "2000-01-01"}})["count"] == 2);
  CHECK(call.Ok({{"name", "*"}, {"modified_before", "2000-01-01T00:00:00Z"}})["count"] == 0);
  CHECK(call.Ok({{"name", "hostname"}})["count"] == 0);  // /etc/hostname behind etc-link is never reached
  CHECK_THAT(call.Fails({{"modified_after", "yesterday"}}, 2), Catch::Contains("ISO 8601"));
}

TEST_CASE("file-grep finds lines in files recursively", "[catalog][files]") {
  Workspace ws;
  Populate(ws);
  ws.Write("bin/blob", std::string("TODO\0\0", 6));
  SkillCall call{"file-grep", ws};
  auto out = call.Ok({{"pattern", "todo"}, {"ignore_case", true}});
  CHECK(out["count"] == 2);
  CHECK(out["matches"][0] == json({{"path", "README.md"}, {"line", 2}, {"text", "TODO: write docs"}}));
  CHECK(out["matches"][1]["path"] == "src/main.py");
  CHECK(call.Ok({{"pattern", "TODO"}, {"include", "*.py"}, {"files_only", true}})["files"] == json({"src/main.py"}));
  CHECK(call.Ok({{"pattern", "return"}, {"path", "src/util/helpers.py"}})["matches"][0]["line"] == 2);
  CHECK(call.Ok({{"pattern", "print("}, {"fixed_string", true}})["count"] == 1);
}

TEST_CASE("file-tree draws the folder structure as text", "[catalog][files]") {
  Workspace ws;
  Populate(ws);
  const auto r = RunSkill(CatalogDir() / "file-tree", R"({"path": "src", "show_sizes": true})", ws.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "src/\n"
        "├── main.py (24B)\n"
        "└── util/\n"
        "    └── helpers.py (22B)\n"
        "\n"
        "1 directories, 2 files\n");
  const auto shallow = RunSkill(CatalogDir() / "file-tree", R"({"max_depth": 1, "dirs_only": true})", ws.path());
  CHECK(shallow.out == "./\n├── data/\n└── src/\n\n2 directories, 0 files\n");
  Skill("file-tree", ws).Fails({{"path", "nowhere"}}, 1);
}

TEST_CASE("disk-usage totals sizes by extension and entry", "[catalog][files]") {
  Workspace ws;
  Populate(ws);
  auto out = Skill("disk-usage", ws).Ok({{"top", 1}});
  CHECK(out["total_bytes"] == 5000 + 27 + 24 + 22 + 1);
  CHECK(out["largest"] == json::parse(R"([{"path": "data/big.csv", "bytes": 5000}])"));
  CHECK(out["by_extension"][".py"] == json({{"files", 2}, {"bytes", 46}}));
  CHECK(out["by_entry"]["src"] == 46);
}

TEST_CASE("archive-create, archive-list and archive-extract round-trip zip and tar.gz", "[catalog][files]") {
  Workspace ws;
  Populate(ws);
  fs::create_symlink("/etc", ws.path() / "src" / "link");
  CHECK_THAT(Skill("archive-create", ws).Fails({{"paths", {"etc-link"}}, {"output", "x.zip"}}, 2), Catch::Contains("leaves the workspace"));
  for (const std::string name : {"bundle.zip", "bundle.tar.gz", "bundle.tar.xz"}) {
    auto made = Skill("archive-create", ws).Ok({{"paths", {"src", "README.md"}}, {"output", "out/" + name}});
    CHECK(made["files"] == 3);
    CHECK(made["skipped"] == json({"src/link"}));
    auto listed = Skill("archive-list", ws).Ok({{"archive", "out/" + name}});
    CHECK(listed["unsafe_entries"] == 0);
    CHECK(listed["total_bytes"] == 27 + 24 + 22);
    auto ex = Skill("archive-extract", ws).Ok({{"archive", "out/" + name}, {"destination", "x/" + name}});
    CHECK(ex["files"] == 3);
    CHECK(ws.Read("x/" + name + "/src/util/helpers.py") == "def f():\n    return 1\n");
  }
  CHECK(Skill("archive-list", ws).Ok({{"archive", "out/bundle.tar.xz"}})["format"] == "tar.xz");
  // The default destination is the archive's name; a second extraction needs overwrite.
  SkillCall extract{"archive-extract", ws};
  CHECK(extract.Ok({{"archive", "out/bundle.zip"}})["destination"] == "out/bundle");
  CHECK_THAT(extract.Fails({{"archive", "out/bundle.zip"}}, 1), Catch::Contains("overwrite"));
  extract.Ok({{"archive", "out/bundle.zip"}, {"overwrite", true}});
  CHECK_THAT(Skill("archive-create", ws).Fails({{"paths", {"src"}}, {"output", "out/bundle.zip"}}, 1), Catch::Contains("overwrite"));
  CHECK_THAT(Skill("archive-create", ws).Fails({{"paths", {"src"}}, {"output", "out/b.rar"}}, 2), Catch::Contains("format"));
  CHECK_THAT(extract.Fails({{"archive", "README.md"}}, 1), Catch::Contains("neither a zip nor a tar"));
}

// Hostile archives are built with Python's zipfile/tarfile, which write whatever names they are given.
void MakeArchive(const Workspace& ws, const std::string& script) {
  const auto r = warden::testing::RunProcess({"/usr/bin/env", "-C", ws.path().string(), "/usr/bin/python3", "-c",
                                              "import io, tarfile, zipfile\n" + script});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

TEST_CASE("archive-extract refuses zip slip and never creates links", "[catalog][files][paths]") {
  Workspace ws;
  MakeArchive(ws,
              "z = zipfile.ZipFile('slip.zip', 'w'); z.writestr('ok.txt', 'x'); z.writestr('../evil.txt', 'y'); z.close()\n"
              "z = zipfile.ZipFile('abs.zip', 'w'); z.writestr('/tmp/evil-warden.txt', 'y'); z.close()\n"
              "t = tarfile.open('link.tar', 'w')\n"
              "i = tarfile.TarInfo('passwd'); i.type = tarfile.SYMTYPE; i.linkname = '/etc/passwd'; t.addfile(i)\n"
              "i = tarfile.TarInfo('data.txt'); b = b'payload'; i.size = len(b); t.addfile(i, io.BytesIO(b))\n"
              "t.close()\n"
              "t = tarfile.open('through-link.tar', 'w')\n"
              "i = tarfile.TarInfo('d'); i.type = tarfile.SYMTYPE; i.linkname = '/tmp'; t.addfile(i)\n"
              "i = tarfile.TarInfo('d/evil.txt'); b = b'x'; i.size = 1; t.addfile(i, io.BytesIO(b))\n"
              "t.close()\n");
  SkillCall extract{"archive-extract", ws};
  CHECK_THAT(extract.Fails({{"archive", "slip.zip"}}, 1), Catch::Contains("zip slip"));
  CHECK(!ws.Exists("slip/ok.txt"));  // checked before anything is written
  CHECK(!ws.Exists("evil.txt"));
  CHECK_THAT(extract.Fails({{"archive", "abs.zip"}}, 1), Catch::Contains("absolute path"));
  CHECK(!fs::exists("/tmp/evil-warden.txt"));
  auto out = extract.Ok({{"archive", "link.tar"}, {"destination", "l"}});
  CHECK(out["skipped"] == json::parse(R"([{"name": "passwd", "type": "symlink"}])"));
  CHECK(!fs::exists(ws.path() / "l" / "passwd"));
  CHECK(ws.Read("l/data.txt") == "payload");
  // The link is skipped, so d/evil.txt lands in a real folder d/ inside the destination, not in /tmp.
  extract.Ok({{"archive", "through-link.tar"}, {"destination", "t"}});
  CHECK(ws.Read("t/d/evil.txt") == "x");
  CHECK(!fs::is_symlink(ws.path() / "t" / "d"));
  auto listed = Skill("archive-list", ws).Ok({{"archive", "slip.zip"}});
  CHECK(listed["unsafe_entries"] == 1);
  CHECK(listed["members"][1]["unsafe"] == "'..' component");
}

TEST_CASE("folder-checksums writes a manifest and detects changes", "[catalog][files]") {
  Workspace ws;
  ws.Write("rel/a.txt", "hello");
  ws.Write("rel/sub/b.txt", "b");
  SkillCall call{"folder-checksums", ws};
  auto out = call.Ok({{"path", "rel"}});
  CHECK(out["checksums"]["a.txt"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  call.Ok({{"path", "rel"}, {"output", "SUMS"}});
  CHECK(ws.Read("SUMS").find("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  a.txt\n") != std::string::npos);
  CHECK(call.Ok({{"path", "rel"}, {"verify", "SUMS"}})["ok"] == true);
  ws.Write("rel/a.txt", "changed");
  ws.Write("rel/new.txt", "n");
  fs::remove(ws.path() / "rel/sub/b.txt");
  out = call.Ok({{"path", "rel"}, {"verify", "SUMS"}});
  CHECK(out["ok"] == false);
  CHECK(out["changed"] == json({"a.txt"}));
  CHECK(out["missing"] == json({"sub/b.txt"}));
  CHECK(out["new_files"] == json({"new.txt"}));
  CHECK(call.Ok({{"path", "rel"}, {"algorithm", "md5"}})["checksums"]["new.txt"] == "7b8b965ad4bca0e41ab51de7b31363a1");
  ws.Write("BAD", "nohash\n");
  CHECK_THAT(call.Fails({{"path", "rel"}, {"verify", "BAD"}}, 1), Catch::Contains("BAD:1"));
}

}  // namespace
}  // namespace warden::catalog_test
