// Registration of every `warden` verb; one file per verb implements one function here.
#pragma once

#include <CLI/CLI.hpp>

#include "runtime/cli/cli_context.h"

namespace warden::cli {

void RegisterInit(CLI::App& app, CliContext& ctx);
void RegisterDoctor(CLI::App& app, CliContext& ctx);

}  // namespace warden::cli
