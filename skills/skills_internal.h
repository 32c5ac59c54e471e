// Internals shared by the skills library's .cpp files and tests: the tokenizer, the frontmatter reader, the
// index interface that hides Lucene++ (lucene_index.cpp is the only file that includes it), and the folder scan.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "skills/skills.h"

namespace warden::skills::detail {

// Tokens as the reference scorer makes them (retrieval.md 1.8, bench/retrieval/reference_bm25.py): maximal runs
// of ASCII [a-z0-9] after ASCII lowercasing; with split_identifiers a boundary is also placed between a lowercase
// letter or digit and an uppercase letter, and before the last uppercase letter of a run followed by a lowercase
// one ("getHTTPResponse" -> get http response). Non-ASCII bytes separate tokens.
std::vector<std::string> Tokenize(std::string_view text, bool split_identifiers);

// The text of each indexed field of a skill (parameter names and descriptions walk the argument schema's
// "properties", nested ones included).
struct FieldTexts {
  std::string text[kFieldCount];
};
FieldTexts FieldTextsOf(const Skill& skill);

// YAML frontmatter of a SKILL.md: `---` line, YAML, `---` line, body. Values come back as JSON (scalars as
// strings, mappings as objects, sequences as arrays); key_lines gives the 1-based file line of each top-level key.
struct Frontmatter {
  nlohmann::json values = nlohmann::json::object();
  std::map<std::string, int> key_lines;
  std::string body;
  int body_line = 0;
};
// Returns false with *error ("expected ..." and *error_line) when the text has no valid frontmatter.
bool ParseFrontmatter(const std::string& text, Frontmatter* out, std::string* error, int* error_line);

// One indexed document.
struct IndexDoc {
  std::string name;
  std::vector<std::string> tokens[kFieldCount];
};
IndexDoc MakeIndexDoc(const Skill& skill, bool split_identifiers);

// The BM25F index behind an interface: one writer (the catalog's update path), many concurrent readers.
class SearchIndex {
 public:
  virtual ~SearchIndex() = default;
  // Adds or replaces documents by name, removes names; then Publish() makes all of it visible at once.
  virtual Status Upsert(const std::vector<IndexDoc>& docs) = 0;
  virtual Status Remove(const std::vector<std::string>& names) = 0;
  virtual Status Publish() = 0;
  // Searches the last published snapshot; safe from any thread, concurrently with the writer.
  virtual Result<std::vector<Hit>> Search(const std::vector<std::string>& query_tokens, int k,
                                          bool explain) const = 0;
  virtual size_t DocCount() const = 0;
};
// kPruned: exact top k with MaxScore pruning (the product path). kExhaustive: every posting of every term is
// scored; the reference the pruned path is tested against (same hits, bit-identical scores).
enum class TopK { kPruned, kExhaustive };
Result<std::unique_ptr<SearchIndex>> CreateLuceneIndex(const RankingOptions& options, TopK mode = TopK::kPruned);

// A skill entry in a folder: NAME/ (with SKILL.md) or NAME.skill.json, with a signature of its manifest files
// (mtime, size, inode) so a rescan reloads only what changed.
struct FolderEntry {
  std::filesystem::path path;
  std::string signature;
};
std::vector<FolderEntry> ScanFolder(const std::filesystem::path& folder);

// Watches folders and calls on_change after a burst of changes settles (inotify, else polling).
class FolderWatcher {
 public:
  virtual ~FolderWatcher() = default;
};
std::unique_ptr<FolderWatcher> StartWatcher(const std::vector<std::filesystem::path>& folders, int poll_interval_ms,
                                            std::function<void()> on_change);

}  // namespace warden::skills::detail
