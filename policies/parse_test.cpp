// Load-time validation (parse.cpp, policy_set.cpp): syntax errors and semantic errors name file:line:column and
// what was expected (P37, P38), every error of every file is listed, inline tests gate the load (P39), and an
// evaluation error inside a deny rule counts as a match (fail closed).
#include <catch2/catch.hpp>

#include "policies/policy_test_util.h"

namespace warden::policy {
namespace {

std::string ErrorsOf(const testutil::Files& files) {
  auto report = PolicySet::Check(files);
  CHECK(report.set == nullptr);
  std::string all;
  for (const auto& e : report.errors) all += e.ToString() + "\n";
  return all;
}

TEST_CASE("conditions on request fields the rule's actions never have are load warnings", "[policies][parse][PART]") {
  const testutil::Files files{{"w.toml", R"([[rule]]
id = "host-on-read"
effect = "deny"
actions = ["fs.read"]
when = [ { path = "$.resource.host", equals = "x" } ]

[[rule]]
id = "args-on-read"
effect = "allow"
actions = ["fs.read", "fs.write"]
paths = ["/w/**"]
unless = [ { path = "$.args.force", exists = false } ]

[[rule]]
id = "fine"
effect = "allow"
actions = ["fs.read", "tool.call"]
when = [ { path = "$.args.argv[0]", equals = "git" }, { path = "$.task.cwd", prefix = "/w" },
         { path = "$.skill.tags[0]", equals = "vcs" }, { path = "$.usage.est_tokens", lt = 10 },
         { path = "$.skill.permissions.scope", equals = "workspace" } ]

[[rule]]
id = "typos"
effect = "allow"
actions = ["tool.call"]
tools = ["shell"]
when = [ { path = "$.task.cdw", equals = "/w" }, { path = "$.resource.tool.name", equals = "x" },
         { path = "$.skill.tags.first", equals = "x" }, { path = "$[0]", equals = 1 } ]
)"}};
  auto report = PolicySet::Check(files);
  REQUIRE(report.set != nullptr);  // warnings never stop a load
  std::string all;
  for (const auto& w : report.warnings) all += w.ToString() + "\n";
  INFO(all);
  CHECK(report.warnings.size() == 6);
  CHECK(all.find("w.toml:5:10: rule \"host-on-read\" field when[0] path \"$.resource.host\": fs.read requests have "
                 "no $.resource.host ($.resource has path, requested_path), so the condition is always false") !=
        std::string::npos);
  CHECK(all.find("\"$.args.force\": fs.read requests have no $.args") != std::string::npos);
  CHECK(all.find("$.args.force\": fs.read requests have no $.args ($ has tenant, principal, action, task, skill, "
                 "resource, usage), so the condition is always true") != std::string::npos);
  CHECK(all.find("fine") == std::string::npos);
  CHECK(all.find("$.task has id, submitted_by, cwd") != std::string::npos);
  CHECK(all.find("$.resource.tool is a single value: it has no .name") != std::string::npos);
  CHECK(all.find("$.skill.tags is an array of strings: it has no .first") != std::string::npos);
  CHECK(all.find("a request is an object, not an array") != std::string::npos);
  // The reference set of the doc has none, and an empty set says that it denies everything.
  CHECK(PolicySet::Check(testutil::ReferenceFiles()).warnings.empty());
  const auto empty = PolicySet::Check({});
  REQUIRE(empty.warnings.size() == 1);
  CHECK(empty.warnings[0].message.find("every request is denied") != std::string::npos);
}

TEST_CASE("P37: a TOML syntax error names file:line:column", "[policies][parse]") {
  auto files = testutil::ReferenceFiles();
  files[1].second += "\n[[rule]]\nid = \"broken\neffect = \"allow\"\n";
  const auto errors = ErrorsOf(files);
  INFO(errors);
  CHECK(errors.find("10-acme.toml:") == 0);
  CHECK(errors.find("TOML syntax") != std::string::npos);
  auto set = PolicySet::LoadFiles(files);
  REQUIRE_FALSE(set.ok());
  CHECK(set.status().message().find("10-acme.toml:") != std::string::npos);
}

TEST_CASE("P38: semantic errors are all reported, each with its position", "[policies][parse]") {
  const std::string bad = R"([[rule]]
id = "a"
effect = "allow"
actions = ["fs.raed"]

[[rule]]
id = "a"
effect = "permit"
actions = ["fs.read"]

[[rule]]
id = "re"
effect = "deny"
actions = ["tool.call"]
when = [ { path = "$.args.x", regex = "(" } ]

[[rule]]
id = "net-paths"
effect = "allow"
actions = ["net.connect"]
paths = ["/x/**"]

[[rule]]
id = "typo"
effect = "allow"
actions = ["fs.read"]
pahts = ["/x"]
)";
  const auto errors = ErrorsOf({{"bad.toml", bad}});
  INFO(errors);
  CHECK(errors.find("bad.toml:4:11: rule \"a\" field actions: unknown action \"fs.raed\"") != std::string::npos);
  CHECK(errors.find("bad.toml:8:10: rule \"a\" field effect: expected allow|deny|ask, got \"permit\"") != std::string::npos);
  CHECK(errors.find("bad.toml:6:1: duplicate rule id \"a\"") != std::string::npos);
  CHECK(errors.find("bad.toml:15:") != std::string::npos);
  CHECK(errors.find("invalid regex") != std::string::npos);
  CHECK(errors.find("bad.toml:21:") != std::string::npos);
  CHECK(errors.find("applies only to fs.read/fs.write") != std::string::npos);
  CHECK(errors.find("unknown key \"pahts\"") != std::string::npos);
}

TEST_CASE("more validation: conditions, limits, groups, scopes", "[policies][parse]") {
  auto one = [](const std::string& text) { return ErrorsOf({{"f.toml", text}}); };
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"tool.call\"]\nwhen=[{path=\"$.a\", equals=1, in=[1]}]\n")
            .find("exactly one operator") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"tool.call\"]\nwhen=[{path=\"a\", equals=1}]\n")
            .find("must start with") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"tool.call\"]\nwhen=[{path=\"$.a\", between=[5,1]}]\n")
            .find("low <= high") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\n").find("missing actions") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\nactions=[\"*\"]\n").find("missing effect") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"X y\"\neffect=\"allow\"\nactions=[\"*\"]\n").find("expected [a-z0-9]") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"net.connect\"]\ncidrs=[\"10.0.0.0/40\"]\n")
            .find("not a CIDR") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"net.connect\"]\nhosts=[\"1.2.3.4\"]\n")
            .find("cidrs") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"fs.read\"]\npaths=[\"relative/x\"]\n")
            .find("absolute") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"task.submit\"]\nprincipals=[\"group:nope\"]\n")
            .find("unknown group \"nope\"") != std::string::npos);
  CHECK(one("[groups]\n\"a/x\" = [\"group:a/y\"]\n\"a/y\" = [\"group:a/x\"]\n").find("group cycle") != std::string::npos);
  CHECK(one("[[limit]]\nid=\"l\"\nactions=[\"tool.call\"]\nmetric=\"calls\"\nmax=3\nwindow=\"soon\"\n")
            .find("duration") != std::string::npos);
  CHECK(one("[[limit]]\nid=\"l\"\nactions=[\"tool.call\"]\nmetric=\"calls\"\nmax=3\non_exceed=\"allow\"\n")
            .find("expected deny|ask") != std::string::npos);
  CHECK(one("[[rule]]\nid=\"x\"\neffect=\"allow\"\nactions=[\"*\"]\nmode=\"dry\"\n").find("enforce|shadow") !=
        std::string::npos);
  CHECK(one("[[rules]]\nid=\"x\"\n").find("unknown top-level key \"rules\"") != std::string::npos);
  CHECK(one("[policy]\ntenant=\"Acme Corp\"\n").find("tenant") != std::string::npos);
}

TEST_CASE("P39: a failing inline test rejects the set and says why", "[policies][parse]") {
  auto files = testutil::ReferenceFiles();
  files.push_back({"tests/t.toml", R"([[test]]
name = "env stays readable"
request = { principal = "acme/agent/bot", action = "fs.read", resource = { path = "/workspace/.env" } }
expect = "allow"
)"});
  auto report = PolicySet::Check(files, LoadOptions{"/", false, {}});
  CHECK(report.set == nullptr);
  REQUIRE(report.tests.size() == 1);
  CHECK_FALSE(report.tests[0].passed);
  CHECK(report.tests[0].message.find("expected allow, got deny [deny-secret-files]") != std::string::npos);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].ToString().find("tests/t.toml:1:1: test \"env stays readable\" failed") == 0);
  files.back().second = R"([[test]]
name = "env stays unreadable"
request = { principal = "acme/agent/bot", action = "fs.read", resource = { path = "/workspace/.env" } }
expect = "deny"
expect_rules = ["deny-secret-files"]
)";
  report = PolicySet::Check(files, LoadOptions{"/", false, {}});
  CHECK(report.set != nullptr);
  CHECK(report.tests.size() == 1);
  // Coverage: every rule no test touched.
  CHECK(std::find(report.untested_rules.begin(), report.untested_rules.end(), "ws-read") == report.untested_rules.end());
  CHECK(std::find(report.untested_rules.begin(), report.untested_rules.end(), "net-github") != report.untested_rules.end());
}

TEST_CASE("an evaluation error fails closed in a deny rule and open in an allow rule", "[policies][parse]") {
  auto set = PolicySet::LoadFiles({{"r.toml", R"([[rule]]
id = "deny-slow"
effect = "deny"
actions = ["tool.call"]
when = [ { path = "$.args.s", regex = "(a|aa)+" } ]
[[rule]]
id = "allow-slow"
effect = "allow"
actions = ["tool.call"]
when = [ { path = "$.args.s", regex = "(x|xx)+" } ]
[[rule]]
id = "allow-all"
effect = "allow"
actions = ["tool.call"]
)"}});
  REQUIRE(set.ok());
  const auto d = (*set)->Evaluate(testutil::Req("tool.call", {{"tool", "t"}}, {{"args", {{"s", std::string(60, 'a') + "!"}}}}));
  CHECK(d.effect == Effect::kDeny);
  REQUIRE(d.determining.size() == 1);
  CHECK(d.determining[0].rule == "deny-slow");
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0]["rule"] == "deny-slow");
  const auto e = (*set)->Evaluate(testutil::Req("tool.call", {{"tool", "t"}}, {{"args", {{"s", std::string(60, 'x') + "!"}}}}));
  CHECK(e.effect == Effect::kAllow);
  REQUIRE(e.determining.size() == 1);
  CHECK(e.determining[0].rule == "allow-all");
  CHECK(e.errors.size() == 1);
}

TEST_CASE("tenant files apply to their tenant only", "[policies][parse]") {
  auto set = PolicySet::LoadFiles({{"t.toml", "[policy]\ntenant = \"acme\"\n[[rule]]\nid = \"x\"\neffect = \"allow\"\n"
                                              "actions = [\"fs.read\"]\npaths = [\"/w/**\"]\n"}},
                                  LoadOptions{"/", false, {}});
  REQUIRE(set.ok());
  CHECK((*set)->Evaluate(testutil::Req("fs.read", {{"path", "/w/a"}})).effect == Effect::kAllow);
  CHECK((*set)->Evaluate(testutil::Req("fs.read", {{"path", "/w/a"}}, {}, "other/agent/bot")).is_default);
}

TEST_CASE("the set hash covers file names and contents, not their order", "[policies][parse]") {
  auto files = testutil::ReferenceFiles();
  auto a = PolicySet::LoadFiles(files);
  std::reverse(files.begin(), files.end());
  auto b = PolicySet::LoadFiles(files);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)->hash() == (*b)->hash());
  files[0].second += "\n# comment\n";
  auto c = PolicySet::LoadFiles(files);
  REQUIRE(c.ok());
  CHECK((*c)->hash() != (*a)->hash());
  files[0].first = "renamed.toml";
  auto d = PolicySet::LoadFiles(files);
  REQUIRE(d.ok());
  CHECK((*d)->hash() != (*c)->hash());
}

}  // namespace
}  // namespace warden::policy
