// The next run's spares that cgroup.cpp does not hold: its stdio pipes (fresh, never used, ~12 us)
// and, mainly, the system part of its view. Issue 7, spawn cost; docs/sandbox.md
// "Spawn cost". The view:
// the detached, flagged copies of /usr, the non-merged /bin, /lib.., the /etc template, /etc/alternatives,
// /etc/ssl (profile net), the five device nodes and the root template (SystemTrees, mounts.cpp) cost ~0.12 ms of
// open_tree + mount_setattr per run; the cleanup thread makes them while the previous task runs, and PrepareMounts
// takes them whole.
//
// Safe because nothing in them depends on the spec but the profile (compared at take), each copy is moved into one
// view only (one spare, taken once under the lock; a detached tree moved once is attached and cannot move again),
// and a spare that may be stale is never used: SystemTreesCurrent refuses it after any host mount change since it
// was made, when a copied folder or node was removed, or when a template folder is no longer the one held by fd
// (a tmp cleaner). The run then builds its own, with every check of the inline path. The workspace and --ro trees
// are the caller's and stay per run.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

struct SpareView {
  std::mutex mu;
  std::unique_ptr<SystemTrees> trees;  // guarded by mu
};

SpareView& Spare() {
  static SpareView spare;
  return spare;
}

std::atomic<bool> g_enabled{true};

struct SpareChannels {
  std::mutex mu;
  std::unique_ptr<RunChannels> channels;  // guarded by mu
};

SpareChannels& Channels() {
  static SpareChannels spare;
  return spare;
}

// Dropping unused detached trees unmounts them (a grace period); never on a run's path.
void DropLater(std::unique_ptr<SystemTrees> trees) {
  if (trees != nullptr) DeferCleanup([dropped = std::shared_ptr<SystemTrees>(std::move(trees))] {});
}

}  // namespace

std::unique_ptr<SystemTrees> TakeSpareView(const std::string& profile) {
  if (!g_enabled) return nullptr;
  std::unique_ptr<SystemTrees> trees;
  {
    std::lock_guard<std::mutex> lock(Spare().mu);
    trees = std::move(Spare().trees);
  }
  if (trees == nullptr) return nullptr;
  if (trees->profile != profile || !SystemTreesCurrent(*trees)) {
    DropLater(std::move(trees));
    return nullptr;
  }
  return trees;
}

void MakeSpareView(const std::string& profile) {
  if (!g_enabled) return;
  {
    std::lock_guard<std::mutex> lock(Spare().mu);
    if (Spare().trees != nullptr && Spare().trees->profile == profile) return;
  }
  auto made = OpenSystemTrees(profile);
  if (!made.ok()) return;  // the next run builds its own and reports why
  auto trees = std::make_unique<SystemTrees>(std::move(*made));
  AddRootTreeAhead(trees.get());
  {
    std::lock_guard<std::mutex> lock(Spare().mu);
    std::swap(trees, Spare().trees);
  }
  DropLater(std::move(trees));  // one for another profile, replaced (outside the lock: DeferCleanup may wait)
}

void SetSpareViewEnabled(bool on) {
  g_enabled = on;
  if (!on) {
    std::unique_ptr<SystemTrees> trees;
    {
      std::lock_guard<std::mutex> lock(Spare().mu);
      trees = std::move(Spare().trees);
    }
    DropLater(std::move(trees));
  }
}

Result<RunChannels> MakePipes() {
  RunChannels c;
  int in_p[2], out_p[2], err_p[2];
  if (::pipe2(in_p, O_CLOEXEC) != 0) return Status::IoError("pipe", errno);
  c.in_r = OwnedFd(in_p[0]);
  c.in_w = OwnedFd(in_p[1]);
  if (::pipe2(out_p, O_CLOEXEC) != 0) return Status::IoError("pipe", errno);
  c.out_r = OwnedFd(out_p[0]);
  c.out_w = OwnedFd(out_p[1]);
  if (::pipe2(err_p, O_CLOEXEC) != 0) return Status::IoError("pipe", errno);
  c.err_r = OwnedFd(err_p[0]);
  c.err_w = OwnedFd(err_p[1]);
  return c;
}

Result<RunChannels> TakeRunChannels() {
  std::unique_ptr<RunChannels> ahead;
  {
    std::lock_guard<std::mutex> lock(Channels().mu);
    ahead = std::move(Channels().channels);
  }
  RunChannels c;
  if (ahead != nullptr) {
    c = std::move(*ahead);
  } else {
    WARDEN_ASSIGN_OR_RETURN(c, MakePipes());
  }
  return c;
}

void PrepareNextRun(const Spec& spec) {
  // Nothing is made ahead when it is off (sandbox::SetPrestart(false)), nor without tree cloning (not root): the
  // spare's copies would be path binds, which hold nothing to check later and are always refused.
  if (!g_enabled || !CanCloneTrees()) return;
  const std::string profile = spec.profile;
  const uint64_t memory = spec.memory_bytes, pids = spec.pids;
  // In the order the next run needs them.
  DeferAhead([profile, memory, pids] {
    MakeSpareView(profile);
    TaskCgroup::MakeSpare(memory, pids);
    {
      std::lock_guard<std::mutex> lock(Channels().mu);
      if (Channels().channels == nullptr) {
        if (auto c = MakePipes(); c.ok()) Channels().channels = std::make_unique<RunChannels>(std::move(*c));
      }
    }
  });
}

}  // namespace warden::sandbox::detail
