// The one table of `warden` exit codes (README "Exit codes"). Never renumber: scripts depend on them.
#pragma once

#include "runtime/base/status.h"

namespace warden::cli {

enum ExitCode : int {
  kExitOk = 0,                // success
  kExitError = 1,             // any error (bad file, I/O, corruption, internal)
  kExitUsage = 2,             // bad command line
  kExitDenied = 3,            // denied by policy
  kExitNeedsApproval = 4,     // a policy says a human must approve
  kExitSandboxViolation = 5,  // the sandboxed program broke its sandbox rules
};

// Errors are exit 1 except a bad command line, which is a usage error.
inline int ExitCodeFor(const Status& status) {
  if (status.ok()) return kExitOk;
  return kExitError;
}

}  // namespace warden::cli
