// libFuzzer target for the audit verifier's canonical-body check (audit/canonical.cpp IsCanonicalBody): whatever it
// accepts must be a JSON object that nlohmann parses and prints back byte for byte, and re-canonicalising any parsed
// object must give text it accepts, and the hand-written serializer (CanonicalBody) must print exactly what
// nlohmann::json::dump prints for an accepted body, which needs no capping. Seeds: canonical bodies of the audit
// sample events.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/audit_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool canonical = warden::audit::detail::IsCanonicalBody(text);
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    if (canonical) __builtin_trap();  // accepted something that is not JSON
    return 0;
  }
  if (canonical && (!parsed.is_object() || parsed.dump() != text)) __builtin_trap();
  if (canonical) {
    auto again = warden::audit::detail::CanonicalBody(parsed, SIZE_MAX, SIZE_MAX);
    if (!again.ok() || *again != text) __builtin_trap();
  }
  if (parsed.is_object()) {
    auto body = warden::audit::detail::CanonicalBody(parsed, 4096, 65536);
    if (body.ok() && !warden::audit::detail::IsCanonicalBody(*body)) __builtin_trap();
  }
  return 0;
}
