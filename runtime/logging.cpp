#include "runtime/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace warden {

void ConfigureLogging(const std::string& level_flag, const std::string& format_flag, int verbosity) {
  std::string level = level_flag;
  if (level.empty()) {
    const char* env = std::getenv("WARDEN_LOG_LEVEL");
    level = env != nullptr ? env : "";
  }
  std::string format = format_flag;
  if (format.empty()) {
    const char* env = std::getenv("WARDEN_LOG_FORMAT");
    format = env != nullptr ? env : "text";
  }
  auto logger = spdlog::stderr_logger_st("warden");
  spdlog::set_default_logger(logger);
  if (format == "json") {
    // One JSON object per line; %v is the message, escaped by the callers that log user data through fmt's {}.
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  } else {
    spdlog::set_pattern("warden [%l] %v");
  }
  spdlog::level::level_enum lvl = spdlog::level::warn;
  if (!level.empty()) {
    lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") {
      lvl = spdlog::level::warn;
      spdlog::warn("unknown log level '{}', using warn (expected trace|debug|info|warn|error|off)", level);
    }
  } else {
    lvl = static_cast<spdlog::level::level_enum>(std::max(0, static_cast<int>(spdlog::level::warn) - verbosity));
  }
  spdlog::set_level(lvl);
}

}  // namespace warden
