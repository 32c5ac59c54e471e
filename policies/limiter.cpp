// The in-memory counters behind [[limit]] tables (policy-audit.md A.8.3 "Limits"): a sliding window keeps each
// charge with its time, a lifetime budget only the sum. Snapshot()/Restore() let the runtime persist usage so a
// restart does not reset budgets; the policy library itself stores nothing.
#include "policies/policy_internal.h"

namespace warden::policy {

Limiter::Limiter(Clock clock) : impl_(std::make_unique<Impl>()) {
  impl_->clock = clock ? std::move(clock) : [] {
    return static_cast<int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  };
}
Limiter::~Limiter() = default;

int64_t Limiter::Impl::Used(const std::string& key, int64_t window_ns, int64_t now) {
  auto it = counters.find(key);
  if (it == counters.end()) return 0;
  auto& c = it->second;
  if (window_ns <= 0) return c.total;
  while (!c.events.empty() && c.events.front().first <= now - window_ns) {
    c.total -= c.events.front().second;
    c.events.pop_front();
  }
  return c.total;
}

void Limiter::Impl::Add(const std::string& key, int64_t amount, int64_t now, std::optional<bool> windowed) {
  auto& c = counters[key];
  if (windowed) c.windowed = *windowed;
  c.total += amount;
  if (c.windowed) c.events.emplace_back(now, amount);
}

void Limiter::Adjust(const std::string& limit_id, const std::string& scope_key, int64_t amount) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->Add(limit_id + "|" + scope_key, amount, impl_->clock());
}

nlohmann::json Limiter::Snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const int64_t now = impl_->clock();
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [key, c] : impl_->counters) {
    // Times are stored as ages so a snapshot restores under another clock (a restarted process).
    nlohmann::json events = nlohmann::json::array();
    for (const auto& [t, n] : c.events) events.push_back({now - t, n});
    doc[key] = {{"total", c.total}, {"windowed", c.windowed}, {"events", events}};
  }
  return doc;
}

Status Limiter::Restore(const nlohmann::json& snapshot) {
  if (!snapshot.is_object()) return Status::InvalidArgument("limiter snapshot: expected a JSON object");
  std::unordered_map<std::string, Impl::Counter> counters;
  const int64_t now = impl_->clock();
  try {
    for (const auto& [key, v] : snapshot.items()) {
      Impl::Counter c;
      c.total = v.at("total").get<int64_t>();
      c.windowed = v.at("windowed").get<bool>();
      for (const auto& e : v.at("events")) c.events.emplace_back(now - e.at(0).get<int64_t>(), e.at(1).get<int64_t>());
      counters[key] = std::move(c);
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("limiter snapshot: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->counters = std::move(counters);
  return Status::Ok();
}

}  // namespace warden::policy
