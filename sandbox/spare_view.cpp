// The system part of the next run's view made ahead of time (issue 7, spawn cost; docs/sandbox.md "Spawn cost"):
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
#include <atomic>
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
  std::lock_guard<std::mutex> lock(Spare().mu);
  std::swap(trees, Spare().trees);
  DropLater(std::move(trees));  // one for another profile, replaced
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

void PrepareNextRun(const Spec& spec) {
  const std::string profile = spec.profile;
  const uint64_t memory = spec.memory_bytes, pids = spec.pids;
  // In the order the next run needs them.
  DeferAhead([profile, memory, pids] {
    MakeSpareView(profile);
    TaskCgroup::MakeSpare(memory, pids);
    if (profile == "default") MakeSpareNetns();
  });
}

}  // namespace warden::sandbox::detail
