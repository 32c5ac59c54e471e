// The verbs of each group, in the order `--help` lists them. Add a verb: write <group>_<verb>_cmd.cpp with a
// Register function, declare it here, call it below and list the file in CMakeLists.txt.
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterModelTokenize(CLI::App& model, CliContext& ctx);
void RegisterModelDetokenize(CLI::App& model, CliContext& ctx);

void RegisterModelVerbs(CLI::App& model, CliContext& ctx) {
  RegisterModelTokenize(model, ctx);
  RegisterModelDetokenize(model, ctx);
}

void RegisterChatVerbs(CLI::App& chat, CliContext& ctx) {
  (void)chat;
  (void)ctx;
}

}  // namespace warden::cli
