// libFuzzer target for the policy parser and validator (policies/parse.cpp, policy_set.cpp): any bytes as one policy
// file must load or fail with positioned errors, never crash; a set that loads must evaluate a few fixed requests,
// decide the same way twice (no hidden state), and its Explain() trace must report the same outcome. Seeds: the
// default policy set (bench/fuzz/run_fuzzers.sh).
#include <cstddef>
#include <cstdint>
#include <string>

#include "policies/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  warden::policy::LoadOptions options;
  options.resolve_symlinks = false;
  auto report = warden::policy::PolicySet::Check({{"fuzz.toml", text}}, options);
  for (const auto& e : report.errors) {
    if (e.message.empty() || e.line < 0 || e.column < 0) __builtin_trap();
  }
  if (!report.set) {
    if (report.errors.empty()) __builtin_trap();  // rejected without saying why
    return 0;
  }
  static const nlohmann::json kRequests[] = {
      {{"principal", "acme/agent/bot"}, {"action", "fs.read"}, {"resource", {{"path", "/workspace/a/.env"}}}},
      {{"principal", "acme/agent/bot"}, {"action", "tool.call"}, {"resource", {{"tool", "shell"}}},
       {"args", {{"argv", {"git", "push"}}, {"amount_cents", 40}}}},
      {{"principal", "acme/user/alice"}, {"action", "net.connect"},
       {"resource", {{"host", "api.github.com"}, {"port", 443}, {"ip", "10.0.0.1"}}}},
  };
  for (const auto& req : kRequests) {
    const auto a = report.set->Evaluate(req);
    const auto b = report.set->Evaluate(req);
    if (a.effect != b.effect || a.determining.size() != b.determining.size()) __builtin_trap();
    (void)warden::policy::ToJson(a).dump();
    // The reviewer's trace walks every rule and condition the gate skips: it must agree on the outcome.
    const auto ex = report.set->Explain(req);
    if (ex["decision"]["decision"] != warden::policy::EffectName(a.effect)) __builtin_trap();
  }
  return 0;
}
