// `warden`: the one program. Parses global flags with CLI11, dispatches to the verb files, maps errors to the
// exit codes of exit_codes.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "runtime/cli/cli_context.h"
#include "runtime/cli/commands.h"
#include "runtime/logging.h"

int main(int argc, char** argv) {
  using namespace warden::cli;
  CliContext ctx;
  CLI::App app{"Warden: run AI agents on your own machine without trusting them.\n"
               "Selects skills, reasons with a local model, gates every action through policies,\n"
               "runs skills in a sandbox and records every decision in a tamper-evident audit trail.",
               "warden"};
  app.set_version_flag("--version", std::string("warden ") + WARDEN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the verb: `warden doctor --json`
  app.add_option("--home", ctx.home_flag, "Warden home folder (default: $WARDEN_HOME or ~/.warden)");
  app.add_option("--config", ctx.config_flag, "Config file (default: <home>/warden.toml)");
  app.add_flag("--json", ctx.json, "Machine-readable output: one JSON document on stdout");
  app.add_flag("-v,--verbose", ctx.verbosity, "More log output (repeat for more)");
  app.add_option("--log-level", ctx.log_level, "trace|debug|info|warn|error|off (default: $WARDEN_LOG_LEVEL or warn)");
  app.add_option("--log-format", ctx.log_format, "text|json (default: text)")
      ->check(CLI::IsMember({"text", "json"}));
  app.parse_complete_callback([&ctx] { warden::ConfigureLogging(ctx.log_level, ctx.log_format, ctx.verbosity); });

  RegisterInit(app, ctx);
  RegisterDoctor(app, ctx);
  // Verb groups: each verb inside is its own file (model_info_cmd.cpp, chat_render_cmd.cpp, ...).
  auto* model = app.add_subcommand("model", "Inspect model checkpoints, tokenize and detokenize text");
  model->require_subcommand(1);
  auto* chat = app.add_subcommand("chat", "Render chat templates and parse model output");
  chat->require_subcommand(1);
  auto* audit = app.add_subcommand("audit", "Query, verify, export and sign the tamper-evident audit trail");
  audit->require_subcommand(1);
  auto* policy = app.add_subcommand("policy", "Check, test, evaluate and show the policies that gate every action");
  policy->require_subcommand(1);
  RegisterModelVerbs(*model, ctx);
  RegisterChatVerbs(*chat, ctx);
  RegisterAuditVerbs(*audit, ctx);
  RegisterPolicyVerbs(*policy, ctx);
  auto* sandbox = app.add_subcommand("sandbox", "Run programs inside the skill sandbox (namespaces, seccomp, limits)");
  sandbox->require_subcommand(1);
  RegisterSandboxVerbs(*sandbox, ctx);
  auto* skills = app.add_subcommand("skills", "List, search, show, validate, import and run skills (BM25F catalog)");
  skills->require_subcommand(1);
  RegisterSkillsVerbs(*skills, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    // CLI11 reports an unknown verb as "A subcommand is required"; name the word the user typed instead.
    if (app.get_subcommands().empty()) {
      for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.empty() || arg[0] == '-') {
          if (arg == "--home" || arg == "--config" || arg == "--log-level" || arg == "--log-format") ++i;
          continue;
        }
        message = "unknown command '" + arg + "'";
        break;
      }
    }
    ctx.Fail(warden::Status::InvalidArgument(message), "run 'warden --help' (or 'warden VERB --help')",
             kExitUsage);
    return kExitUsage;
  }
  return ctx.exit_code;
}
