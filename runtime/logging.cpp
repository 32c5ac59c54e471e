#include "runtime/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace warden {
namespace {

// %j: the message as the body of a JSON string (quotes, backslashes and control characters escaped), so
// --log-format json prints one valid JSON object per line whatever the message holds.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            dest.append(std::string_view(buf));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

void ConfigureLogging(const std::string& level_flag, const std::string& format_flag, int verbosity) {
  std::string level = level_flag;
  if (level.empty() && Env("WARDEN_LOG_LEVEL") != nullptr) level = Env("WARDEN_LOG_LEVEL");
  std::string format = format_flag;
  if (format.empty()) format = Env("WARDEN_LOG_FORMAT") != nullptr ? Env("WARDEN_LOG_FORMAT") : "text";

  auto logger = spdlog::get("warden");
  if (!logger) logger = spdlog::stderr_logger_st("warden");
  spdlog::set_default_logger(logger);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (format == "json") {
    formatter->add_flag<JsonMessageFlag>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%j"})");
  } else {
    formatter->set_pattern("warden [%l] %v");
  }
  spdlog::set_formatter(std::move(formatter));

  // Default warn; each -v lowers it one step (info, debug, trace). An explicit level wins.
  auto lvl = static_cast<spdlog::level::level_enum>(std::max(0, static_cast<int>(spdlog::level::warn) - verbosity));
  if (!level.empty()) {
    auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") {
      spdlog::warn("unknown log level '{}', using warn (expected trace|debug|info|warn|error|off)", level);
    } else {
      lvl = parsed;
    }
  }
  spdlog::set_level(lvl);
}

}  // namespace warden
