// End-to-end runs of `warden policy check|eval|test|show` and of `warden init` installing the default set (issue 6,
// CLI): exit codes 0 allow / 3 deny / 4 ask, 1 for bad folders or requests, 2 for usage; errors with file:line:column;
// --json documents; the home's own policies folder protected from agents.
#include <catch2/catch.hpp>
#include <set>

#include "policies/policy_test_util.h"
#include "runtime/base/file_util.h"
#include "tests/support/test_support.h"

namespace warden::policy {
namespace {

using testing::RunWarden;
using testing::TempDir;

struct Home {
  TempDir home, policies;
  std::vector<std::string> env;
  Home() {
    env = {"WARDEN_HOME=" + home.path().string()};
    testutil::WriteFiles(policies.path(), testutil::ReferenceFiles());
  }
  testing::ProcessResult Eval(const nlohmann::json& req, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"policy", "eval", "--request", "-", "--policies", policies.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunWarden(args, req.dump(), env);
  }
};

TEST_CASE("policy verbs have --help and the group lists them", "[policies][cli]") {
  auto r = RunWarden({"policy", "--help"});
  CHECK(r.exit_code == 0);
  for (const char* verb : {"check", "eval", "test", "show"}) {
    CHECK(r.out.find(verb) != std::string::npos);
    auto h = RunWarden({"policy", verb, "--help"});
    CHECK(h.exit_code == 0);
  }
  CHECK(RunWarden({"policy"}).exit_code == 2);
  CHECK(RunWarden({"policy", "eval"}).exit_code == 2);  // --request is required
}

TEST_CASE("policy eval exits 0 allow, 3 deny, 4 ask and prints the decision JSON", "[policies][cli]") {
  Home h;
  auto allow = h.Eval(testutil::Req("fs.read", {{"path", "/workspace/a.txt"}}), {"--json"});
  CHECK(allow.exit_code == 0);
  auto doc = nlohmann::json::parse(allow.out);
  CHECK(doc["decision"] == "allow");
  CHECK(doc["determining"][0]["rule"] == "ws-read");
  CHECK(doc["determining"][0]["file"] == "10-acme.toml");
  CHECK(doc["policy_set"].get<std::string>().rfind("sha256:", 0) == 0);
  auto deny = h.Eval(testutil::Req("fs.read", {{"path", "/workspace/app/.env"}}));
  CHECK(deny.exit_code == 3);
  CHECK(deny.out.find("deny-secret-files  00-guardrails.toml:") != std::string::npos);
  CHECK(deny.out.find("overridden: ws-read") != std::string::npos);
  CHECK(deny.out.find("request: {") != std::string::npos);  // the normalised request follows the summary
  auto ask = h.Eval(testutil::Req("tool.call", {{"tool", "shell"}}, {{"args", {{"argv", {"git", "push", "o", "main"}}}}}),
                    {"--json"});
  CHECK(ask.exit_code == 4);
  CHECK(nlohmann::json::parse(ask.out)["approvers"][0] == "group:acme/maintainers");
  auto invalid = h.Eval(testutil::Req("skill.select", {{"skill", "pdf-t\xd0\xbe\xd0\xbels"}}), {"--json"});
  CHECK(invalid.exit_code == 3);
  CHECK(nlohmann::json::parse(invalid.out).contains("invalid_request"));
  // From a file, too.
  REQUIRE(WriteFileAtomic(h.home.path() / "r.json", testutil::Req("fs.read", {{"path", "/workspace/x"}}).dump()).ok());
  auto file = RunWarden({"policy", "eval", "--request", (h.home.path() / "r.json").string(), "--policies",
                         h.policies.path().string()}, "", h.env);
  CHECK(file.exit_code == 0);
}

TEST_CASE("policy eval --explain shows every rule of the action and why it did not match", "[policies][cli][PART]") {
  Home h;
  const auto req = testutil::Req("tool.call", {{"tool", "shell"}}, {{"args", {{"argv", {"git", "status;", "x"}}}}});
  auto text = h.Eval(req, {"--explain"});
  CHECK(text.exit_code == 3);
  INFO(text.out);
  CHECK(text.out.find("deny (default: no rule allows this)") != std::string::npos);
  CHECK(text.out.find("rules for tool.call") != std::string::npos);
  // shell-git: the scope matched, its `in` condition did not; the actual value is shown.
  CHECK(text.out.find("shell-git") != std::string::npos);
  CHECK(text.out.find("$.args.argv[1] in [\"status\",\"diff\",\"log\",\"push\"] -> false (actual \"status;\")") !=
        std::string::npos);
  // refund-small: another tool, so its scope failed on `tools`.
  CHECK(text.out.find("tools: \"shell\" matches none of [\"payments.refund\"]") != std::string::npos);
  auto js = h.Eval(req, {"--explain", "--json"});
  const auto doc = nlohmann::json::parse(js.out);
  CHECK(doc["decision"] == "deny");
  std::set<std::string> ids;
  for (const auto& r : doc["explain"]["rules"]) ids.insert(r["rule"].get<std::string>());
  CHECK(ids == std::set<std::string>{"ask-git-push", "deny-push-release", "refund-small", "shell-git"});
  for (const auto& r : doc["explain"]["rules"]) CHECK(r["result"] == "not_matched");
}

TEST_CASE("policy check reports conditions no request can meet as warnings and still passes", "[policies][cli][PART]") {
  Home h;
  testutil::WriteFiles(h.policies.path(), {{"50-warn.toml",
                                            "[[rule]]\nid = \"w\"\neffect = \"allow\"\n"
                                            "actions = [\"net.connect\"]\n"
                                            "when = [ { path = \"$.resource.path\", prefix = \"/x\" } ]\n"}});
  auto text = RunWarden({"policy", "check", h.policies.path().string()}, "", h.env);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("warning: 50-warn.toml:5:10: rule \"w\" field when[0] path \"$.resource.path\": net.connect "
                      "requests have no $.resource.path") != std::string::npos);
  auto js = RunWarden({"--json", "policy", "check", h.policies.path().string()}, "", h.env);
  const auto doc = nlohmann::json::parse(js.out);
  CHECK(doc["ok"] == true);
  REQUIRE(doc["warnings"].size() == 1);
  CHECK(doc["warnings"][0]["line"] == 5);
}

TEST_CASE("policy eval fails with exit 1 on a bad request or a bad folder", "[policies][cli]") {
  Home h;
  auto bad_json = RunWarden({"policy", "eval", "--request", "-", "--policies", h.policies.path().string()}, "{nope", h.env);
  CHECK(bad_json.exit_code == 1);
  CHECK(bad_json.err.find("not JSON") != std::string::npos);
  testutil::WriteFiles(h.policies.path(), {{"99-bad.toml", "[[rule]]\nid = \"x\"\neffect = \"alow\"\nactions = [\"*\"]\n"}});
  auto bad_set = h.Eval(testutil::Req("fs.read", {{"path", "/workspace/a.txt"}}), {"--json"});
  CHECK(bad_set.exit_code == 1);
  const auto err = nlohmann::json::parse(bad_set.out)["error"];
  CHECK(err["message"].get<std::string>().find("99-bad.toml:3:10: rule \"x\" field effect: expected allow|deny|ask, "
                                               "got \"alow\"") != std::string::npos);
  CHECK(err["hint"].get<std::string>().find("policy check") != std::string::npos);
}

TEST_CASE("policy check lists every error with file:line:column, or OK with coverage", "[policies][cli]") {
  Home h;
  auto ok = RunWarden({"policy", "check", h.policies.path().string()}, "", h.env);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("OK: 4 files, 14 rules") != std::string::npos);
  CHECK(ok.out.find("not covered by any test") != std::string::npos);
  testutil::WriteFiles(h.policies.path(), {{"50-bad.toml", "[[rule]]\nid = \"ws-read\"\neffect = \"allow\"\nactions = [\"fs.raed\"]\n"},
                                           {"60-syntax.toml", "[[rule]\n"}});
  auto bad = RunWarden({"--json", "policy", "check", h.policies.path().string()}, "", h.env);
  CHECK(bad.exit_code == 1);
  const auto doc = nlohmann::json::parse(bad.out);
  CHECK_FALSE(doc["ok"].get<bool>());
  REQUIRE(doc["errors"].size() == 3);
  std::set<std::string> files;
  for (const auto& e : doc["errors"]) {
    files.insert(e["file"].get<std::string>());
    CHECK(e["line"].get<int>() >= 1);
    CHECK(e["column"].get<int>() >= 1);
  }
  CHECK(files == std::set<std::string>{"50-bad.toml", "60-syntax.toml"});
  CHECK(RunWarden({"policy", "check", (h.policies.path() / "missing").string()}, "", h.env).exit_code == 1);
}

TEST_CASE("policy test lists each inline test and fails on a failing one", "[policies][cli]") {
  Home h;
  testutil::WriteFiles(h.policies.path(), {{"tests/cases.toml", R"([[test]]
name = "workspace readable"
request = { principal = "acme/agent/bot", action = "fs.read", resource = { path = "/workspace/a" } }
expect = "allow"
[[test]]
name = "wrong expectation"
request = { principal = "acme/agent/bot", action = "fs.read", resource = { path = "/etc/passwd" } }
expect = "allow"
)"}});
  auto r = RunWarden({"policy", "test", h.policies.path().string()}, "", h.env);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("PASS  tests/cases.toml:1  workspace readable") != std::string::npos);
  CHECK(r.out.find("FAIL  tests/cases.toml:5  wrong expectation") != std::string::npos);
  CHECK(r.out.find("1 passed, 1 failed") != std::string::npos);
}

TEST_CASE("init installs the default set, and check, show and eval use the home's folder", "[policies][cli]") {
  Home h;
  auto init = RunWarden({"init"}, "", h.env);
  REQUIRE(init.exit_code == 0);
  const auto dir = h.home.path() / "policies";
  CHECK(std::filesystem::exists(dir / "00-guardrails.toml"));
  CHECK(RunWarden({"policy", "check"}, "", h.env).exit_code == 0);
  auto show = RunWarden({"--json", "policy", "show"}, "", h.env);
  REQUIRE(show.exit_code == 0);
  const auto doc = nlohmann::json::parse(show.out);
  CHECK(doc["hash"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(doc["rules"].size() >= 6);
  CHECK(doc["loaded_at"].get<std::string>().size() == 20);
  auto text = RunWarden({"policy", "show"}, "", h.env);
  CHECK(text.out.find("workspace-read") != std::string::npos);
  // An edited set is never overwritten by a second init.
  REQUIRE(WriteFileAtomic(dir / "10-workspace.toml", "# mine\n").ok());
  std::filesystem::remove(dir / "00-guardrails.toml");
  REQUIRE(RunWarden({"init"}, "", h.env).exit_code == 0);
  CHECK(*ReadFile(dir / "10-workspace.toml") == "# mine\n");
  CHECK_FALSE(std::filesystem::exists(dir / "00-guardrails.toml"));
  // P42 through the CLI: even an allow-everything rule cannot open the home's policies folder to agents.
  testutil::WriteFiles(dir, {{"90-open.toml", "[[rule]]\nid = \"all\"\neffect = \"allow\"\nactions = [\"fs.*\"]\npaths = [\"/**\"]\n"}});
  auto req = testutil::Req("fs.write", {{"path", (dir / "90-open.toml").string()}});
  auto r = RunWarden({"--json", "policy", "eval", "--request", "-"}, req.dump(), h.env);
  CHECK(r.exit_code == 3);
  CHECK(nlohmann::json::parse(r.out)["determining"][0]["rule"] == "builtin-protected-paths");
  req["resource"]["path"] = "/tmp/elsewhere";
  CHECK(RunWarden({"policy", "eval", "--request", "-"}, req.dump(), h.env).exit_code == 0);
}

}  // namespace
}  // namespace warden::policy
