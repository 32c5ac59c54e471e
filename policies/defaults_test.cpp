// The built-in default policy set (policies/default/*.toml, what `warden init` installs): it loads, its inline
// tests pass, and it is safe: workspace yes, outside no, network no, secrets no.
#include <catch2/catch.hpp>

#include "policies/policy_test_util.h"

namespace warden::policy {
namespace {

TEST_CASE("the default set loads and keeps agents in their workspace", "[policies][defaults]") {
  const auto& files = DefaultPolicyFiles();
  REQUIRE(files.size() >= 3);
  auto report = PolicySet::Check(files, LoadOptions{"/", false, {}});
  for (const auto& e : report.errors) INFO(e.ToString());
  REQUIRE(report.set != nullptr);
  for (const auto& w : report.warnings) FAIL_CHECK("unexpected warning: " << w.ToString());
  CHECK(report.tests.size() >= 5);
  const auto& set = report.set;
  const std::string agent = "local/agent/default";
  auto eval = [&](const std::string& action, nlohmann::json res, nlohmann::json extra = nlohmann::json::object()) {
    return set->Evaluate(testutil::Req(action, std::move(res), std::move(extra), agent)).effect;
  };
  CHECK(eval("fs.read", {{"path", "/workspace/a/b.txt"}}) == Effect::kAllow);
  CHECK(eval("fs.write", {{"path", "/workspace/out.csv"}}) == Effect::kAllow);
  CHECK(eval("fs.read", {{"path", "/etc/passwd"}}) == Effect::kDeny);
  CHECK(eval("fs.write", {{"path", "/workspace/.git/config"}}) == Effect::kDeny);
  CHECK(eval("fs.read", {{"path", "/workspace/.ssh/id_ed25519"}}) == Effect::kDeny);
  CHECK(eval("net.connect", {{"host", "api.github.com"}, {"port", 443}}) == Effect::kDeny);
  CHECK(eval("tool.call", {{"tool", "shell"}}) == Effect::kDeny);
  CHECK(eval("skill.exec", {{"skill", "x"}}, {{"skill", {{"name", "x"}, {"permissions", {{"scope", "network"}}}}}}) == Effect::kAsk);
  CHECK(eval("model.generate", {{"model", "qwen3.6-27b"}}) == Effect::kAllow);
}

}  // namespace
}  // namespace warden::policy
