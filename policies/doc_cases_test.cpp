// The policy cases P1-P45 of policy-audit.md A.8.7 against the reference set of A.8.6 (policy_test_util.h).
// Stateless cases are one table; cases with state (groups reloaded, budgets, windows, shadow rules, reloads,
// guardrails, order, concurrency, latency) have their own TEST_CASE named after the case. P36-P41 and P44 live in
// watcher_test.cpp, P43 in order_test.cpp.
#include <unistd.h>

// GCC 12 at -O3 reports a false -Wrestrict inside std::string's operator+ (GCC bug 105651) for this file's
// request builders; the code is plain string concatenation.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

#include "policies/policy_test_util.h"
#include "tests/support/test_support.h"

namespace warden::policy {
namespace {

using testutil::Req;
using nlohmann::json;

// A sandbox root with the links of P6/P7: /workspace/link -> /etc/passwd, /workspace/d -> /etc.
struct Sandbox {
  testing::TempDir root;
  Sandbox() {
    namespace fs = std::filesystem;
    fs::create_directories(root.path() / "workspace/src");
    fs::create_directories(root.path() / "etc");
    testutil::WriteFiles(root.path(), {{"workspace/src/main.cc", "int main() {}\n"},
                                       {"workspace/a.txt", "a\n"},
                                       {"etc/passwd", "root:x:0:0\n"},
                                       {"etc/shadow", "root:*\n"}});
    fs::create_symlink("/etc/passwd", root.path() / "workspace/link");
    fs::create_symlink("/etc", root.path() / "workspace/d");
  }
  LoadOptions Options() const {
    LoadOptions o;
    o.sandbox_root = root.path();
    return o;
  }
};

std::shared_ptr<const PolicySet> Load(const testutil::Files& files, const LoadOptions& o) {
  auto set = PolicySet::LoadFiles(files, o);
  INFO(set.status().ToString());
  REQUIRE(set.ok());
  return *set;
}

std::vector<std::string> Ids(const Decision& d) {
  std::vector<std::string> ids;
  for (const auto& r : d.determining) ids.push_back(r.rule);
  return ids;
}

struct Case {
  const char* id;
  json request;
  Effect expect;
  std::vector<std::string> rules;  // determining rule ids, sorted
  int is_default = -1;             // -1: not checked
  bool invalid = false;            // expect invalid_request
  const char* why;
};

TEST_CASE("A.8.7 stateless cases P2-P31 on the reference set", "[policies][doc]") {
  Sandbox sb;
  auto set = Load(testutil::ReferenceFiles(), sb.Options());
  const json shell_task{{"task", {{"id", "t-1"}}}};
  auto shell = [&](json argv, bool compound = false) {
    return Req("tool.call", {{"tool", "shell"}}, {{"args", {{"argv", argv}, {"compound", compound}}}});
  };
  auto refund = [&](json args) { return Req("tool.call", {{"tool", "payments.refund"}}, {{"args", args}}); };
  auto net = [&](const std::string& host, int port, json extra = json::object()) {
    json res{{"host", host}, {"port", port}};
    for (auto& [k, v] : extra.items()) res[k] = v;
    return Req("net.connect", res);
  };
  const std::vector<Case> cases = {
      {"P2", Req("fs.read", {{"path", "/workspace/src/main.cc"}}), Effect::kAllow, {"ws-read"}, 0, false, "plain allow"},
      {"P3", Req("fs.read", {{"path", "/workspace/../etc/passwd"}}), Effect::kDeny, {}, 1, false, "lexical .."},
      {"P4", Req("fs.read", {{"path", "/workspace/./sub/../../etc/passwd"}}), Effect::kDeny, {}, 1, false, "mixed . and .."},
      {"P5", Req("fs.read", {{"path", "/workspace2/notes.txt"}}), Effect::kDeny, {}, 1, false, "segment boundary"},
      {"P6", Req("fs.read", {{"path", "/workspace/link"}}), Effect::kDeny, {}, 1, false, "symlink resolved"},
      {"P7", Req("fs.write", {{"path", "/workspace/d/x"}}), Effect::kDeny, {}, 1, false, "symlinked parent"},
      {"P9", Req("fs.read", {{"path", "/workspace/app/.env"}}), Effect::kDeny, {"deny-secret-files"}, 0, false, "forbid wins"},
      {"P10", Req("fs.read", {{"path", "/workspace/app/.ENV"}}), Effect::kDeny, {"deny-secret-files"}, 0, false, "paths_ci"},
      {"P11", Req("fs.read", {{"path", "/WORKSPACE/a.txt"}}), Effect::kDeny, {}, 1, false, "allow globs case-sensitive"},
      {"P12", Req("fs.write", {{"path", "/workspace/.git/config"}}), Effect::kDeny, {"deny-git-internals"}, 0, false, "overlap"},
      {"P13b", Req("fs.read", {{"path", "/workspace/.env"}}), Effect::kDeny, {"deny-secret-files"}, 0, false, "** zero dirs"},
      {"P14", Req("fs.read", {{"path", std::string("/workspace/a\0.txt", 17)}}), Effect::kDeny, {}, 0, true, "NUL"},
      {"P15a", Req("fs.read", {{"path", "a.txt"}}, {{"task", {{"cwd", "/workspace"}}}}), Effect::kAllow, {"ws-read"}, 0, false, "cwd"},
      {"P15b", Req("fs.read", {{"path", "a.txt"}}), Effect::kDeny, {}, 0, true, "relative without cwd"},
      {"P16", Req("skill.select", {{"skill", "pdf-t\xd0\xbe\xd0\xbels"}}), Effect::kDeny, {}, 0, true, "Cyrillic o"},
      {"P16-ok", Req("skill.select", {{"skill", "pdf-tools"}}), Effect::kAllow, {"skills-ok"}, 0, false, "ASCII name"},
      {"P17", net("\xd0\xb0pi.github.com", 443), Effect::kDeny, {}, 1, false, "IDNA form differs"},
      {"P18", net("API.GitHub.COM.", 443), Effect::kAllow, {"net-github"}, 0, false, "case + trailing dot"},
      {"P19a", net("evilgithubusercontent.com", 443), Effect::kDeny, {}, 1, false, "label boundary"},
      {"P19b", net("raw.githubusercontent.com.evil.net", 443), Effect::kDeny, {}, 1, false, "suffix"},
      {"P19c", net("githubusercontent.com", 443), Effect::kDeny, {}, 1, false, "apex"},
      {"P19-ok", net("raw.githubusercontent.com", 443), Effect::kAllow, {"net-github"}, 0, false, "one extra label"},
      {"P20", net("api.github.com", 22), Effect::kDeny, {}, 1, false, "port"},
      {"P21", net("api.github.com", 443, {{"ip", "169.254.169.254"}}), Effect::kDeny, {"deny-local-nets"}, 0, false, "resolved IP"},
      {"P21-v6", net("api.github.com", 443, {{"ip", "::ffff:127.0.0.1"}}), Effect::kDeny, {"deny-local-nets"}, 0, false, "mapped v4"},
      {"P22", net("140.82.112.5", 443), Effect::kDeny, {}, 1, false, "IP literal"},
      {"P23", Req("net.connect", {{"host", "api.github.com"}, {"port", 443}}, {{"skill", {{"name", "pdf-tools"}, {"tags", {"offline"}}}}}),
       Effect::kDeny, {"deny-offline-net"}, 0, false, "skill context"},
      {"P24", shell({"git", "push", "origin", "main"}), Effect::kAsk, {"ask-git-push"}, 0, false, "ask beats allow"},
      {"P25", shell({"git", "push", "origin", "release/1.2"}), Effect::kDeny, {"deny-push-release"}, 0, false, "deny beats ask"},
      {"P26", shell({"git", "status;", "rm", "-rf", "/"}), Effect::kDeny, {}, 1, false, "whole tokens"},
      {"P26-ok", shell({"git", "status"}), Effect::kAllow, {"shell-git"}, 0, false, "plain status"},
      {"P27", shell({"git", "status"}, true), Effect::kDeny, {}, 1, false, "compound"},
      {"P28", refund(json::object()), Effect::kDeny, {}, 1, false, "missing attribute"},
      {"P29", refund({{"amount_cents", "4000"}}), Effect::kDeny, {}, 1, false, "no coercion"},
      {"P30a", refund({{"amount_cents", 50000}}), Effect::kAllow, {"refund-small"}, 0, false, "upper bound"},
      {"P30b", refund({{"amount_cents", 50001}}), Effect::kDeny, {}, 1, false, "above"},
      {"P30c", refund({{"amount_cents", 0}}), Effect::kDeny, {}, 1, false, "zero"},
      {"P30d", refund({{"amount_cents", -5}}), Effect::kDeny, {}, 1, false, "negative"},
      {"P30e", refund({{"amount_cents", 1e20}}), Effect::kDeny, {}, 1, false, "overflow"},
      {"P30f", refund({{"amount_cents", json::parse("18446744073709551615")}}), Effect::kDeny, {}, 1, false, "uint64"},
      {"P31", Req("fs.read", {{"path", "/workspace/a.txt"}}, json::object(), "acme-evil/agent/x"), Effect::kDeny, {}, 1, false,
       "segment-bounded principal"},
  };
  for (const auto& c : cases) {
    const Decision d = set->Evaluate(c.request);
    INFO(c.id << " (" << c.why << "): " << ToJson(d).dump());
    CHECK(d.effect == c.expect);
    CHECK(Ids(d) == c.rules);
    if (c.is_default >= 0) CHECK(d.is_default == (c.is_default == 1));
    CHECK(d.invalid_request.empty() == !c.invalid);
    CHECK(d.policy_set == set->hash());
  }
}

TEST_CASE("P1: an empty folder denies everything by default", "[policies][doc]") {
  testing::TempDir dir;
  auto set = PolicySet::LoadDir(dir.path());
  REQUIRE(set.ok());
  const Decision d = (*set)->Evaluate(Req("fs.read", {{"path", "/workspace/a.txt"}}));
  CHECK(d.effect == Effect::kDeny);
  CHECK(d.is_default);
  CHECK(d.determining.empty());
}

TEST_CASE("P3/P6: explanations keep the requested path next to the resolved one", "[policies][doc]") {
  Sandbox sb;
  auto set = Load(testutil::ReferenceFiles(), sb.Options());
  auto d = set->Evaluate(Req("fs.read", {{"path", "/workspace/../etc/passwd"}}));
  CHECK(d.request["resource"]["path"] == "/etc/passwd");
  CHECK(d.request["resource"]["requested_path"] == "/workspace/../etc/passwd");
  d = set->Evaluate(Req("fs.read", {{"path", "/workspace/link"}}));
  CHECK(d.request["resource"]["path"] == "/etc/passwd");
  CHECK(d.request["resource"]["requested_path"] == "/workspace/link");
  // P7: the link in a parent component, and a target that does not exist yet.
  d = set->Evaluate(Req("fs.write", {{"path", "/workspace/d/x"}}));
  CHECK(d.request["resource"]["path"] == "/etc/x");
}

TEST_CASE("P8: a file swapped for a symlink is judged by its target at the next check", "[policies][doc]") {
  // Enforcement at open (openat2 RESOLVE_NO_SYMLINKS) is the sandbox's; the policy side must not cache resolutions.
  Sandbox sb;
  auto set = Load(testutil::ReferenceFiles(), sb.Options());
  const auto req = Req("fs.read", {{"path", "/workspace/a.txt"}});
  CHECK(set->Evaluate(req).effect == Effect::kAllow);
  std::filesystem::remove(sb.root.path() / "workspace/a.txt");
  std::filesystem::create_symlink("/etc/shadow", sb.root.path() / "workspace/a.txt");
  const auto d = set->Evaluate(req);
  CHECK(d.effect == Effect::kDeny);
  CHECK(Ids(d) == std::vector<std::string>{"deny-secret-files"});
}

TEST_CASE("P9: a deny lists the allows it overrode", "[policies][doc]") {
  Sandbox sb;
  auto set = Load(testutil::ReferenceFiles(), sb.Options());
  const auto d = set->Evaluate(Req("fs.read", {{"path", "/workspace/app/.env"}}));
  CHECK(d.overridden == std::vector<std::string>{"ws-read"});
  REQUIRE(d.determining.size() == 1);
  CHECK(d.determining[0].file == "00-guardrails.toml");
  CHECK(d.determining[0].line == 6);
  CHECK(d.determining[0].reason == "Secret files are never readable by agents");
  const auto j = ToJson(d);
  CHECK(j["decision"] == "deny");
  CHECK(j["determining"][0]["rule"] == "deny-secret-files");
  CHECK(j["policy_set"].get<std::string>().rfind("sha256:", 0) == 0);
}

TEST_CASE("P13: * stays in one segment, ** matches zero directories and dotfiles", "[policies][doc]") {
  auto set = Load({{"a.toml", R"([[rule]]
id = "txt"
effect = "allow"
actions = ["fs.read"]
paths = ["/workspace/*.txt"]
[[rule]]
id = "env"
effect = "allow"
actions = ["fs.read"]
paths = ["**/.env"]
)"}},
                  LoadOptions{"/", false, {}});
  CHECK(set->Evaluate(Req("fs.read", {{"path", "/workspace/sub/a.txt"}})).is_default);
  CHECK(Ids(set->Evaluate(Req("fs.read", {{"path", "/workspace/a.txt"}}))) == std::vector<std::string>{"txt"});
  CHECK(Ids(set->Evaluate(Req("fs.read", {{"path", "/workspace/.env"}}))) == std::vector<std::string>{"env"});
  CHECK(Ids(set->Evaluate(Req("fs.read", {{"path", "/.env"}}))) == std::vector<std::string>{"env"});
}

TEST_CASE("P17: a Cyrillic host is compared in its punycode form", "[policies][doc]") {
  auto set = Load(testutil::ReferenceFiles(), LoadOptions{});
  const auto d = set->Evaluate(Req("net.connect", {{"host", "\xd0\xb0pi.github.com"}, {"port", 443}}));
  CHECK(d.request["resource"]["host"] == "xn--pi-6kc.github.com");
  CHECK(d.is_default);
}

TEST_CASE("P28/P29: failed conditions are explained as missing or type_mismatch", "[policies][doc]") {
  auto set = Load(testutil::ReferenceFiles(), LoadOptions{});
  auto d = set->Evaluate(Req("tool.call", {{"tool", "payments.refund"}}, {{"args", json::object()}}));
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0]["rule"] == "refund-small");
  CHECK(d.notes[0]["note"] == "missing");
  d = set->Evaluate(Req("tool.call", {{"tool", "payments.refund"}}, {{"args", {{"amount_cents", "4000"}}}}));
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0]["note"] == "type_mismatch");
}

TEST_CASE("P32: nested group membership, recomputed when the groups change", "[policies][doc]") {
  auto files = testutil::ReferenceFiles();
  auto set = Load(files, LoadOptions{});
  const auto submit = Req("task.submit", json::object(), json::object(), "acme/user/alice");
  CHECK(Ids(set->Evaluate(submit)) == std::vector<std::string>{"submit"});
  CHECK(set->Evaluate(Req("task.submit", json::object(), json::object(), "acme/user/bob")).is_default);
  // Alice leaves the leads group; the closure is rebuilt by the reload.
  for (auto& [name, text] : files) {
    if (name == "groups.toml") {
      text = "[groups]\n\"acme/submitters\" = [\"group:acme/leads\"]\n\"acme/leads\" = [\"acme/user/carol\"]\n"
             "\"acme/maintainers\" = [\"acme/user/bob\"]\n";
    }
  }
  auto reloaded = Load(files, LoadOptions{});
  CHECK(reloaded->Evaluate(submit).is_default);
}

TEST_CASE("P33: a token budget per task, kept across a restart", "[policies][doc]") {
  auto set = Load(testutil::ReferenceFiles(), LoadOptions{});
  auto gen = [](int tokens) {
    return Req("model.generate", {{"model", "claude-x"}}, {{"task", {{"id", "t-7"}}}, {"usage", {{"est_tokens", tokens}}}});
  };
  Limiter limiter;
  limiter.Adjust("tokens-per-task", "task:t-7", 198000);
  auto d = set->Evaluate(gen(4000), &limiter);
  CHECK(d.effect == Effect::kDeny);
  CHECK(Ids(d) == std::vector<std::string>{"tokens-per-task"});
  REQUIRE(d.limits.size() == 1);
  CHECK(d.limits[0].used == 198000);
  CHECK(d.limits[0].exceeded);
  CHECK(set->Evaluate(gen(1500), &limiter).effect == Effect::kAllow);
  // Restart: a new limiter restored from the saved usage sees 199,500 used.
  const auto saved = limiter.Snapshot();
  Limiter restarted;
  REQUIRE(restarted.Restore(saved).ok());
  CHECK(set->Evaluate(gen(4000), &restarted).effect == Effect::kDeny);
  CHECK(set->Evaluate(gen(500), &restarted).effect == Effect::kAllow);
  CHECK(set->Evaluate(gen(1), &restarted).effect == Effect::kDeny);  // 200,000 used now
  // Another task has its own budget.
  auto other = gen(4000);
  other["task"]["id"] = "t-8";
  CHECK(set->Evaluate(other, &restarted).effect == Effect::kAllow);
}

TEST_CASE("P34: 30 shell calls per 60 s per task, sliding window", "[policies][doc]") {
  auto set = Load(testutil::ReferenceFiles(), LoadOptions{});
  int64_t now = 1'000'000'000;
  Limiter limiter([&] { return now; });
  const auto call = Req("tool.call", {{"tool", "shell"}},
                        {{"task", {{"id", "t-1"}}}, {"args", {{"argv", {"git", "status"}}, {"compound", false}}}});
  for (int i = 0; i < 30; ++i) {
    CHECK(set->Evaluate(call, &limiter).effect == Effect::kAllow);
    now += 1'000'000'000;  // one per second
  }
  const auto d = set->Evaluate(call, &limiter);
  CHECK(d.effect == Effect::kDeny);
  CHECK(Ids(d) == std::vector<std::string>{"shell-rate"});
  CHECK(d.overridden == std::vector<std::string>{"shell-git"});
  now = 61'000'000'000LL;  // the first call (t=1 s) leaves the window at t=61 s
  CHECK(set->Evaluate(call, &limiter).effect == Effect::kAllow);
  CHECK(set->Evaluate(call, &limiter).effect == Effect::kDeny);
  now += 60'000'000'000LL;
  CHECK(set->Evaluate(call, &limiter).effect == Effect::kAllow);
}

TEST_CASE("P35: a shadow deny is reported as would-deny and not enforced", "[policies][doc]") {
  auto files = testutil::ReferenceFiles();
  files.push_back({"50-shadow.toml", R"([[rule]]
id = "shadow-no-main"
effect = "deny"
mode = "shadow"
actions = ["fs.read"]
paths = ["/workspace/src/**"]
)"});
  auto set = Load(files, LoadOptions{"/", false, {}});
  const auto d = set->Evaluate(Req("fs.read", {{"path", "/workspace/src/main.cc"}}));
  CHECK(d.effect == Effect::kAllow);
  REQUIRE(d.shadow.size() == 1);
  CHECK(d.shadow[0]["rule"] == "shadow-no-main");
  CHECK(d.shadow[0]["would"] == "deny");
}

TEST_CASE("P42: the policies folder, audit DB and key are never open to agents", "[policies][doc]") {
  LoadOptions o;
  o.resolve_symlinks = false;
  o.protected_paths = {"/home/u/.warden/policies", "/home/u/.warden/audit/audit.db", "/home/u/.warden/audit/audit.key"};
  auto set = Load({{"open.toml", "[[rule]]\nid = \"everything\"\neffect = \"allow\"\nactions = [\"fs.*\"]\npaths = [\"/**\"]\n"}}, o);
  for (const char* p : {"/home/u/.warden/policies/00.toml", "/home/u/.warden/policies", "/home/u/.warden/audit/audit.db",
                        "/home/u/.warden/audit/./audit.key", "/home/u/.warden/x/../policies/new.toml"}) {
    for (const char* action : {"fs.write", "fs.read"}) {
      const auto d = set->Evaluate(Req(action, {{"path", p}}));
      INFO(action << " " << p);
      CHECK(d.effect == Effect::kDeny);
      CHECK(Ids(d) == std::vector<std::string>{"builtin-protected-paths"});
    }
  }
  // The WAL beside the DB is its own path: the runtime lists it; a sibling name is not covered by accident.
  CHECK(set->Evaluate(Req("fs.write", {{"path", "/home/u/.warden/policies-old/x"}})).effect == Effect::kAllow);
}

TEST_CASE("P45: p99 evaluation under 50 us with 1,000 rules", "[policies][doc]") {
  std::ostringstream text;
  for (int i = 0; i < 1000; ++i) {
    text << "[[rule]]\nid = \"r" << i << "\"\n";
    switch (i % 4) {
      case 0: text << "effect = \"allow\"\nactions = [\"fs.read\"]\npaths = [\"/data" << i << "/**\"]\n"; break;
      case 1: text << "effect = \"deny\"\nactions = [\"fs.write\"]\npaths_ci = [\"**/*.k" << i << "\"]\n"; break;
      case 2:
        text << "effect = \"allow\"\nactions = [\"tool.call\"]\ntools = [\"t" << i
             << "\"]\nwhen = [{ path = \"$.args.n\", between = [0, " << i << "] }]\n";
        break;
      default: text << "effect = \"ask\"\nactions = [\"net.connect\"]\nhosts = [\"*.h" << i << ".com\"]\n"; break;
    }
  }
  auto set = Load({{"big.toml", text.str()}}, LoadOptions{"/", false, {}});
  std::vector<json> reqs;
  for (int i = 0; i < 200; ++i) {
    reqs.push_back(Req("fs.read", {{"path", "/data" + std::to_string(i * 4) + "/x/y.txt"}}));
    reqs.push_back(Req("fs.write", {{"path", "/data/a.K" + std::to_string(i * 4 + 1)}}));
    reqs.push_back(Req("tool.call", {{"tool", "t" + std::to_string(i * 4 + 2)}}, {{"args", {{"n", i}}}}));
    reqs.push_back(Req("net.connect", {{"host", "a.h" + std::to_string(i * 4 + 3) + ".com"}, {"port", 443}}));
  }
  std::vector<int64_t> ns;
  for (int round = 0; round < 5; ++round) {
    for (const auto& r : reqs) {
      const auto d = set->Evaluate(r);
      CHECK(!d.is_default);
      ns.push_back(d.eval_ns);
    }
  }
  std::sort(ns.begin(), ns.end());
  const int64_t p99 = ns[ns.size() * 99 / 100];
  INFO("p99 " << p99 << " ns");
#if defined(__SANITIZE_ADDRESS__)
  CHECK(p99 < 500'000);  // sanitizers slow everything ~10x
#else
  CHECK(p99 < 50'000);
#endif
}

}  // namespace
}  // namespace warden::policy
