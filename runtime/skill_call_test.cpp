// CallSkill end to end with the real parts: the default catalog (skills/catalog), the default policies
// (policies/default), a fresh audit log and the sandbox. Tests run from the source root.
#include "runtime/skill_call.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/test_support.h"

namespace warden {
namespace {

using nlohmann::json;

struct Fixture {
  warden::testing::TempDir tmp;
  std::filesystem::path workspace = tmp.path() / "ws";
  std::unique_ptr<skills::Catalog> catalog;
  std::shared_ptr<const policy::PolicySet> policies;
  std::unique_ptr<audit::Log> log;

  explicit Fixture(const std::vector<std::pair<std::string, std::string>>& policy_files = {}) {
    std::filesystem::create_directories(workspace);
    // The sandbox binds the workspace as its unprivileged user, which must be able to reach it (TempDir is 0700).
    std::filesystem::permissions(tmp.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                 std::filesystem::perms::group_exec |
                                                 std::filesystem::perms::others_read |
                                                 std::filesystem::perms::others_exec);
    skills::CatalogOptions options;
    options.folders = {"skills/catalog"};
    auto c = skills::Catalog::Open(options);
    REQUIRE(c.ok());
    catalog = std::move(*c);
    auto p = policy_files.empty() ? policy::PolicySet::LoadDir("policies/default")
                                  : policy::PolicySet::LoadFiles(policy_files);
    REQUIRE(p.ok());
    policies = *p;
    audit::Options o;
    o.path = tmp.path() / "audit.db";
    auto l = audit::Log::Open(o);
    REQUIRE(l.ok());
    log = std::move(*l);
  }

  Result<SkillCallOutcome> Call(const std::string& skill, json args) {
    SkillCallRequest r;
    r.skill = skill;
    r.args = std::move(args);
    r.workspace = workspace;
    r.task_id = "t-test";
    return CallSkill(r, SkillCallContext{*catalog, *policies, nullptr, *log});
  }

  std::vector<audit::Record> Rows() const {
    auto rows = audit::Query(tmp.path() / "audit.db", {});
    REQUIRE(rows.ok());
    return *rows;
  }
};

TEST_CASE("a workspace-only catalog skill runs in the sandbox and both steps are audited", "[agent][skill_call]") {
  Fixture f;
  std::ofstream(f.workspace / "people.csv") << "name,age\nada,36\nalan,41\n";
  auto out = f.Call("csv-to-json", json{{"path", "people.csv"}});
  INFO((out.ok() ? std::string() : out.status().message()));
  REQUIRE(out.ok());
  REQUIRE(out->verdict == SkillCallOutcome::Verdict::kRan);
  REQUIRE(out->run.has_value());
  INFO(out->run->ToJson().dump());
  CHECK(out->run->exit_kind == "exited");
  CHECK(out->run->exit_code == 0);
  CHECK(out->run->violations.empty());
  auto rows = json::parse(out->run->stdout_data);
  CHECK(rows.dump().find("\"alan\"") != std::string::npos);
  CHECK(out->run->layers["userns"] == true);

  auto audit_rows = f.Rows();
  REQUIRE(audit_rows.size() == 2);
  CHECK(audit_rows[0].event.kind == "policy.decision");
  CHECK(audit_rows[0].event.decision == "allow");
  CHECK(audit_rows[0].event.action == "skill.exec");
  CHECK(audit_rows[0].event.task_id == "t-test");
  CHECK(audit_rows[1].event.kind == "sandbox.run");
  CHECK(audit_rows[1].event.skill == "csv-to-json");
  CHECK(out->audit_seqs == std::vector<uint64_t>{audit_rows[0].seq, audit_rows[1].seq});
  auto verified = audit::Verify(f.tmp.path() / "audit.db", {});
  REQUIRE(verified.ok());
  CHECK(verified->ok);
}

TEST_CASE("a network skill is stopped by the default policy and nothing runs", "[agent][skill_call]") {
  Fixture f;
  auto out = f.Call("http-fetch", json{{"url", "https://example.com/"}});
  REQUIRE(out.ok());
  CHECK(out->verdict == SkillCallOutcome::Verdict::kDenied);  // skill.exec asks, net.connect has no allow rule
  CHECK_FALSE(out->run.has_value());
  REQUIRE(out->decisions.size() >= 2);
  CHECK(out->decisions[0].effect == policy::Effect::kAsk);
  CHECK(out->decisions[1].effect == policy::Effect::kDeny);
  auto rows = f.Rows();
  REQUIRE(rows.size() == out->decisions.size());  // every decision recorded, no sandbox.run
  for (const auto& r : rows) CHECK(r.event.kind == "policy.decision");
}

TEST_CASE("a deny rule on the skill wins and the program never starts", "[agent][skill_call]") {
  Fixture f(std::vector<std::pair<std::string, std::string>>{{"deny.toml", R"(
[policy]
id = "no-hashing"
tenant = "*"
[[rule]]
id = "allow-skills"
effect = "allow"
actions = ["skill.exec"]
[[rule]]
id = "deny-file-hash"
effect = "deny"
actions = ["skill.exec"]
skills = ["file-hash"]
)"}});
  std::ofstream(f.workspace / "a.txt") << "x";
  auto out = f.Call("file-hash", json{{"path", "a.txt"}});
  REQUIRE(out.ok());
  CHECK(out->verdict == SkillCallOutcome::Verdict::kDenied);
  REQUIRE(out->decisions.size() == 1);
  REQUIRE(out->decisions[0].determining.size() == 1);
  CHECK(out->decisions[0].determining[0].rule == "deny-file-hash");
  CHECK(f.Rows().size() == 1);
}

TEST_CASE("bad arguments, unknown and missing things fail before any decision", "[agent][skill_call]") {
  Fixture f;
  auto bad = f.Call("csv-to-json", json{{"path", 7}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("$.path: expected string, got integer") != std::string::npos);
  auto unknown = f.Call("no-such-skill", json::object());
  CHECK_FALSE(unknown.ok());
  SkillCallRequest r;
  r.skill = "csv-to-json";
  r.workspace = f.tmp.path() / "missing";
  CHECK_FALSE(CallSkill(r, SkillCallContext{*f.catalog, *f.policies, nullptr, *f.log}).ok());
  CHECK(f.Rows().empty());
}

}  // namespace
}  // namespace warden
