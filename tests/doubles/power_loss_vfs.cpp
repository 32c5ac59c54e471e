// PowerLossVfs (see power_loss_vfs.h): a forwarding VFS (forwarding_vfs.h) whose xSync also copies the whole file into
// an in-memory image keyed by path, so the images are exactly the synced state.
#include "tests/doubles/power_loss_vfs.h"

#include <sqlite3.h>

#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "tests/doubles/forwarding_vfs.h"

namespace warden::testing {
namespace {

std::mutex g_mu;
std::map<std::string, std::string> g_images;      // path -> bytes at the last sync
std::map<const sqlite3_file*, std::string> g_names;  // open file -> its path

int Close(sqlite3_file* f) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_names.erase(f);
  }
  return ForwardingIoMethods().xClose(f);
}
int Sync(sqlite3_file* f, int flags) {
  const int rc = ForwardingIoMethods().xSync(f, flags);
  if (rc != SQLITE_OK) return rc;
  sqlite3_int64 size = 0;
  if (RealFile(f)->pMethods->xFileSize(RealFile(f), &size) != SQLITE_OK) return SQLITE_IOERR_FSYNC;
  std::string bytes(static_cast<size_t>(size), '\0');
  if (size > 0 && RealFile(f)->pMethods->xRead(RealFile(f), bytes.data(), static_cast<int>(size), 0) != SQLITE_OK) {
    return SQLITE_IOERR_FSYNC;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_names.find(f);
  if (it != g_names.end()) g_images[it->second] = std::move(bytes);
  return SQLITE_OK;
}
// No memory-mapped reads: every read goes through xRead, so the images and the real files cannot disagree unseen.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** p) {
  *p = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

void AfterOpen(sqlite3_file* f, const char* name, int rc) {
  if (rc != SQLITE_OK || name == nullptr) return;
  std::lock_guard<std::mutex> lock(g_mu);
  g_names[f] = name;
}
void BeforeDelete(const char* name) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_images.erase(name);
}

}  // namespace

void RegisterPowerLossVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    static sqlite3_io_methods methods = ForwardingIoMethods();
    methods.xClose = Close;
    methods.xSync = Sync;
    methods.xFetch = Fetch;
    methods.xUnfetch = Unfetch;
    RegisterForwardingVfs("power_loss", &methods, {AfterOpen, BeforeDelete});
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
