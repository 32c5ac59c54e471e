// Public interface of Warden's sandbox (namespaces, libseccomp, Landlock, resource limits). Grows with the
// sandbox issue; for now it answers what the kernel offers.
#pragma once

#include <string>
#include <vector>

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

// The libseccomp library version linked into this binary (e.g. "2.5.4").
std::string SeccompVersion();

}  // namespace warden::sandbox
