#include "runtime/cli/cli_context.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "runtime/logging.h"

namespace warden::cli {

void CliContext::Emit(const nlohmann::json& doc, const std::string& text) const {
  if (json) {
    std::cout << doc.dump(2) << "\n";
  } else {
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << "\n";
  }
  std::cout.flush();
}

void CliContext::Fail(const Status& status, const std::string& hint, int code) {
  exit_code = code >= 0 ? code : ExitCodeFor(status);
  if (json) {
    nlohmann::json err{{"code", std::string(Status::CodeName(status.code()))}, {"message", status.message()}};
    if (!hint.empty()) err["hint"] = hint;
    err["exit_code"] = exit_code;
    std::cout << nlohmann::json{{"error", err}}.dump(2) << "\n";
    std::cout.flush();
  } else {
    std::cerr << "warden: " << status.message() << "\n";
    if (!hint.empty()) std::cerr << "hint: " << hint << "\n";
  }
}

std::string CliContext::ResolveHome() const {
  if (!home_flag.empty()) return home_flag;
  if (const char* env = std::getenv("WARDEN_HOME"); env != nullptr && *env != '\0') return env;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.warden";
  return ".warden";
}

const Result<Config>& CliContext::config() {
  if (!config_.has_value()) {
    config_.emplace(LoadConfig(ResolveHome(), config_flag));
    if (config_->ok()) {
      // LoadConfig already let $WARDEN_LOG_* override the file; flags override both.
      const Config& c = config_->value();
      ConfigureLogging(log_level.empty() && verbosity == 0 ? c.log_level : log_level,
                       log_format.empty() ? c.log_format : log_format, verbosity);
    }
  }
  return *config_;
}

}  // namespace warden::cli
