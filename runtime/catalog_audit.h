// Catalog events into the audit trail (issue 8: a rejected manifest is "audited once the audit log exists"; a catalog
// reload with its counts and snapshot generation). The skills library does not know audit/: it reports
// skills::CatalogEvent to a listener, and this adaptor, in the runtime where both meet, appends
//   skill.rejected  one row per rejected manifest: skill (when its name was read), body {file, line, field, message}
//   catalog.reload  one row per applied load or refresh: body {generation, added, updated, removed, rejected, skills,
//                   rejected_total, changed (the first max_names names), changed_more (how many more)}
// Per-skill added / updated / removed / shadowed events are folded into the reload row, so a first load of thousands
// of skills is one row, not thousands.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "runtime/base/status.h"
#include "skills/skills.h"

namespace warden {

struct CatalogAuditOptions {
  std::string tenant = "local";                    // the audit rows' tenant
  std::string principal = "local/system/catalog";  // who the rows name: the catalog itself, not a user
  // Record catalog.reload rows. false: rejections only, for a one-shot command that loads the catalog once per run
  // (a reload row per `warden skills run` would say nothing new).
  bool reloads = true;
  size_t max_names = 100;  // changed names listed in a reload body; the rest are counted in changed_more
};

// Turns catalog events into audit rows. Appends run on the thread that delivers the event (the catalog's loading
// thread or its watcher) and wait until the row is durable. A failed append does not stop the catalog: searches
// and later reloads go on, and the first failure is kept in status() for the owner to report.
class CatalogAuditor {
 public:
  explicit CatalogAuditor(audit::Log& log, CatalogAuditOptions options = {});
  CatalogAuditor(const CatalogAuditor&) = delete;
  CatalogAuditor& operator=(const CatalogAuditor&) = delete;

  // For skills::CatalogOptions::listener. The auditor must outlive the catalog it listens to.
  std::function<void(const skills::CatalogEvent&)> Listener();
  void OnEvent(const skills::CatalogEvent& event);

  Status status() const;              // Ok, or the first append that failed
  std::vector<uint64_t> seqs() const;  // audit rows written, in order

 private:
  audit::Log& log_;
  CatalogAuditOptions options_;
  mutable std::mutex mu_;
  Status status_;
  std::vector<uint64_t> seqs_;
};

}  // namespace warden
