// CatalogAuditor: skills::CatalogEvent -> audit rows skill.rejected and catalog.reload. See catalog_audit.h.
#include "runtime/catalog_audit.h"

#include <algorithm>

namespace warden {

using nlohmann::json;

CatalogAuditor::CatalogAuditor(audit::Log& log, CatalogAuditOptions options)
    : log_(log), options_(std::move(options)) {}

std::function<void(const skills::CatalogEvent&)> CatalogAuditor::Listener() {
  return [this](const skills::CatalogEvent& e) { OnEvent(e); };
}

void CatalogAuditor::OnEvent(const skills::CatalogEvent& e) {
  audit::Event row;
  row.tenant_id = options_.tenant;
  row.principal_id = options_.principal;
  if (e.kind == skills::CatalogEvent::Kind::kRejected) {
    row.kind = "skill.rejected";
    row.action = "catalog.load";
    if (!e.name.empty()) row.skill = e.name;
    row.body = e.rejection.ToJson();
    // A watcher-level failure carries no file; the event's path is the best "where" there is.
    if (row.body.value("file", std::string()).empty() && !e.path.empty()) row.body["file"] = e.path.string();
  } else if (e.kind == skills::CatalogEvent::Kind::kReloaded) {
    if (!options_.reloads) return;
    const skills::ReloadSummary& r = e.reload;
    row.kind = "catalog.reload";
    row.action = "catalog.load";
    const size_t listed = std::min(r.changed.size(), options_.max_names);
    row.body = json{{"generation", r.generation},
                    {"added", r.added},
                    {"updated", r.updated},
                    {"removed", r.removed},
                    {"rejected", r.rejected},
                    {"skills", r.skills},
                    {"rejected_total", r.rejected_total},
                    {"changed", std::vector<std::string>(r.changed.begin(), r.changed.begin() + listed)},
                    {"changed_more", r.changed.size() - listed}};
  } else {
    return;  // folded into the next catalog.reload
  }
  auto seq = log_.Append(std::move(row));
  std::lock_guard<std::mutex> lock(mu_);
  if (seq.ok()) {
    seqs_.push_back(*seq);
  } else if (status_.ok()) {
    status_ = seq.status().WithContext("recording a catalog event in the audit log");
  }
}

Status CatalogAuditor::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::vector<uint64_t> CatalogAuditor::seqs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seqs_;
}

}  // namespace warden
