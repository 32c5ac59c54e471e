// Hot reload of a policies folder (policy-audit.md A.8.5): inotify on the folder and its subfolders plus a poll of
// (name, size, mtime, inode) as the fallback, a debounce after the last change, a complete candidate set built off to
// the side, and a swap of one shared_ptr only when every file parses, validates and passes its tests. A failure
// keeps the old set and is reported once per distinct candidate content.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "policies/policy_internal.h"

namespace warden::policy {

struct PolicyWatcher::Impl {
  std::filesystem::path dir;
  LoadOptions load;
  WatchOptions watch;
  Listener listener;
  mutable std::mutex mu;  // guards `current`
  std::shared_ptr<const PolicySet> current;
  std::string stale;      // guarded by `mu`: the hash of folder content that failed to load, "" once one loads
  std::mutex reload_mu;   // one reload at a time
  std::string last_failed_hash;
  std::string fingerprint;
  int inotify_fd = -1;
  int stop_fd = -1;
  std::thread thread;

  ~Impl() {
    if (stop_fd >= 0) {
      const uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(stop_fd, &one, sizeof one);
    }
    if (thread.joinable()) thread.join();
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  // What the poll compares: every entry's name, size, mtime and inode.
  std::string Fingerprint() const {
    std::string fp;
    std::error_code ec;
    std::vector<std::string> rows;
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0) continue;
      rows.push_back(it->path().string() + "|" + std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) +
                     "." + std::to_string(st.st_mtim.tv_nsec) + "|" + std::to_string(st.st_ino));
    }
    std::sort(rows.begin(), rows.end());
    for (const auto& r : rows) fp += r + "\n";
    return fp;
  }

  void AddWatches() {
    if (inotify_fd < 0) return;
    const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY |
                          IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    inotify_add_watch(inotify_fd, dir.c_str(), mask);
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) inotify_add_watch(inotify_fd, it->path().c_str(), mask);
    }
  }

  ReloadEvent Reload(bool initial) {
    std::lock_guard<std::mutex> guard(reload_mu);
    fingerprint = Fingerprint();
    AddWatches();
    ReloadEvent ev;
    ev.initial = initial;
    std::shared_ptr<const PolicySet> old;
    {
      std::lock_guard<std::mutex> lock(mu);
      old = current;
    }
    ev.previous_hash = old ? old->hash() : "";
    auto files = PolicySet::ReadDir(dir);
    PolicySet::CheckReport report;
    if (files.ok()) {
      report = PolicySet::Check(*files, load);
      std::string hash_input;
      auto sorted = *files;
      std::sort(sorted.begin(), sorted.end());
      for (const auto& [name, text] : sorted) {
        ev.file_hashes.emplace_back(name, detail::Sha256Hex(text));
        hash_input += name + '\0' + ev.file_hashes.back().second + '\n';
      }
      ev.candidate_hash = "sha256:" + detail::Sha256Hex(hash_input);
    } else {
      report.errors.push_back({dir.string(), 0, 0, files.status().message()});
      ev.candidate_hash = "unreadable:" + files.status().message();
    }
    for (const auto& t : report.tests) {
      if (!t.passed) ev.failed_tests.push_back(t);
    }
    ev.warnings = report.warnings;
    if (report.set) {
      ev.loaded = true;
      ev.hash = report.set->hash();
      const auto now_ids = report.set->RuleIds();
      std::map<std::string, std::string> before, after;  // id -> "file:effect:..." description for changes
      auto describe = [](const PolicySet& s, std::map<std::string, std::string>* out) {
        const auto doc = s.Describe();
        for (const auto& r : doc["rules"]) (*out)[r["id"].get<std::string>()] = r.dump();
      };
      if (old) describe(*old, &before);
      describe(*report.set, &after);
      for (const auto& [id, text] : after) {
        auto it = before.find(id);
        if (it == before.end()) ev.added.push_back(id);
        else if (it->second != text) ev.changed.push_back(id);
      }
      for (const auto& [id, text] : before) {
        if (after.count(id) == 0) ev.removed.push_back(id);
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        current = report.set;
        stale.clear();
      }
      last_failed_hash.clear();
    } else {
      ev.loaded = false;
      ev.hash = ev.previous_hash;
      ev.errors = std::move(report.errors);
      if (!initial) {
        std::lock_guard<std::mutex> lock(mu);
        stale = ev.candidate_hash;
      }
      // The same broken content is reported once, not at every poll.
      if (!initial && ev.candidate_hash == last_failed_hash) return ev;
      last_failed_hash = ev.candidate_hash;
    }
    if (listener && (ev.loaded ? ev.hash != ev.previous_hash || initial : true)) listener(ev);
    return ev;
  }

  void Run() {
    using Clock = std::chrono::steady_clock;
    auto next_poll = Clock::now() + watch.poll_interval;
    bool pending = false;  // a change waits for the debounce
    Clock::time_point due = Clock::now();
    std::vector<char> buf(64 * 1024);
    while (true) {
      const auto now = Clock::now();
      auto wake = pending ? std::min(due, next_poll) : next_poll;
      const int timeout_ms =
          static_cast<int>(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()));
      pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      const int n = ::poll(fds, inotify_fd >= 0 ? 2 : 1, timeout_ms);
      if (n < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) return;
      if (inotify_fd >= 0 && (fds[1].revents & POLLIN)) {
        while (::read(inotify_fd, buf.data(), buf.size()) > 0) {
        }
        due = Clock::now() + watch.debounce;  // debounce: wait for quiet
        pending = true;
      }
      if (Clock::now() >= next_poll) {
        next_poll = Clock::now() + watch.poll_interval;
        std::string fp = Fingerprint();
        bool changed = false;
        {
          std::lock_guard<std::mutex> guard(reload_mu);
          changed = fp != fingerprint;
        }
        if (changed && !pending) due = Clock::now() + watch.debounce, pending = true;
      }
      if (pending && Clock::now() >= due) {
        pending = false;
        Reload(false);
      }
    }
  }
};

PolicyWatcher::PolicyWatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PolicyWatcher::~PolicyWatcher() = default;

Result<std::unique_ptr<PolicyWatcher>> PolicyWatcher::Start(const std::filesystem::path& dir, LoadOptions load,
                                                            WatchOptions watch, Listener listener) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->load = std::move(load);
  impl->watch = watch;
  impl->listener = std::move(listener);
  if (watch.use_inotify) impl->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // -1: poll only
  impl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->stop_fd < 0) return Status::IoError("eventfd for the policy watcher", errno);
  auto ev = impl->Reload(true);
  if (!ev.loaded) {
    std::string msg = "policies in " + dir.string() + " are invalid; refusing to start with them:";
    for (const auto& e : ev.errors) msg += "\n  " + e.ToString();
    return Status::InvalidArgument(msg);
  }
  auto* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<PolicyWatcher>(new PolicyWatcher(std::move(impl)));
}

std::shared_ptr<const PolicySet> PolicyWatcher::current() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->current;
}

ReloadEvent PolicyWatcher::ReloadNow() { return impl_->Reload(false); }
bool PolicyWatcher::using_inotify() const { return impl_->inotify_fd >= 0; }

std::string PolicyWatcher::stale() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stale;
}

nlohmann::json ToJson(const ReloadEvent& e) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& x : e.errors) {
    errors.push_back({{"file", x.file}, {"line", x.line}, {"column", x.column}, {"message", x.message}});
  }
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : e.failed_tests) {
    tests.push_back({{"name", t.name}, {"file", t.file}, {"line", t.line}, {"message", t.message}});
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [name, sha] : e.file_hashes) files.push_back({{"name", name}, {"sha256", sha}});
  nlohmann::json doc{{"type", e.loaded ? "policy.loaded" : "policy.load_failed"},
                     {"initial", e.initial},
                     {"policy_set", e.hash},
                     {"previous", e.previous_hash},
                     {"candidate", e.candidate_hash},
                     {"files", files}};
  if (!e.warnings.empty()) {
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto& x : e.warnings) {
      warnings.push_back({{"file", x.file}, {"line", x.line}, {"column", x.column}, {"message", x.message}});
    }
    doc["warnings"] = std::move(warnings);
  }
  if (e.loaded) {
    doc["added"] = e.added;
    doc["removed"] = e.removed;
    doc["changed"] = e.changed;
  } else {
    doc["errors"] = errors;
    doc["failed_tests"] = tests;
  }
  return doc;
}

}  // namespace warden::policy
