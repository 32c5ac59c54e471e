// warden::engine::Tokenizer — a Hugging Face `tokenizer.json` byte-level BPE tokenizer (../shared/docs/model.md §6).
//
// Encode runs the pipeline the file describes: added tokens are split out of the raw text first (longest match,
// honouring lstrip/rstrip/single_word), the rest is normalised (NFC), split by the pre-tokenizer (the Split regex
// read from the file, compiled with PCRE2, then ByteLevel's byte→char map) and turned into ids by merge-rank BPE.
// Decode maps ids back to bytes and replaces invalid UTF-8 with U+FFFD per maximal invalid subsequence. No special
// tokens are ever added (Qwen adds none). A Tokenizer is immutable after loading; Encode and Decode may be called
// from many threads at once, and copies share the loaded tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"

namespace warden::engine {

namespace detail {
class TokenizerImpl;
}

// One entry of tokenizer.json's "added_tokens".
struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;      // dropped by Decode(ids, /*skip_special_tokens=*/true)
  bool normalized = false;   // matched on the normalised text instead of the raw text
  bool lstrip = false;       // swallows the whitespace on its left
  bool rstrip = false;       // swallows the whitespace on its right
  bool single_word = false;  // only matches with no word character touching it on either side
};

class Tokenizer {
 public:
  // Reads a Hugging Face tokenizer.json. Errors name the file and the JSON field that is missing, malformed or
  // unsupported (only model type BPE with the normalizers/pre-tokenizers/decoder listed in docs/engine.md).
  static Result<Tokenizer> FromFile(const std::filesystem::path& path);
  // Reads `dir`/tokenizer.json.
  static Result<Tokenizer> FromModelDir(const std::filesystem::path& dir);
  // Parses tokenizer.json text already in memory; `source` names it in error messages.
  static Result<Tokenizer> FromJson(std::string_view json_text, std::string_view source);

  // Text (UTF-8) to ids, without adding any special token. Invalid UTF-8 is an InvalidArgument naming the byte
  // offset; so is a character the model has no token for (no byte_fallback and no unk_token).
  Result<std::vector<int32_t>> Encode(std::string_view text) const;

  // Ids to text. `skip_special_tokens` drops the added tokens flagged special (and only those). An id that is
  // neither in the vocabulary nor an added token is an InvalidArgument naming it.
  Result<std::string> Decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The id of a vocabulary entry or added token spelled exactly `token` (vocabulary spelling, e.g. "Ġworld").
  std::optional<int32_t> TokenToId(std::string_view token) const;
  // The vocabulary spelling of `id`; nullopt when unknown.
  std::optional<std::string> IdToToken(int32_t id) const;

  // Distinct ids: model vocabulary plus added tokens not already in it (HF get_vocab_size(with_added_tokens)).
  size_t vocab_size() const;
  // All added tokens in file order, and those flagged special.
  const std::vector<AddedToken>& added_tokens() const;
  std::vector<AddedToken> special_tokens() const;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::TokenizerImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const detail::TokenizerImpl> impl_;
};

}  // namespace warden::engine
