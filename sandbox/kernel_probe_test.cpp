#include <catch2/catch.hpp>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "sandbox/sandbox.h"

TEST_CASE("kernel probes report every feature with a detail", "[sandbox][doctor]") {
  auto probes = warden::sandbox::ProbeKernelFeatures();
  std::set<std::string> names;
  for (const auto& p : probes) {
    names.insert(p.name);
    CHECK_FALSE(p.detail.empty());
  }
  for (const char* n : {"user_namespace", "mount_namespace", "pid_namespace", "net_namespace", "no_new_privs",
                        "seccomp_filter", "landlock", "cgroup_v2", "cgroup_v1"}) {
    CHECK(names.count(n) == 1);
  }
}

TEST_CASE("probes leave the calling process unchanged", "[sandbox][doctor]") {
  // The seccomp and no_new_privs probes run in children; the parent must still be able to gain privileges.
  (void)warden::sandbox::ProbeKernelFeatures();
  CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
  CHECK(getppid() > 0);
}

TEST_CASE("seccomp version is a dotted triple", "[sandbox]") {
  auto v = warden::sandbox::SeccompVersion();
  CHECK(std::count(v.begin(), v.end(), '.') == 2);
}
