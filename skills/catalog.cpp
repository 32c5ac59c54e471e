// The live skill catalog (issue 8 "Index and selection"): scans the skills folders in precedence order, validates
// each entry alone, applies only what changed to the index, and publishes skills and index together, so a search
// sees either the catalog before a change or after it. The watcher (watcher.cpp) calls Refresh on changes.
#include <algorithm>
#include <mutex>
#include <set>

#include "skills/skills_internal.h"

namespace warden::skills {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct CachedEntry {
  std::string signature;
  bool ok = false;
  std::shared_ptr<Skill> skill = std::make_shared<Skill>();  // shared with the published states: a refresh copies
                                                             // pointers, not manifests (4,000 copies cost ~100 ms)
  Rejection rejection;
};

// What searches, List and Find read: immutable once published.
struct State {
  std::map<std::string, std::shared_ptr<const Skill>> skills;
  std::map<std::string, std::string> signatures;  // name -> "folder|path|signature" of the winning entry
  std::vector<Rejection> rejections;
  uint64_t generation = 0;
};

}  // namespace

struct Catalog::Impl {
  CatalogOptions options;
  std::unique_ptr<detail::SearchIndex> index;
  std::mutex write_mu;                              // one writer: Refresh from the watcher or a caller
  std::map<fs::path, CachedEntry> cache;            // guarded by write_mu
  std::atomic<std::shared_ptr<const State>> state;
  std::unique_ptr<detail::FolderWatcher> watcher;

  void Emit(const CatalogEvent& e) const {
    if (options.listener) options.listener(e);
  }

  Status RefreshLocked() {
    auto next = std::make_shared<State>();
    std::shared_ptr<const State> prev = state.load();
    std::set<fs::path> seen;
    size_t newly_rejected = 0;
    for (const fs::path& folder : options.folders) {
      std::set<std::string> names_here;
      for (const detail::FolderEntry& entry : detail::ScanFolder(folder)) {
        seen.insert(entry.path);
        CachedEntry& c = cache[entry.path];
        if (c.signature != entry.signature || c.signature.empty()) {
          c = CachedEntry{};
          c.signature = entry.signature;
          c.ok = ValidateSkill(entry.path, c.skill.get(), &c.rejection);
          if (c.ok) c.skill->source_folder = folder;
          if (!c.ok) {
            Emit(CatalogEvent{CatalogEvent::Kind::kRejected, "", entry.path, c.rejection, {}});
            ++newly_rejected;
          }
        }
        if (!c.ok) {
          next->rejections.push_back(c.rejection);
          continue;
        }
        if (!names_here.insert(c.skill->name).second) {
          Rejection r{entry.path, 0, "name",
                      "another skill in " + folder.string() + " is already named \"" + c.skill->name +
                          "\" (NAME/ and NAME.skill.json both exist); remove one"};
          next->rejections.push_back(r);
          // Recomputed on every refresh: reported when it first appears.
          const bool known = prev && std::any_of(prev->rejections.begin(), prev->rejections.end(), [&](const auto& p) {
                               return p.file == r.file && p.message == r.message;
                             });
          if (!known) {
            Emit(CatalogEvent{CatalogEvent::Kind::kRejected, c.skill->name, entry.path, r, {}});
            ++newly_rejected;
          }
          continue;
        }
        auto existing = next->skills.find(c.skill->name);
        if (existing != next->skills.end()) {
          Emit(CatalogEvent{CatalogEvent::Kind::kShadowed, c.skill->name, existing->second->manifest, {}, {}});
        }
        next->skills[c.skill->name] = c.skill;
        next->signatures[c.skill->name] = folder.string() + "|" + entry.path.string() + "|" + entry.signature;
      }
    }
    for (auto it = cache.begin(); it != cache.end();) {
      it = seen.count(it->first) ? std::next(it) : cache.erase(it);
    }

    std::vector<detail::IndexDoc> upserts;
    std::vector<std::string> removals;
    std::vector<CatalogEvent> events;
    for (const auto& [name, sig] : next->signatures) {
      auto old = prev ? prev->signatures.find(name) : decltype(next->signatures.cend()){};
      const bool existed = prev && old != prev->signatures.end();
      if (existed && old->second == sig) continue;
      const Skill& s = *next->skills.at(name);
      upserts.push_back(detail::MakeIndexDoc(s, options.ranking.split_identifiers));
      events.push_back(CatalogEvent{existed ? CatalogEvent::Kind::kUpdated : CatalogEvent::Kind::kAdded, name,
                                    s.manifest, {}, {}});
    }
    if (prev) {
      for (const auto& [name, sig] : prev->signatures) {
        if (next->signatures.count(name)) continue;
        removals.push_back(name);
        events.push_back(CatalogEvent{CatalogEvent::Kind::kRemoved, name, prev->skills.at(name)->manifest, {}, {}});
      }
    }
    next->generation = prev ? prev->generation : 0;
    if (!upserts.empty() || !removals.empty() || !prev) {
      WARDEN_RETURN_IF_ERROR(index->Upsert(upserts));
      WARDEN_RETURN_IF_ERROR(index->Remove(removals));
      WARDEN_RETURN_IF_ERROR(index->Publish());
      ++next->generation;
    }
    ReloadSummary summary;
    summary.generation = next->generation;
    summary.rejected = newly_rejected;
    summary.skills = next->skills.size();
    summary.rejected_total = next->rejections.size();
    for (const auto& e : events) {
      ++(e.kind == CatalogEvent::Kind::kAdded     ? summary.added
         : e.kind == CatalogEvent::Kind::kUpdated ? summary.updated
                                                  : summary.removed);
      summary.changed.push_back(e.name);
    }
    const bool first_load = !prev;
    state.store(std::shared_ptr<const State>(std::move(next)));
    for (const auto& e : events) Emit(e);
    if (first_load || !events.empty() || newly_rejected > 0) {
      Emit(CatalogEvent{CatalogEvent::Kind::kReloaded, "", {}, {}, std::move(summary)});
    }
    return Status::Ok();
  }
};

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Catalog::~Catalog() {
  // Stop the watcher before the index it updates goes away.
  if (impl_) impl_->watcher.reset();
}

Result<std::unique_ptr<Catalog>> Catalog::Open(CatalogOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  // Absolute folders make every skill's root and resolved entrypoint absolute too: the sandbox binds them by path,
  // and a later chdir must not change which files a skill is.
  for (auto& folder : impl->options.folders) folder = std::filesystem::absolute(folder).lexically_normal();
  WARDEN_ASSIGN_OR_RETURN(impl->index, detail::CreateLuceneIndex(impl->options.ranking));
  {
    std::lock_guard<std::mutex> lock(impl->write_mu);
    WARDEN_RETURN_IF_ERROR(impl->RefreshLocked());
  }
  std::unique_ptr<Catalog> catalog(new Catalog(std::move(impl)));
  if (catalog->impl_->options.watch) {
    Impl* raw = catalog->impl_.get();
    raw->watcher = detail::StartWatcher(raw->options.folders, raw->options.poll_interval_ms, [raw] {
      std::lock_guard<std::mutex> lock(raw->write_mu);
      Status st = raw->RefreshLocked();
      if (!st.ok()) {
        raw->Emit(CatalogEvent{CatalogEvent::Kind::kRejected, "", {}, Rejection{{}, 0, "", st.message()}, {}});
      }
    });
  }
  return catalog;
}

Result<std::unique_ptr<Catalog>> Catalog::FromSkills(std::vector<Skill> skills, RankingOptions ranking) {
  auto impl = std::make_unique<Impl>();
  impl->options.ranking = ranking;
  WARDEN_ASSIGN_OR_RETURN(impl->index, detail::CreateLuceneIndex(ranking));
  auto st = std::make_shared<State>();
  std::vector<detail::IndexDoc> docs;
  std::sort(skills.begin(), skills.end(), [](const Skill& a, const Skill& b) { return a.name < b.name; });
  for (auto& s : skills) {
    if (st->skills.count(s.name)) return Status::InvalidArgument("duplicate skill name \"" + s.name + "\"");
    docs.push_back(detail::MakeIndexDoc(s, ranking.split_identifiers));
    st->signatures[s.name] = "memory";
    st->skills.emplace(s.name, std::make_shared<const Skill>(std::move(s)));
  }
  WARDEN_RETURN_IF_ERROR(impl->index->Upsert(docs));
  WARDEN_RETURN_IF_ERROR(impl->index->Publish());
  st->generation = 1;
  impl->state.store(std::shared_ptr<const State>(std::move(st)));
  return std::unique_ptr<Catalog>(new Catalog(std::move(impl)));
}

Result<Selection> Catalog::Search(const std::string& query, int k, bool explain) const {
  Selection sel;
  sel.query = query;
  sel.generation = impl_->state.load()->generation;
  WARDEN_ASSIGN_OR_RETURN(sel.hits,
                          impl_->index->Search(detail::Tokenize(query, impl_->options.ranking.split_identifiers), k,
                                               explain));
  return sel;
}

std::vector<Skill> Catalog::List() const {
  auto st = impl_->state.load();
  std::vector<Skill> out;
  out.reserve(st->skills.size());
  for (const auto& [name, s] : st->skills) out.push_back(*s);
  return out;
}

Result<Skill> Catalog::Find(const std::string& name) const {
  auto st = impl_->state.load();
  auto it = st->skills.find(name);
  if (it == st->skills.end()) {
    return Status::NotFound("no skill named \"" + name + "\" in the catalog (" + std::to_string(st->skills.size()) +
                            " skills); `warden skills list` shows them");
  }
  return *it->second;
}

std::vector<Rejection> Catalog::Rejections() const { return impl_->state.load()->rejections; }

Status Catalog::Refresh() {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  return impl_->RefreshLocked();
}

uint64_t Catalog::generation() const { return impl_->state.load()->generation; }
size_t Catalog::size() const { return impl_->state.load()->skills.size(); }

json Catalog::ToJson() const {
  auto st = impl_->state.load();
  json j{{"skills", st->skills.size()}, {"generation", st->generation}, {"rejected", json::array()},
         {"folders", json::array()}};
  for (const auto& r : st->rejections) j["rejected"].push_back(r.ToJson());
  for (const auto& f : impl_->options.folders) j["folders"].push_back(f.string());
  return j;
}

json Selection::ToJson() const {
  json j{{"query", query}, {"generation", generation}, {"results", json::array()}};
  for (const Hit& h : hits) {
    json r{{"name", h.name}, {"score", h.score}};
    if (!h.fields.empty()) {
      r["fields"] = json::object();
      for (const auto& f : h.fields) r["fields"][FieldName(f.field)] = f.score;
    }
    if (!h.terms.empty()) {
      r["terms"] = json::object();
      for (const auto& [t, s] : h.terms) r["terms"][t] = s;
    }
    j["results"].push_back(std::move(r));
  }
  return j;
}

json CatalogEvent::ToJson() const {
  static const char* kKinds[] = {"added", "updated", "removed", "rejected", "shadowed", "reloaded"};
  json j{{"event", kKinds[static_cast<int>(kind)]}, {"name", name}, {"path", path.string()}};
  if (kind == Kind::kRejected) j["rejection"] = rejection.ToJson();
  if (kind == Kind::kReloaded) {
    j["generation"] = reload.generation;
    j["added"] = reload.added;
    j["updated"] = reload.updated;
    j["removed"] = reload.removed;
    j["rejected"] = reload.rejected;
    j["skills"] = reload.skills;
    j["rejected_total"] = reload.rejected_total;
    j["changed"] = reload.changed;
  }
  return j;
}

RankingOptions RankingOptions::Reference() {
  RankingOptions o;
  o.k1 = 1.2;
  o.per_field_b = false;
  o.b = 0.75;
  o.field_weight[static_cast<int>(Field::kName)] = 1;
  o.field_weight[static_cast<int>(Field::kDescription)] = 1;
  o.field_weight[static_cast<int>(Field::kTags)] = 1;
  o.field_weight[static_cast<int>(Field::kParams)] = 0;
  o.split_identifiers = false;
  return o;
}

}  // namespace warden::skills
