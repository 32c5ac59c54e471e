// `warden policy eval --request FILE|-`: decide one request JSON against a policies folder and print the decision
// with its explanation (determining rules with file:line, overridden rules, notes, the normalised request, the set's
// hash). A what-if for reviewers: nothing runs. Exits 0 allow, 3 deny, 4 ask; 1 when the folder or request is bad.
#include <iostream>
#include <iterator>
#include <sstream>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/policy_flags.h"

namespace warden::cli {

void RegisterPolicyEval(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("eval", "Decide one request (JSON) against the policies; exit 0 allow, 3 deny, 4 ask");
  struct Flags {
    PolicyDirFlags dir;
    std::string request;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--request", f->request, "Request JSON file, or - for standard input")->required();
  cmd->add_option("--policies", f->dir.dir, "Policies folder (default: the config's policies folder)");
  AddSandboxRootFlag(cmd, f->dir);
  cmd->callback([&ctx, f] {
    std::string text;
    if (f->request == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto r = ReadFile(f->request);
      if (!r.ok()) return ctx.Fail(r.status(), "pass a readable JSON file, or - to read standard input");
      text = std::move(*r);
    }
    nlohmann::json request;
    try {
      request = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return ctx.Fail(Status::InvalidArgument("request " + f->request + " is not JSON: " + e.what()),
                      "see docs/policy.md for the request shape");
    }
    auto dir = ResolvePolicyDir(ctx, f->dir);
    if (!dir.ok()) return ctx.Fail(dir.status(), "fix the config file or pass --policies DIR");
    auto set = policy::PolicySet::LoadDir(*dir, PolicyLoadOptions(ctx, f->dir));
    if (!set.ok()) return ctx.Fail(set.status(), "run `warden policy check` and fix the errors it lists");
    const auto d = (*set)->Evaluate(request);
    const auto doc = policy::ToJson(d);
    std::ostringstream t;
    t << EffectName(d.effect);
    if (!d.invalid_request.empty()) t << " (invalid request: " << d.invalid_request << ")";
    if (d.is_default) t << " (default: no rule allows this)";
    for (const auto& r : d.determining) t << "\n  " << r.rule << "  " << r.file << ":" << r.line << "  " << r.reason;
    t << "\n" << doc.dump(2);
    ctx.Emit(doc, t.str());
    ctx.exit_code = policy::EffectExitCode(d.effect);
  });
}

}  // namespace warden::cli
