// Folder scanning and watching for the live catalog (issue 8 "Live"): ScanFolder lists the skill entries of a
// folder with a cheap signature (stat of the manifest files), and the watcher calls back after changes settle:
// inotify on each folder and each skill folder in it, with a periodic rescan as a safety net (missing folders that
// appear later, event-queue overflow); polling alone when inotify is unavailable or requested.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "skills/skills_internal.h"

namespace warden::skills::detail {

namespace fs = std::filesystem;

namespace {

std::string StatSignature(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return "-";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr int kSettleMs = 5;        // a burst of events (editor save, cp -r) is applied once
constexpr int kMaxSettleMs = 50;    // but never later than this after the first event
constexpr int kSafetyRescanMs = 1000;

class Watcher : public FolderWatcher {
 public:
  Watcher(std::vector<fs::path> folders, int poll_ms, std::function<void()> on_change)
      : folders_(std::move(folders)), poll_ms_(poll_ms), on_change_(std::move(on_change)) {
    if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
    if (poll_ms_ <= 0) {
      fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (fd_ < 0) poll_ms_ = 100;  // inotify unavailable (limits, seccomp): fall back to polling
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~Watcher() override {
    stop_ = true;
    if (stop_pipe_[1] >= 0) {
      char c = 1;
      [[maybe_unused]] auto n = ::write(stop_pipe_[1], &c, 1);
    }
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    for (int fd : stop_pipe_) {
      if (fd >= 0) ::close(fd);
    }
  }

 private:
  void AddWatches() {
    if (fd_ < 0) return;
    constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY |
                               IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    for (const auto& folder : folders_) {
      // Adding an existing watch again is a no-op that returns the same descriptor.
      ::inotify_add_watch(fd_, folder.c_str(), kMask);
      std::error_code ec;
      for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) ::inotify_add_watch(fd_, it->path().c_str(), kMask);
      }
    }
  }

  // Drains pending events; returns true if there were any.
  bool Drain() {
    alignas(struct inotify_event) char buf[16384];
    bool any = false;
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return any;
      any = true;
    }
  }

  void Run() {
    using Clock = std::chrono::steady_clock;
    AddWatches();
    auto last_rescan = Clock::now();
    while (!stop_) {
      const int period = poll_ms_ > 0 ? poll_ms_ : kSafetyRescanMs;
      struct pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {fd_, POLLIN, 0}};
      int r = ::poll(fds, fd_ >= 0 ? 2 : 1, period);
      if (stop_) return;
      bool changed = false;
      if (r > 0 && fd_ >= 0 && (fds[1].revents & POLLIN)) {
        Drain();
        const auto first = Clock::now();
        // Let the burst settle so one save (write + rename + attrib) is one refresh.
        while (Clock::now() - first < std::chrono::milliseconds(kMaxSettleMs)) {
          struct pollfd p = {fd_, POLLIN, 0};
          if (::poll(&p, 1, kSettleMs) <= 0) break;
          Drain();
        }
        changed = true;
      }
      if (!changed && Clock::now() - last_rescan >= std::chrono::milliseconds(period)) changed = true;
      if (!changed) continue;
      last_rescan = Clock::now();
      on_change_();  // rescans signatures; applies only real changes
      AddWatches();  // new skill folders
    }
  }

  std::vector<fs::path> folders_;
  int poll_ms_;
  std::function<void()> on_change_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

std::vector<FolderEntry> ScanFolder(const fs::path& folder) {
  std::vector<FolderEntry> out;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.') continue;  // editor temp files, .git
    if (it->is_directory(ec)) {
      // A folder counts when it looks like a skill; other folders (docs, tests) are not skills.
      const std::string md = StatSignature(p / "SKILL.md");
      const std::string js = StatSignature(p / "skill.json");
      if (md == "-" && js == "-") continue;
      out.push_back(FolderEntry{p, md + "|" + js});
    } else if (EndsWith(name, ".skill.json")) {
      out.push_back(FolderEntry{p, StatSignature(p)});
    }
  }
  std::sort(out.begin(), out.end(), [](const FolderEntry& a, const FolderEntry& b) { return a.path < b.path; });
  return out;
}

std::unique_ptr<FolderWatcher> StartWatcher(const std::vector<fs::path>& folders, int poll_interval_ms,
                                            std::function<void()> on_change) {
  return std::make_unique<Watcher>(folders, poll_interval_ms, std::move(on_change));
}

}  // namespace warden::skills::detail
