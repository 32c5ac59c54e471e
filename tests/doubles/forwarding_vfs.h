// ForwardingVfs: the part the SQLite VFS test doubles (FailingVfs, PowerLossVfs) share: a VFS whose files wrap the
// default VFS's files and whose every call is passed on to it, so a double only writes the calls it changes.
#pragma once

#include <sqlite3.h>

namespace warden::testing {

// An open file of a forwarding VFS: SQLite's header, then the default VFS's file in the same allocation.
struct ForwardingFile {
  sqlite3_file base;
  sqlite3_file* real;  // points just past this struct
};

inline sqlite3_file* RealFile(sqlite3_file* f) { return reinterpret_cast<ForwardingFile*>(f)->real; }

// Version-3 io methods that pass every call to the real file (shared memory included, so WAL works). A double copies
// them, replaces what it changes and may call the originals from its replacements.
const sqlite3_io_methods& ForwardingIoMethods();

struct ForwardingVfsHooks {
  // After the default VFS's xOpen, with its result; `name` may be null (temporary files).
  void (*after_open)(sqlite3_file* f, const char* name, int rc) = nullptr;
  // Before the default VFS's xDelete.
  void (*before_delete)(const char* name) = nullptr;
};

// Registers, not as the default, a VFS called `name` whose files use `methods` (which must outlive the process) and
// whose other calls go to the default VFS. Call once per name.
void RegisterForwardingVfs(const char* name, const sqlite3_io_methods* methods, ForwardingVfsHooks hooks = {});

}  // namespace warden::testing
