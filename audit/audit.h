// Public interface of Warden's audit trail (tamper-evident SQLite log). Grows with the audit issue.
#pragma once

#include <string>

namespace warden::audit {

// The SQLite library version linked into this binary (e.g. "3.40.1").
std::string SqliteVersion();

}  // namespace warden::audit
