#include "runtime/home.h"

#include <cerrno>

#include "runtime/base/file_util.h"

namespace warden {
namespace {

Status EnsureDir(const std::filesystem::path& dir, InitReport& report) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::InvalidArgument(dir.string() + " exists but is not a folder (move it away and run init again)");
    }
    report.existing.push_back(dir);
    return Status::Ok();
  }
  if (!std::filesystem::create_directories(dir, ec)) {
    return Status::IoError("cannot create folder " + dir.string(), ec.value());
  }
  report.created.push_back(dir);
  return Status::Ok();
}

}  // namespace

Result<InitReport> InitHome(const Config& config) {
  InitReport report;
  WARDEN_RETURN_IF_ERROR(EnsureDir(config.home, report));
  for (const auto& dir : {config.skills_dir, config.policies_dir, config.audit_db.parent_path(), config.models_dir}) {
    WARDEN_RETURN_IF_ERROR(EnsureDir(dir, report));
  }
  std::error_code ec;
  if (std::filesystem::exists(config.config_file, ec)) {
    report.existing.push_back(config.config_file);
  } else {
    WARDEN_RETURN_IF_ERROR(WriteFileAtomic(config.config_file, DefaultConfigText()));
    report.created.push_back(config.config_file);
  }
  return report;
}

}  // namespace warden
