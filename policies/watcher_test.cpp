// Hot reload (watcher.cpp), cases P36-P41 and P44 of policy-audit.md A.8.7: a valid change is swapped in and reported
// with its added rules, any invalid candidate keeps the old set and reports file:line:column, editors' truncate-then-
// write never publishes the partial file, start-up refuses an invalid set, and 8 evaluating threads see only
// complete sets while the set is swapped 100 times a second. Also the poll fallback without inotify.
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "policies/policy_test_util.h"
#include "tests/support/test_support.h"

namespace warden::policy {
namespace {

using namespace std::chrono_literals;

struct Events {
  std::mutex mu;
  std::vector<ReloadEvent> list;
  void Add(const ReloadEvent& e) {
    std::lock_guard<std::mutex> l(mu);
    list.push_back(e);
  }
  size_t size() {
    std::lock_guard<std::mutex> l(mu);
    return list.size();
  }
  ReloadEvent last() {
    std::lock_guard<std::mutex> l(mu);
    return list.back();
  }
};

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

struct Watched {
  testing::TempDir dir;
  Events events;
  std::unique_ptr<PolicyWatcher> watcher;
  explicit Watched(bool inotify = true, std::chrono::milliseconds debounce = 100ms) {
    testutil::WriteFiles(dir.path(), testutil::ReferenceFiles());
    WatchOptions w;
    w.debounce = debounce;
    w.poll_interval = inotify ? 5000ms : 100ms;
    w.use_inotify = inotify;
    auto s = PolicyWatcher::Start(dir.path(), LoadOptions{"/", false, {}}, w, [this](const ReloadEvent& e) { events.Add(e); });
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    watcher = std::move(*s);
  }
  Decision Env() { return watcher->current()->Evaluate(testutil::Req("fs.read", {{"path", "/workspace/a.env"}})); }
};

const char* kNewRule = "[[rule]]\nid = \"etc-hosts\"\neffect = \"allow\"\nactions = [\"fs.read\"]\npaths = [\"/etc/hosts\"]\n";

TEST_CASE("P36: a valid new file is picked up, with a new hash and the added rule", "[policies][doc][reload]") {
  Watched w;
  REQUIRE(w.events.size() == 1);
  CHECK(w.events.last().initial);
  CHECK(ToJson(w.events.last())["type"] == "policy.loaded");
  const auto before = w.watcher->current()->hash();
  const auto req = testutil::Req("fs.read", {{"path", "/etc/hosts"}});
  CHECK(w.watcher->current()->Evaluate(req).is_default);
  testutil::WriteFiles(w.dir.path(), {{"20-extra.toml", kNewRule}});
  REQUIRE(WaitFor([&] { return w.watcher->current()->hash() != before; }));
  CHECK(w.watcher->current()->Evaluate(req).effect == Effect::kAllow);
  REQUIRE(w.events.size() == 2);
  const auto e = w.events.last();
  CHECK(e.loaded);
  CHECK(e.previous_hash == before);
  CHECK(e.added == std::vector<std::string>{"etc-hosts"});
  CHECK(ToJson(e)["added"][0] == "etc-hosts");
}

TEST_CASE("P37: a syntax error keeps the old set and reports file:line:column", "[policies][doc][reload]") {
  Watched w;
  const auto before = w.watcher->current()->hash();
  auto files = testutil::ReferenceFiles();
  std::string text = files[1].second;
  text.insert(text.find("[[rule]]\nid = \"ws-write\""), "broken = [\n");
  testutil::WriteFiles(w.dir.path(), {{"10-acme.toml", text}});
  REQUIRE(WaitFor([&] { return w.events.size() == 2; }));
  const auto e = w.events.last();
  CHECK_FALSE(e.loaded);
  CHECK(e.hash == before);
  REQUIRE_FALSE(e.errors.empty());
  CHECK(e.errors[0].file == "10-acme.toml");
  CHECK(e.errors[0].line >= 12);
  const auto j = ToJson(e);
  CHECK(j["type"] == "policy.load_failed");
  CHECK(j["errors"][0]["file"] == "10-acme.toml");
  CHECK(w.watcher->current()->hash() == before);
  CHECK(w.Env().effect == Effect::kAllow);
  CHECK(w.watcher->stale() == e.candidate_hash);  // health: the folder is ahead of the active set
  // The same broken content is not reported again.
  w.watcher->ReloadNow();
  CHECK(w.events.size() == 2);
  // Fixed: loads, and the set is no longer stale.
  testutil::WriteFiles(w.dir.path(), {{"10-acme.toml", files[1].second}});
  CHECK(w.watcher->ReloadNow().loaded);
  CHECK(w.watcher->stale().empty());
}

TEST_CASE("P38/P39: semantic errors and failing inline tests keep the old set", "[policies][doc][reload]") {
  Watched w(false);
  const auto before = w.watcher->current()->hash();
  testutil::WriteFiles(w.dir.path(), {{"30-bad.toml", "[[rule]]\nid = \"ws-read\"\neffect = \"permit\"\nactions = [\"fs.raed\"]\n"}});
  auto e = w.watcher->ReloadNow();
  CHECK_FALSE(e.loaded);
  CHECK(e.errors.size() == 3);  // effect, action, duplicate id
  CHECK(w.watcher->current()->hash() == before);
  testutil::WriteFiles(w.dir.path(), {{"30-bad.toml", "[[test]]\nname = \"x\"\nrequest = { principal = \"acme/agent/b\", "
                                                     "action = \"fs.read\", resource = { path = \"/etc/passwd\" } }\nexpect = \"allow\"\n"}});
  e = w.watcher->ReloadNow();
  CHECK_FALSE(e.loaded);
  REQUIRE(e.failed_tests.size() == 1);
  CHECK(ToJson(e)["failed_tests"][0]["name"] == "x");
  CHECK(w.watcher->current()->hash() == before);
}

TEST_CASE("P40: truncate-then-write loads once, never the partial file", "[policies][doc][reload]") {
  Watched w(true, 400ms);  // longer than the pauses below even on a loaded CI machine
  const auto before = w.watcher->current()->hash();
  const auto path = w.dir.path() / "10-acme.toml";
  std::string full = testutil::ReferenceFiles()[1].second + "\n# edited\n";
  {
    std::ofstream(path, std::ios::trunc).flush();  // the editor truncates...
  }
  std::this_thread::sleep_for(20ms);
  { std::ofstream(path, std::ios::trunc) << full.substr(0, full.size() / 2); }  // ...writes half...
  std::this_thread::sleep_for(20ms);
  { std::ofstream(path, std::ios::trunc) << full; }  // ...then the rest
  REQUIRE(WaitFor([&] { return w.watcher->current()->hash() != before; }));
  std::this_thread::sleep_for(600ms);
  const auto final_hash = w.watcher->current()->hash();
  {
    // No decision ever used a partial set: the only sets ever published are the old one and the complete file.
    std::lock_guard<std::mutex> l(w.events.mu);
    for (const auto& e : w.events.list) {
      if (e.loaded) CHECK((e.hash == before || e.hash == final_hash));
    }
  }
  CHECK(w.events.size() == 2);  // the initial load and the complete file, nothing in between
  CHECK(w.events.last().loaded);
  CHECK(w.events.last().changed.empty());
  CHECK(w.Env().effect == Effect::kAllow);
}

TEST_CASE("P41: start-up with an invalid set fails", "[policies][doc][reload]") {
  testing::TempDir dir;
  testutil::WriteFiles(dir.path(), {{"a.toml", "[[rule]]\nid = \"x\"\neffect = \"allow\"\n"}});
  bool called = false;
  auto s = PolicyWatcher::Start(dir.path(), {}, {}, [&](const ReloadEvent&) { called = true; });
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("a.toml:1:1:") != std::string::npos);
  CHECK(called);  // the failure is reported to the listener too (audited as policy.load_failed)
  auto missing = PolicyWatcher::Start(dir.path() / "nope", {}, {}, nullptr);
  CHECK_FALSE(missing.ok());
}

TEST_CASE("poll fallback notices changes without inotify", "[policies][reload]") {
  Watched w(false);
  CHECK_FALSE(w.watcher->using_inotify());
  const auto before = w.watcher->current()->hash();
  testutil::WriteFiles(w.dir.path(), {{"sub/20-extra.toml", kNewRule}});
  REQUIRE(WaitFor([&] { return w.watcher->current()->hash() != before; }));
  std::filesystem::remove(w.dir.path() / "sub/20-extra.toml");
  REQUIRE(WaitFor([&] { return w.watcher->current()->hash() == before; }));
  CHECK(w.events.last().removed == std::vector<std::string>{"etc-hosts"});
}

TEST_CASE("symlinked policy files are rejected", "[policies][reload]") {
  testing::TempDir dir, other;
  testutil::WriteFiles(other.path(), {{"x.toml", kNewRule}});
  std::filesystem::create_symlink(other.path() / "x.toml", dir.path() / "x.toml");
  testutil::WriteFiles(dir.path(), {{".hidden.toml", "garbage ["}, {"a.toml~", "garbage ["}, {"b.toml.swp", "x"}});
  auto set = PolicySet::LoadDir(dir.path());
  REQUIRE_FALSE(set.ok());
  CHECK(set.status().message().find("symlink") != std::string::npos);
  std::filesystem::remove(dir.path() / "x.toml");
  CHECK(PolicySet::LoadDir(dir.path()).ok());  // editor files are skipped
}

TEST_CASE("P44: 8 evaluating threads during 100 swaps per second see only complete sets", "[policies][doc][reload]") {
  Watched w(false);
  const auto h1 = w.watcher->current()->hash();
  testutil::WriteFiles(w.dir.path(), {{"20-extra.toml", kNewRule}});
  w.watcher->ReloadNow();
  const auto h2 = w.watcher->current()->hash();
  REQUIRE(h1 != h2);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      const auto req = testutil::Req("fs.read", {{"path", "/etc/hosts"}});
      while (!stop) {
        auto set = w.watcher->current();
        const auto d = set->Evaluate(req);
        const bool consistent = (d.policy_set == h1 && d.is_default) || (d.policy_set == h2 && d.effect == Effect::kAllow);
        if (!consistent) ++bad;
        ++total;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    if (i % 2 == 0) std::filesystem::remove(w.dir.path() / "20-extra.toml");
    else testutil::WriteFiles(w.dir.path(), {{"20-extra.toml", kNewRule}});
    const auto e = w.watcher->ReloadNow();
    CHECK(e.loaded);
    std::this_thread::sleep_for(10ms);
  }
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  CHECK(total > 100);
}

}  // namespace
}  // namespace warden::policy
