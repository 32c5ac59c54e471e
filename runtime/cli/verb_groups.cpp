// The verbs of each group, in the order `--help` lists them. Add a verb: write <group>_<verb>_cmd.cpp with a
// Register function, declare it here, call it below and list the file in CMakeLists.txt.
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterModelVerbs(CLI::App& model, CliContext& ctx) {
  (void)model;
  (void)ctx;
}

void RegisterChatVerbs(CLI::App& chat, CliContext& ctx) {
  RegisterChatParse(chat, ctx);
}

}  // namespace warden::cli
