// Per-task cgroup (sandbox.md C.5): cgroup v2 (memory.max, memory.swap.max, pids.max, memory.events) when the
// supervisor's own v2 cgroup can delegate the memory and pids controllers; otherwise cgroup v1 memory + pids
// hierarchies, with the task groups created under the supervisor's own groups (never at the root) — the only
// option on the project machines. Without either, Create returns nullptr and the rlimits alone apply.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "runtime/base/file_util.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

namespace fs = std::filesystem;

// The supervisor's cgroup in the hierarchy that carries `controller` ("" = the v2 line "0::").
std::string ReadOwnCgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controller.empty() ? (line.compare(0, 3, "0::") == 0) : ("," + ctrls + ",").find("," + controller + ",") !=
                                                                     std::string::npos) {
      return path;
    }
  }
  return "";
}

bool WriteText(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// The text of a small cgroup file ("" when it cannot be read). A raw read: these files are read once per run
// after the task exits, on the path to its result, where an ifstream cost ~10 us each.
// `held` is the file opened ahead (TaskCgroup::OpenV1ReadFds): a pread at 0 regenerates its text, and saves the
// open's path walk through the cgroup fs.
std::string ReadSmall(const std::string& file, int held = -1) {
  char buf[512];
  ssize_t n = -1;
  if (held >= 0) {
    n = ::pread(held, buf, sizeof(buf), 0);
  } else if (int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    n = ::read(fd, buf, sizeof(buf));
    ::close(fd);
  }
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The value of `key` in a "key value" per line file (memory.events, pids.events, memory.oom_control); 0 if absent.
uint64_t ReadKey(const std::string& file, const std::string& key, int held = -1) {
  const std::string text = ReadSmall(file, held);
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, key.size(), key) == 0 && at + key.size() < end && text[at + key.size()] == ' ') {
      return std::strtoull(text.c_str() + at + key.size() + 1, nullptr, 10);
    }
    at = end + 1;
  }
  return 0;
}

uint64_t ReadNumber(const std::string& file, int held = -1) {
  return std::strtoull(ReadSmall(file, held).c_str(), nullptr, 10);
}

// Read once per process per controller: the supervisor does not move between cgroups while it runs tasks, and
// /proc/self/cgroup costs a few tens of microseconds per spawn otherwise.
const std::string& OwnCgroup(const std::string& controller) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(controller);
  if (it == cache.end()) it = cache.emplace(controller, ReadOwnCgroup(controller)).first;
  return it->second;
}

std::string V2Root() {
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    if (fs::exists(std::string(root) + "/cgroup.controllers")) return root;
  }
  return "";
}

bool V2Usable() {
  std::string root = V2Root();
  if (root.empty()) return false;
  auto ctrls = ReadFile(root + OwnCgroup("") + "/cgroup.subtree_control");
  if (!ctrls.ok()) return false;
  std::string s = " " + *ctrls + " ";
  for (char& c : s) c = (c == '\n') ? ' ' : c;
  return s.find(" memory ") != std::string::npos && s.find(" pids ") != std::string::npos;
}

bool V1Usable() {
  for (const char* c : {"memory", "pids"}) {
    std::string dir = std::string("/sys/fs/cgroup/") + c + OwnCgroup(c);
    if (OwnCgroup(c).empty() || ::access(dir.c_str(), W_OK) != 0) return false;
  }
  return true;
}

// The inode of our pid namespace: group names carry it, because a pid means something only in its namespace.
const std::string& PidNamespaceId() {
  static const std::string id = [] {
    struct stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? std::to_string(st.st_ino) : std::string("0");
  }();
  return id;
}

// Task groups left by a supervisor that died without its cleanup (a SIGKILL: the inits it had started ahead sat in
// their groups) are removed by the next one: `warden-<pid>-<n>-<pid namespace>` of our pid namespace whose pid no
// longer exists, and only when empty (rmdir refuses a group that still holds a process). Once per process, before
// its own first group.
void RemoveStaleGroups(const std::string& backend) {
  static std::once_flag once;
  std::call_once(once, [&backend] {
    std::vector<std::string> parents;
    if (backend == "v2") parents.push_back(V2Root() + OwnCgroup(""));
    if (backend == "v1") {
      parents.push_back("/sys/fs/cgroup/memory" + OwnCgroup("memory"));
      parents.push_back("/sys/fs/cgroup/pids" + OwnCgroup("pids"));
    }
    for (const auto& parent : parents) {
      std::error_code ec;
      for (std::filesystem::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const std::string suffix = "-" + PidNamespaceId();
        if (name.rfind("warden-", 0) != 0 || name.size() <= suffix.size() ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
          continue;  // not ours, or of another pid namespace (its pids mean nothing here)
        }
        const long pid = std::strtol(name.c_str() + 7, nullptr, 10);
        if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        ::rmdir(it->path().c_str());
      }
    }
  });
}

std::string UniqueName() {
  static std::atomic<uint64_t> counter{0};
  return "warden-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + PidNamespaceId();
}

}  // namespace

std::string TaskCgroup::Available() {
  static const std::string backend = V2Usable() ? "v2" : (V1Usable() ? "v1" : "none");
  return backend;
}

Result<std::unique_ptr<TaskCgroup>> TaskCgroup::Create(const Spec& spec) {
  std::string backend = Available();
  if (backend == "none") return std::unique_ptr<TaskCgroup>();
  RemoveStaleGroups(backend);
  auto cg = std::make_unique<TaskCgroup>();
  std::string name = UniqueName();
  auto make = [&](const std::string& dir) -> Status {
    if (::mkdir(dir.c_str(), 0755) != 0) return Status::IoError("cannot create cgroup " + dir, errno);
    cg->dirs_.push_back(dir);
    return Status::Ok();
  };
  auto write = [&](const std::string& file, const std::string& value) -> Status {
    if (!WriteText(file, value)) return Status::IoError("cannot write " + value + " to " + file, errno);
    return Status::Ok();
  };
  if (backend == "v2") {
    cg->backend_ = "v2";
    std::string dir = V2Root() + OwnCgroup("") + "/" + name;
    WARDEN_RETURN_IF_ERROR(make(dir));
    cg->memory_dir_ = cg->pids_dir_ = dir;
    WARDEN_RETURN_IF_ERROR(write(dir + "/memory.max", std::to_string(spec.memory_bytes)));
    WriteText(dir + "/memory.swap.max", "0");  // absent without swap accounting
    WARDEN_RETURN_IF_ERROR(write(dir + "/pids.max", std::to_string(spec.pids)));
    return cg;
  }
  if (auto spare = TakeSpare()) {
    cg = std::move(spare);
  } else {
    cg->backend_ = "v1";
    cg->memory_dir_ = "/sys/fs/cgroup/memory" + OwnCgroup("memory") + "/" + name;
    cg->pids_dir_ = "/sys/fs/cgroup/pids" + OwnCgroup("pids") + "/" + name;
    WARDEN_RETURN_IF_ERROR(make(cg->memory_dir_));
    WARDEN_RETURN_IF_ERROR(make(cg->pids_dir_));
  }
  WARDEN_RETURN_IF_ERROR(cg->SetV1Limits(spec.memory_bytes, spec.pids));
  if (cg->attach_fds_.empty()) WARDEN_RETURN_IF_ERROR(cg->OpenV1AttachFds());
  return cg;
}

Status TaskCgroup::ApplyLimits(const Spec& spec) {
  if (std::string(backend_) == "v1") return SetV1Limits(spec.memory_bytes, spec.pids);
  for (const auto& [file, value] : {std::pair{memory_dir_ + "/memory.max", spec.memory_bytes},
                                    std::pair{pids_dir_ + "/pids.max", spec.pids}}) {
    if (!WriteText(file, std::to_string(value))) {
      return Status::IoError("cannot write " + std::to_string(value) + " to " + file, errno);
    }
  }
  return Status::Ok();
}

Status TaskCgroup::SetV1Limits(uint64_t memory_bytes, uint64_t pids) {
  if (memory_bytes != memory_limit_) {
    const std::string value = std::to_string(memory_bytes);
    // memory+swap may never be below memory: raise it first, lower it after (it exists only with swapaccount).
    const std::string memsw = memory_dir_ + "/memory.memsw.limit_in_bytes";
    if (memory_bytes > memory_limit_ && memory_limit_ != 0) WriteText(memsw, value);
    if (!WriteText(memory_dir_ + "/memory.limit_in_bytes", value)) {
      return Status::IoError("cannot write " + value + " to " + memory_dir_ + "/memory.limit_in_bytes", errno);
    }
    WriteText(memsw, value);
    memory_limit_ = memory_bytes;
  }
  if (pids != pids_limit_) {
    const std::string value = std::to_string(pids);
    if (!WriteText(pids_dir_ + "/pids.max", value)) {
      return Status::IoError("cannot write " + value + " to " + pids_dir_ + "/pids.max", errno);
    }
    pids_limit_ = pids;
  }
  return Status::Ok();
}

Status TaskCgroup::OpenV1AttachFds() {
  for (const auto& dir : {memory_dir_, pids_dir_}) {
    int fd = ::open((dir + "/tasks").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError("cannot open " + dir + "/tasks", errno);
    attach_fds_.push_back(fd);
  }
  // The files read after the task exited; one that cannot be opened is read by path then.
  oom_fd_ = OwnedFd(::open((memory_dir_ + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
  peak_fd_ = OwnedFd(::open((memory_dir_ + "/memory.max_usage_in_bytes").c_str(), O_RDONLY | O_CLOEXEC));
  pids_events_fd_ = OwnedFd(::open((pids_dir_ + "/pids.events").c_str(), O_RDONLY | O_CLOEXEC));
  return Status::Ok();
}

// One pair of v1 groups made ahead of time on the cleanup thread (issue 7, spawn cost: a memory cgroup's mkdir is
// ~0.1 ms). Never used before, so its counters (oom_kill, pids.events, max usage) start at zero like a fresh one.
// MakeSpare(memory, pids) also writes the limits the last task had and opens the `tasks` files; Create writes only
// the limits that differ (each write is checked there as for a fresh pair). Removed at exit by the holder's
// destructor.
namespace {
struct SpareHolder {
  std::mutex mu;
  std::unique_ptr<TaskCgroup> spare;
};
SpareHolder& Spare() {
  static SpareHolder holder;
  return holder;
}
}  // namespace

std::unique_ptr<TaskCgroup> TaskCgroup::TakeSpare() {
  SpareHolder& h = Spare();
  std::lock_guard<std::mutex> lock(h.mu);
  return std::move(h.spare);
}

void TaskCgroup::MakeSpare() { MakeSpare(0, 0); }

void TaskCgroup::MakeSpare(uint64_t memory_bytes, uint64_t pids) {
  if (Available() != "v1") return;
  SpareHolder& h = Spare();
  {
    std::lock_guard<std::mutex> lock(h.mu);
    if (h.spare) return;
  }
  auto cg = std::make_unique<TaskCgroup>();
  cg->backend_ = "v1";
  std::string name = UniqueName();
  cg->memory_dir_ = "/sys/fs/cgroup/memory" + OwnCgroup("memory") + "/" + name;
  cg->pids_dir_ = "/sys/fs/cgroup/pids" + OwnCgroup("pids") + "/" + name;
  for (const auto& dir : {cg->memory_dir_, cg->pids_dir_}) {
    if (::mkdir(dir.c_str(), 0755) != 0) return;  // the destructor removes what was made
    cg->dirs_.push_back(dir);
  }
  // A pair whose limits could not be written is not kept (the destructor removes it); the run makes its own and
  // reports why.
  if (memory_bytes != 0 && pids != 0) {
    if (!cg->SetV1Limits(memory_bytes, pids).ok() || !cg->OpenV1AttachFds().ok()) return;
  }
  std::lock_guard<std::mutex> lock(h.mu);
  if (!h.spare) h.spare = std::move(cg);
}

void TaskCgroup::CloseSelfAttachFds() {
  for (int fd : attach_fds_) ::close(fd);
  attach_fds_.clear();
}

TaskCgroup::~TaskCgroup() {
  CloseSelfAttachFds();
  KillAll();
  // The namespace's processes die asynchronously after its init; rmdir succeeds once the group is empty.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    for (int i = 0; i < 200 && ::rmdir(it->c_str()) != 0 && errno == EBUSY; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

Status TaskCgroup::AddProcess(pid_t pid) {
  std::string p = std::to_string(pid);
  for (const auto& dir : dirs_) {
    if (!WriteText(dir + "/cgroup.procs", p)) return Status::IoError("cannot move pid " + p + " into " + dir, errno);
  }
  return Status::Ok();
}

bool TaskCgroup::OomKilled() const {
  if (std::string(backend_) == "v2") return ReadKey(memory_dir_ + "/memory.events", "oom_kill") > 0;
  return ReadKey(memory_dir_ + "/memory.oom_control", "oom_kill", oom_fd_.get()) > 0;
}

bool TaskCgroup::PidsLimitHit() const {
  return ReadKey(pids_dir_ + "/pids.events", "max", pids_events_fd_.get()) > 0;
}

uint64_t TaskCgroup::PeakMemoryBytes() const {
  if (std::string(backend_) == "v2") return ReadNumber(memory_dir_ + "/memory.peak");
  return ReadNumber(memory_dir_ + "/memory.max_usage_in_bytes", peak_fd_.get());
}

void TaskCgroup::KillAll() {
  if (std::string(backend_) == "v2") {
    WriteText(memory_dir_ + "/cgroup.kill", "1");
    return;
  }
  std::ifstream in(pids_dir_ + "/cgroup.procs");
  pid_t pid;
  while (in >> pid) ::kill(pid, SIGKILL);
}

std::vector<Limit> TaskCgroup::Mechanisms(const Spec& spec) const {
  std::string b = backend_;
  std::vector<Limit> out;
  out.push_back({"memory", spec.memory_bytes,
                 {b == "v2" ? "cgroup_v2:memory.max" : "cgroup_v1:memory.limit_in_bytes"}, false, ""});
  out.push_back({"pids", spec.pids, {b == "v2" ? "cgroup_v2:pids.max" : "cgroup_v1:pids.max"}, false, ""});
  return out;
}

}  // namespace warden::sandbox::detail
