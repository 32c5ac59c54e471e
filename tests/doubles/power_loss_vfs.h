// PowerLossVfs: a SQLite VFS test double that passes everything to the default VFS and remembers, per file, the
// bytes as of its last xSync: what a disk that drops unsynced writes (dm-flakey drop_writes, a power cut) would still
// hold. Used by the audit power-loss case (policy-audit.md B.9 R3) without root or a block device.
#pragma once

#include <filesystem>

namespace warden::testing {

// Registers the VFS under the name "power_loss" (idempotent; not the default VFS).
void RegisterPowerLossVfs();
// Writes what would survive a power cut right now: the last synced image of `db` and of its "-wal" (no "-shm": shared
// memory never survives) to `dest` and `dest`-wal. A file never synced is left out, as a power cut would lose it.
void WritePowerLossImage(const std::filesystem::path& db, const std::filesystem::path& dest);

}  // namespace warden::testing
