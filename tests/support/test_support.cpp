#include "tests/support/test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace warden::testing {

std::filesystem::path SharedPath(const std::string& relative) {
  std::filesystem::path root = WARDEN_SHARED_DIR;
  if (const char* env = std::getenv("WARDEN_SHARED_DIR"); env != nullptr && *env != '\0') root = env;
  if (!std::filesystem::is_directory(root)) {
    FAIL("shared folder not found at " << root.string()
         << " (configure with -DWARDEN_SHARED_DIR=PATH or set WARDEN_SHARED_DIR)");
  }
  std::filesystem::path p = relative.empty() ? root : root / relative;
  if (!std::filesystem::exists(p)) FAIL("shared file not found: " << p.string());
  return p;
}

std::filesystem::path CachePath(const std::string& relative) {
  std::filesystem::path root;
  if (const char* env = std::getenv("WARDEN_CACHE_DIR"); env != nullptr && *env != '\0') {
    root = env;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    root = std::filesystem::path(home) / ".cache" / "warden";
  } else {
    FAIL("neither WARDEN_CACHE_DIR nor HOME is set, so the test-data cache cannot be found");
  }
  std::filesystem::path p = root / relative;
  if (!std::filesystem::exists(p)) {
    FAIL("test data not found: " << p.string() << " (run scripts/fetch-test-data to install it)");
  }
  return p;
}

std::filesystem::path BinaryDir() { return WARDEN_BINARY_DIR; }

std::filesystem::path WardenBinary() { return BinaryDir() / "warden"; }

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "warden-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) FAIL("mkdtemp failed: " << std::strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data,
                         const std::vector<std::string>& extra_env) {
  // A child that exits without reading its stdin must not kill the test runner with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  int in_pipe[2], out_pipe[2], err_pipe[2];
  REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& e : extra_env) env_storage.push_back(e);
  std::vector<char*> envp, args;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  REQUIRE(rc == 0);

  // Feed stdin and drain stdout/stderr together so a chatty child never blocks on a full pipe.
  ProcessResult result;
  size_t written = 0;
  int in_fd = in_pipe[1];
  if (stdin_data.empty()) { ::close(in_fd); in_fd = -1; }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[3];
    int n = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (out_open) { fds[n] = {out_pipe[0], POLLIN, 0}; out_idx = n++; }
    if (err_open) { fds[n] = {err_pipe[0], POLLIN, 0}; err_idx = n++; }
    if (in_fd >= 0) { fds[n] = {in_fd, POLLOUT, 0}; in_idx = n++; }
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto drain = [&](int idx, int fd, std::string& sink, bool& open) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) sink.append(buf, static_cast<size_t>(r));
      else open = false;
    };
    drain(out_idx, out_pipe[0], result.out, out_open);
    drain(err_idx, err_pipe[0], result.err, err_open);
    if (in_idx >= 0 && fds[in_idx].revents != 0) {
      ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == stdin_data.size()) { ::close(in_fd); in_fd = -1; }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ProcessResult RunWarden(const std::vector<std::string>& args, const std::string& stdin_data,
                        const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv{WardenBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data, extra_env);
}

}  // namespace warden::testing
