// warden::policy — the policy gate every agent action passes (../shared/docs/policy-audit.md Part A, issue 6).
//
// A folder of TOML files is loaded as one immutable, content-hashed PolicySet. Evaluate() normalises a JSON request
// (identifiers, paths with symlinks resolved in the sandbox's view, hosts, IPs), collects the matching rules and
// combines them: any deny -> deny; else any ask -> ask; else any allow -> allow; else deny. File and rule order never
// change a decision. A Limiter adds [[limit]] rate and budget ceilings; a PolicyWatcher hot-reloads the folder and
// swaps in a new set only when every file parses, validates and passes its inline [[test]] cases. Decisions and
// reload events are plain values with a ToJson() the runtime writes to the audit log; this library knows no audit.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace warden::policy {

enum class Effect { kAllow, kAsk, kDeny };
// "allow" | "ask" | "deny".
std::string_view EffectName(Effect effect);
// Exit code of `warden policy eval`: 0 allow, 3 deny, 4 ask.
int EffectExitCode(Effect effect);

// How a set is loaded and how its requests are normalised. Filled by the runtime from warden.toml.
struct LoadOptions {
  // Where the sandbox's "/" lies on this machine: symlinks in requested paths are resolved inside it (an absolute
  // link target restarts at this root, `..` never climbs above it). Default "/": the host's view. Costs one
  // lstat() per existing path component per fs.* evaluation.
  std::filesystem::path sandbox_root = "/";
  // Resolve symlinks at all. Off only for benchmarks and tools that evaluate requests already resolved elsewhere.
  bool resolve_symlinks = true;
  // Paths no rule can open to agents (built-in guardrail, policy-audit.md A.8.3): the policies folder, the audit
  // database and its WAL, the signing key, control sockets. Each entry covers the path and everything below it.
  // fs.read and fs.write requests under them are denied by the rule "builtin-protected-paths".
  std::vector<std::string> protected_paths;
  // Index rules by action and first path segments / host domain / tool name. Off only to measure the linear scan
  // the index replaces (bench/policy_eval); decisions are the same either way.
  bool index_rules = true;
};

// One rule that decided (or was overridden), for explanations and the audit body.
struct RuleRef {
  std::string rule;    // rule id, unique in the set
  std::string file;    // file name relative to the policies folder
  int line = 0;        // line of the [[rule]] header
  Effect effect = Effect::kDeny;
  std::string reason;  // the rule's reason text ("" when it has none)
};

// A limit that was checked and what it found.
struct LimitCheck {
  std::string limit;     // limit id
  std::string file;
  int line = 0;
  std::string scope_key;  // e.g. "task:t-1"
  int64_t used = 0;       // before this request
  int64_t request = 0;    // what this request adds
  int64_t max = 0;
  bool exceeded = false;
  Effect on_exceed = Effect::kDeny;
};

struct Decision {
  Effect effect = Effect::kDeny;
  bool is_default = false;                  // deny because no rule allowed it
  std::string invalid_request;              // non-empty: the request failed normalisation (why); no rule consulted
  std::vector<RuleRef> determining;         // sorted by rule id
  std::vector<std::string> overridden;      // matching allow/ask rules that lost to a deny, or allows to an ask
  std::vector<nlohmann::json> shadow;       // {"rule","would"} of matching shadow-mode rules
  std::vector<nlohmann::json> errors;       // {"rule","error"}: evaluation errors (a deny rule with one matched)
  std::vector<nlohmann::json> notes;        // {"rule","path","note": "missing"|"type_mismatch"} of failed conditions
  std::vector<LimitCheck> limits;           // limits that applied to this request
  std::vector<std::string> approvers;       // for ask: the approvers named by the determining ask rules
  std::string policy_set;                   // "sha256:<hex>" of the set that decided
  int64_t eval_ns = 0;
  nlohmann::json request;                   // the normalised request (with "requested_path" where it differed)
};

// The decision as the audit body of a `policy.decision` event.
nlohmann::json ToJson(const Decision& decision);

// Rate and budget counters of [[limit]] tables, in memory, thread-safe. The clock is injectable for tests; usage can
// be saved and restored (the runtime persists it next to the audit log so a restart does not reset budgets).
class Limiter {
 public:
  using Clock = std::function<int64_t()>;  // nanoseconds, monotonic
  explicit Limiter(Clock clock = nullptr);  // nullptr: std::chrono::steady_clock
  ~Limiter();
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // Adds `amount` to a counter after the fact, e.g. the real token count once model.generate finished minus what
  // the decision reserved (may be negative).
  void Adjust(const std::string& limit_id, const std::string& scope_key, int64_t amount);
  // Usage for persistence: {"<limit>|<scope_key>": [[t_ns, amount], ...]}; window entries older than their window
  // are dropped on the next check. Restore() replaces all counters.
  nlohmann::json Snapshot() const;
  Status Restore(const nlohmann::json& snapshot);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  friend class PolicySet;
};

// One inline [[test]] result.
struct TestResult {
  std::string name;
  std::string file;
  int line = 0;
  bool passed = false;
  std::string message;  // why it failed
};

// One load problem, with its position.
struct LoadError {
  std::string file;  // relative to the folder
  int line = 0;      // 0 when the whole file is concerned
  int column = 0;
  std::string message;
  std::string ToString() const;  // "file:line:column: message"
};

class PolicySet {
 public:
  struct Impl;
  ~PolicySet();

  // Loads every regular *.toml under `dir` (recursively; dot files, "~", ".swp" and ".tmp" names skipped, symlinks
  // rejected), parses and validates it and runs every inline [[test]]. Any problem fails the whole load with every
  // error listed as "file:line:column: message". A missing folder is an error; an empty one gives an empty set
  // (which denies everything).
  static Result<std::shared_ptr<const PolicySet>> LoadDir(const std::filesystem::path& dir,
                                                          const LoadOptions& options = {});
  // The same over in-memory files {relative name, text}: for tests, the fuzzer and the built-in defaults.
  static Result<std::shared_ptr<const PolicySet>> LoadFiles(
      const std::vector<std::pair<std::string, std::string>>& files, const LoadOptions& options = {});
  // Like LoadFiles but keeps going: every parse/validation error of every file, and the test results, for
  // `warden policy check`. `set` is null when anything failed.
  struct CheckReport {
    std::vector<LoadError> errors;
    std::vector<TestResult> tests;
    std::vector<std::string> untested_rules;  // coverage: rules no inline test matched
    // Problems that do not stop the load: conditions on a request field none of the rule's actions ever has (the
    // condition is then always false, or always true for `exists = false`), and a set without rules.
    std::vector<LoadError> warnings;
    std::shared_ptr<const PolicySet> set;
  };
  static CheckReport Check(const std::vector<std::pair<std::string, std::string>>& files,
                           const LoadOptions& options = {});
  // Reads the policy files of `dir` as LoadDir does (same skip and symlink rules).
  static Result<std::vector<std::pair<std::string, std::string>>> ReadDir(const std::filesystem::path& dir);

  // Decides one request. Never fails: a malformed request is a deny with `invalid_request` set. With a limiter,
  // [[limit]] tables are checked and, when the decision is allow or ask, the request's usage is charged.
  Decision Evaluate(const nlohmann::json& request, Limiter* limiter = nullptr) const;
  // The same, taking the request: it is normalised in place and moved into the decision's `request`, which saves
  // the one deep copy the overload above makes (callers that build a request per action and keep nothing of it).
  // An invalid request is then recorded as far as normalisation got (the overload above records it as given).
  Decision Evaluate(nlohmann::json&& request, Limiter* limiter = nullptr) const;

  // A reviewer's trace (`warden policy eval --explain`): {"decision": ToJson(Evaluate(request)), "action",
  // "rules": [...]}, one entry per rule of the request's action in id order: "result" matched | not_matched, "why"
  // (the first scope key that failed and how, or which condition list decided), and "conditions" (each with its
  // list, path, op, expected and actual value, result and note). Walks every rule: for the CLI, not for the gate.
  nlohmann::json Explain(const nlohmann::json& request) const;

  const std::string& hash() const;                       // "sha256:<hex>"
  std::chrono::system_clock::time_point loaded_at() const;
  // {"hash","loaded_at","files":[{"name","sha256","rules"}],"rules":[{"id","file","line","effect","mode"}],
  //  "limits":[...],"groups":{...},"tests":N}
  nlohmann::json Describe() const;
  std::vector<std::string> RuleIds() const;  // sorted
  size_t rule_count() const;

 private:
  explicit PolicySet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a reload did, for the listener and the audit log (`policy.loaded` / `policy.load_failed`).
struct ReloadEvent {
  bool loaded = false;             // true: the new set is active; false: the old one stays
  bool initial = false;            // the first load at start-up
  std::string hash;                // the active set's hash after the event
  std::string previous_hash;       // "" on the initial load
  std::string candidate_hash;      // the hash of the files that were tried
  std::vector<std::string> added, removed, changed;  // rule ids (loaded only)
  std::vector<LoadError> errors;   // load_failed only
  std::vector<TestResult> failed_tests;
  std::vector<LoadError> warnings;  // of the candidate (CheckReport::warnings), loaded or not
  std::vector<std::pair<std::string, std::string>> file_hashes;  // {name, sha256 hex} of the candidate
};
nlohmann::json ToJson(const ReloadEvent& event);  // {"type": "policy.loaded"|"policy.load_failed", ...}

struct WatchOptions {
  // Quiet time after the last change before a reload: an editor's truncate-then-write lands as one reload.
  std::chrono::milliseconds debounce{250};
  // Poll of (name, size, mtime, inode) as a fallback when inotify is missing or misses an event (network
  // filesystems, a replaced folder). Each poll lists the folder.
  std::chrono::milliseconds poll_interval{5000};
  bool use_inotify = true;  // false: poll only
};

// Watches a policies folder and keeps the newest valid set active. Thread-safe; current() is cheap (one mutex-
// guarded shared_ptr copy) and evaluations keep the set they started with.
class PolicyWatcher {
 public:
  using Listener = std::function<void(const ReloadEvent&)>;
  // Loads the folder once (an invalid set here is an error: never start with a partial or empty-by-accident set),
  // reports it to `listener` as the initial event, then watches on a background thread.
  static Result<std::unique_ptr<PolicyWatcher>> Start(const std::filesystem::path& dir, LoadOptions load,
                                                      WatchOptions watch, Listener listener);
  ~PolicyWatcher();  // stops the thread
  PolicyWatcher(const PolicyWatcher&) = delete;
  PolicyWatcher& operator=(const PolicyWatcher&) = delete;

  std::shared_ptr<const PolicySet> current() const;
  // Reloads now (as a change would); returns the event also given to the listener.
  ReloadEvent ReloadNow();
  bool using_inotify() const;
  // Non-empty while the folder holds content that failed to load, so the active set is older than the folder: the
  // failed candidate's hash. What a health check reports as "stale policy" (policy-audit.md A.8.5).
  std::string stale() const;

  struct Impl;

 private:
  explicit PolicyWatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The default policy set `warden init` installs: {file name, text}, built into the binary from policies/default/.
const std::vector<std::pair<std::string, std::string>>& DefaultPolicyFiles();

}  // namespace warden::policy
