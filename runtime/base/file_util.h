// Small file helpers shared by every subsystem: whole-file reads and atomic writes that never lose what is stored.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "runtime/base/result.h"

namespace warden {

// Reads a whole file. Errors name the path and the errno text.
Result<std::string> ReadFile(const std::filesystem::path& path);

// Writes `data` to `path` through a temporary file in the same folder and rename(2), so a crash leaves either
// the old or the new content, never a torn file.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data);

}  // namespace warden
