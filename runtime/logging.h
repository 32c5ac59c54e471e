// Process-wide logging through spdlog: human text or JSON lines on stderr, level from flag or $WARDEN_LOG_LEVEL.
#pragma once

#include <string>

namespace warden {

// level: trace|debug|info|warn|error|off ("" = $WARDEN_LOG_LEVEL, else warn, lowered by each -v).
// format: text|json ("" = $WARDEN_LOG_FORMAT, else text). Unknown values fall back to the default with a warning.
void ConfigureLogging(const std::string& level, const std::string& format, int verbosity);

}  // namespace warden
