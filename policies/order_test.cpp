// P43: the decision never depends on file or rule order. A random rule set (globs, conditions, every effect,
// shadow rules, tenant files) is split into files, then rules are shuffled across files and the files listed in a
// random order 1,000 times; every random request must get the same effect, default flag, determining and
// overridden rule ids each time.
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <sstream>

#include "policies/policy_test_util.h"

namespace warden::policy {
namespace {

using nlohmann::json;

std::vector<std::string> RandomRules(std::mt19937& rng, int n) {
  const char* effects[] = {"allow", "deny", "ask"};
  const char* paths[] = {"/w/**", "/w/*.txt", "**/.env", "/w/a/**", "/etc/**", "/w/*/b", "**/*.pem", "/w/a/b"};
  const char* tools[] = {"shell", "fetch", "mcp.*", "payments.refund"};
  const char* hosts[] = {"a.com", "*.a.com", "b.org", "*.com", "x.a.com"};
  std::vector<std::string> rules;
  for (int i = 0; i < n; ++i) {
    std::ostringstream r;
    r << "[[rule]]\nid = \"r" << i << "\"\neffect = \"" << effects[rng() % 3] << "\"\n";
    if (rng() % 8 == 0) r << "mode = \"shadow\"\n";
    switch (rng() % 3) {
      case 0:
        r << "actions = [\"fs." << (rng() % 2 ? "read" : "*") << "\"]\n";
        r << (rng() % 2 ? "paths" : "paths_ci") << " = [\"" << paths[rng() % 8] << "\"]\n";
        if (rng() % 3 == 0) r << "principals = [\"t/agent/*\"]\n";
        break;
      case 1:
        r << "actions = [\"tool.call\"]\ntools = [\"" << tools[rng() % 4] << "\"]\n";
        if (rng() % 2) r << "when = [ { path = \"$.args.n\", between = [0, " << rng() % 10 << "] } ]\n";
        if (rng() % 3 == 0) r << "unless = [ { path = \"$.args.x\", exists = true } ]\n";
        if (rng() % 4 == 0) r << "when_any = [ { path = \"$.args.s\", regex = \"a.*\" }, { path = \"$.args.n\", equals = 3 } ]\n";
        break;
      default:
        r << "actions = [\"net.connect\"]\nhosts = [\"" << hosts[rng() % 5] << "\"]\n";
        if (rng() % 2) r << "ports = [443]\n";
        break;
    }
    rules.push_back(r.str());
  }
  return rules;
}

json RandomRequest(std::mt19937& rng) {
  const char* paths[] = {"/w/x.txt", "/w/a/b", "/w/.env", "/etc/k.PEM", "/w/c/b", "/other", "/w/a/.ENV"};
  const char* tools[] = {"shell", "fetch", "mcp.x", "payments.refund", "none"};
  const char* hosts[] = {"a.com", "x.a.com", "b.org", "c.net", "y.x.a.com"};
  const std::string principal = rng() % 2 ? "t/agent/bot" : "u/user/alice";
  switch (rng() % 3) {
    case 0: return testutil::Req(rng() % 2 ? "fs.read" : "fs.write", {{"path", paths[rng() % 7]}}, json::object(), principal);
    case 1: {
      json args = json::object();
      if (rng() % 3) args["n"] = static_cast<int>(rng() % 12);
      if (rng() % 3 == 0) args["x"] = 1;
      if (rng() % 2) args["s"] = rng() % 2 ? "abc" : "bcd";
      return testutil::Req("tool.call", {{"tool", tools[rng() % 5]}}, {{"args", args}}, principal);
    }
    default:
      return testutil::Req("net.connect", {{"host", hosts[rng() % 5]}, {"port", rng() % 2 ? 443 : 80}}, json::object(), principal);
  }
}

json Essence(const Decision& d) {
  json det = json::array();
  for (const auto& r : d.determining) det.push_back(r.rule);
  json shadow = json::array();
  for (const auto& s : d.shadow) shadow.push_back(s["rule"]);
  return {{"e", EffectName(d.effect)}, {"default", d.is_default}, {"det", det}, {"over", d.overridden}, {"shadow", shadow}};
}

TEST_CASE("P43: 1,000 permutations of files and rules give identical decisions", "[policies][doc][property]") {
  std::mt19937 rng(20261127);
  for (int set_no = 0; set_no < 4; ++set_no) {
    const auto rules = RandomRules(rng, 40);
    std::vector<json> requests;
    for (int i = 0; i < 60; ++i) requests.push_back(RandomRequest(rng));
    std::vector<json> expected;
    const LoadOptions opts{"/", false, {}};
    for (int perm = 0; perm < 250; ++perm) {
      auto shuffled = rules;
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      const int nfiles = 1 + static_cast<int>(rng() % 4);
      testutil::Files files(static_cast<size_t>(nfiles));
      for (int f = 0; f < nfiles; ++f) {
        std::ostringstream name;
        name << "f" << rng() % 1000 << "_" << f << ".toml";
        files[static_cast<size_t>(f)].first = name.str();
      }
      for (const auto& r : shuffled) files[rng() % static_cast<size_t>(nfiles)].second.append(r).append("\n");
      std::shuffle(files.begin(), files.end(), rng);
      auto set = PolicySet::LoadFiles(files, opts);
      INFO(set.status().ToString());
      REQUIRE(set.ok());
      // The index must not change anything either: a linear scan of the same files decides the same way.
      std::shared_ptr<const PolicySet> linear;
      if (perm % 50 == 0) {
        LoadOptions scan = opts;
        scan.index_rules = false;
        auto l = PolicySet::LoadFiles(files, scan);
        REQUIRE(l.ok());
        linear = *l;
      }
      for (size_t i = 0; i < requests.size(); ++i) {
        const auto got = Essence((*set)->Evaluate(requests[i]));
        if (linear) CHECK(Essence(linear->Evaluate(requests[i])) == got);
        if (perm == 0) {
          expected.push_back(got);
        } else if (got != expected[i]) {
          FAIL("set " << set_no << " permutation " << perm << " request " << requests[i].dump() << ": " << got.dump()
                      << " != " << expected[i].dump());
        }
      }
    }
    // The random sets must exercise every outcome, or the property says little.
    std::set<std::string> outcomes;
    for (const auto& e : expected) outcomes.insert(e["e"].get<std::string>() + (e["default"].get<bool>() ? "-default" : ""));
    CHECK(outcomes.size() >= 3);
  }
}

// The reviewer's trace must tell the same story as the decision: the enforce rules it marks matched are exactly the
// determining and overridden ones, the shadow rules it marks matched are the decision's shadow list.
TEST_CASE("Explain marks matched exactly the rules the decision names", "[policies][explain][PART]") {
  std::mt19937 rng(5);
  int traced = 0;
  for (int set_no = 0; set_no < 6; ++set_no) {
    const auto rules = RandomRules(rng, 40);
    std::string text;
    for (const auto& r : rules) text += r + "\n";
    auto set = PolicySet::LoadFiles({{"set.toml", text}}, LoadOptions{"/", false, {}});
    REQUIRE(set.ok());
    for (int i = 0; i < 100; ++i) {
      const json req = RandomRequest(rng);
      const Decision d = (*set)->Evaluate(req);
      const json ex = (*set)->Explain(req);
      std::set<std::string> want, got, want_shadow, got_shadow;
      for (const auto& r : d.determining) want.insert(r.rule);
      want.insert(d.overridden.begin(), d.overridden.end());
      for (const auto& s : d.shadow) want_shadow.insert(s["rule"].get<std::string>());
      for (const auto& r : ex["rules"]) {
        if (r["result"] != "matched") continue;
        (r["mode"] == "shadow" ? got_shadow : got).insert(r["rule"].get<std::string>());
      }
      INFO(req.dump() << "\n" << ex.dump(1));
      CHECK(got == want);
      CHECK(got_shadow == want_shadow);
      CHECK(ex["decision"]["decision"] == EffectName(d.effect));
      traced += static_cast<int>(got.size());
    }
  }
  CHECK(traced > 100);
}

// Every index list (first segments, extensions, domains, CIDR first bytes, names, shared name prefixes, always)
// must find exactly the rules a linear scan finds: random sets built from shapes that land in each list, mixed with
// shapes that do not, against requests that hit, miss and straddle them.
TEST_CASE("the rule index decides like the linear scan", "[policies][index][PART]") {
  const char* paths[] = {"/w/**",      "/w/a/*.txt", "**/.env", "**/*.pem",  "**/x.tar.gz", "/w/**/k.pem",
                         "**/id_rsa*", "**/*",       "/*/a/**", "**/.env.*", "/w/a/b",      "/etc/*.conf"};
  const char* names[] = {"shell", "mcp.github.*", "mcp.*", "mcp.git*", "*", "s?ell", "payments.refund", "pay*"};
  const char* hosts[] = {"a.com", "*.a.com", "*.com", "b.a.com", "c.org"};
  const char* cidrs[] = {"10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0", "127.0.0.1/32", "fd00::/8", "8.0.0.0/7", "::/0"};
  const char* req_paths[] = {"/w/a/x.txt", "/w/.env", "/w/A/K.PEM",    "/w/k.pem",         "/x/y.tar.gz", "/etc/a.conf",
                             "/w/a/b",     "/q/a/z",  "/w/.env.local", "/home/id_rsa.pub", "/",           "/w/gz"};
  const char* req_names[] = {"shell", "mcp.github.pr", "mcp.gitlab", "mcp", "payments.refund", "pay", "sxell"};
  const char* req_hosts[] = {"a.com", "x.a.com", "b.a.com", "c.org", "z.com"};
  const char* req_ips[] = {"10.1.2.3", "10.2.0.1", "127.0.0.1", "9.1.1.1", "fd00::1", "8.8.8.8", "::2"};
  std::mt19937 rng(11);
  for (int set_no = 0; set_no < 30; ++set_no) {
    std::ostringstream t;
    for (int i = 0; i < 60; ++i) {
      const char* effects[] = {"allow", "deny", "ask"};
      t << "[[rule]]\nid = \"r" << i << "\"\neffect = \"" << effects[rng() % 3] << "\"\n";
      auto list = [&](const char* const* from, size_t n, size_t k) {
        std::string out;
        for (size_t j = 0; j < k; ++j) out += std::string(j ? ", " : "") + "\"" + from[rng() % n] + "\"";
        return out;
      };
      switch (rng() % 4) {
        case 0:
          t << "actions = [\"fs.read\"]\n"
            << (rng() % 2 ? "paths" : "paths_ci") << " = [" << list(paths, 12, 1 + rng() % 2) << "]\n";
          break;
        case 1:
          t << "actions = [\"tool.call\"]\ntools = [" << list(names, 8, 1 + rng() % 2) << "]\n";
          break;
        case 2:
          t << "actions = [\"skill.exec\", \"tool.call\"]\nskills = [" << list(names, 8, 1 + rng() % 2) << "]\n";
          break;
        default:
          t << "actions = [\"net.connect\"]\n";
          if (rng() % 2) t << "hosts = [" << list(hosts, 5, 1 + rng() % 2) << "]\n";
          if (rng() % 2) t << "cidrs = [" << list(cidrs, 7, 1 + rng() % 2) << "]\n";
          break;
      }
    }
    const testutil::Files files{{"set.toml", t.str()}};
    LoadOptions opts{"/", false, {}};
    auto indexed = PolicySet::LoadFiles(files, opts);
    opts.index_rules = false;
    auto linear = PolicySet::LoadFiles(files, opts);
    INFO(t.str());
    REQUIRE(indexed.ok());
    REQUIRE(linear.ok());
    for (int i = 0; i < 200; ++i) {
      json req;
      switch (rng() % 4) {
        case 0:
          req = testutil::Req("fs.read", {{"path", req_paths[rng() % 12]}});
          break;
        case 1:
          req = testutil::Req("tool.call", {{"tool", req_names[rng() % 7]}},
                              {{"skill", {{"name", req_names[rng() % 7]}}}});
          break;
        case 2:
          req = testutil::Req("skill.exec", {{"skill", req_names[rng() % 7]}});
          break;
        default: {
          json res{{"ip", req_ips[rng() % 7]}, {"port", 443}};
          if (rng() % 3) res["host"] = req_hosts[rng() % 5];
          req = testutil::Req("net.connect", res);
          break;
        }
      }
      const auto a = Essence((*indexed)->Evaluate(req)), b = Essence((*linear)->Evaluate(req));
      if (a != b) FAIL("request " << req.dump() << ": indexed " << a.dump() << " != linear " << b.dump());
    }
  }
}

}  // namespace
}  // namespace warden::policy
