// RunResult as the JSON document the audit log stores (sandbox.md C.8), and the layer report for `warden doctor`.
#include <sodium.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox {
namespace {

// Times are integer microseconds: the audit log stores bodies with integers only (exact, canonical hashing).
int64_t Micros(double ms) { return std::llround(ms * 1000.0); }

bool IsUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

nlohmann::json Output(const std::string& data) {
  if (IsUtf8(data)) return {{"text", data}};
  std::string b64(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  return {{"base64", b64}};
}

// A file name as JSON text: kept as is when it is valid UTF-8 (by the JSON library's own, strict, check),
// otherwise every byte >= 0x80 becomes \xNN, so a hostile name can neither break the audit document nor hide.
std::string NameText(const std::string& name) {
  try {
    (void)nlohmann::json(name).dump();
    return name;
  } catch (const nlohmann::json::exception&) {
    std::string out;
    char buf[8];
    for (unsigned char c : name) {
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else {
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out += buf;
      }
    }
    return out;
  }
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

bool RunResult::IsViolation() const {
  return exit_kind != "exited" && exit_kind != "signaled";
}

nlohmann::json RunResult::ToJson() const {
  nlohmann::json v = nlohmann::json::array();
  for (const auto& x : violations) {
    nlohmann::json j{{"kind", x.kind}, {"t_us", Micros(x.t_ms)}, {"action", x.action}, {"detail", x.detail}};
    if (x.kind == "seccomp") {
      j["layer"] = "seccomp";
      j["syscall"] = x.syscall;
      j["nr"] = x.nr;
      j["pid"] = x.pid;
      j["arch"] = "x86_64";
      nlohmann::json args = nlohmann::json::array();
      for (auto a : x.args) args.push_back(Hex(a));
      j["args"] = args;
    }
    if (!x.path.empty()) j["path"] = x.path;
    if (x.kind == "net") {
      // sandbox.md C.8: {"layer": "net-proxy", "host": "example.org", "port": 443, "action": "allow|deny"}
      j["layer"] = "net-proxy";
      size_t colon = x.host.rfind(':');
      std::string host = x.host.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
      j["host"] = host;
      j["port"] = colon == std::string::npos ? 0 : std::stoi(x.host.substr(colon + 1));
    } else if (!x.host.empty()) {
      j["host"] = x.host;
    }
    v.push_back(j);
  }
  nlohmann::json limits_doc = nlohmann::json::array();
  for (const auto& l : limits) {
    nlohmann::json j{{"name", l.name}, {"value", l.value}, {"mechanisms", l.mechanisms}, {"hit", l.hit}};
    if (l.hit) j["hit_by"] = l.hit_by;
    limits_doc.push_back(j);
  }
  nlohmann::json artifacts_doc = nlohmann::json::array();
  for (const auto& a : artifacts) {
    nlohmann::json j{{"path", NameText(a.path)}, {"type", a.type}};
    if (a.type == "file") {
      j["bytes"] = a.bytes;
      j["sha256"] = a.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.sha256);
    }
    if (a.type == "symlink") j["link"] = NameText(a.link);
    artifacts_doc.push_back(j);
  }
  nlohmann::json exit{{"kind", exit_kind}};
  if (signal != 0) exit["signal"] = signal;
  else exit["code"] = exit_code;
  return {{"exit", exit},
          {"wall_us", Micros(wall_ms)},
          {"cpu_user_us", Micros(cpu_user_ms)},
          {"cpu_sys_us", Micros(cpu_sys_ms)},
          {"peak_memory_bytes", peak_memory_bytes},
          {"limits", limits_doc},
          {"limits_hit", limits_hit},
          {"violations", v},
          {"violations_total", violations_total},
          {"violations_dropped", violations_total > violations.size() ? violations_total - violations.size() : 0},
          {"output",
           {{"stdout", Output(stdout_data)},
            {"stderr", Output(stderr_data)},
            {"stdout_bytes", stdout_bytes},
            {"stderr_bytes", stderr_bytes},
            {"truncated", truncated}}},
          {"artifacts", artifacts_doc},
          {"artifacts_total", artifacts_total},
          {"artifacts_truncated", artifacts_truncated},
          {"layers", layers},
          {"setup_error", setup_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(setup_error)}};
}

std::vector<FeatureProbe> ProbeLayers() {
  std::vector<FeatureProbe> out;
  std::map<std::string, FeatureProbe> probes;
  for (auto& p : ProbeKernelFeatures()) probes[p.name] = p;
  auto from = [&](const std::string& layer, const std::string& probe, const std::string& role) {
    auto it = probes.find(probe);
    if (it == probes.end()) return;
    out.push_back({"layer." + layer, it->second.ok, role + ": " + it->second.detail});
  };
  from("userns", "user_namespace", "mandatory");
  from("mntns", "mount_namespace", "mandatory");
  from("pidns", "pid_namespace", "mandatory");
  from("netns", "net_namespace", "mandatory");
  from("no_new_privs", "no_new_privs", "mandatory");
  from("seccomp", "seccomp_filter", "mandatory");
  int abi = detail::LandlockAbi();
  out.push_back({"layer.landlock", abi > 0,
                 abi > 0 ? "optional: ABI " + std::to_string(abi) + (abi >= 4 ? " (fs + TCP)" : " (fs)") +
                               (abi >= 6 ? " + scopes" : "")
                         : "optional: unavailable (mount view + seccomp still apply)"});
  // Profile "net" needs nothing beyond the mandatory layers (the proxy listener is made in the netns); Landlock
  // ABI >= 4 adds the kernel-side rule that TCP connect reaches the proxy port only.
  out.push_back({"layer.net_proxy", true,
                 std::string("optional: profile net, HTTP CONNECT proxy reached at 127.0.0.1:3128 in the netns") +
                     (abi >= 4 ? "; Landlock limits TCP connect to it" : "; no Landlock TCP rule (namespace only)")});
  std::string cg = detail::TaskCgroup::Available();
  out.push_back({"layer.cgroup", cg != "none",
                 cg == "none" ? "optional: no writable cgroup v2 or v1 memory+pids (rlimits only)"
                              : "optional: " + cg + " memory + pids" + (cg == "v1" ? " (v2 controllers absent)" : "")});
  const std::string init = detail::InitImageSource();
  out.push_back({"layer.init", init == "memfd" || init == "file",
                 "mandatory: freestanding init executed from a sealed " +
                     (init == "memfd" ? std::string("memfd") : init == "file" ? "private file" : init)});
  auto programs = detail::GetSeccompPrograms("default");
  out.push_back({"layer.seccomp_programs", programs.ok(),
                 programs.ok() ? "allowlist " + std::to_string((*programs)->allowlist.size()) + " + report " +
                                     std::to_string((*programs)->report.size()) + " BPF instructions"
                               : programs.status().message()});
  return out;
}

}  // namespace warden::sandbox
