// CatalogAuditor with a real catalog folder and a real audit log: a rejected manifest becomes a skill.rejected row
// (file, line, field, message), every applied load or refresh one catalog.reload row (counts, generation, names),
// per-skill events add no rows of their own, and reloads=false keeps only the rejections.
#include "runtime/catalog_audit.h"

#include <catch2/catch.hpp>

#include "runtime/base/file_util.h"
#include "tests/support/test_support.h"

namespace warden {
namespace {

namespace fs = std::filesystem;

void WriteSkill(const fs::path& folder, const std::string& name, const std::string& description) {
  fs::create_directories(folder / name);
  REQUIRE(WriteFileAtomic(folder / name / "SKILL.md",
                          "---\nname: " + name + "\ndescription: " + description + "\n---\n\nInstructions.\n")
              .ok());
}

struct Fixture {
  testing::TempDir tmp;
  fs::path skills = tmp.path() / "skills";
  std::unique_ptr<audit::Log> log;
  Fixture() {
    fs::create_directories(skills);
    audit::Options o;
    o.path = tmp.path() / "audit.db";
    auto l = audit::Log::Open(o);
    REQUIRE(l.ok());
    log = std::move(*l);
  }
  std::vector<audit::Record> Rows(const std::string& kind) const {
    audit::QueryFilter f;
    f.kind = kind;
    auto rows = audit::Query(tmp.path() / "audit.db", f);
    REQUIRE(rows.ok());
    return *rows;
  }
  Result<std::unique_ptr<skills::Catalog>> Open(CatalogAuditor& auditor) {
    skills::CatalogOptions o;
    o.folders = {skills};
    o.listener = auditor.Listener();
    return skills::Catalog::Open(o);
  }
};

TEST_CASE("A rejected manifest and each catalog reload become audit rows", "[agent][catalog_audit]") {
  Fixture fx;
  WriteSkill(fx.skills, "csv-stats", "Statistics of a CSV file");
  WriteSkill(fx.skills, "json-query", "Query JSON documents");
  WriteSkill(fx.skills, "bad-name", "Wrong name");
  REQUIRE(WriteFileAtomic(fx.skills / "bad-name" / "SKILL.md", "---\nname: other\ndescription: x\n---\n").ok());
  CatalogAuditor auditor(*fx.log);
  auto catalog = fx.Open(auditor);
  REQUIRE(catalog.ok());
  CHECK(auditor.status().ok());

  auto rejected = fx.Rows("skill.rejected");
  REQUIRE(rejected.size() == 1);
  const auto& r = rejected[0].event;
  CHECK(r.principal_id == "local/system/catalog");
  CHECK(r.body["field"] == "name");
  CHECK(r.body["line"] == 2);
  CHECK(r.body["file"].get<std::string>().find("bad-name") != std::string::npos);
  CHECK(r.body["message"].get<std::string>().find("other") != std::string::npos);

  auto reloads = fx.Rows("catalog.reload");
  REQUIRE(reloads.size() == 1);
  CHECK(reloads[0].event.body["added"] == 2);
  CHECK(reloads[0].event.body["rejected"] == 1);
  CHECK(reloads[0].event.body["skills"] == 2);
  CHECK(reloads[0].event.body["generation"] == (*catalog)->generation());
  // The rejection row comes before the reload that reports it.
  CHECK(rejected[0].seq < reloads[0].seq);

  // A refresh that adds one skill and removes another: one more reload row, nothing per skill.
  WriteSkill(fx.skills, "yaml-to-json", "Convert YAML to JSON");
  fs::remove_all(fx.skills / "json-query");
  REQUIRE((*catalog)->Refresh().ok());
  reloads = fx.Rows("catalog.reload");
  REQUIRE(reloads.size() == 2);
  const auto& body = reloads[1].event.body;
  CHECK(body["added"] == 1);
  CHECK(body["removed"] == 1);
  CHECK(body["generation"] == (*catalog)->generation());
  CHECK(body["changed"].size() == 2);
  // A refresh with no change writes nothing; the rejection is not written again.
  REQUIRE((*catalog)->Refresh().ok());
  CHECK(fx.Rows("catalog.reload").size() == 2);
  CHECK(fx.Rows("skill.rejected").size() == 1);
  CHECK(auditor.seqs().size() == 3);
}

TEST_CASE("Catalog audit options: rejections only, and a cut list of names", "[agent][catalog_audit]") {
  Fixture fx;
  for (const char* n : {"one-skill", "two-skill", "three-skill"}) WriteSkill(fx.skills, n, "Some skill");
  REQUIRE(WriteFileAtomic(fx.skills / "broken.skill.json", "{not json").ok());
  {
    CatalogAuditOptions o;
    o.reloads = false;
    CatalogAuditor auditor(*fx.log, o);
    auto catalog = fx.Open(auditor);
    REQUIRE(catalog.ok());
    CHECK(fx.Rows("catalog.reload").empty());
    CHECK(fx.Rows("skill.rejected").size() == 1);
  }
  CatalogAuditOptions o;
  o.max_names = 1;
  CatalogAuditor auditor(*fx.log, o);
  auto catalog = fx.Open(auditor);
  REQUIRE(catalog.ok());
  auto reloads = fx.Rows("catalog.reload");
  REQUIRE(reloads.size() == 1);
  CHECK(reloads[0].event.body["changed"].size() == 1);
  CHECK(reloads[0].event.body["changed_more"] == 2);
}

}  // namespace
}  // namespace warden
