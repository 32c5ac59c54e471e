// libFuzzer target for request normalisation and evaluation (policies/normalize.cpp, evaluate.cpp, explain.cpp):
// any bytes that parse as JSON are one request against a fixed set that has a rule of every index shape (path
// prefixes, `**` extensions, hosts, CIDRs, names, name globs, conditions). It must never crash; the copying and
// the moving Evaluate overloads must decide alike, the linear scan like the index, and Explain must report the
// same outcome. Seeds: request JSON documents (bench/fuzz/run_fuzzers.sh).
#include <cstddef>
#include <cstdint>
#include <string>

#include "policies/policy.h"

namespace {

const char* kRules = R"(
[[rule]]
id = "ws"
effect = "allow"
actions = ["fs.*"]
paths = ["/workspace/**"]
[[rule]]
id = "secrets"
effect = "deny"
actions = ["fs.read", "fs.write"]
paths_ci = ["**/.env", "**/*.pem", "**/id_rsa*"]
[[rule]]
id = "net"
effect = "allow"
actions = ["net.connect"]
hosts = ["api.github.com", "*.githubusercontent.com"]
ports = [443]
[[rule]]
id = "local"
effect = "deny"
actions = ["net.connect"]
cidrs = ["127.0.0.0/8", "169.254.0.0/16", "::1/128", "fd00::/8"]
[[rule]]
id = "mcp"
effect = "ask"
actions = ["tool.call"]
tools = ["mcp.github.*"]
when_any = [ { path = "$.args.argv[0]", regex = "g(i|o)t+" }, { path = "$.args.n", between = [1, 9] } ]
unless = [ { path = "$.args.force", exists = true } ]
[[rule]]
id = "shell"
effect = "allow"
actions = ["tool.call"]
tools = ["shell"]
skills = ["git-*"]
skill_tags = ["vcs"]
principals = ["acme/agent/*"]
[[rule]]
id = "git-skills"
effect = "allow"
actions = ["skill.exec"]
skills = ["git-*"]
skill_tags = ["vcs"]
principals = ["acme/agent/*"]
[[rule]]
id = "models"
effect = "allow"
actions = ["model.generate"]
models = ["qwen*"]
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  static const auto load = [](bool index) {
    warden::policy::LoadOptions o;
    o.resolve_symlinks = false;
    o.index_rules = index;
    auto set = warden::policy::PolicySet::LoadFiles({{"f.toml", kRules}}, o);
    if (!set.ok()) __builtin_trap();  // the fixed set itself is broken
    return *set;
  };
  static const auto indexed = load(true);
  static const auto linear = load(false);
  const auto request = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return 0;
  const auto a = indexed->Evaluate(request);
  const auto b = indexed->Evaluate(nlohmann::json(request));
  const auto c = linear->Evaluate(request);
  auto ids = [](const warden::policy::Decision& d) {
    std::string s;
    for (const auto& r : d.determining) s += r.rule + ",";
    return s;
  };
  if (a.effect != b.effect || ids(a) != ids(b) || a.effect != c.effect || ids(a) != ids(c)) __builtin_trap();
  if (a.invalid_request.empty() && a.request != b.request) __builtin_trap();
  if (indexed->Explain(request)["decision"]["decision"] != warden::policy::EffectName(a.effect)) __builtin_trap();
  (void)warden::policy::ToJson(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
