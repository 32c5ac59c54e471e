// Warden's configuration: `warden.toml` in the home folder, overridden by environment and flags.
//
// Precedence, lowest first: built-in defaults < warden.toml < environment (WARDEN_*) < command-line flags.
// Relative paths in the file are relative to the home folder. Unknown keys and wrong types are errors naming
// file:line, so a typo never silently falls back to a default.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/base/result.h"

namespace warden {

struct Config {
  std::filesystem::path home;          // the Warden home folder (--home, $WARDEN_HOME, ~/.warden)
  std::filesystem::path config_file;   // the file these values came from (may not exist: defaults only)
  bool config_file_exists = false;     // whether config_file was read
  // [paths]
  std::filesystem::path skills_dir;    // skill manifests, one folder per skill; default <home>/skills
  std::filesystem::path policies_dir;  // policy files; default <home>/policies
  std::filesystem::path audit_db;      // the SQLite audit trail; default <home>/audit/audit.db
  std::filesystem::path models_dir;    // model checkpoints; default <home>/models
  // [log]
  std::string log_level = "warn";      // trace|debug|info|warn|error|off
  std::string log_format = "text";     // text|json
};

// The config with defaults for `home` and no file read.
Config DefaultConfig(const std::filesystem::path& home);

// Reads `config_file` (when it exists) over the defaults for `home`, then applies the environment
// (WARDEN_SKILLS_DIR, WARDEN_POLICIES_DIR, WARDEN_AUDIT_DB, WARDEN_MODELS_DIR, WARDEN_LOG_LEVEL,
// WARDEN_LOG_FORMAT). A missing file is not an error; a bad one is (InvalidArgument naming file:line and key).
Result<Config> LoadConfig(const std::filesystem::path& home, const std::filesystem::path& config_file);

// Parses TOML text as if read from `source_name` over `base` (no environment). Exposed for tests.
Result<Config> ParseConfigText(const std::string& text, const std::string& source_name, Config base);

// The text of the default warden.toml that `warden init` writes, with a comment on every key.
std::string DefaultConfigText();

}  // namespace warden
