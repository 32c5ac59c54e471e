// Limiter unit tests: ask-on-exceed limits, requests lacking the limit's scope fail closed, Adjust reconciles,
// Restore rejects malformed snapshots, and concurrent callers never overspend a budget.
#include <catch2/catch.hpp>
#include <thread>

#include "policies/policy_test_util.h"

namespace warden::policy {
namespace {

using nlohmann::json;

std::shared_ptr<const PolicySet> Set() {
  auto set = PolicySet::LoadFiles({{"l.toml", R"([[rule]]
id = "tools"
effect = "allow"
actions = ["tool.call", "skill.exec"]

[[limit]]
id = "fetch-calls"
actions = ["tool.call"]
tools = ["fetch"]
scope = "principal"
metric = "calls"
max = 2
window = "lifetime"
on_exceed = "ask"
approvers = ["group:ops"]

[[limit]]
id = "bytes"
actions = ["skill.exec"]
scope = "task"
metric = "bytes"
max = 100
window = "task"
on_exceed = "deny"
)"}});
  REQUIRE(set.ok());
  return *set;
}

TEST_CASE("an exceeded ask limit asks, naming its approvers", "[policies][limits]") {
  auto set = Set();
  Limiter l;
  const auto req = testutil::Req("tool.call", {{"tool", "fetch"}});
  CHECK(set->Evaluate(req, &l).effect == Effect::kAllow);
  CHECK(set->Evaluate(req, &l).effect == Effect::kAllow);
  const auto d = set->Evaluate(req, &l);
  CHECK(d.effect == Effect::kAsk);
  REQUIRE(d.determining.size() == 1);
  CHECK(d.determining[0].rule == "fetch-calls");
  CHECK(d.approvers == std::vector<std::string>{"group:ops"});
  // Other tools are not counted; other principals have their own counter.
  CHECK(set->Evaluate(testutil::Req("tool.call", {{"tool", "shell"}}), &l).effect == Effect::kAllow);
  CHECK(set->Evaluate(testutil::Req("tool.call", {{"tool", "fetch"}}, {}, "acme/agent/other"), &l).effect == Effect::kAllow);
  // Without a limiter, limits are not consulted (policy check, what-if).
  CHECK(set->Evaluate(req).effect == Effect::kAllow);
}

TEST_CASE("a request without the limit's scope or with a bad usage value is denied", "[policies][limits]") {
  auto set = Set();
  Limiter l;
  auto d = set->Evaluate(testutil::Req("skill.exec", {{"skill", "x"}}, {{"usage", {{"bytes", 5}}}}), &l);
  CHECK(d.effect == Effect::kDeny);
  CHECK(d.errors.size() == 1);
  d = set->Evaluate(testutil::Req("skill.exec", {{"skill", "x"}}, {{"task", {{"id", "t"}}}, {"usage", {{"bytes", -1}}}}), &l);
  CHECK(d.effect == Effect::kDeny);
  d = set->Evaluate(testutil::Req("skill.exec", {{"skill", "x"}}, {{"task", {{"id", "t"}}}, {"usage", {{"bytes", 100}}}}), &l);
  CHECK(d.effect == Effect::kAllow);
  l.Adjust("bytes", "task:t", -40);  // the real usage was 60
  d = set->Evaluate(testutil::Req("skill.exec", {{"skill", "x"}}, {{"task", {{"id", "t"}}}, {"usage", {{"bytes", 40}}}}), &l);
  CHECK(d.effect == Effect::kAllow);
}

TEST_CASE("Restore rejects malformed snapshots and keeps the counters", "[policies][limits]") {
  Limiter l;
  l.Adjust("a", "task:1", 5);
  CHECK_FALSE(l.Restore(json::array()).ok());
  CHECK_FALSE(l.Restore(json{{"a|task:1", {{"total", "x"}}}}).ok());
  CHECK(l.Snapshot()["a|task:1"]["total"] == 5);
}

TEST_CASE("concurrent callers never overspend a budget", "[policies][limits]") {
  auto set = Set();
  Limiter l;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto d = set->Evaluate(testutil::Req("skill.exec", {{"skill", "x"}}, {{"task", {{"id", "t"}}}, {"usage", {{"bytes", 1}}}}), &l);
        if (d.effect == Effect::kAllow) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(allowed == 100);
}

}  // namespace
}  // namespace warden::policy
