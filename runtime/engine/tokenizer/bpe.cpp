// Merge-rank BPE (../shared/docs/model.md §6.1): a piece is spelled as vocabulary symbols (byte characters for a
// byte-level model), then the adjacent pair with the lowest merge rank is merged, leftmost first on ties, until no
// pair has a merge. Pairs wait in a binary heap over a linked list of symbols, so a word of n symbols costs
// O(n log n); stale heap entries are recognised because a position's symbol only ever grows longer.
#include <algorithm>
#include <cstdio>
#include <functional>

#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace warden::engine::detail {
namespace {

uint64_t MixKey(uint64_t k) {
  // splitmix64 finaliser: spreads (left, right) pairs over the table.
  k ^= k >> 30;
  k *= 0xbf58476d1ce4e5b9ULL;
  k ^= k >> 27;
  k *= 0x94d049bb133111ebULL;
  k ^= k >> 31;
  return k;
}

std::string Quote(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('"');
  q.append(s);
  q.push_back('"');
  return q;
}

}  // namespace

BpeModel::~BpeModel() = default;

Result<std::unique_ptr<BpeModel>> BpeModel::Build(std::unordered_map<std::string, int32_t> vocab,
                                                  const std::vector<std::pair<std::string, std::string>>& merges,
                                                  BpeConfig config) {
  auto m = std::make_unique<BpeModel>(PrivateTag{});
  m->vocab_ = std::move(vocab);
  m->config_ = std::move(config);
  size_t capacity = 16;
  while (capacity < merges.size() * 2 + 2) capacity <<= 1;
  m->merge_table_.assign(capacity, MergeSlot{kEmptyKey, 0, 0});
  m->merge_mask_ = capacity - 1;
  const std::string& prefix = m->config_.continuing_subword_prefix;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = m->vocab_.find(a);
    auto ib = m->vocab_.find(b);
    std::string where = "model.merges[" + std::to_string(rank) + "] (" + Quote(a) + ", " + Quote(b) + "): ";
    if (ia == m->vocab_.end()) return Status::Corruption(where + Quote(a) + " is not in model.vocab");
    if (ib == m->vocab_.end()) return Status::Corruption(where + Quote(b) + " is not in model.vocab");
    std::string joined = a;
    joined += (!prefix.empty() && b.starts_with(prefix)) ? std::string_view(b).substr(prefix.size()) : b;
    auto ij = m->vocab_.find(joined);
    if (ij == m->vocab_.end())
      return Status::Corruption(where + "the merged token " + Quote(joined) + " is not in model.vocab");
    // A repeated pair keeps its last rank, as Hugging Face's HashMap collect does.
    m->InsertMerge(ia->second, ib->second, static_cast<int32_t>(rank), ij->second);
  }
  m->byte_symbol_.fill(-1);
  if (m->config_.byte_level) {
    const auto& chars = ByteToChar();
    for (size_t b = 0; b < 256; ++b) {
      auto it = m->vocab_.find(chars[b]);
      if (it != m->vocab_.end()) m->byte_symbol_[b] = it->second;
    }
  }
  m->cache_ = std::make_unique<CacheShard[]>(kCacheShards);
  return m;
}

void BpeModel::InsertMerge(int32_t left, int32_t right, int32_t rank, int32_t new_id) {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  for (uint64_t h = MixKey(key) & merge_mask_;; h = (h + 1) & merge_mask_) {
    MergeSlot& s = merge_table_[h];
    if (s.key == kEmptyKey || s.key == key) {
      s = MergeSlot{key, rank, new_id};
      return;
    }
  }
}

const BpeModel::MergeSlot* BpeModel::FindMerge(int32_t left, int32_t right) const {
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  for (uint64_t h = MixKey(key) & merge_mask_;; h = (h + 1) & merge_mask_) {
    const MergeSlot& s = merge_table_[h];
    if (s.key == key) return &s;
    if (s.key == kEmptyKey) return nullptr;
  }
}

Status BpeModel::InitialSymbols(std::string_view piece, std::vector<int32_t>& symbols) const {
  const bool plain = config_.continuing_subword_prefix.empty() && config_.end_of_word_suffix.empty();
  if (config_.byte_level && plain) {
    bool all_known = true;
    for (char c : piece) {
      int32_t id = byte_symbol_[static_cast<unsigned char>(c)];
      if (id < 0) {
        all_known = false;
        break;
      }
      symbols.push_back(id);
    }
    if (all_known) return Status::Ok();
    symbols.clear();
  }
  // General path: one symbol per character of the spelled piece, with the subword prefix on all but the first and
  // the word suffix on the last; unknown characters go to byte fallback, then to unk.
  std::string spelled;
  if (config_.byte_level) {
    const auto& chars = ByteToChar();
    for (char c : piece) spelled += chars[static_cast<unsigned char>(c)];
  } else {
    spelled = std::string(piece);
  }
  std::optional<int32_t> pending_unk;
  size_t i = 0;
  while (i < spelled.size()) {
    const size_t start = i;
    NextCodePoint(spelled, i);
    std::string s;
    if (start > 0) s += config_.continuing_subword_prefix;
    s.append(spelled, start, i - start);
    if (i == spelled.size()) s += config_.end_of_word_suffix;
    if (auto it = vocab_.find(s); it != vocab_.end()) {
      if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
      symbols.push_back(it->second);
      continue;
    }
    if (config_.byte_fallback) {
      std::vector<int32_t> bytes;
      for (unsigned char b : s) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        auto it = vocab_.find(name);
        if (it == vocab_.end()) break;
        bytes.push_back(it->second);
      }
      if (bytes.size() == s.size()) {
        if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (config_.unk_id) {
      if (pending_unk && !config_.fuse_unk) symbols.push_back(*pending_unk);
      pending_unk = config_.unk_id;
      continue;
    }
    std::string shown(spelled, start, i - start);
    return Status::InvalidArgument("no token for the character \"" + shown + "\" in the piece \"" + std::string(piece) +
                                   "\": the vocabulary lacks it and the model has neither byte_fallback nor "
                                   "unk_token");
  }
  if (pending_unk) symbols.push_back(*pending_unk);
  return Status::Ok();
}

void BpeModel::Merge(std::vector<int32_t>& sym) const {
  const auto n = static_cast<int32_t>(sym.size());
  if (n < 2) return;
  struct Candidate {
    int32_t rank, pos, left, right, merged;
  };
  // Lowest rank first, then leftmost.
  auto later = [](const Candidate& x, const Candidate& y) {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  std::vector<int32_t> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));
  std::vector<Candidate> heap;
  heap.reserve(static_cast<size_t>(n));
  auto consider = [&](int32_t pos) {
    const int32_t nx = next[static_cast<size_t>(pos)];
    if (nx < 0) return;
    const int32_t l = sym[static_cast<size_t>(pos)], r = sym[static_cast<size_t>(nx)];
    if (const MergeSlot* m = FindMerge(l, r)) {
      heap.push_back({m->rank, pos, l, r, m->new_id});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t i = 0; i < n; ++i) {
    prev[static_cast<size_t>(i)] = i - 1;
    next[static_cast<size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    const auto pos = static_cast<size_t>(c.pos);
    if (sym[pos] != c.left) continue;
    const int32_t nx = next[pos];
    if (nx < 0 || sym[static_cast<size_t>(nx)] != c.right) continue;
    sym[pos] = c.merged;
    sym[static_cast<size_t>(nx)] = -1;
    const int32_t after = next[static_cast<size_t>(nx)];
    next[pos] = after;
    if (after >= 0) prev[static_cast<size_t>(after)] = c.pos;
    if (prev[pos] >= 0) consider(prev[pos]);
    consider(c.pos);
  }
  sym.erase(std::remove(sym.begin(), sym.end(), -1), sym.end());
}

Status BpeModel::EncodePiece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return Status::Ok();
  const bool cacheable = piece.size() <= kCacheMaxWordBytes;
  CacheShard* shard = nullptr;
  if (cacheable) {
    // The shard comes from the upper hash bits; the map inside uses the whole hash.
    const size_t h = WordHash{}(piece);
    shard = &cache_[(h >> 20) % kCacheShards];
    std::lock_guard<std::mutex> lock(shard->mu);
    if (auto it = shard->words.find(piece); it != shard->words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return Status::Ok();
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(piece.size());
  bool whole = false;
  if (config_.ignore_merges) {
    std::string spelled;
    if (config_.byte_level) {
      for (char c : piece) spelled += ByteToChar()[static_cast<unsigned char>(c)];
    } else {
      spelled = std::string(piece);
    }
    if (auto it = vocab_.find(spelled); it != vocab_.end()) {
      symbols.push_back(it->second);
      whole = true;
    }
  }
  if (!whole) {
    WARDEN_RETURN_IF_ERROR(InitialSymbols(piece, symbols));
    Merge(symbols);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(shard->mu);
    // Bounded memory: a full shard starts over rather than growing with every distinct word ever seen.
    if (shard->words.size() >= kCacheShardCapacity) shard->words.clear();
    shard->words.emplace(std::string(piece), std::move(symbols));
  }
  return Status::Ok();
}

}  // namespace warden::engine::detail
