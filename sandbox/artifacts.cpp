// Artifact collection (sandbox.md C.9 probes 33 and 35; issue 7): after the task's last process has exited, the
// supervisor lists the files the program left under the workspace's artifacts folder (default `outputs/`) with
// their size and SHA-256, so the audit record says what a skill produced.
//
// INVARIANT: nothing outside the workspace is ever opened. The walk holds directory fds and opens each entry with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, O_NOFOLLOW): a symlink anywhere (the
// folder itself, a parent swapped for a link to /, a file) is listed as a symlink and not followed. The program
// cannot race the walk: the namespace's processes are all gone when it runs (the init's exit reaps them).
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

constexpr int kMaxDepth = 16;

int OpenBeneath(int dirfd, const char* name, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, name, &how, sizeof(how)));
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

// SHA-256 of an open regular file; false on a read error.
bool HashFile(int fd, std::string* hex) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<unsigned char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    crypto_hash_sha256_update(&st, buf.data(), static_cast<unsigned long long>(n));
  }
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  *hex = Hex(out, sizeof(out));
  return true;
}

struct Walk {
  const Spec& spec;
  RunResult* r;
  uint64_t hashed = 0;

  void Add(Artifact a) {
    ++r->artifacts_total;
    if (r->artifacts.size() >= spec.max_artifacts) {
      r->artifacts_truncated = true;
      return;
    }
    r->artifacts.push_back(std::move(a));
  }

  // `dirfd` is owned by the caller.
  void Dir(int dirfd, const std::string& prefix, int depth) {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return;
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      ::close(dup);
      return;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      Artifact a;
      a.path = rel;
      if (S_ISLNK(st.st_mode)) {
        a.type = "symlink";
        std::string target(4096, '\0');
        ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
        if (n > 0) a.link = target.substr(0, static_cast<size_t>(n));
        Add(std::move(a));
      } else if (S_ISDIR(st.st_mode)) {
        if (depth >= kMaxDepth) {
          r->artifacts_truncated = true;
          continue;
        }
        int sub = OpenBeneath(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY);
        if (sub < 0) continue;
        Dir(sub, rel, depth + 1);
        ::close(sub);
      } else if (S_ISREG(st.st_mode)) {
        a.type = "file";
        a.bytes = static_cast<uint64_t>(st.st_size);
        if (r->artifacts.size() < spec.max_artifacts) {
          if (hashed + a.bytes <= spec.max_artifact_hash_bytes) {
            int fd = OpenBeneath(dirfd, name.c_str(), O_RDONLY | O_NONBLOCK);
            struct stat again {};
            // Hash only what was listed: the same inode, still a regular file.
            if (fd >= 0 && ::fstat(fd, &again) == 0 && S_ISREG(again.st_mode) && again.st_ino == st.st_ino &&
                HashFile(fd, &a.sha256)) {
              hashed += a.bytes;
            }
            if (fd >= 0) ::close(fd);
          } else {
            r->artifacts_truncated = true;
          }
        }
        Add(std::move(a));
      } else {
        a.type = "other";
        Add(std::move(a));
      }
    }
  }
};

}  // namespace

void CollectArtifacts(const Spec& spec, const std::string& workspace, RunResult* r) {
  if (spec.artifacts_dir.empty()) return;
  int ws = ::open(workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (ws < 0) return;
  int dir = OpenBeneath(ws, spec.artifacts_dir.c_str(), O_RDONLY | O_DIRECTORY);
  ::close(ws);
  if (dir < 0) return;  // no folder (or a symlink where the folder should be): nothing to list
  Walk{spec, r}.Dir(dir, "", 0);
  ::close(dir);
}

}  // namespace warden::sandbox::detail
