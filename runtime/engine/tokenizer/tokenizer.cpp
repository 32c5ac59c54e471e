// Loading a Hugging Face tokenizer.json and running its encode/decode pipeline (../shared/docs/model.md §6.1–6.2):
// added-token split on the raw text → normalizer → pre-tokenizer (Split regex, ByteLevel) → BPE, and the ByteLevel
// decoder. Every part is read from the file; anything the file asks for that is not implemented here is refused
// by name rather than approximated.
#include "runtime/engine/tokenizer/tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "runtime/base/file_util.h"
#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace warden::engine {
namespace detail {

using nlohmann::json;

enum class NormForm { kNFC, kNFD, kNFKC, kNFKD };

struct PreStep {
  enum class Kind { kSplit, kByteLevel } kind = Kind::kSplit;
  std::shared_ptr<const Regex> regex;  // kSplit; kByteLevel with use_regex
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;  // kByteLevel
};

// Added tokens of one matching pass, indexed by first byte, longest first (leftmost-longest matching).
struct AddedMatcher {
  struct Entry {
    std::string pattern;  // the content, or for normalized tokens the content after the normalizer (as HF does)
    size_t index;         // into TokenizerImpl::added
  };
  std::array<std::vector<Entry>, 256> by_first_byte;
  bool empty = true;
};

class TokenizerImpl {
 public:
  std::string source;
  std::vector<AddedToken> added;
  AddedMatcher raw_matcher;         // normalized == false: matched on the raw text
  AddedMatcher normalized_matcher;  // normalized == true: matched after the normalizer
  std::vector<NormForm> normalizers;
  std::vector<PreStep> pre_steps;
  std::unique_ptr<BpeModel> bpe;
  std::unordered_map<std::string, int32_t> added_by_content;
  std::vector<std::string> spelling;  // by id
  std::vector<std::string> decoded;   // by id: the bytes the decoder makes of it
  std::vector<uint8_t> known;         // by id
  std::vector<uint8_t> special;       // by id
  size_t vocab_size = 0;

  Status EncodeText(std::string_view text, std::vector<int32_t>& ids) const;
  Status EncodeNormalized(std::string_view text, std::vector<int32_t>& ids) const;
  Result<std::string> Normalize(std::string_view text) const;
};

namespace {

// ---- tokenizer.json reading ---------------------------------------------------------------------------------------

class JsonReader {
 public:
  explicit JsonReader(std::string source) : source_(std::move(source)) {}

  Status Bad(const std::string& field, const std::string& what) const {
    return Status::Corruption(source_ + ": field " + field + ": " + what);
  }
  Status Unsupported(const std::string& field, const std::string& what) const {
    return Status::InvalidArgument(source_ + ": field " + field + ": " + what);
  }

  static const char* TypeName(const json& j) { return j.type_name(); }

  Result<std::string> String(const json& obj, const std::string& key, const std::string& path) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Bad(path + "." + key, "missing");
    if (!it->is_string()) return Bad(path + "." + key, std::string("expected a string, got ") + TypeName(*it));
    return it->get<std::string>();
  }
  // An optional bool: absent or null gives `fallback`.
  Result<bool> Bool(const json& obj, const std::string& key, const std::string& path, bool fallback) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) return Bad(path + "." + key, std::string("expected true or false, got ") + TypeName(*it));
    return it->get<bool>();
  }
  Result<int32_t> Id(const json& v, const std::string& path) const {
    if (!v.is_number_integer()) return Bad(path, std::string("expected a token id, got ") + TypeName(v));
    const auto n = v.get<int64_t>();
    if (n < 0 || n > 0x7fffffff) return Bad(path, "token id " + std::to_string(n) + " is out of range");
    return static_cast<int32_t>(n);
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

Result<std::vector<NormForm>> ReadNormalizer(const JsonReader& r, const json& n, const std::string& path) {
  std::vector<NormForm> out;
  if (n.is_null()) return out;
  if (!n.is_object()) return r.Bad(path, std::string("expected an object or null, got ") + n.type_name());
  WARDEN_ASSIGN_OR_RETURN(std::string type, r.String(n, "type", path));
  if (type == "NFC")
    out.push_back(NormForm::kNFC);
  else if (type == "NFD")
    out.push_back(NormForm::kNFD);
  else if (type == "NFKC")
    out.push_back(NormForm::kNFKC);
  else if (type == "NFKD")
    out.push_back(NormForm::kNFKD);
  else if (type == "Sequence") {
    auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array()) return r.Bad(path + ".normalizers", "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      WARDEN_ASSIGN_OR_RETURN(auto inner,
                              ReadNormalizer(r, (*it)[i], path + ".normalizers[" + std::to_string(i) + "]"));
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else {
    return r.Unsupported(path + ".type",
                         "normalizer \"" + type + "\" is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)");
  }
  return out;
}

// GPT-2's split, which ByteLevel applies itself when its use_regex is true (the Hugging Face ByteLevel definition).
constexpr std::string_view kByteLevelRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Status ReadPreTokenizer(const JsonReader& r, const json& p, const std::string& path, std::vector<PreStep>& out) {
  if (p.is_null()) return Status::Ok();
  if (!p.is_object()) return r.Bad(path, std::string("expected an object or null, got ") + p.type_name());
  WARDEN_ASSIGN_OR_RETURN(std::string type, r.String(p, "type", path));
  if (type == "Sequence") {
    auto it = p.find("pretokenizers");
    if (it == p.end() || !it->is_array()) return r.Bad(path + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      WARDEN_RETURN_IF_ERROR(ReadPreTokenizer(r, (*it)[i], path + ".pretokenizers[" + std::to_string(i) + "]", out));
    }
    return Status::Ok();
  }
  PreStep step;
  if (type == "Split" || type == "Digits") {
    for (const auto& s : out) {
      if (s.kind == PreStep::Kind::kByteLevel) {
        return r.Unsupported(path, type + " after ByteLevel is not supported (it would see byte characters)");
      }
    }
  }
  if (type == "Split") {
    auto pat = p.find("pattern");
    if (pat == p.end() || !pat->is_object())
      return r.Bad(path + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    bool literal;
    std::string pattern;
    if (auto re = pat->find("Regex"); re != pat->end() && re->is_string()) {
      literal = false;
      pattern = re->get<std::string>();
    } else if (auto st = pat->find("String"); st != pat->end() && st->is_string()) {
      literal = true;
      pattern = st->get<std::string>();
    } else {
      return r.Bad(path + ".pattern", "expected {\"Regex\": \"...\"} or {\"String\": \"...\"}");
    }
    auto compiled = Regex::Compile(pattern, literal);
    if (!compiled.ok()) return r.Unsupported(path + ".pattern", compiled.status().message());
    step.regex = *compiled;
    WARDEN_ASSIGN_OR_RETURN(std::string behavior, r.String(p, "behavior", path));
    if (behavior == "Isolated")
      step.behavior = SplitBehavior::kIsolated;
    else if (behavior == "Removed")
      step.behavior = SplitBehavior::kRemoved;
    else if (behavior == "MergedWithPrevious")
      step.behavior = SplitBehavior::kMergedWithPrevious;
    else if (behavior == "MergedWithNext")
      step.behavior = SplitBehavior::kMergedWithNext;
    else if (behavior == "Contiguous")
      step.behavior = SplitBehavior::kContiguous;
    else {
      return r.Bad(path + ".behavior", "\"" + behavior +
                                           "\" is not one of Isolated, Removed, MergedWithPrevious, "
                                           "MergedWithNext, Contiguous");
    }
    WARDEN_ASSIGN_OR_RETURN(step.invert, r.Bool(p, "invert", path, false));
  } else if (type == "ByteLevel") {
    step.kind = PreStep::Kind::kByteLevel;
    WARDEN_ASSIGN_OR_RETURN(step.add_prefix_space, r.Bool(p, "add_prefix_space", path, true));
    WARDEN_ASSIGN_OR_RETURN(bool use_regex, r.Bool(p, "use_regex", path, true));
    if (use_regex) {
      WARDEN_ASSIGN_OR_RETURN(step.regex, Regex::Compile(kByteLevelRegex, false));
    }
  } else if (type == "Digits") {
    // Hugging Face splits on char::is_numeric (general category N): one piece per digit, or per run of them.
    WARDEN_ASSIGN_OR_RETURN(bool individual, r.Bool(p, "individual_digits", path, false));
    WARDEN_ASSIGN_OR_RETURN(step.regex, Regex::Compile(R"(\p{N})", false));
    step.behavior = individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
  } else {
    return r.Unsupported(path + ".type", "pre-tokenizer \"" + type +
                                             "\" is not supported (supported: Split, ByteLevel, Digits, Sequence)");
  }
  out.push_back(std::move(step));
  return Status::Ok();
}

Status ReadDecoder(const JsonReader& r, const json& d, const std::string& path) {
  if (d.is_null()) return r.Unsupported(path, "missing; a byte-level BPE needs the ByteLevel decoder");
  if (!d.is_object()) return r.Bad(path, std::string("expected an object, got ") + d.type_name());
  WARDEN_ASSIGN_OR_RETURN(std::string type, r.String(d, "type", path));
  if (type == "ByteLevel") return Status::Ok();
  if (type == "Sequence") {
    auto it = d.find("decoders");
    if (it == d.end() || !it->is_array()) return r.Bad(path + ".decoders", "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      WARDEN_RETURN_IF_ERROR(ReadDecoder(r, (*it)[i], path + ".decoders[" + std::to_string(i) + "]"));
    }
    return Status::Ok();
  }
  return r.Unsupported(path + ".type", "decoder \"" + type + "\" is not supported (supported: ByteLevel)");
}

// model.vocab and model.merges hold ~150k entries each in real files. Building them as a JSON DOM (a std::map node
// per token, an array per merge) and copying them out cost as much as parsing, so the parse callback moves each
// entry straight into these tables and drops it from the DOM.
struct BulkFields {
  bool vocab_seen = false;
  std::unordered_map<std::string, int32_t> vocab;
  bool merges_seen = false;
  std::vector<std::pair<std::string, std::string>> merges;
  Status error;  // the first bad entry

  bool OnEvent(const JsonReader& r, int depth, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    if (event == E::key) {
      path_.resize(static_cast<size_t>(depth));
      path_.back() = parsed.get<std::string>();
      return !(in_vocab_ && depth == 3);  // the key is kept in path_; no DOM slot for it
    }
    if (depth == 2 && path_.size() >= 2 && path_[0] == "model") {
      if (event == E::object_start && path_[1] == "vocab") in_vocab_ = vocab_seen = true;
      if (event == E::array_start && path_[1] == "merges") in_merges_ = merges_seen = true;
      if (event == E::object_end || event == E::array_end) in_vocab_ = in_merges_ = false;
      return true;
    }
    if (depth != 3) return true;
    if (in_vocab_ && (event == E::object_start || event == E::array_start)) {
      Note(r.Bad("model.vocab[\"" + path_[2] + "\"]", "expected a token id, got an object or array"));
      return false;
    }
    if (in_vocab_ && event == E::value) {
      const std::string& key = path_[2];
      if (!parsed.is_number_integer() || parsed.get<int64_t>() < 0 || parsed.get<int64_t>() > 0x7fffffff) {
        Note(r.Bad("model.vocab[\"" + key + "\"]", "expected a token id, got " + parsed.dump()));
      } else {
        vocab.emplace(key, static_cast<int32_t>(parsed.get<int64_t>()));
      }
      return false;
    }
    if (!in_merges_) return true;
    if (event == E::array_start || event == E::object_start) return true;  // its end carries the whole element
    const std::string where = "model.merges[" + std::to_string(merges.size()) + "]";
    if (parsed.is_string()) {
      const auto& m = parsed.get_ref<const std::string&>();
      const size_t sp = m.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 == m.size() || m.find(' ', sp + 1) != std::string::npos) {
        Note(r.Bad(where, "\"" + m + "\" is not two tokens separated by one space"));
      }
      merges.emplace_back(m.substr(0, sp), sp == std::string::npos ? std::string() : m.substr(sp + 1));
    } else if (parsed.is_array() && parsed.size() == 2 && parsed[0].is_string() && parsed[1].is_string()) {
      merges.emplace_back(std::move(parsed[0].get_ref<std::string&>()), std::move(parsed[1].get_ref<std::string&>()));
    } else {
      Note(r.Bad(where, "expected \"left right\" or [\"left\", \"right\"], got " + parsed.dump().substr(0, 80)));
      merges.emplace_back();
    }
    return false;
  }

 private:
  void Note(Status s) {
    if (error.ok()) error = std::move(s);
  }
  std::vector<std::string> path_;  // the current key at each depth
  bool in_vocab_ = false;
  bool in_merges_ = false;
};

Status ReadModel(const JsonReader& r, const json& doc, BulkFields& bulk, bool byte_level, TokenizerImpl& impl) {
  auto mit = doc.find("model");
  if (mit == doc.end() || mit->is_null()) return r.Bad("model", "missing");
  const json& model = *mit;
  if (!model.is_object()) return r.Bad("model", std::string("expected an object, got ") + model.type_name());
  if (auto t = model.find("type"); t != model.end()) {
    if (!t->is_string()) return r.Bad("model.type", "expected a string");
    if (*t != "BPE") {
      return r.Unsupported("model.type", "model type \"" + t->get<std::string>() + "\" is not supported (only BPE)");
    }
  }
  auto vit = model.find("vocab");
  if (vit == model.end() || !vit->is_object() || !bulk.vocab_seen) {
    return r.Bad("model.vocab", "expected an object of token → id");
  }
  std::unordered_map<std::string, int32_t> vocab = std::move(bulk.vocab);
  BpeConfig config;
  config.byte_level = byte_level;
  WARDEN_ASSIGN_OR_RETURN(config.ignore_merges, r.Bool(model, "ignore_merges", "model", false));
  WARDEN_ASSIGN_OR_RETURN(config.byte_fallback, r.Bool(model, "byte_fallback", "model", false));
  WARDEN_ASSIGN_OR_RETURN(config.fuse_unk, r.Bool(model, "fuse_unk", "model", false));
  if (auto d = model.find("dropout"); d != model.end() && !d->is_null()) {
    if (!d->is_number()) return r.Bad("model.dropout", "expected a number or null");
    if (d->get<double>() != 0.0) {
      return r.Unsupported("model.dropout", "BPE dropout makes encoding random; only null or 0 is supported");
    }
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it == model.end() || it->is_null()) continue;
    if (!it->is_string()) return r.Bad(std::string("model.") + key, "expected a string or null");
    (std::string_view(key) == "continuing_subword_prefix" ? config.continuing_subword_prefix
                                                          : config.end_of_word_suffix) = it->get<std::string>();
  }
  if (auto u = model.find("unk_token"); u != model.end() && !u->is_null()) {
    if (!u->is_string()) return r.Bad("model.unk_token", "expected a string or null");
    auto id = vocab.find(u->get<std::string>());
    if (id == vocab.end()) return r.Bad("model.unk_token", "\"" + u->get<std::string>() + "\" is not in model.vocab");
    config.unk_id = id->second;
  }
  auto mit2 = model.find("merges");
  if (mit2 != model.end() && !mit2->is_null() && !mit2->is_array()) {
    return r.Bad("model.merges", std::string("expected an array, got ") + mit2->type_name());
  }
  // An absent merges list is allowed: such a BPE spells words symbol by symbol.
  auto merges = std::move(bulk.merges);
  auto bpe = BpeModel::Build(std::move(vocab), merges, std::move(config));
  if (!bpe.ok()) return bpe.status().WithContext(r.source());
  impl.bpe = std::move(bpe).value();
  return Status::Ok();
}

Status ReadAddedTokens(const JsonReader& r, const json& doc, TokenizerImpl& impl) {
  auto it = doc.find("added_tokens");
  if (it == doc.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return r.Bad("added_tokens", std::string("expected an array, got ") + it->type_name());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string where = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object()) return r.Bad(where, "expected an object");
    AddedToken a;
    auto idv = t.find("id");
    if (idv == t.end()) return r.Bad(where + ".id", "missing");
    WARDEN_ASSIGN_OR_RETURN(a.id, r.Id(*idv, where + ".id"));
    WARDEN_ASSIGN_OR_RETURN(a.content, r.String(t, "content", where));
    if (a.content.empty()) return r.Bad(where + ".content", "empty");
    if (FindInvalidUtf8(a.content) != std::string::npos) return r.Bad(where + ".content", "not valid UTF-8");
    WARDEN_ASSIGN_OR_RETURN(a.special, r.Bool(t, "special", where, false));
    WARDEN_ASSIGN_OR_RETURN(a.normalized, r.Bool(t, "normalized", where, !a.special));
    WARDEN_ASSIGN_OR_RETURN(a.lstrip, r.Bool(t, "lstrip", where, false));
    WARDEN_ASSIGN_OR_RETURN(a.rstrip, r.Bool(t, "rstrip", where, false));
    WARDEN_ASSIGN_OR_RETURN(a.single_word, r.Bool(t, "single_word", where, false));
    impl.added.push_back(std::move(a));
  }
  return Status::Ok();
}

Status BuildMatcher(const TokenizerImpl& impl, bool normalized, AddedMatcher& m) {
  for (size_t i = 0; i < impl.added.size(); ++i) {
    if (impl.added[i].normalized != normalized) continue;
    std::string pattern = impl.added[i].content;
    if (normalized) {
      WARDEN_ASSIGN_OR_RETURN(pattern, impl.Normalize(pattern));
      if (pattern.empty()) continue;  // normalizes to nothing: can never match
    }
    m.by_first_byte[static_cast<unsigned char>(pattern[0])].push_back({std::move(pattern), i});
    m.empty = false;
  }
  for (auto& list : m.by_first_byte) {
    std::stable_sort(list.begin(), list.end(), [](const AddedMatcher::Entry& a, const AddedMatcher::Entry& b) {
      return a.pattern.size() > b.pattern.size();
    });
  }
  return Status::Ok();
}

Result<std::shared_ptr<const TokenizerImpl>> Load(std::string_view text, std::string_view source_name) {
  JsonReader r{std::string(source_name)};
  json doc;
  BulkFields bulk;
  try {
    doc = json::parse(text, [&](int depth, json::parse_event_t event, json& parsed) {
      return bulk.OnEvent(r, depth, event, parsed);
    });
  } catch (const json::exception& e) {
    return Status::Corruption(std::string(source_name) + ": not valid JSON: " + e.what());
  }
  WARDEN_RETURN_IF_ERROR(bulk.error);
  if (!doc.is_object()) return r.Bad("(top level)", std::string("expected an object, got ") + doc.type_name());
  auto impl = std::make_shared<TokenizerImpl>();
  impl->source = std::string(source_name);
  try {
    if (auto n = doc.find("normalizer"); n != doc.end()) {
      WARDEN_ASSIGN_OR_RETURN(impl->normalizers, ReadNormalizer(r, *n, "normalizer"));
    }
    if (auto p = doc.find("pre_tokenizer"); p != doc.end()) {
      WARDEN_RETURN_IF_ERROR(ReadPreTokenizer(r, *p, "pre_tokenizer", impl->pre_steps));
    }
    bool byte_level = false;
    for (const auto& s : impl->pre_steps) byte_level |= s.kind == PreStep::Kind::kByteLevel;
    auto d = doc.find("decoder");
    WARDEN_RETURN_IF_ERROR(ReadDecoder(r, d == doc.end() ? json() : *d, "decoder"));
    WARDEN_RETURN_IF_ERROR(ReadModel(r, doc, bulk, byte_level, *impl));
    const auto& vocab = impl->bpe->vocab();
    WARDEN_RETURN_IF_ERROR(ReadAddedTokens(r, doc, *impl));

    // Id tables: the model vocabulary, then added tokens (which win where both name an id, as in HF's lookup).
    int32_t max_id = -1;
    for (const auto& [tok, id] : vocab) max_id = std::max(max_id, id);
    for (const auto& a : impl->added) max_id = std::max(max_id, a.id);
    // Id tables are dense arrays; a file whose ids are far sparser than its token count is refused rather than
    // allocating gigabytes for one stray id.
    const size_t token_count = vocab.size() + impl->added.size();
    if (static_cast<size_t>(max_id) >= 4 * token_count + 1024) {
      return r.Bad("model.vocab", "token id " + std::to_string(max_id) + " is far beyond the " +
                                      std::to_string(token_count) + " tokens the file defines");
    }
    const auto n = static_cast<size_t>(max_id + 1);
    impl->spelling.assign(n, {});
    impl->known.assign(n, 0);
    impl->special.assign(n, 0);
    for (const auto& [tok, id] : vocab) {
      if (impl->known[static_cast<size_t>(id)]) {
        return r.Bad("model.vocab", "id " + std::to_string(id) + " is given to both \"" +
                                        impl->spelling[static_cast<size_t>(id)] + "\" and \"" + tok + "\"");
      }
      impl->spelling[static_cast<size_t>(id)] = tok;
      impl->known[static_cast<size_t>(id)] = 1;
    }
    impl->vocab_size = vocab.size();
    for (const auto& a : impl->added) {
      const auto id = static_cast<size_t>(a.id);
      if (!impl->known[id]) ++impl->vocab_size;
      impl->spelling[id] = a.content;
      impl->known[id] = 1;
      impl->special[id] = a.special ? 1 : 0;
      impl->added_by_content[a.content] = a.id;
    }
    impl->decoded.resize(n);
    for (size_t id = 0; id < n; ++id) {
      if (impl->known[id]) impl->decoded[id] = ByteLevelDecodeToken(impl->spelling[id]);
    }
    WARDEN_RETURN_IF_ERROR(BuildMatcher(*impl, false, impl->raw_matcher));
    WARDEN_RETURN_IF_ERROR(BuildMatcher(*impl, true, impl->normalized_matcher));
  } catch (const json::exception& e) {
    return Status::Corruption(std::string(source_name) + ": unexpected JSON shape: " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(std::string(source_name) + ": out of memory building the tokenizer tables");
  }
  return std::shared_ptr<const TokenizerImpl>(std::move(impl));
}

// Calls on_text(view) for the text between added tokens and on_token(id) for each added token found, left to
// right, with Hugging Face's rules: leftmost-longest match; single_word needs no word character on either side
// (a rejected match is still consumed as text); lstrip/rstrip swallow the whitespace beside the token.
template <typename OnText, typename OnToken>
Status SplitOnAddedTokens(const std::vector<AddedToken>& added, const AddedMatcher& m, std::string_view s,
                          OnText&& on_text, OnToken&& on_token) {
  if (m.empty) return on_text(s);
  size_t text_start = 0;  // start of the pending text
  size_t i = 0;
  while (i < s.size()) {
    const auto& candidates = m.by_first_byte[static_cast<unsigned char>(s[i])];
    const AddedToken* hit = nullptr;
    size_t length = 0;
    for (const auto& e : candidates) {
      if (s.size() - i >= e.pattern.size() && s.compare(i, e.pattern.size(), e.pattern) == 0) {
        hit = &added[e.index];
        length = e.pattern.size();
        break;
      }
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + length;
    if (hit->single_word) {
      size_t unused;
      const bool left_ok = start == 0 || !IsWordChar(PrevCodePoint(s, start, unused));
      size_t after = stop;
      const bool right_ok = stop == s.size() || !IsWordChar(NextCodePoint(s, after));
      if (!left_ok || !right_ok) {
        i = stop;
        continue;
      }
    }
    if (hit->lstrip) {
      while (start > text_start) {
        size_t prev_start;
        if (!IsWhiteSpace(PrevCodePoint(s, start, prev_start))) break;
        start = prev_start;
      }
    }
    if (hit->rstrip) {
      while (stop < s.size()) {
        size_t next = stop;
        if (!IsWhiteSpace(NextCodePoint(s, next))) break;
        stop = next;
      }
    }
    if (start > text_start) WARDEN_RETURN_IF_ERROR(on_text(s.substr(text_start, start - text_start)));
    WARDEN_RETURN_IF_ERROR(on_token(hit->id));
    text_start = i = stop;
  }
  if (text_start < s.size()) WARDEN_RETURN_IF_ERROR(on_text(s.substr(text_start)));
  return Status::Ok();
}

}  // namespace

namespace {

// True when NFC provably leaves `s` (well-formed UTF-8) alone, so the common case skips utf8proc: every character
// is below U+0300 (nothing there decomposes canonically or combines), or is a starter (combining class 0) with no
// canonical decomposition that never composes onto a preceding character and is not a Hangul jamo (Hangul composes
// algorithmically, outside utf8proc's tables). Anything else is left to utf8proc.
bool NfcIsIdentity(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0xCC) {
      ++i;
      continue;
    }
    const char32_t cp = NextCodePoint(s, i);
    if (cp < 0x300) continue;
    if (cp >= 0x1100 && cp <= 0x11FF) return false;
    const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
    if (p->combining_class != 0) return false;
    if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) return false;  // has a canonical decomposition
    if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return false;   // composes onto its predecessor
  }
  return true;
}

}  // namespace

Result<std::string> TokenizerImpl::Normalize(std::string_view text) const {
  std::string cur(text);
  for (NormForm form : normalizers) {
    bool unchanged = true;
    if (form == NormForm::kNFC) {
      unchanged = NfcIsIdentity(cur);
    } else {
      // ASCII is stable in every normalisation form.
      for (char c : cur) {
        if (static_cast<unsigned char>(c) >= 0x80) {
          unchanged = false;
          break;
        }
      }
    }
    if (unchanged) continue;
    int options = UTF8PROC_STABLE;
    switch (form) {
      case NormForm::kNFC:
        options |= UTF8PROC_COMPOSE;
        break;
      case NormForm::kNFD:
        options |= UTF8PROC_DECOMPOSE;
        break;
      case NormForm::kNFKC:
        options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
      case NormForm::kNFKD:
        options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(cur.data()), static_cast<utf8proc_ssize_t>(cur.size()),
                     &out, static_cast<utf8proc_option_t>(options));
    if (n < 0) {
      return Status::InvalidArgument(std::string("Unicode normalisation failed: ") + utf8proc_errmsg(n));
    }
    cur.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);  // utf8proc allocates with malloc
  }
  return cur;
}

Status TokenizerImpl::EncodeNormalized(std::string_view text, std::vector<int32_t>& ids) const {
  std::vector<std::string_view> pieces{text};
  std::vector<std::string_view> next;
  std::deque<std::string> owned;  // pieces that ByteLevel's add_prefix_space rewrote
  for (const PreStep& step : pre_steps) {
    next.clear();
    for (std::string_view piece : pieces) {
      if (step.kind == PreStep::Kind::kSplit) {
        WARDEN_RETURN_IF_ERROR(SplitByRegex(*step.regex, step.behavior, step.invert, piece, next));
        continue;
      }
      if (step.add_prefix_space && !piece.starts_with(' ')) {
        std::string& spaced = owned.emplace_back();
        spaced.reserve(piece.size() + 1);
        spaced.push_back(' ');
        spaced.append(piece);
        piece = spaced;
      }
      if (step.regex) {
        WARDEN_RETURN_IF_ERROR(SplitByRegex(*step.regex, SplitBehavior::kIsolated, false, piece, next));
      } else {
        next.push_back(piece);
      }
    }
    pieces.swap(next);
  }
  for (std::string_view piece : pieces) WARDEN_RETURN_IF_ERROR(bpe->EncodePiece(piece, ids));
  return Status::Ok();
}

Status TokenizerImpl::EncodeText(std::string_view text, std::vector<int32_t>& ids) const {
  auto push_id = [&ids](int32_t id) {
    ids.push_back(id);
    return Status::Ok();
  };
  auto on_text = [&](std::string_view raw) -> Status {
    if (normalizers.empty()) {
      return SplitOnAddedTokens(
          added, normalized_matcher, raw, [&](std::string_view t) { return EncodeNormalized(t, ids); }, push_id);
    }
    WARDEN_ASSIGN_OR_RETURN(std::string norm, Normalize(raw));
    return SplitOnAddedTokens(
        added, normalized_matcher, norm, [&](std::string_view t) { return EncodeNormalized(t, ids); }, push_id);
  };
  return SplitOnAddedTokens(added, raw_matcher, text, on_text, push_id);
}

}  // namespace detail

Result<Tokenizer> Tokenizer::FromJson(std::string_view json_text, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(auto impl, detail::Load(json_text, source));
  return Tokenizer(std::move(impl));
}

Result<Tokenizer> Tokenizer::FromFile(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return text.status().WithContext("cannot read tokenizer file " + path.string());
  }
  return FromJson(*text, path.string());
}

Result<Tokenizer> Tokenizer::FromModelDir(const std::filesystem::path& dir) {
  const auto path = dir / "tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("no tokenizer.json in model folder " + dir.string() + " (expected " + path.string() + ")");
  }
  return FromFile(path);
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text) const {
  if (size_t bad = detail::FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Status::InvalidArgument("text to encode is not valid UTF-8 at byte offset " + std::to_string(bad));
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  WARDEN_RETURN_IF_ERROR(impl_->EncodeText(text, ids));
  return ids;
}

Result<std::string> Tokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const auto& impl = *impl_;
  std::string bytes;
  bytes.reserve(ids.size() * 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || static_cast<size_t>(id) >= impl.known.size() || !impl.known[static_cast<size_t>(id)]) {
      return Status::InvalidArgument("token id " + std::to_string(id) + " (position " + std::to_string(i) +
                                     ") is not in the vocabulary of " + impl.source + " (" +
                                     std::to_string(impl.vocab_size) + " tokens, ids 0.." +
                                     std::to_string(static_cast<int64_t>(impl.known.size()) - 1) + ")");
    }
    if (skip_special_tokens && impl.special[static_cast<size_t>(id)]) continue;
    bytes += impl.decoded[static_cast<size_t>(id)];
  }
  std::string text;
  text.reserve(bytes.size());
  detail::AppendUtf8Lossy(bytes, text);
  return text;
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  std::string key(token);
  if (auto it = impl_->added_by_content.find(key); it != impl_->added_by_content.end()) return it->second;
  const auto& vocab = impl_->bpe->vocab();
  if (auto it = vocab.find(key); it != vocab.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->known.size() || !impl_->known[static_cast<size_t>(id)]) {
    return std::nullopt;
  }
  return impl_->spelling[static_cast<size_t>(id)];
}

size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }

std::vector<AddedToken> Tokenizer::special_tokens() const {
  std::vector<AddedToken> out;
  for (const auto& a : impl_->added) {
    if (a.special) out.push_back(a);
  }
  return out;
}

}  // namespace warden::engine
