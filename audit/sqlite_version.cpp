#include <sqlite3.h>

#include "audit/audit.h"

namespace warden::audit {

std::string SqliteVersion() { return sqlite3_libversion(); }

}  // namespace warden::audit
