// Test helper shared by the sandbox suites: run the probe program (sandbox/probes/probe.c) inside the executor and
// look at the result. Not part of the library.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace warden::sandbox::testing {

inline std::string ProbePath() { return WARDEN_SANDBOX_PROBE; }
inline std::string ProbeDir() { return std::filesystem::path(ProbePath()).parent_path().string(); }

// A spec that runs `sandbox_probe args...` with the probe folder bound read-only and short limits.
inline Spec ProbeSpec(const std::vector<std::string>& args) {
  Spec s;
  s.argv = {ProbePath()};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.ro_paths = {ProbeDir()};
  s.timeout_s = 10;
  return s;
}

inline RunResult MustRun(const Spec& spec) {
  auto r = Run(spec);
  INFO("Run failed: " << (r.ok() ? "" : r.status().message()));
  REQUIRE(r.ok());
  INFO("stderr: " << r->stderr_data << " setup_error: " << r->setup_error);
  REQUIRE(r->exit_kind != "setup_error");
  return std::move(*r);
}

inline RunResult RunProbe(const std::vector<std::string>& args) { return MustRun(ProbeSpec(args)); }

// The one-line answer "NAME RESULT" of a probe, without the name.
inline std::string Answer(const RunResult& r) {
  std::string out = r.stdout_data;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  auto sp = out.find(' ');
  return sp == std::string::npos ? out : out.substr(sp + 1);
}

inline const Violation* FindViolation(const RunResult& r, const std::string& syscall) {
  for (const auto& v : r.violations) {
    if (v.syscall == syscall) return &v;
  }
  return nullptr;
}

}  // namespace warden::sandbox::testing
