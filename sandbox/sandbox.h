// Public interface of Warden's sandbox executor (../shared/docs/sandbox.md, Part C): run one program inside user,
// mount, pid, net, ipc, uts and cgroup namespaces, a fresh read-only root, cgroup + rlimit limits, no
// capabilities, no_new_privs, Landlock and two stacked seccomp filters, and get back a structured result that the
// audit log stores as is. Also answers what the kernel offers (`warden doctor`).
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace warden::sandbox {

// One kernel feature the sandbox needs, found by actually trying it in a throw-away child process.
struct FeatureProbe {
  std::string name;    // stable id: "user_namespace", "seccomp_filter", "landlock", "cgroup_v2", ...
  bool ok = false;     // usable by this process right now
  std::string detail;  // what was seen: the errno text on failure, a version or a list on success
};

// Probes user, mount, pid and net namespaces, no_new_privs, seccomp filter installation, the Landlock ABI and
// the cgroup v2 / v1 controllers. Each probe that changes process state runs in a forked child, so the caller is
// never affected. Thread-compatible; takes a few milliseconds.
std::vector<FeatureProbe> ProbeKernelFeatures();

// Which executor layers Run() would use on this machine right now, one entry per layer ("layer.userns",
// "layer.seccomp_notify", "layer.landlock", "layer.cgroup", ...): ok=false means the layer is off (mandatory
// layers then make Run() refuse to start). Cheap after the first call (cached per process).
std::vector<FeatureProbe> ProbeLayers();

// The libseccomp library version linked into this binary (e.g. "2.5.4").
std::string SeccompVersion();

// What to run and under which limits. Every field has a default that is safe for a skill; zero means "off" only
// where a comment says so. Filled from `warden sandbox run` flags or by the skill runner.
struct Spec {
  std::vector<std::string> argv;         // program and arguments; argv[0] is resolved on the sandbox PATH when it
                                         // has no '/'. Required.
  std::string workspace;                 // host folder bound read-write at /workspace (the working directory);
                                         // empty = a fresh private folder removed after the run. When the caller
                                         // is root it is chown'ed to the task's unprivileged host uid.
  bool workspace_readonly = false;       // bind the workspace read-only: writes under /workspace fail with EROFS
  // Bind no workspace at all: /workspace is an empty read-only folder (a skill whose manifest says
  // permissions.workspace = "none"); no artifacts are listed.
  bool workspace_none = false;
                                         // (a skill with permissions.workspace = "read"); no extra cost
  std::string profile = "default";       // "default" (no network) or "net" (egress only via the proxy to
                                         // allowed_hosts)
  double timeout_s = 30;                 // wall clock; the whole process tree is killed at expiry
  double cpu_time_s = 30;                // RLIMIT_CPU (SIGXCPU, then SIGKILL one second later)
  uint64_t memory_bytes = 512ull << 20;  // cgroup memory limit (v2 memory.max or v1 memory.limit_in_bytes);
                                         // RLIMIT_AS is set to max(4 x this, 1 GiB) as a backstop because JIT
                                         // runtimes reserve much more address space than they touch
  uint64_t pids = 64;                    // cgroup pids.max; RLIMIT_NPROC = pids + 8 as a backstop
  uint64_t open_files = 256;             // RLIMIT_NOFILE
  uint64_t file_size_bytes = 64ull << 20;  // RLIMIT_FSIZE (SIGXFSZ past it)
  uint64_t tmp_size_bytes = 64ull << 20;   // size of the private /tmp tmpfs
  uint64_t tmp_inodes = 4096;              // nr_inodes of the private /tmp tmpfs
  uint64_t stdout_cap_bytes = 1ull << 20;  // kept bytes of stdout; past it the task is killed (output_limit)
  uint64_t stderr_cap_bytes = 1ull << 20;  // same for stderr
  uint64_t max_violations = 256;           // policy_kill after this many seccomp violations (0 = on the first)
  std::vector<std::string> allowed_hosts;  // profile "net": "host:port" reachable through the supervisor's proxy;
                                           // "*.example.com:443" (names strictly below), "10.0.0.1:80" or
                                           // "[::1]:80" (IP literals must be listed as such), port "*" = any.
                                           // Names that resolve to loopback/private/link-local addresses are
                                           // refused unless that address is listed too. Empty = every request 403.
  std::vector<std::string> denied_hosts;   // same syntax; wins over allowed_hosts
  std::string upstream_proxy;              // profile "net": "host:port" of an HTTP proxy that allowed requests are
                                           // sent to instead of dialling the host (a site's egress proxy); empty =
                                           // the supervisor resolves and dials itself
  std::vector<std::string> ro_paths;       // extra host paths bound read-only at the same path (a skill folder)
  std::map<std::string, std::string> env;  // extra environment; PATH, HOME, LANG, TMPDIR are always set
  std::string stdin_data;                  // bytes written to the program's stdin (then EOF)
  std::string artifacts_dir = "outputs";   // workspace folder whose files are listed in the result after the
                                           // run (path, size, SHA-256); "" = off. Symlinks are listed, never
                                           // followed. Costs one failed open when the folder does not exist.
  uint64_t max_artifacts = 256;            // at most this many entries are listed (artifacts_truncated past it)
  uint64_t max_artifact_hash_bytes = 256ull << 20;  // bytes hashed in all; files past the budget are listed
                                                    // without a hash (artifacts_truncated)
};

// A file the program left under Spec::artifacts_dir (sandbox.md probe 35).
struct Artifact {
  std::string path;     // relative to the artifacts folder, '/'-separated
  std::string type;     // "file", "symlink" (target in `link`, not followed) or "other" (fifo, socket, device)
  uint64_t bytes = 0;   // size (files)
  std::string sha256;   // lowercase hex; empty when the hash budget ran out
  std::string link;     // symlink target as written
};

// One thing the sandbox stopped or noticed. kind: "seccomp" (a denied syscall), "net" (a proxy decision: every
// request the proxy saw, allowed or denied; an allowed one is a record, not a violation of the policy).
struct Violation {
  std::string kind;
  double t_ms = 0;                // since the program started
  int pid = 0;                    // host pid of the caller (0 when unknown)
  std::string syscall;            // "ptrace" (seccomp only)
  int nr = -1;                    // syscall number (seccomp only)
  std::vector<uint64_t> args;     // the six raw arguments (seccomp only)
  std::string path;               // a path argument when the call has one (mount target, chroot, ...)
  std::string host;               // "host:port" (net only)
  std::string action;             // "EPERM", "EAFNOSUPPORT", "allow", "deny"
  std::string detail;             // human-readable reason
};

// A limit as configured, who enforced it and whether it was reached.
struct Limit {
  std::string name;                     // "wall_time", "cpu_time", "memory", "pids", "open_files", "file_size",
                                        // "stdout", "stderr", "tmp_size", "violations"
  uint64_t value = 0;                   // in the unit of the name (ms, bytes, count)
  std::vector<std::string> mechanisms;  // "supervisor", "rlimit:RLIMIT_AS", "cgroup_v1:memory.limit_in_bytes", ...
  bool hit = false;                     // observed reached (false when the program only saw an errno)
  std::string hit_by;                   // the mechanism that fired, when hit
};

// What happened. exit_kind: "exited", "signaled", "timeout", "oom", "cpu_limit", "output_limit", "policy_kill",
// "abi_kill", "setup_error".
struct RunResult {
  std::string exit_kind;
  int exit_code = -1;              // when exited
  int signal = 0;                  // when killed by a signal
  double wall_ms = 0;
  double cpu_user_ms = 0;
  double cpu_sys_ms = 0;
  uint64_t peak_memory_bytes = 0;  // cgroup peak when available, else the largest process's max RSS
  std::string stdout_data;         // at most stdout_cap_bytes
  std::string stderr_data;
  uint64_t stdout_bytes = 0;       // full size the program wrote (counted until it was killed)
  uint64_t stderr_bytes = 0;
  bool truncated = false;
  std::vector<Violation> violations;  // first 64 records
  uint64_t violations_total = 0;      // all of them, including the dropped ones
  std::vector<Limit> limits;
  std::vector<std::string> limits_hit;
  nlohmann::json layers;              // which layers were on: {"userns": true, ..., "landlock_abi": 7, "cgroup": "v1"}
  std::string setup_error;            // which setup step failed and why (exit_kind == "setup_error")
  std::vector<Artifact> artifacts;    // files under Spec::artifacts_dir after the run, sorted by path
  uint64_t artifacts_total = 0;       // entries seen (including those past max_artifacts)
  bool artifacts_truncated = false;   // max_artifacts or max_artifact_hash_bytes was reached

  // True when the sandbox killed or blocked something (violation, limit kill, abi kill, setup error).
  bool IsViolation() const;
  // The document the audit log stores (sandbox.md C.8). Output is included as text when it is valid UTF-8 and
  // as base64 otherwise.
  nlohmann::json ToJson() const;
};

// Checks profile "net" settings (allowed_hosts, denied_hosts, upstream_proxy) without running anything; the error
// names the entry and the expected form. Run() makes the same check.
Status CheckNetSpec(const Spec& spec);

// Runs spec.argv in the sandbox and waits for it. Errors (not results) only when the spec is unusable (empty
// argv, a workspace or ro path that does not exist, an unknown profile) or a mandatory layer is missing; a program
// that fails, is killed or violates the policy is a normal RunResult. Thread-safe: the seccomp programs are built
// once per profile and shared. The caller must not have SIGCHLD set to SIG_IGN.
Result<RunResult> Run(const Spec& spec);

// During and after each run a background thread prepares the next tasks' sandboxes: their inits started (namespaces
// made, id maps written), detached copies of the system folders, a cgroup pair, pipes; never shared, each used by
// one task. A long-lived caller such as an agent then pays less per skill call. A one-shot caller (`warden sandbox
// run`) turns it off so nothing is made that no task will use. Default on.
void SetPrestart(bool on);

}  // namespace warden::sandbox
