// ForwardingVfs (see forwarding_vfs.h): each registered VFS keeps its methods, hooks and the default VFS in an entry
// that SQLite hands back as pAppData; entries live in a list so their addresses stay put.
#include "tests/doubles/forwarding_vfs.h"

#include <cstring>
#include <list>
#include <mutex>

namespace warden::testing {
namespace {

struct Entry {
  sqlite3_vfs vfs;  // vfs.pAppData points back at the entry
  sqlite3_vfs* real;
  const sqlite3_io_methods* methods;
  ForwardingVfsHooks hooks;
};

sqlite3_vfs* Real(sqlite3_vfs* v) { return static_cast<const Entry*>(v->pAppData)->real; }

int Close(sqlite3_file* f) {
  sqlite3_file* r = RealFile(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return RealFile(f)->pMethods->xRead(RealFile(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return RealFile(f)->pMethods->xWrite(RealFile(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) { return RealFile(f)->pMethods->xTruncate(RealFile(f), size); }
int Sync(sqlite3_file* f, int flags) { return RealFile(f)->pMethods->xSync(RealFile(f), flags); }
int FileSize(sqlite3_file* f, sqlite3_int64* size) { return RealFile(f)->pMethods->xFileSize(RealFile(f), size); }
int Lock(sqlite3_file* f, int l) { return RealFile(f)->pMethods->xLock(RealFile(f), l); }
int Unlock(sqlite3_file* f, int l) { return RealFile(f)->pMethods->xUnlock(RealFile(f), l); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return RealFile(f)->pMethods->xCheckReservedLock(RealFile(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return RealFile(f)->pMethods->xFileControl(RealFile(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return RealFile(f)->pMethods->xSectorSize(RealFile(f)); }
int DeviceCharacteristics(sqlite3_file* f) { return RealFile(f)->pMethods->xDeviceCharacteristics(RealFile(f)); }
int ShmMap(sqlite3_file* f, int i, int sz, int extend, void volatile** p) {
  return RealFile(f)->pMethods->xShmMap(RealFile(f), i, sz, extend, p);
}
int ShmLock(sqlite3_file* f, int off, int n, int flags) {
  return RealFile(f)->pMethods->xShmLock(RealFile(f), off, n, flags);
}
void ShmBarrier(sqlite3_file* f) { RealFile(f)->pMethods->xShmBarrier(RealFile(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return RealFile(f)->pMethods->xShmUnmap(RealFile(f), del); }
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) {
  return RealFile(f)->pMethods->xFetch(RealFile(f), off, n, p);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return RealFile(f)->pMethods->xUnfetch(RealFile(f), off, p); }

const sqlite3_io_methods kMethods = {3,        Close,        Read,       Write,          Truncate,   Sync,
                                     FileSize, Lock,         Unlock,     CheckReservedLock, FileControl, SectorSize,
                                     DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, Fetch, Unfetch};

int Open(sqlite3_vfs* v, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  const auto* e = static_cast<const Entry*>(v->pAppData);
  auto* shim = reinterpret_cast<ForwardingFile*>(f);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  std::memset(shim->real, 0, static_cast<size_t>(e->real->szOsFile));
  int rc = e->real->xOpen(e->real, name, shim->real, flags, out_flags);
  shim->base.pMethods = shim->real->pMethods ? e->methods : nullptr;
  if (e->hooks.after_open) e->hooks.after_open(f, name, rc);
  return rc;
}
int Delete(sqlite3_vfs* v, const char* name, int sync) {
  const auto* e = static_cast<const Entry*>(v->pAppData);
  if (e->hooks.before_delete) e->hooks.before_delete(name);
  return e->real->xDelete(e->real, name, sync);
}
int Access(sqlite3_vfs* v, const char* name, int flags, int* out) { return Real(v)->xAccess(Real(v), name, flags, out); }
int FullPathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return Real(v)->xFullPathname(Real(v), name, n, out);
}
void* DlOpen(sqlite3_vfs* v, const char* name) { return Real(v)->xDlOpen(Real(v), name); }
void DlError(sqlite3_vfs* v, int n, char* msg) { Real(v)->xDlError(Real(v), n, msg); }
void (*DlSym(sqlite3_vfs* v, void* h, const char* sym))(void) { return Real(v)->xDlSym(Real(v), h, sym); }
void DlClose(sqlite3_vfs* v, void* h) { Real(v)->xDlClose(Real(v), h); }
int Randomness(sqlite3_vfs* v, int n, char* out) { return Real(v)->xRandomness(Real(v), n, out); }
int Sleep(sqlite3_vfs* v, int us) { return Real(v)->xSleep(Real(v), us); }
int CurrentTime(sqlite3_vfs* v, double* t) { return Real(v)->xCurrentTime(Real(v), t); }
int GetLastError(sqlite3_vfs* v, int n, char* msg) { return Real(v)->xGetLastError(Real(v), n, msg); }
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* t) { return Real(v)->xCurrentTimeInt64(Real(v), t); }

}  // namespace

const sqlite3_io_methods& ForwardingIoMethods() { return kMethods; }

void RegisterForwardingVfs(const char* name, const sqlite3_io_methods* methods, ForwardingVfsHooks hooks) {
  static std::mutex mu;
  static std::list<Entry> entries;
  std::lock_guard<std::mutex> lock(mu);
  sqlite3_initialize();
  Entry& e = entries.emplace_back();
  std::memset(&e.vfs, 0, sizeof(e.vfs));
  e.real = sqlite3_vfs_find(nullptr);
  e.methods = methods;
  e.hooks = hooks;
  e.vfs.iVersion = 2;
  e.vfs.szOsFile = static_cast<int>(sizeof(ForwardingFile)) + e.real->szOsFile;
  e.vfs.mxPathname = e.real->mxPathname;
  e.vfs.zName = name;
  e.vfs.pAppData = &e;
  e.vfs.xOpen = Open;
  e.vfs.xDelete = Delete;
  e.vfs.xAccess = Access;
  e.vfs.xFullPathname = FullPathname;
  e.vfs.xDlOpen = DlOpen;
  e.vfs.xDlError = DlError;
  e.vfs.xDlSym = DlSym;
  e.vfs.xDlClose = DlClose;
  e.vfs.xRandomness = Randomness;
  e.vfs.xSleep = Sleep;
  e.vfs.xCurrentTime = CurrentTime;
  e.vfs.xGetLastError = GetLastError;
  e.vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&e.vfs, 0);
}

}  // namespace warden::testing
