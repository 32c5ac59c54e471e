// Internals of the policy engine shared by its .cpp files and tests: compiled rules, matchers, request
// normalisation (policy-audit.md A.8.2-A.8.4). Nothing outside policies/ includes this.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policies/policy.h"

namespace warden::policy::detail {

// The gated actions; a rule's actions are a bit mask over this list.
inline constexpr std::array<std::string_view, 8> kActions = {"task.submit", "skill.select", "skill.exec", "tool.call",
                                                             "fs.read",     "fs.write",     "net.connect", "model.generate"};
inline constexpr int kFsRead = 4, kFsWrite = 5, kNetConnect = 6, kToolCall = 3, kModelGenerate = 7;
inline constexpr int kSkillSelect = 1, kSkillExec = 2;
std::optional<int> ActionIndex(std::string_view name);
// "fs.read" -> its bit; "fs.*" -> every fs action; "*" -> all. Empty optional: unknown.
std::optional<uint32_t> ActionMask(std::string_view pattern);

// [a-z0-9][a-z0-9._-]{0,127}, checked after lowercasing ASCII only.
bool IsIdentifier(std::string_view s);
std::string AsciiLower(std::string_view s);

// A glob over '/'-separated segments: `*` and `?` stay within one segment, a `**` segment spans any number of
// segments (zero included). Dot files are matched like any other name. Compiled so that the common shapes cost one
// pass: no `**` (same length, segment by segment) and one `**` run (a head matched from the front, a tail from the
// back: `**/.env` is one comparison with the last segment); only two or more `**` runs backtrack.
class SegmentGlob {
 public:
  // Empty optional + `error` set: malformed ("**" inside a segment, empty pattern).
  static std::optional<SegmentGlob> Compile(std::string_view pattern, bool case_insensitive, std::string* error);
  // `segments` of the subject; for case-insensitive globs they must already be lowercased.
  bool Match(const std::vector<std::string_view>& segments) const;
  // The first `n` segments joined by '/' when none has a wildcard: rules are indexed by them.
  std::optional<std::string> LiteralPrefix(size_t n) const;
  // What every subject this glob matches has after the last '.' of its last segment, when the last pattern segment
  // fixes it ("**/*.pem" -> "pem", "**/.env" -> "env"); rules whose prefix is not literal are indexed by it.
  std::optional<std::string> LastExtension() const;
  const std::string& text() const { return text_; }
  bool case_insensitive() const { return ci_; }

 private:
  struct Seg {
    std::string text;      // "**" marks any depth
    bool literal = false;  // no `*` or `?`: compared byte for byte
  };
  std::vector<Seg> segs_;
  // Shape: kind_ 0 = no `**`; 1 = one run of `**` between segs_[0, head_) and the last tail_ segments; 2 = general.
  int kind_ = 0;
  size_t head_ = 0, tail_ = 0;
  std::string text_;
  bool ci_ = false;
};
// Splits "/a//b/c" into {"a","b","c"} (views into `s`).
std::vector<std::string_view> SplitSegments(std::string_view s);
// The same into `out` (cleared first), so a caller can reuse its capacity.
void SplitSegmentsInto(std::string_view s, std::vector<std::string_view>* out);
// `*` any run of characters, `?` one; used for skill, tool and model names.
bool NameGlobMatch(std::string_view pattern, std::string_view name);

struct HostPattern {
  std::string suffix;  // ".githubusercontent.com" for "*.githubusercontent.com"; exact host otherwise
  bool wildcard = false;
};
bool HostMatch(const HostPattern& p, std::string_view host);

struct IpAddr {
  int family = 0;  // 4 or 6
  std::array<uint8_t, 16> bytes{};
};
std::optional<IpAddr> ParseIp(std::string_view text);
struct Cidr {
  IpAddr net;
  int prefix = 0;
};
std::optional<Cidr> ParseCidr(std::string_view text);
bool CidrContains(const Cidr& c, const IpAddr& ip);

// $.a.b, $.a[0], $["odd key"]
struct PathStep {
  bool is_index = false;
  std::string key;
  size_t index = 0;
};
std::optional<std::vector<PathStep>> ParseJsonPath(std::string_view text, std::string* error);
const nlohmann::json* Lookup(const nlohmann::json& root, const std::vector<PathStep>& path);
// Member `key` of a JSON object; nullptr when absent or when `obj` is not an object. Searches the underlying map
// directly: nlohmann's find() builds and compares checked iterators, which costs more than the search on this path.
inline const nlohmann::json* Member(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto& map = obj.get_ref<const nlohmann::json::object_t&>();
  const auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}
inline nlohmann::json* Member(nlohmann::json& obj, std::string_view key) {
  return const_cast<nlohmann::json*>(Member(static_cast<const nlohmann::json&>(obj), key));
}

enum class Op {
  kEquals, kNotEquals, kIn, kNotIn, kPrefix, kSuffix, kGlob, kRegex, kContains,
  kLt, kLte, kGt, kGte, kBetween, kExists, kLenLte, kType
};
struct Regex;  // PCRE2 program (regex.cpp)
struct Condition {
  std::string where;  // `rule "x" field when[0]`, for messages
  int line = 0, column = 0;
  std::string path_text;
  std::vector<PathStep> path;
  Op op = Op::kEquals;
  nlohmann::json value;
  std::shared_ptr<const Regex> regex;
  // Filled by CompileValue() at load so evaluation touches little cold memory in large sets: the values of
  // `equals`/`not_equals`/`in`/`not_in` when all of them are strings, side by side; the `between` bounds inline.
  bool all_strings = false;
  std::vector<std::string> strings;
  nlohmann::json lo, hi;
};
void CompileValue(Condition* c);
enum class CondResult { kTrue, kFalse, kError };
// `note` gets "missing" or "type_mismatch" when that is why the result is false; `error` the reason of kError.
CondResult EvalCondition(const Condition& c, const nlohmann::json& request, std::string* note, std::string* error);
std::shared_ptr<const Regex> CompileRegex(const std::string& pattern, std::string* error);
// Whole-string match; kError when the match limit is hit.
CondResult RegexFullMatch(const Regex& re, std::string_view subject, std::string* error);

struct Rule {
  std::string id, file, tenant = "*", reason;
  int line = 0;
  Effect effect = Effect::kDeny;
  bool shadow = false;
  uint32_t actions = 0;
  std::vector<SegmentGlob> principals;  // segment globs over tenant/kind/name
  std::vector<std::string> groups;      // "group:<id>" entries, without the prefix
  bool has_principals = false;
  std::vector<std::string> skills, skill_tags, tools, models;
  std::vector<SegmentGlob> paths;  // case-sensitive and case-insensitive (paths_ci) globs, any-of
  std::vector<HostPattern> hosts;
  std::vector<int> ports;
  std::vector<Cidr> cidrs;
  std::vector<Condition> when, when_any, unless;
  std::vector<std::string> approvers;
  std::string approval_timeout;
};

enum class LimitScope { kTask, kPrincipal, kTenant, kSkill };
struct Limit {
  std::string id, file, tenant = "*";
  int line = 0;
  uint32_t actions = 0;
  std::vector<std::string> tools, skills, models;
  LimitScope scope = LimitScope::kTask;
  std::string metric;       // calls | tokens | bytes | cost_micros | wall_ms
  int64_t max = 0;
  int64_t window_ns = 0;    // 0: the lifetime of the scope
  Effect on_exceed = Effect::kDeny;
  std::vector<std::string> approvers;
};

struct InlineTest {
  std::string name, file;
  int line = 0;
  nlohmann::json request;
  Effect expect = Effect::kDeny;
  std::optional<std::vector<std::string>> expect_rules;
};

// Why no request of `action` (an index into kActions) ever has a value at `path`, from the request model of
// policy-audit.md A.8.2 (request_shape.cpp); empty when some request can. `args` and `usage`, the skill's
// permissions and a task.submit's resource are open: any path below them may exist.
std::string NeverPresent(int action, const std::vector<PathStep>& path);

// One file's parsed content (parse.cpp). Errors are appended, never thrown.
struct ParsedFile {
  std::string name, sha256;
  std::string tenant = "*";
  std::vector<Rule> rules;
  std::vector<Limit> limits;
  std::vector<InlineTest> tests;
  std::map<std::string, std::pair<std::vector<std::string>, int>> groups;  // id -> members, line
};
ParsedFile ParseFile(const std::string& name, const std::string& text, std::vector<LoadError>* errors);
std::string Sha256Hex(std::string_view data);
int64_t ParseDuration(std::string_view text);  // "60s", "15m", "24h", "500ms" -> ns; -1 when malformed

// A request after normalisation (normalize.cpp). Evaluate() keeps one per thread and reuses it, so the strings and
// vectors below keep their capacity and a call allocates nothing for them; Normalize() resets every field first.
struct Request {
  nlohmann::json json;  // the normalised request: conditions read it and the decision takes it (moved out)
  int action = -1;
  std::string tenant, principal, skill, tool, model, host, task_id;
  std::vector<std::string> tags;
  std::vector<std::string_view> principal_segs;  // views into `principal`
  std::string path, path_lower;  // resolved
  std::vector<std::string_view> segs, segs_lower;
  bool has_path = false, host_is_ip = false;
  int port = -1;
  std::optional<IpAddr> ip;
  // Scratch of Normalize.
  std::string cwd, scratch;
  std::vector<size_t> stack;
};
// Empty string on success, else why the request is invalid.
// `in` becomes out->json and is normalised in place.
std::string Normalize(nlohmann::json&& in, const LoadOptions& options, Request* out);
inline std::string Normalize(const nlohmann::json& in, const LoadOptions& options, Request* out) {
  return Normalize(nlohmann::json(in), options, out);
}
// Resolves `path` (absolute, lexically normalised) inside `root`: symlinks of the longest existing prefix are
// followed as the sandbox would see them; the rest is appended. Error text on a loop or a bad component.
std::string ResolveInRoot(const std::string& root, const std::string& path, std::string* out);
// "/a/./b//../c" -> "/a/c" (never above "/").
std::string LexicalNormalize(std::string_view absolute);
// The same into `out`; `stack` is scratch (segment starts). No allocation once both have grown.
void LexicalNormalizeInto(std::string_view absolute, std::string* out, std::vector<size_t>* stack);
// IDNA-ish: lowercase, one trailing dot stripped, non-ASCII labels NFKC-casefolded and punycoded. Empty + error.
std::string NormalizeHost(std::string_view host, std::string* error);

using GroupMembers = std::unordered_map<std::string, std::unordered_set<std::string>>;  // group -> principals
// Whether the rule's scope keys (principals, skills, tags, tools, models, paths, hosts, ports, CIDRs) all hold for
// the request. `why`, when given, gets the first key that failed and how ("paths: \"/etc/x\" matches none of ...").
bool ScopeMatches(const Rule& r, const Request& q, const GroupMembers& groups, std::string* why = nullptr);
bool AnyGlob(const std::vector<std::string>& globs, std::string_view name);

// Maps keyed by std::string that are looked up with a std::string_view (no temporary string per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using RuleMap = std::unordered_map<std::string, std::vector<const Rule*>, StringHash, std::equal_to<>>;

// The per-action candidate lists. A rule sits in exactly one list per action, so a request never meets it twice:
// fs rules under the first two literal segments of their path globs (or the first one), else under the extension
// their last segment fixes (`**/*.pem`); net rules under the last two labels of their hosts, else under the first
// byte of their CIDRs (prefixes of 8 bits or more); tool/skill/model rules under literal names, else under the
// longest literal prefix all their name globs share (`mcp.github.*` -> "mcp.github."); the rest are always
// candidates.
struct ActionBucket {
  std::vector<const Rule*> always;
  RuleMap by_first, by_first2, by_first_ci, by_first2_ci, by_ext, by_ext_ci, by_name, by_domain, by_name_prefix;
  std::vector<size_t> name_prefix_lengths;  // the distinct key lengths of by_name_prefix, ascending
  std::unordered_map<uint32_t, std::vector<const Rule*>> by_ip_first;  // family << 8 | first byte
};
// "api.github.com" -> "github.com"; a one-label host is its own key.
std::string_view DomainKey(std::string_view host);

}  // namespace warden::policy::detail

namespace warden::policy {

struct Limiter::Impl {
  std::function<int64_t()> clock;
  mutable std::mutex mu;
  struct Counter {
    std::deque<std::pair<int64_t, int64_t>> events;  // (t_ns, amount), for windows
    int64_t total = 0;                                // sum of `events` (windowed) or of everything (lifetime)
    bool windowed = true;                             // lifetime counters keep no events
  };
  std::unordered_map<std::string, Counter> counters;  // "<limit>|<scope key>"
  // Both need `mu` held. Used(): the sum within the window ending now (window 0: lifetime), pruning older events.
  int64_t Used(const std::string& key, int64_t window_ns, int64_t now);
  void Add(const std::string& key, int64_t amount, int64_t now, std::optional<bool> windowed = std::nullopt);
};

struct PolicySet::Impl {
  LoadOptions options;
  std::vector<detail::ParsedFile> files;
  std::vector<const detail::Rule*> rules;  // all rules, sorted by id
  std::vector<const detail::Limit*> limits;
  detail::GroupMembers group_members;  // closure: group -> principals
  std::array<detail::ActionBucket, detail::kActions.size()> index;
  std::string hash;
  std::chrono::system_clock::time_point loaded_at;
  std::vector<std::string> protected_paths;  // lexically normalised
};

}  // namespace warden::policy
