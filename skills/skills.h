// Public interface of Warden's skill catalog: loading and validating skill manifests (Agent Skills SKILL.md plus
// Warden's skill.json / NAME.skill.json), the live BM25F index over them (Lucene++, exact Okapi BM25 with exact
// per-field lengths) and selection with per-field score contributions. Spec: ../shared/docs/retrieval.md (sections
// 1.3-1.9, 3) and issue 8; the manifest format is documented for users in docs/skills.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace warden::skills {

// The Lucene++ library version linked into this binary (e.g. "3.0.8").
std::string LuceneVersion();

// What an executable skill may touch (skill.json "permissions").
struct Permissions {
  std::string workspace = "none";       // "none" | "read" | "write"
  std::vector<std::string> read_paths;  // extra absolute paths readable
  std::vector<std::string> hosts;       // "host:port" reachable through the sandbox proxy
};

// Resource limits of one call (skill.json "limits"); the defaults apply when a field is absent.
struct Limits {
  int64_t timeout_s = 10;
  int64_t memory_mb = 256;
  int64_t output_kb = 1024;
};

// One loaded, validated skill.
struct Skill {
  std::string name;                            // unique key; lowercase a-z, 0-9, single '-'
  std::string description;                     // what retrieval sees first
  std::string license, compatibility;          // optional SKILL.md fields
  std::map<std::string, std::string> metadata; // SKILL.md "metadata"
  std::vector<std::string> allowed_tools;      // SKILL.md "allowed-tools", split on spaces
  std::string instructions;                    // SKILL.md body (or "instructions" of NAME.skill.json)
  std::vector<std::string> tags;               // skill.json "tags" (or metadata "tags", comma-separated)
  nlohmann::json arguments;                    // JSON Schema of the call's arguments ({} when none)
  std::filesystem::path root;                  // the skill folder; for NAME.skill.json the folder holding it
  std::filesystem::path manifest;              // SKILL.md or NAME.skill.json
  std::filesystem::path source_folder;         // the skills folder it was found in
  // Executable part (skill.json / NAME.skill.json); executable == false for instruction-only skills.
  bool executable = false;
  std::string version;                         // semver
  std::vector<std::string> entrypoint;         // argv; scripts/... elements already resolved to absolute paths
  std::string output = "text";                 // "json" | "text"
  Permissions permissions;
  Limits limits;
  std::vector<std::string> warnings;           // accepted oddities (unknown frontmatter keys, ...)

  nlohmann::json ToJson(bool with_instructions = false) const;
};

// A manifest that failed validation: what, where and what was expected. Rejected skills never enter the index.
struct Rejection {
  std::filesystem::path file;  // the offending file (SKILL.md, skill.json, NAME.skill.json) or folder
  int line = 0;                // 1-based line in `file` when known, else 0
  std::string field;           // the field at fault ("name", "permissions.hosts[1]"); empty for the whole file
  std::string message;         // "expected ..., got ..."
  std::string ToString() const;
  nlohmann::json ToJson() const;
};

// Loads one skill: a folder NAME/ (SKILL.md, optional skill.json) or a file NAME.skill.json. On failure the
// Rejection says why (Result carries it as InvalidArgument text; use ValidateSkill for the structured form).
Result<Skill> LoadSkill(const std::filesystem::path& path);
// Same, with the structured rejection.
bool ValidateSkill(const std::filesystem::path& path, Skill* skill, Rejection* rejection);

// The fields a skill is indexed under; weights and b are per field (BM25F).
enum class Field { kName = 0, kDescription, kTags, kParams };
constexpr int kFieldCount = 4;
const char* FieldName(Field f);

// Ranking settings. Changing them needs a new index (they are baked into the per-document normalisation).
struct RankingOptions {
  // The defaults were tuned on the Seal-Tools dev split with only two departures from plain BM25 (k1 and the name
  // weight), checked on both halves of the split for stability (docs/skills.md "Ranking").
  double k1 = 2.0;                       // term-frequency saturation
  // false: simple BM25F, one b over the weighted sum of field lengths (with weights 1 this equals BM25 over one
  // concatenated field: the reference). true: each field normalised by its own field_b before summing.
  bool per_field_b = false;
  double b = 0.75;                       // used when per_field_b == false
  double field_b[kFieldCount] = {0.75, 0.75, 0.75, 0.75};  // used when per_field_b == true
  double field_weight[kFieldCount] = {3, 1, 1, 1};  // name, description, tags, parameters; 0 drops the field
  bool split_identifiers = true;         // camelCase / snake_case / kebab-case split before lowercasing
  // The plain reference of bench/retrieval: name+description+tags, k1 1.2, b 0.75, no splitting.
  static RankingOptions Reference();
};

struct FieldScore {
  Field field;
  double score;  // this field's share of the hit's score (shares sum to the score)
};

struct Hit {
  std::string name;
  double score = 0;
  std::vector<FieldScore> fields;                 // filled with explain
  std::vector<std::pair<std::string, double>> terms;  // per query term, filled with explain
};

struct Selection {
  std::string query;
  std::vector<Hit> hits;  // best first; ties by name ascending; only score > 0
  uint64_t generation = 0;  // catalog generation the search saw
  nlohmann::json ToJson() const;
};

// What one applied load or refresh changed (CatalogEvent::kReloaded).
struct ReloadSummary {
  uint64_t generation = 0;  // the catalog generation now searchable (Selection::generation)
  size_t added = 0, updated = 0, removed = 0;  // skills indexed, re-indexed, dropped by this refresh
  size_t rejected = 0;      // manifests newly rejected by this refresh (each also sent as kRejected)
  size_t skills = 0;        // skills in the catalog afterwards
  size_t rejected_total = 0;  // rejected manifests in the catalog afterwards
  std::vector<std::string> changed;  // names added, updated or removed (all of them; listeners may cut)
};

// A change the catalog applied (or refused) while loading or watching; delivered to the listener. Per refresh the
// per-skill events come first, then one kReloaded with the totals, once the new state is searchable. A refresh
// that changed nothing sends nothing.
struct CatalogEvent {
  enum class Kind { kAdded, kUpdated, kRemoved, kRejected, kShadowed, kReloaded };
  Kind kind;
  std::string name;             // skill name (may be empty for a rejection before the name was read)
  std::filesystem::path path;   // the manifest or folder
  Rejection rejection;          // for kRejected
  ReloadSummary reload;         // for kReloaded
  nlohmann::json ToJson() const;
};

struct CatalogOptions {
  // Skills folders, lowest precedence first: a skill in a later folder replaces one of the same name in an
  // earlier folder (built-in catalog, then the user's, then a project's).
  std::vector<std::filesystem::path> folders;
  RankingOptions ranking;
  // Watch the folders and apply changes in the background (inotify; polling when inotify is unavailable).
  bool watch = false;
  // Force polling with this period (ms) even when inotify works; 0 = inotify with polling only as fallback.
  int poll_interval_ms = 0;
  // Called for every change and rejection, from the loading thread or the watcher thread (never concurrently).
  std::function<void(const CatalogEvent&)> listener;
};

// The live catalog. Searches are lock-free reads of an immutable snapshot (skills + index reader) that updates
// replace atomically; they never wait for indexing and never see a partly applied change.
class Catalog {
 public:
  // Loads every folder (missing folders are empty), indexes what validates, reports rejections, and starts the
  // watcher when options.watch.
  static Result<std::unique_ptr<Catalog>> Open(CatalogOptions options);
  // An index over in-memory skills only (benchmarks, tests): no folders, no watching.
  static Result<std::unique_ptr<Catalog>> FromSkills(std::vector<Skill> skills, RankingOptions ranking);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Top k by BM25F. explain fills per-field and per-term contributions.
  Result<Selection> Search(const std::string& query, int k, bool explain = false) const;
  // Every indexed skill, by name.
  std::vector<Skill> List() const;
  Result<Skill> Find(const std::string& name) const;
  // Current rejections (manifests that did not validate), by path.
  std::vector<Rejection> Rejections() const;
  // Rescans the folders now and applies what changed (the watcher calls this; callers may too).
  Status Refresh();
  uint64_t generation() const;
  size_t size() const;
  nlohmann::json ToJson() const;  // {"skills": n, "rejected": [...], "folders": [...], "generation"}

  struct Impl;

 private:
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks a call's arguments against a skill's `arguments` schema (the manifest's JSON Schema subset) before anything
// runs. Returns the arguments with every missing property that declares a `default` filled in, or the first violation
// as InvalidArgument naming its JSON path ("$.rows[2]: expected integer, got string"). Unknown properties pass.
Result<nlohmann::json> CheckArguments(const nlohmann::json& schema, const nlohmann::json& args);

// `warden skills import`: one JSON object per line {"name", "description", "tags", "parameters"} becomes a skill
// folder NAME/SKILL.md under `into`. Names are made valid (camelCase -> kebab-case); the original is kept in
// metadata "original-name".
struct ImportReport {
  int imported = 0;
  std::vector<std::pair<std::string, std::string>> renamed;  // original -> skill name, where they differ
  std::vector<std::string> errors;                           // "FILE:LINE: ..." for skipped lines
};
Result<ImportReport> ImportJsonl(const std::filesystem::path& jsonl, const std::filesystem::path& into);
// The skill name an imported tool name becomes ("getSIMCard" -> "get-sim-card").
std::string SkillNameFromIdentifier(const std::string& identifier);

}  // namespace warden::skills
