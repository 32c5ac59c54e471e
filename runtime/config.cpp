// warden.toml parsing with toml++. Exceptions from toml++ stop here and become a Status with file:line.
#include "runtime/config.h"

#include <cstdlib>
#include <set>
#include <toml++/toml.h>

#include "runtime/base/file_util.h"

namespace warden {
namespace {

std::string Where(const std::string& source, const toml::source_region& region) {
  return source + ":" + std::to_string(region.begin.line);
}

// Resolves a path from the file: relative paths are relative to the home folder.
std::filesystem::path UnderHome(const std::filesystem::path& home, const std::string& value) {
  std::filesystem::path p(value);
  return p.is_absolute() ? p : home / p;
}

Status CheckOneOf(const std::string& where, const std::string& key, const std::string& value,
                  const std::set<std::string>& allowed) {
  if (allowed.count(value) != 0) return Status::Ok();
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  return Status::InvalidArgument(where + ": " + key + ": expected " + list + ", got \"" + value + "\"");
}

}  // namespace

Config DefaultConfig(const std::filesystem::path& home) {
  Config c;
  c.home = home;
  c.config_file = home / "warden.toml";
  c.skills_dir = home / "skills";
  c.policies_dir = home / "policies";
  c.audit_db = home / "audit" / "audit.db";
  c.models_dir = home / "models";
  return c;
}

Result<Config> ParseConfigText(const std::string& text, const std::string& source, Config c) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(Where(source, e.source()) + ": " + std::string(e.description()) +
                                   " (fix the TOML syntax; 'warden init' writes a valid example)");
  }
  // Every key the file may hold; anything else is a typo and an error.
  for (auto&& [section, node] : root) {
    const std::string name(section.str());
    const auto* table = node.as_table();
    if ((name != "paths" && name != "log") || table == nullptr) {
      return Status::InvalidArgument(Where(source, node.source()) + ": unknown " +
                                     (table ? "section [" + name + "]" : "key \"" + name + "\"") +
                                     " (expected [paths] or [log])");
    }
    for (auto&& [key_node, value] : *table) {
      const std::string key(key_node.str());
      const std::string full = name + "." + key;
      const std::string where = Where(source, value.source());
      const auto* str = value.as_string();
      if (name == "paths") {
        std::filesystem::path* target = key == "skills"     ? &c.skills_dir
                                        : key == "policies" ? &c.policies_dir
                                        : key == "audit_db" ? &c.audit_db
                                        : key == "models"   ? &c.models_dir
                                                            : nullptr;
        if (target == nullptr) {
          return Status::InvalidArgument(where + ": unknown key \"" + full +
                                         "\" (expected skills, policies, audit_db or models)");
        }
        if (str == nullptr) return Status::InvalidArgument(where + ": " + full + ": expected a string path");
        if (str->get().empty()) return Status::InvalidArgument(where + ": " + full + ": path is empty");
        *target = UnderHome(c.home, str->get());
      } else {
        if (key != "level" && key != "format") {
          return Status::InvalidArgument(where + ": unknown key \"" + full + "\" (expected level or format)");
        }
        if (str == nullptr) return Status::InvalidArgument(where + ": " + full + ": expected a string");
        if (key == "level") {
          WARDEN_RETURN_IF_ERROR(CheckOneOf(where, full, str->get(),
                                            {"trace", "debug", "info", "warn", "error", "off"}));
          c.log_level = str->get();
        } else {
          WARDEN_RETURN_IF_ERROR(CheckOneOf(where, full, str->get(), {"text", "json"}));
          c.log_format = str->get();
        }
      }
    }
  }
  return c;
}

Result<Config> LoadConfig(const std::filesystem::path& home, const std::filesystem::path& config_file) {
  Config c = DefaultConfig(home);
  c.config_file = config_file.empty() ? home / "warden.toml" : config_file;
  std::error_code ec;
  if (std::filesystem::exists(c.config_file, ec)) {
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(c.config_file));
    WARDEN_ASSIGN_OR_RETURN(c, ParseConfigText(text, c.config_file.string(), c));
    c.config_file_exists = true;
  } else if (!config_file.empty()) {
    // An explicitly named file must exist; the default one may not (before `warden init`).
    return Status::NotFound("config file " + config_file.string() + " does not exist");
  }
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? v : nullptr;
  };
  if (const char* v = env("WARDEN_SKILLS_DIR")) c.skills_dir = v;
  if (const char* v = env("WARDEN_POLICIES_DIR")) c.policies_dir = v;
  if (const char* v = env("WARDEN_AUDIT_DB")) c.audit_db = v;
  if (const char* v = env("WARDEN_MODELS_DIR")) c.models_dir = v;
  if (const char* v = env("WARDEN_LOG_LEVEL")) {
    WARDEN_RETURN_IF_ERROR(CheckOneOf("$WARDEN_LOG_LEVEL", "log level", v,
                                      {"trace", "debug", "info", "warn", "error", "off"}));
    c.log_level = v;
  }
  if (const char* v = env("WARDEN_LOG_FORMAT")) {
    WARDEN_RETURN_IF_ERROR(CheckOneOf("$WARDEN_LOG_FORMAT", "log format", v, {"text", "json"}));
    c.log_format = v;
  }
  return c;
}

std::string DefaultConfigText() {
  return R"(# Warden configuration. Relative paths are relative to this home folder.
# Environment variables override these values (WARDEN_SKILLS_DIR, WARDEN_POLICIES_DIR, WARDEN_AUDIT_DB,
# WARDEN_MODELS_DIR, WARDEN_LOG_LEVEL, WARDEN_LOG_FORMAT); command-line flags override both.

[paths]
skills = "skills"            # skill manifests, one folder per skill (picked up live)
policies = "policies"        # policy files: allow, deny or ask a human
audit_db = "audit/audit.db"  # the tamper-evident SQLite audit trail
models = "models"            # model checkpoints (Hugging Face folders)

[log]
level = "warn"               # trace | debug | info | warn | error | off
format = "text"              # text | json
)";
}

}  // namespace warden
