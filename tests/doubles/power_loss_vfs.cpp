// PowerLossVfs (see power_loss_vfs.h): files delegate to the default VFS; xSync also copies the whole file into an
// in-memory image keyed by path, so the images are exactly the synced state. Shared memory is forwarded so WAL works.
#include "tests/doubles/power_loss_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

namespace warden::testing {
namespace {

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;
std::mutex g_mu;
std::map<std::string, std::string> g_images;      // path -> bytes at the last sync
std::map<const sqlite3_file*, std::string> g_names;  // open file -> its path

struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;  // points just past this struct, inside the same allocation
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f)->real; }

int Close(sqlite3_file* f) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_names.erase(f);
  }
  sqlite3_file* r = Real(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) { return Real(f)->pMethods->xRead(Real(f), buf, n, off); }
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) { return Real(f)->pMethods->xTruncate(Real(f), size); }
int Sync(sqlite3_file* f, int flags) {
  const int rc = Real(f)->pMethods->xSync(Real(f), flags);
  if (rc != SQLITE_OK) return rc;
  sqlite3_int64 size = 0;
  if (Real(f)->pMethods->xFileSize(Real(f), &size) != SQLITE_OK) return SQLITE_IOERR_FSYNC;
  std::string bytes(static_cast<size_t>(size), '\0');
  if (size > 0 && Real(f)->pMethods->xRead(Real(f), bytes.data(), static_cast<int>(size), 0) != SQLITE_OK) {
    return SQLITE_IOERR_FSYNC;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_names.find(f);
  if (it != g_names.end()) g_images[it->second] = std::move(bytes);
  return SQLITE_OK;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) { return Real(f)->pMethods->xFileSize(Real(f), size); }
int Lock(sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); }
int Unlock(sqlite3_file* f, int l) { return Real(f)->pMethods->xUnlock(Real(f), l); }
int CheckReservedLock(sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); }
int FileControl(sqlite3_file* f, int op, void* arg) { return Real(f)->pMethods->xFileControl(Real(f), op, arg); }
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); }
int ShmMap(sqlite3_file* f, int i, int sz, int extend, void volatile** p) {
  return Real(f)->pMethods->xShmMap(Real(f), i, sz, extend, p);
}
int ShmLock(sqlite3_file* f, int off, int n, int flags) { return Real(f)->pMethods->xShmLock(Real(f), off, n, flags); }
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), del); }
// No memory-mapped reads: every read goes through xRead, so the images and the real files cannot disagree unseen.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** p) {
  *p = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kMethods = {3,        Close,        Read,       Write,          Truncate,   Sync,
                                     FileSize, Lock,         Unlock,     CheckReservedLock, FileControl, SectorSize,
                                     DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, Fetch, Unfetch};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* shim = reinterpret_cast<ShimFile*>(f);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  std::memset(shim->real, 0, static_cast<size_t>(g_real->szOsFile));
  int rc = g_real->xOpen(g_real, name, shim->real, flags, out_flags);
  shim->base.pMethods = shim->real->pMethods ? &kMethods : nullptr;
  if (rc == SQLITE_OK && name != nullptr) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_names[f] = name;
  }
  return rc;
}
int Delete(sqlite3_vfs*, const char* name, int sync) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_images.erase(name);
  }
  return g_real->xDelete(g_real, name, sync);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_real->xAccess(g_real, name, flags, out); }
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) { return g_real->xFullPathname(g_real, name, n, out); }
void* DlOpen(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void DlError(sqlite3_vfs*, int n, char* msg) { g_real->xDlError(g_real, n, msg); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_real->xDlSym(g_real, h, sym); }
void DlClose(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int CurrentTime(sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); }
int GetLastError(sqlite3_vfs*, int n, char* msg) { return g_real->xGetLastError(g_real, n, msg); }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) { return g_real->xCurrentTimeInt64(g_real, t); }

}  // namespace

void RegisterPowerLossVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_initialize();
    g_real = sqlite3_vfs_find(nullptr);
    std::memset(&g_vfs, 0, sizeof(g_vfs));
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = "power_loss";
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    sqlite3_vfs_register(&g_vfs, 0);
  });
}

void WritePowerLossImage(const std::filesystem::path& db, const std::filesystem::path& dest) {
  const std::string base = std::filesystem::absolute(db).string();
  std::lock_guard<std::mutex> lock(g_mu);
  for (const char* suffix : {"", "-wal"}) {
    auto it = g_images.find(base + suffix);
    if (it == g_images.end()) continue;
    std::ofstream out(dest.string() + suffix, std::ios::binary | std::ios::trunc);
    out.write(it->second.data(), static_cast<std::streamsize>(it->second.size()));
  }
}

}  // namespace warden::testing
