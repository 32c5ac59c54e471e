// The Warden home folder: config file, skills/, policies/, audit/ (the audit DB's folder) and models/.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/config.h"

namespace warden {

struct InitReport {
  std::vector<std::filesystem::path> created;   // folders and files made by this call
  std::vector<std::filesystem::path> existing;  // already there and left untouched
};

// Creates the home folder and everything in `config` that is missing. Never overwrites an existing file:
// running it twice is harmless. Fails (naming the path) when a path exists with the wrong kind (a file where a
// folder belongs) or cannot be created.
Result<InitReport> InitHome(const Config& config);

}  // namespace warden
