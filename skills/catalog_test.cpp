// The live catalog (issue 8 "Live", "bad manifest rejected alone", precedence): folder precedence, rejections
// reported to the listener, add/change/delete visible to search within 200 ms through inotify and through polling,
// and concurrent searches during edits that only ever see whole catalog states.
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "skills/skills_test_util.h"
#include "tests/support/test_support.h"

namespace warden::skills {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

struct Recorder {
  std::mutex mu;
  std::vector<CatalogEvent> events;
  std::function<void(const CatalogEvent&)> Listener() {
    return [this](const CatalogEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(e);
    };
  }
  int Count(CatalogEvent::Kind k) {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; }));
  }
};

std::vector<std::string> Names(const Catalog& c, const std::string& q) {
  std::vector<std::string> out;
  auto sel = c.Search(q, 50);
  REQUIRE(sel.ok());
  for (const auto& h : sel->hits) out.push_back(h.name);
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& n) { return std::find(v.begin(), v.end(), n) != v.end(); }

// Waits until pred() holds; returns the milliseconds it took (or -1 after 3 s).
template <typename Pred>
double WaitFor(Pred pred) {
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < std::chrono::seconds(3)) {
    if (pred()) return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

TEST_CASE("Later folders override earlier ones by name", "[skills][catalog]") {
  TempDir builtin, user;
  testutil::WriteSkillMd(builtin.path(), "hash-file", "Hash a file with SHA-256 (built-in)");
  testutil::WriteSkillMd(builtin.path(), "word-count", "Count words");
  testutil::WriteSkillMd(user.path(), "hash-file", "Hash a file with BLAKE2 (user's version)");
  Recorder rec;
  CatalogOptions o;
  o.folders = {builtin.path(), user.path()};
  o.listener = rec.Listener();
  auto c = Catalog::Open(o);
  REQUIRE(c.ok());
  CHECK((*c)->size() == 2);
  auto s = (*c)->Find("hash-file");
  REQUIRE(s.ok());
  CHECK(s->description.find("user's") != std::string::npos);
  CHECK(s->source_folder == user.path());
  CHECK(Names(**c, "blake2") == std::vector<std::string>{"hash-file"});
  CHECK(Names(**c, "sha").empty());
  CHECK(rec.Count(CatalogEvent::Kind::kShadowed) == 1);
  CHECK((*c)->Find("missing").status().code() == Status::Code::kNotFound);
}

TEST_CASE("A bad manifest is rejected alone and reported", "[skills][catalog]") {
  TempDir dir;
  testutil::WriteSkillMd(dir.path(), "good-one", "Resize images");
  testutil::WriteSkillMd(dir.path(), "bad-one", std::string(2000, 'x'));
  Recorder rec;
  CatalogOptions o;
  o.folders = {dir.path(), dir.path() / "does-not-exist"};
  o.listener = rec.Listener();
  auto c = Catalog::Open(o);
  REQUIRE(c.ok());
  CHECK((*c)->size() == 1);
  CHECK(Names(**c, "resize images") == std::vector<std::string>{"good-one"});
  REQUIRE((*c)->Rejections().size() == 1);
  CHECK((*c)->Rejections()[0].field == "description");
  CHECK(rec.Count(CatalogEvent::Kind::kRejected) == 1);
  CHECK(rec.Count(CatalogEvent::Kind::kAdded) == 1);
  CHECK(rec.Count(CatalogEvent::Kind::kReloaded) == 1);
  CHECK(rec.events.back().reload.rejected == 1);
  auto j = (*c)->ToJson();
  CHECK(j["rejected"][0]["field"] == "description");
  CHECK(rec.events[0].ToJson()["event"] == "rejected");
}

TEST_CASE("Each applied refresh sends one reload summary after its per-skill events", "[skills][catalog]") {
  TempDir dir;
  testutil::WriteSkillMd(dir.path(), "alpha-tool", "Alpha tool");
  testutil::WriteSkillMd(dir.path(), "beta-tool", "Beta tool");
  Recorder rec;
  CatalogOptions o;
  o.folders = {dir.path()};
  o.listener = rec.Listener();
  auto c = Catalog::Open(o);
  REQUIRE(c.ok());
  auto last_reload = [&] {
    std::lock_guard<std::mutex> lock(rec.mu);
    REQUIRE(!rec.events.empty());
    REQUIRE(rec.events.back().kind == CatalogEvent::Kind::kReloaded);
    return rec.events.back().reload;
  };
  ReloadSummary first = last_reload();
  CHECK(first.added == 2);
  CHECK(first.skills == 2);
  CHECK(first.generation == (*c)->generation());
  CHECK(rec.Count(CatalogEvent::Kind::kReloaded) == 1);

  // Nothing changed: nothing is sent.
  REQUIRE((*c)->Refresh().ok());
  CHECK(rec.Count(CatalogEvent::Kind::kReloaded) == 1);

  testutil::WriteSkillMd(dir.path(), "gamma-tool", "Gamma tool");
  fs::remove_all(dir.path() / "alpha-tool");
  // A second manifest named like an existing skill in the same folder is rejected, once.
  nlohmann::json dup = {{"name", "beta-tool"}, {"description", "Another beta"}, {"version", "1.0.0"},
                        {"entrypoint", {"/bin/cat"}}};
  REQUIRE(WriteFileAtomic(dir.path() / "beta-tool.skill.json", dup.dump()).ok());
  REQUIRE((*c)->Refresh().ok());
  ReloadSummary second = last_reload();
  CHECK(second.added == 1);
  CHECK(second.removed == 1);
  CHECK(second.updated == 0);
  CHECK(second.rejected == 1);
  CHECK(second.rejected_total == 1);
  CHECK(second.skills == 2);
  CHECK(second.generation == first.generation + 1);
  CHECK(second.generation == (*c)->generation());
  CHECK(std::find(second.changed.begin(), second.changed.end(), "alpha-tool") != second.changed.end());
  CHECK(rec.Count(CatalogEvent::Kind::kRejected) == 1);
  auto j = rec.events.back().ToJson();
  CHECK(j["event"] == "reloaded");
  CHECK(j["added"] == 1);
  CHECK(j["generation"] == second.generation);

  REQUIRE((*c)->Refresh().ok());
  CHECK(rec.Count(CatalogEvent::Kind::kRejected) == 1);
  CHECK(rec.Count(CatalogEvent::Kind::kReloaded) == 2);
}

void LiveEdits(int poll_ms) {
  TempDir dir;
  testutil::WriteSkillMd(dir.path(), "base-skill", "Base skill for the watcher test");
  Recorder rec;
  CatalogOptions o;
  o.folders = {dir.path()};
  o.watch = true;
  o.poll_interval_ms = poll_ms;
  o.listener = rec.Listener();
  auto c = Catalog::Open(o);
  REQUIRE(c.ok());
  Catalog& cat = **c;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the watcher thread registers its watches

  testutil::WriteSkillMd(dir.path(), "zebra-stripes", "Paint zebra stripes");
  double add_ms = WaitFor([&] { return Has(Names(cat, "zebra"), "zebra-stripes"); });
  testutil::WriteSkillMd(dir.path(), "zebra-stripes", "Paint leopard spots");
  double change_ms = WaitFor([&] { return Has(Names(cat, "leopard"), "zebra-stripes") && Names(cat, "zebra").size() == 1; });
  // The name token "zebra" remains; the description word is gone.
  CHECK_FALSE(Has(Names(cat, "stripes paint"), "base-skill"));
  fs::remove_all(dir.path() / "zebra-stripes");
  double delete_ms = WaitFor([&] { return Names(cat, "leopard").empty(); });
  // A single-file skill dropped in, and a broken edit that is rejected while the rest keeps working.
  nlohmann::json j = {{"name", "quick-tool"}, {"description", "Quick tool for ferrets"}, {"version", "1.0.0"},
                      {"entrypoint", {"/bin/cat"}}};
  REQUIRE(WriteFileAtomic(dir.path() / "quick-tool.skill.json", j.dump()).ok());
  double file_ms = WaitFor([&] { return Has(Names(cat, "ferrets"), "quick-tool"); });
  REQUIRE(WriteFileAtomic(dir.path() / "quick-tool.skill.json", "{broken").ok());
  double reject_ms = WaitFor([&] { return rec.Count(CatalogEvent::Kind::kRejected) >= 1; });
  CHECK(Names(cat, "base skill") == std::vector<std::string>{"base-skill"});
  INFO("add " << add_ms << " change " << change_ms << " delete " << delete_ms << " file " << file_ms << " reject "
              << reject_ms << " ms");
  CHECK(add_ms >= 0);
  CHECK(add_ms < 200);
  CHECK(change_ms >= 0);
  CHECK(change_ms < 200);
  CHECK(delete_ms >= 0);
  CHECK(delete_ms < 200);
  CHECK(file_ms >= 0);
  CHECK(file_ms < 200);
  CHECK(reject_ms >= 0);
  CHECK(rec.Count(CatalogEvent::Kind::kRemoved) >= 1);
}

TEST_CASE("Watched folders: add, change, delete are searchable within 200 ms (inotify)", "[skills][catalog]") {
  LiveEdits(0);
}

TEST_CASE("Watched folders: add, change, delete are searchable within 200 ms (polling)", "[skills][catalog]") {
  LiveEdits(50);
}

TEST_CASE("Concurrent searches during edits see whole catalog states", "[skills][catalog]") {
  // Each edit renames the description word of every skill of a group at once (one refresh); a search must find
  // either all skills of the group under the old word or all under the new, never a mix.
  TempDir dir;
  constexpr int kGroup = 8;
  auto write_group = [&](const std::string& word) {
    for (int i = 0; i < kGroup; ++i) testutil::WriteSkillMd(dir.path(), "group-" + std::to_string(i), word + " task");
  };
  write_group("alpha");
  for (int i = 0; i < 50; ++i) testutil::WriteSkillMd(dir.path(), "filler-" + std::to_string(i), "filler text");
  CatalogOptions o;
  o.folders = {dir.path()};
  auto c = Catalog::Open(o);
  REQUIRE(c.ok());
  Catalog& cat = **c;
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0}, torn{0}, errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto a = cat.Search("alpha", 100);
        auto b = cat.Search("beta", 100);
        if (!a.ok() || !b.ok()) {
          ++errors;
          continue;
        }
        // Within one search the group is whole.
        if (a->hits.size() != 0 && a->hits.size() != kGroup) ++torn;
        if (b->hits.size() != 0 && b->hits.size() != kGroup) ++torn;
        ++searches;
      }
    });
  }
  for (int round = 0; round < 40; ++round) {
    write_group(round % 2 == 0 ? "beta" : "alpha");
    REQUIRE(cat.Refresh().ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(errors == 0);
  CHECK(torn == 0);
  CHECK(searches > 10);
  CHECK(cat.size() == kGroup + 50);
}

}  // namespace
}  // namespace warden::skills
