// Registration of every `warden` verb; one file per verb implements one function here.
#pragma once

#include <CLI/CLI.hpp>

#include "runtime/cli/cli_context.h"

namespace warden::cli {

void RegisterInit(CLI::App& app, CliContext& ctx);
void RegisterDoctor(CLI::App& app, CliContext& ctx);

// `warden model ...` and `warden chat ...`: each calls the Register function of every verb file in the group.
void RegisterModelVerbs(CLI::App& model, CliContext& ctx);
void RegisterChatVerbs(CLI::App& chat, CliContext& ctx);
// `warden audit ...`: query, verify, export, stats, checkpoint, keygen (audit_<verb>_cmd.cpp).
void RegisterAuditVerbs(CLI::App& audit, CliContext& ctx);
// `warden policy ...`: check, eval, test, show (policy_<verb>_cmd.cpp).
void RegisterPolicyVerbs(CLI::App& policy, CliContext& ctx);
void RegisterSandboxVerbs(CLI::App& sandbox, CliContext& ctx);
// `warden skills ...`: list, search, show, validate, import, reindex (skills_<verb>_cmd.cpp).
void RegisterSkillsVerbs(CLI::App& skills, CliContext& ctx);

}  // namespace warden::cli
