// Unit tests of the scope matchers (match.cpp) and conditions (condition.cpp): globs, hosts, CIDRs, JSON paths,
// every operator with missing values and type mismatches, and the regex match limit as an evaluation error.
#include <catch2/catch.hpp>
#include <random>

#include "policies/policy_internal.h"

namespace warden::policy::detail {
namespace {

bool G(const char* pattern, const char* path, bool ci = false) {
  std::string err;
  auto g = SegmentGlob::Compile(pattern, ci, &err);
  REQUIRE(g);
  const std::string subject = ci ? AsciiLower(path) : path;
  return g->Match(SplitSegments(subject));
}

TEST_CASE("segment globs: * within a segment, ** across any depth", "[policies][match]") {
  CHECK(G("/workspace/**", "/workspace"));
  CHECK(G("/workspace/**", "/workspace/a/b/c"));
  CHECK_FALSE(G("/workspace/**", "/workspace2/a"));
  CHECK(G("/workspace/*.txt", "/workspace/a.txt"));
  CHECK_FALSE(G("/workspace/*.txt", "/workspace/s/a.txt"));
  CHECK(G("**/.env", "/.env"));
  CHECK(G("**/.env", "/a/b/.env"));
  CHECK_FALSE(G("**/.env", "/a/b/.env.bak"));
  CHECK(G("**/.env.*", "/a/.env.local"));
  CHECK(G("/a/**/z", "/a/z"));
  CHECK(G("/a/**/z", "/a/b/c/z"));
  CHECK_FALSE(G("/a/**/z", "/a/b/c/zz"));
  CHECK(G("/a/?.c", "/a/x.c"));
  CHECK(G("**/id_rsa*", "/home/u/.ssh/ID_RSA.pub", true));
  CHECK_FALSE(G("**/id_rsa*", "/home/u/.ssh/ID_RSA.pub", false));
  std::string err;
  CHECK_FALSE(SegmentGlob::Compile("/a/x**", false, &err));
  CHECK(err.find("whole segment") != std::string::npos);
}

// The plain definition the compiled shapes must agree with: `**` tries every split, `*`/`?` per segment.
bool ReferenceWild(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') return ReferenceWild(p.substr(1), s) || (!s.empty() && ReferenceWild(p, s.substr(1)));
  return !s.empty() && (p[0] == '?' || p[0] == s[0]) && ReferenceWild(p.substr(1), s.substr(1));
}
bool ReferenceGlob(const std::vector<std::string_view>& p, size_t pi, const std::vector<std::string_view>& s,
                   size_t si) {
  if (pi == p.size()) return si == s.size();
  if (p[pi] == "**") {
    for (size_t k = si; k <= s.size(); ++k) {
      if (ReferenceGlob(p, pi + 1, s, k)) return true;
    }
    return false;
  }
  return si < s.size() && ReferenceWild(p[pi], s[si]) && ReferenceGlob(p, pi + 1, s, si + 1);
}

TEST_CASE("segment globs: the one-pass shapes decide like the plain definition", "[policies][match][PART]") {
  const char* pat_segs[] = {"**", "a", "b", "*", "a*", "*.c", "?", ".env", "**"};
  const char* sub_segs[] = {"a", "b", "x.c", ".env", "ab", "c"};
  std::mt19937 rng(7);
  int matches = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string pattern, subject;
    const size_t np = 1 + rng() % 5, ns = rng() % 6;
    for (size_t k = 0; k < np; ++k) pattern += std::string("/") + pat_segs[rng() % 9];
    for (size_t k = 0; k < ns; ++k) subject += std::string("/") + sub_segs[rng() % 6];
    std::string err;
    auto g = SegmentGlob::Compile(pattern, false, &err);
    REQUIRE(g);
    const auto ps = SplitSegments(pattern), ss = SplitSegments(subject);
    const bool want = ReferenceGlob(ps, 0, ss, 0);
    INFO(pattern << " on " << subject);
    REQUIRE(g->Match(ss) == want);
    matches += want;
  }
  CHECK(matches > 1000);  // the generator must produce both outcomes
}

TEST_CASE("segment globs: the extension the last segment fixes", "[policies][match][PART]") {
  auto ext = [](const char* pattern, bool ci = false) {
    std::string err;
    return SegmentGlob::Compile(pattern, ci, &err)->LastExtension();
  };
  CHECK(ext("**/*.pem") == std::optional<std::string>("pem"));
  CHECK(ext("**/.env") == std::optional<std::string>("env"));
  CHECK(ext("**/*.PEM", true) == std::optional<std::string>("pem"));
  CHECK(ext("/a/**/x.tar.gz") == std::optional<std::string>("gz"));
  CHECK(ext("**/file.") == std::optional<std::string>(""));
  CHECK_FALSE(ext("**/id_rsa*"));  // no dot
  CHECK_FALSE(ext("**/.env.*"));   // a wildcard after the last dot: ".env.a.b" ends in "b"
  CHECK_FALSE(ext("**/*.p?m"));
  CHECK_FALSE(ext("/a/**"));
}

TEST_CASE("hosts: exact or *.suffix at a label boundary, never the apex", "[policies][match]") {
  HostPattern w{".example.com", true}, e{"example.com", false};
  CHECK(HostMatch(w, "a.example.com"));
  CHECK(HostMatch(w, "a.b.example.com"));
  CHECK_FALSE(HostMatch(w, "example.com"));
  CHECK_FALSE(HostMatch(w, "evilexample.com"));
  CHECK(HostMatch(e, "example.com"));
  CHECK_FALSE(HostMatch(e, "a.example.com"));
}

TEST_CASE("CIDRs over IPv4 and IPv6, mapped addresses count as IPv4", "[policies][match]") {
  auto c = *ParseCidr("169.254.0.0/16");
  CHECK(CidrContains(c, *ParseIp("169.254.169.254")));
  CHECK_FALSE(CidrContains(c, *ParseIp("169.255.0.1")));
  CHECK(CidrContains(c, *ParseIp("::ffff:169.254.1.1")));
  auto v6 = *ParseCidr("fd00::/8");
  CHECK(CidrContains(v6, *ParseIp("fd12::1")));
  CHECK_FALSE(CidrContains(v6, *ParseIp("fe80::1")));
  CHECK(CidrContains(*ParseCidr("0.0.0.0/0"), *ParseIp("8.8.8.8")));
  CHECK_FALSE(ParseCidr("10.0.0.0/33"));
  CHECK_FALSE(ParseCidr("10.0.0/8"));
  CHECK_FALSE(ParseIp("api.github.com"));
}

TEST_CASE("JSON paths: names, indexes, quoted keys, no wildcards", "[policies][match]") {
  std::string err;
  auto p = ParseJsonPath("$.args.argv[1]", &err);
  REQUIRE(p);
  nlohmann::json j{{"args", {{"argv", {"git", "push"}}}}, {"odd key", 3}};
  CHECK(*Lookup(j, *p) == "push");
  auto q = ParseJsonPath("$[\"odd key\"]", &err);
  REQUIRE(q);
  CHECK(*Lookup(j, *q) == 3);
  CHECK(Lookup(j, *ParseJsonPath("$.args.argv[5]", &err)) == nullptr);
  CHECK_FALSE(ParseJsonPath("$.args[*]", &err));
  CHECK_FALSE(ParseJsonPath("args", &err));
  CHECK_FALSE(ParseJsonPath("$..x", &err));
}

CondResult Eval(Op op, nlohmann::json value, const nlohmann::json& req, std::string* note = nullptr,
                bool compiled = false) {
  Condition c;
  std::string err;
  c.path = *ParseJsonPath("$.v", &err);
  c.path_text = "$.v";
  c.op = op;
  c.value = std::move(value);
  if (op == Op::kRegex) c.regex = CompileRegex(c.value.get<std::string>(), &err);
  if (compiled) CompileValue(&c);
  std::string n;
  auto r = EvalCondition(c, req, note ? note : &n, &err);
  return r;
}

TEST_CASE("conditions: values compiled at load decide like the JSON values", "[policies][match][PART]") {
  using nlohmann::json;
  const json values[] = {"git", json::array({"git", "make"}), json::array({"git", 1}), 4, json::array({0, 10}),
                         json::array({-5, 2.5})};
  const json subjects[] = {"git", "gi", "make", 1, 4, 2.5, 11, json::array({"git"}), nullptr, true, "10"};
  int checked = 0;
  for (Op op : {Op::kEquals, Op::kNotEquals, Op::kIn, Op::kNotIn, Op::kBetween}) {
    for (const auto& v : values) {
      const bool list = op == Op::kIn || op == Op::kNotIn || op == Op::kBetween;
      if (v.is_array() != list || (op == Op::kBetween && !v[0].is_number())) continue;
      for (const auto& subject : subjects) {
        const json req{{"v", subject}};
        std::string plain_note, compiled_note;
        const auto plain = Eval(op, v, req, &plain_note, false);
        INFO(static_cast<int>(op) << " " << v.dump() << " on " << subject.dump());
        CHECK(Eval(op, v, req, &compiled_note, true) == plain);
        CHECK(compiled_note == plain_note);
        ++checked;
      }
    }
  }
  CHECK(checked > 60);
}

TEST_CASE("conditions: no coercion, missing never satisfies, exists=false does", "[policies][match]") {
  using nlohmann::json;
  const json none = json::object();
  for (Op op : {Op::kEquals, Op::kNotEquals, Op::kIn, Op::kNotIn, Op::kPrefix, Op::kLt, Op::kBetween, Op::kContains}) {
    json v = op == Op::kIn || op == Op::kNotIn ? json{1} : op == Op::kBetween ? json{0, 1} : op == Op::kPrefix ? json("a") : json(1);
    std::string note;
    CHECK(Eval(op, v, none, &note) == CondResult::kFalse);
    CHECK(note == "missing");
  }
  CHECK(Eval(Op::kExists, false, none) == CondResult::kTrue);
  CHECK(Eval(Op::kExists, true, json{{"v", nullptr}}) == CondResult::kTrue);
  std::string note;
  CHECK(Eval(Op::kEquals, 4000, json{{"v", "4000"}}, &note) == CondResult::kFalse);
  CHECK(note == "type_mismatch");
  CHECK(Eval(Op::kNotEquals, 4000, json{{"v", "4000"}}) == CondResult::kFalse);
  CHECK(Eval(Op::kNotIn, json{1, 2}, json{{"v", 3}}) == CondResult::kTrue);
  CHECK(Eval(Op::kNotIn, json{1, 2}, json{{"v", "3"}}) == CondResult::kFalse);
  CHECK(Eval(Op::kEquals, false, json{{"v", 0}}) == CondResult::kFalse);
  CHECK(Eval(Op::kEquals, 1, json{{"v", 1.0}}) == CondResult::kFalse);
  CHECK(Eval(Op::kBetween, json{1, 50000}, json{{"v", 1}}) == CondResult::kTrue);
  CHECK(Eval(Op::kBetween, json{1, 50000}, json{{"v", 1e20}}) == CondResult::kFalse);
  CHECK(Eval(Op::kBetween, json{0.5, 2.5}, json{{"v", 2}}) == CondResult::kTrue);
  CHECK(Eval(Op::kGte, 10, json{{"v", 10}}) == CondResult::kTrue);
  CHECK(Eval(Op::kGt, 10, json{{"v", 10}}) == CondResult::kFalse);
  CHECK(Eval(Op::kLt, 10, json{{"v", -3}}) == CondResult::kTrue);
  CHECK(Eval(Op::kContains, "push", json{{"v", json{"git", "push"}}}) == CondResult::kTrue);
  CHECK(Eval(Op::kContains, "us", json{{"v", "push"}}) == CondResult::kTrue);
  CHECK(Eval(Op::kPrefix, "/work", json{{"v", "/workspace"}}) == CondResult::kTrue);
  CHECK(Eval(Op::kSuffix, ".pem", json{{"v", "a.pem"}}) == CondResult::kTrue);
  CHECK(Eval(Op::kGlob, "mcp.*", json{{"v", "mcp.github.x"}}) == CondResult::kTrue);
  CHECK(Eval(Op::kLenLte, 3, json{{"v", "abcd"}}) == CondResult::kFalse);
  CHECK(Eval(Op::kLenLte, 3, json{{"v", json{1, 2}}}) == CondResult::kTrue);
  CHECK(Eval(Op::kType, "integer", json{{"v", 2}}) == CondResult::kTrue);
  CHECK(Eval(Op::kType, "number", json{{"v", 2}}) == CondResult::kTrue);
  CHECK(Eval(Op::kType, "string", json{{"v", 2}}) == CondResult::kFalse);
}

TEST_CASE("regex: whole-string match, and a runaway pattern is an evaluation error", "[policies][match]") {
  using nlohmann::json;
  CHECK(Eval(Op::kRegex, "release/.*", json{{"v", "release/1.2"}}) == CondResult::kTrue);
  CHECK(Eval(Op::kRegex, "release/.*", json{{"v", "x-release/1.2"}}) == CondResult::kFalse);
  CHECK(Eval(Op::kRegex, "rel", json{{"v", "release"}}) == CondResult::kFalse);
  CHECK(Eval(Op::kRegex, "(a|aa)+", json{{"v", std::string(60, 'a') + "!"}}) == CondResult::kError);
  std::string err;
  CHECK(CompileRegex("(", &err) == nullptr);
  CHECK(err.find("offset") != std::string::npos);
}

}  // namespace
}  // namespace warden::policy::detail
