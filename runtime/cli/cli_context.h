// What every `warden` verb shares: the global flags and the one way to print results and errors.
//
// Verbs live one per file (init_cmd.cpp, doctor_cmd.cpp, ...). Each exposes `void Register<Verb>(CLI::App&,
// CliContext&)`, declared in commands.h and called from main.cpp. A verb's callback computes a result, then calls
// ctx.Emit()/ctx.Fail() and sets ctx.exit_code; it never calls exit().
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/base/result.h"
#include "runtime/config.h"
#include "runtime/cli/exit_codes.h"

namespace warden::cli {

struct CliContext {
  // Global flags (filled by CLI11 before any verb runs).
  std::string home_flag;      // --home DIR; empty = $WARDEN_HOME or ~/.warden
  std::string config_flag;    // --config FILE; empty = <home>/warden.toml
  bool json = false;          // --json: one JSON document on stdout
  int verbosity = 0;          // -v count
  std::string log_level;      // --log-level; empty = $WARDEN_LOG_LEVEL or "warn"
  std::string log_format;     // --log-format text|json

  int exit_code = kExitOk;    // what main() returns

  // Prints a result: `doc` as JSON when --json, else `text` (a trailing newline is added when missing).
  void Emit(const nlohmann::json& doc, const std::string& text) const;
  // Prints an error: one line on stderr "warden: <message>" plus "hint: <hint>" when given; with --json a JSON
  // object {"error": {"code", "message", "hint"}} on stdout. Sets exit_code (default: from the status).
  void Fail(const Status& status, const std::string& hint = "", int exit_code = -1);
  // The home folder after flags and environment: --home, $WARDEN_HOME, ~/.warden.
  std::string ResolveHome() const;
  // The configuration (defaults < warden.toml < environment < flags), loaded on first use. Also applies the
  // file's [log] settings where no flag or environment variable chose them.
  const Result<Config>& config();

 private:
  std::optional<Result<Config>> config_;
};

}  // namespace warden::cli
