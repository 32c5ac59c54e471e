// Internals of the tokenizer (../shared/docs/model.md §6) exposed for its unit tests: UTF-8 helpers, the GPT-2
// byte↔char map, the Oniguruma→PCRE2 regex translation and the regex splitter, and the merge-rank BPE model.
// Nothing outside runtime/engine/tokenizer/ includes this header.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/base/result.h"

namespace warden::engine::detail {

// ---- UTF-8 -------------------------------------------------------------------------------------------------------

// Byte offset of the first ill-formed UTF-8 sequence in `s`, or std::string_view::npos when `s` is well formed.
size_t FindInvalidUtf8(std::string_view s);
// Appends `bytes` to `out`, replacing each maximal ill-formed subsequence with U+FFFD (Unicode §3.9 "U+FFFD
// substitution of maximal subparts", as Python's errors="replace" and Rust's from_utf8_lossy do).
void AppendUtf8Lossy(std::string_view bytes, std::string& out);
// Decodes the code point at s[i] of well-formed UTF-8 and advances i past it.
char32_t NextCodePoint(std::string_view s, size_t& i);
// Decodes the code point that ends just before s[end] (well-formed UTF-8) and sets `start` to its first byte.
char32_t PrevCodePoint(std::string_view s, size_t end, size_t& start);
void AppendUtf8(char32_t cp, std::string& out);
// Unicode White_Space (what Oniguruma's and Rust's \s and char::is_whitespace use).
bool IsWhiteSpace(char32_t cp);
// Letters, numbers and '_' (Rust's is_alphanumeric || '_', by general category).
bool IsWordChar(char32_t cp);

// ---- GPT-2 byte-level map --------------------------------------------------------------------------------------

// The UTF-8 spelling of the printable character that byte b stands for (e.g. 0x20 → "Ġ").
const std::array<std::string, 256>& ByteToChar();
// The byte a character stands for, or -1 when `cp` is not one of the 256 byte characters.
int CharToByte(char32_t cp);
// What the ByteLevel decoder makes of one token: the bytes its characters stand for, or the token's own UTF-8
// bytes when any character is not a byte character (added tokens such as "<|im_start|>" mixed with spaces).
std::string ByteLevelDecodeToken(std::string_view token);

// ---- Regex -------------------------------------------------------------------------------------------------------

// Rewrites a pattern in the Oniguruma (Ruby syntax) dialect Hugging Face tokenizers compiles into PCRE2 syntax with
// the same meaning: \s/\S become \p{White_Space}/\P{White_Space} (PCRE2's \s also matches U+180E), \h/\H are hex
// digits, \uHHHH becomes \x{HHHH}, (?m) is dot-all. Refuses constructs PCRE2 cannot express (class intersection).
Result<std::string> TranslateOnigurumaToPcre2(std::string_view pattern);

// A compiled PCRE2 pattern (UTF, UCP, JIT when available). Immutable and shareable between threads.
class Regex {
  struct PrivateTag {};  // only Compile can name it, yet it lets Compile use make_shared

 public:
  // `pattern` is Oniguruma syntax unless `literal`.
  static Result<std::shared_ptr<const Regex>> Compile(std::string_view pattern, bool literal);
  explicit Regex(PrivateTag) {}
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  struct Match {
    size_t begin;
    size_t end;
  };
  // Every non-overlapping match in `subject` (well-formed UTF-8), left to right, as Oniguruma's find_iter gives
  // them: empty matches are included, except one right where the previous match ended.
  Status FindAll(std::string_view subject, std::vector<Match>& out) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*; kept opaque so PCRE2's header stays in the .cpp
  std::string source_;
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits `subject` by the matches of `regex` as Hugging Face's Split pre-tokenizer does, appending the non-empty
// pieces (offsets into `subject`) to `out`.
Status SplitByRegex(const Regex& regex, SplitBehavior behavior, bool invert, std::string_view subject,
                    std::vector<std::string_view>& out);

// ---- BPE ---------------------------------------------------------------------------------------------------------

struct BpeConfig {
  bool byte_level = false;     // pieces are raw bytes to be spelled with the byte characters first
  bool ignore_merges = false;  // a piece that is a whole vocabulary entry is one token
  bool byte_fallback = false;  // unknown characters become <0xAB> tokens
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

// Merge-rank BPE over one pre-tokenized piece. Merges are looked up by (left id, right id) in an open-addressing
// table; a word is merged with a binary heap over a linked list of symbols (O(n log n)), and results for short
// words are kept in a sharded, mutex-guarded cache so concurrent Encode calls are safe.
class BpeModel {
  struct PrivateTag {};  // only Build can name it

 public:
  explicit BpeModel(PrivateTag) {}
  // `vocab` maps spellings to ids; `merges` are (left, right) spellings in rank order. Errors name the merge index.
  static Result<std::unique_ptr<BpeModel>> Build(std::unordered_map<std::string, int32_t> vocab,
                                                 const std::vector<std::pair<std::string, std::string>>& merges,
                                                 BpeConfig config);
  ~BpeModel();

  // Appends the ids of `piece` to `out`.
  Status EncodePiece(std::string_view piece, std::vector<int32_t>& out) const;

  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }

 private:
  struct MergeSlot {
    uint64_t key;  // left << 32 | right; kEmptyKey when free
    int32_t rank;
    int32_t new_id;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  const MergeSlot* FindMerge(int32_t left, int32_t right) const;
  void InsertMerge(int32_t left, int32_t right, int32_t rank, int32_t new_id);
  Status InitialSymbols(std::string_view piece, std::vector<int32_t>& symbols) const;
  void Merge(std::vector<int32_t>& symbols) const;

  std::unordered_map<std::string, int32_t> vocab_;
  BpeConfig config_;
  std::vector<MergeSlot> merge_table_;
  uint64_t merge_mask_ = 0;
  std::array<int32_t, 256> byte_symbol_{};  // id of the byte character of each byte (-1: none), fast path

  // Transparent hashing lets a lookup take the piece's string_view without building a std::string.
  struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct CacheShard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, WordHash, std::equal_to<>> words;
  };
  static constexpr size_t kCacheShards = 32;
  static constexpr size_t kCacheShardCapacity = 1024;  // 32k words in all, a few MB at most
  static constexpr size_t kCacheMaxWordBytes = 48;
  std::unique_ptr<CacheShard[]> cache_;
};

}  // namespace warden::engine::detail
