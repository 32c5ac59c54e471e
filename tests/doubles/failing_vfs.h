// FailingVfs: a SQLite VFS test double that passes everything to the default VFS but makes writes fail with
// SQLITE_FULL once armed, the way a full disk does. Used by the audit disk-full tests where mounting a small tmpfs
// would need privileges the test machine may not grant.
#pragma once

namespace warden::testing {

// Registers the VFS under the name "failing" (idempotent; not the default VFS).
void RegisterFailingVfs();
// After `n` more successful writes, every write fails with SQLITE_FULL until HealFailingVfs().
void FailWritesAfter(int n);
void HealFailingVfs();
// Writes refused since the last arm.
int FailedWrites();

}  // namespace warden::testing
