// The skill index on Lucene++ 3.0.8 (retrieval.md 1.3 "Implementation route", 1.6 hot reload, 1.9 option 3):
// exact BM25F with a custom Query/Weight/Scorer. Each field's exact token count is stored in an untokenized
// `__len<f>` field read through FieldCache (no lossy norm bytes); N and avgdl are computed once per reader
// snapshot; df counts live documents that contain the term in any weighted field. The top k is exact and found with
// MaxScore pruning over per-field postings (ScoreTopK; the exhaustive ScoreAll is its tested reference); each
// segment's term dictionary is mirrored in a hash map once per segment (Dictionary). Updates go through one
// IndexWriter on a RAMDirectory and become visible by swapping an immutable snapshot built on a near-real-time
// reader, so searches never wait for the writer. This is the only translation unit that includes Lucene++.
#include <lucene++/LuceneHeaders.h>
#include <lucene++/FieldCache.h>
#include <lucene++/ReaderUtil.h>
#include <lucene++/TermAttribute.h>
#include <lucene++/SegmentTermDocs.h>
#include <lucene++/SegmentTermEnum.h>
#include <lucene++/SegmentReader.h>
#include <lucene++/TermInfo.h>
#include <lucene++/SerialMergeScheduler.h>

#include <algorithm>
#include <array>
#include <functional>
#include <tuple>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "skills/skills_internal.h"

namespace warden::skills {

std::string LuceneVersion() { return Lucene::StringUtils::toUTF8(Lucene::Constants::LUCENE_VERSION); }

namespace detail {
namespace {

using Lucene::newLucene;
// LUCENE_CLASS expands to unqualified Lucene names.
using Lucene::LuceneObject;
using Lucene::String;

const wchar_t* const kNameField = L"name";
// All BM25F postings live in one Lucene field: a word w of field f is the term "w f" (f = '0'..'3'), and every
// word of a weighted field is also "w a" (its docFreq is the BM25F df: documents with w in any weighted field).
// Tokens are [a-z0-9]+, so the space sorts the five terms of a word next to each other in the dictionary: one
// dictionary lookup per query word and segment, then a short walk, gives the postings of every field, read with
// TermDocs (frequencies, no positions). Separate Lucene fields cost five lookups per word (a lookup that misses
// scans the dictionary block; most words miss the name and tags), and one positional field cost a position decode
// per occurrence.
const wchar_t* const kTermsField = L"bm25f";
constexpr wchar_t kAnyTag = L'a';
const wchar_t* const kLenField[kFieldCount] = {L"__len_name", L"__len_desc", L"__len_tags", L"__len_params"};
// Postings are read in blocks of this many documents (TermDocs::read: one virtual call per block).
constexpr int32_t kReadBlock = 128;
// Pruning compares partial sums taken in another order than the final score; a relative slack far above the
// rounding error (about 1e-15 for 100 terms) keeps a document that ties the k-th score.
constexpr double kPruneSlack = 1e-9;
// Larger k use the exhaustive accumulator.
constexpr size_t kMaxPrunedK = 256;
// Candidate probing reads a field's whole postings when they hold at most this many documents per candidate
// (callgrind over the 10k-skill benchmark: 8 took 3% fewer instructions than 32; skipTo costs vary with the gap).
constexpr size_t kDenseProbe = 8;

// Tokens are ASCII by construction (Tokenize), so widening byte by byte is exact.
std::wstring Widen(const std::string& s) { return std::wstring(s.begin(), s.end()); }

std::string LuceneError(const std::string& what, const Lucene::LuceneException& e) {
  return what + ": Lucene++ error: " + Lucene::StringUtils::toUTF8(e.getError());
}

// Feeds the tokens Tokenize produced straight to the index: Lucene's own tokenizers cut words at 255 characters,
// and the reference tokenizer does not (Seal-Tools has a 413-character token that queries repeat).
// Emits "w f" for each token w of each weighted field f, then "w a" for the same tokens.
class TokenListStream : public Lucene::TokenStream {
 public:
  TokenListStream(const IndexDoc* doc, const RankingOptions* o) : doc_(doc), opts_(o) {
    term_ = addAttribute<Lucene::TermAttribute>();
  }
  LUCENE_CLASS(TokenListStream);
  bool incrementToken() override {
    for (;;) {
      if (field_ >= kFieldCount) {
        if (any_pass_) return false;
        any_pass_ = true;
        field_ = 0;
        next_ = 0;
      }
      if (opts_->field_weight[field_] > 0 && next_ < doc_->tokens[field_].size()) break;
      ++field_;
      next_ = 0;
    }
    clearAttributes();
    std::wstring text = Widen(doc_->tokens[field_][next_++]);
    text += L' ';
    text += any_pass_ ? kAnyTag : static_cast<wchar_t>(L'0' + field_);
    term_->setTermBuffer(text);
    return true;
  }

 private:
  const IndexDoc* doc_;
  const RankingOptions* opts_;
  int field_ = 0;
  size_t next_ = 0;
  bool any_pass_ = false;
  Lucene::TermAttributePtr term_;
};

// Where one term's postings start in a segment; df == 0: the term is absent. The TermInfo is a copy the term
// enumerator made; its members are never touched here (liblucene++ does not export TermInfo, so neither its
// constructor nor its typeinfo, which UBSan's vptr check needs, can be linked).
struct Postings {
  int32_t df = 0;
  Lucene::TermInfoPtr info;
};

// A segment's BM25F dictionary: each word's postings per field and its "any" entry (df). Derived once from the
// segment's Lucene term dictionary (segments are write-once, so it is shared by every snapshot that still has the
// segment) because Lucene++'s own lookup costs 1-3 us per word (binary search in the term index, then a scan that
// allocates a Term per entry) and a query looks up every word in every segment. Memory: about 250 bytes per word.
struct Dictionary {
  struct Entry {
    Postings field[kFieldCount];
    Postings any;
  };
  std::unordered_map<std::string, Entry> words;
};

Result<std::shared_ptr<const Dictionary>> ReadDictionary(const Lucene::IndexReaderPtr& reader) {
  auto dict = std::make_shared<Dictionary>();
  Lucene::TermEnumPtr te = reader->terms(newLucene<Lucene::Term>(kTermsField, L""));
  auto ste = boost::dynamic_pointer_cast<Lucene::SegmentTermEnum>(te);
  if (!ste) return Status::Internal("a skill index segment has no SegmentTermEnum (Lucene++ other than 3.0.x?)");
  for (Lucene::TermPtr term = te->term(); term && term->field() == kTermsField;
       term = te->next() ? te->term() : Lucene::TermPtr()) {
    const String& text = term->text();
    if (text.size() < 3 || text[text.size() - 2] != L' ') continue;
    const wchar_t tag = text.back();
    Dictionary::Entry& e = dict->words[std::string(text.begin(), text.end() - 2)];
    Postings* p = tag == kAnyTag ? &e.any : tag >= L'0' && tag < L'0' + kFieldCount ? &e.field[tag - L'0'] : nullptr;
    if (p == nullptr) continue;
    *p = Postings{te->docFreq(), ste->termInfo()};
  }
  te->close();
  return std::shared_ptr<const Dictionary>(std::move(dict));
}

// One segment of a snapshot with everything scoring needs per document, precomputed for the ranking options.
struct Segment {
  Lucene::IndexReaderPtr reader;
  std::shared_ptr<const Dictionary> dict;
  int32_t max_doc = 0;
  bool has_deletions = false;             // df must then count live postings instead of using docFreq
  std::vector<std::string> names;
  std::vector<double> norm[kFieldCount];  // per-field b: 1 - b_f + b_f*dl_f/avgdl_f (per_field_b)
  std::vector<double> shared_norm;        // shared b: 1 - b + b*dl~/avgdl~
};

struct Snapshot {
  Lucene::IndexReaderPtr reader;
  Lucene::IndexSearcherPtr searcher;
  std::vector<Segment> segments;
  std::unordered_map<const Lucene::IndexReader*, int> segment_of;
  double n = 0;  // live documents
  // Per word: its live documents in the segments with deletions, counted by the first search that needs it (the
  // count walks the word's postings; a snapshot's deletions never change, so the count stays right). Only searches
  // take this lock, for a lookup or an insert; indexing never does.
  mutable std::mutex live_df_mu;
  mutable std::unordered_map<std::string, size_t> live_df;
  Snapshot() = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() {
    try {
      if (searcher) searcher->close();
      if (reader) reader->close();
    } catch (const Lucene::LuceneException&) {
      // Closing a reader that failed to open fully: nothing left to release.
    }
  }
};

struct QueryTerm {
  std::string text;
  int count = 1;  // the reference adds a repeated query token again
};

// A query term resolved against a snapshot: where its postings start and the constant of its score.
struct TermPlan {
  // [segment][field]: the postings of the word in that field; null where absent (or the field's weight is 0).
  std::vector<std::array<const Postings*, kFieldCount>> postings;
  double mult = 0;  // count * idf * (k1 + 1): also the bound of the term's score
};

// Cursors and scratch of one search: one TermDocs per segment, re-seeked from dictionary entries (opening one per
// term clones the postings streams), and the blocks bulk reads fill.
struct Cursors {
  std::vector<Lucene::SegmentTermDocsPtr> td;  // [segment]
  Lucene::TermPtr field_term;                  // names the field for SegmentTermDocs::seek(TermInfo, Term)
  Lucene::Collection<int32_t> docs = Lucene::Collection<int32_t>::newInstance(kReadBlock);
  Lucene::Collection<int32_t> freqs = Lucene::Collection<int32_t>::newInstance(kReadBlock);

  explicit Cursors(const Snapshot& snap) : td(snap.segments.size()) {
    field_term = newLucene<Lucene::Term>(kTermsField, L"");
    for (size_t s = 0; s < snap.segments.size(); ++s) {
      td[s] = boost::dynamic_pointer_cast<Lucene::SegmentTermDocs>(snap.segments[s].reader->termDocs());
      if (!td[s]) throw Lucene::IllegalStateException(L"a skill index segment without SegmentTermDocs");
    }
  }
  ~Cursors() {
    try {
      for (auto& t : td) {
        if (t) t->close();
      }
    } catch (const Lucene::LuceneException&) {
      // Closing in-memory cursors: nothing to report.
    }
  }
  // Positions segment s's cursor at the start of a term's postings.
  const Lucene::SegmentTermDocsPtr& Seek(size_t s, const Postings& p) {
    td[s]->seek(p.info, field_term);
    return td[s];
  }
};

// Resolves the query's words in each segment's dictionary. df counts live documents that contain the word in a
// weighted field (the reference's df): a segment without deletions answers with the "any" term's docFreq; the
// segments with deletions count their live postings (TermDocs skips deleted documents) once per word and snapshot
// (Snapshot::live_df). Words no live document contains get mult 0 (they add nothing).
std::vector<TermPlan> PlanTerms(const Snapshot& snap, const RankingOptions& o, const std::vector<QueryTerm>& terms,
                                Cursors& cur) {
  std::vector<TermPlan> plans(terms.size());
  for (size_t t = 0; t < terms.size(); ++t) {
    TermPlan& plan = plans[t];
    plan.postings.resize(snap.segments.size());
    size_t df = 0;
    bool in_deleted_segment = false;
    for (size_t s = 0; s < snap.segments.size(); ++s) {
      const Segment& seg = snap.segments[s];
      auto it = seg.dict->words.find(terms[t].text);
      if (it == seg.dict->words.end() || it->second.any.df == 0) continue;
      for (int f = 0; f < kFieldCount; ++f) {
        if (it->second.field[f].df > 0 && o.field_weight[f] > 0) plan.postings[s][f] = &it->second.field[f];
      }
      if (seg.has_deletions) {
        in_deleted_segment = true;
      } else {
        df += static_cast<size_t>(it->second.any.df);
      }
    }
    if (in_deleted_segment) {
      std::unique_lock<std::mutex> lock(snap.live_df_mu);
      auto cached = snap.live_df.find(terms[t].text);
      if (cached != snap.live_df.end()) {
        df += cached->second;
      } else {
        lock.unlock();
        size_t live = 0;
        for (size_t s = 0; s < snap.segments.size(); ++s) {
          if (!snap.segments[s].has_deletions) continue;
          auto it = snap.segments[s].dict->words.find(terms[t].text);
          if (it == snap.segments[s].dict->words.end() || it->second.any.df == 0) continue;
          const Lucene::SegmentTermDocsPtr& td = cur.Seek(s, it->second.any);
          for (int32_t n; (n = td->read(cur.docs, cur.freqs)) > 0;) live += static_cast<size_t>(n);
        }
        df += live;
        lock.lock();
        snap.live_df.emplace(terms[t].text, live);
      }
    }
    if (df == 0) continue;
    const double idf = std::log(1.0 + (snap.n - df + 0.5) / (df + 0.5));
    plan.mult = terms[t].count * idf * (o.k1 + 1.0);
  }
  return plans;
}

// One field's part of a term's BM25F "x" for one document (x sums the parts in field order).
inline double FieldPart(const RankingOptions& o, const Segment& seg, int f, int32_t doc, int32_t tf) {
  return o.field_weight[f] * tf / (o.per_field_b ? seg.norm[f][doc] : 1.0);
}

// A term's score in a document from its x (> 0).
inline double TermScore(const RankingOptions& o, const Segment& seg, int32_t doc, double mult, double x) {
  const double xv = o.per_field_b ? x : x / seg.shared_norm[doc];
  return mult * xv / (o.k1 + xv);
}

// Walks every posting of the term in segment s and adds each field's part to x[doc]; `touched` gets each document
// once (parts are > 0, so x == 0 means untouched).
void ScanTerm(const RankingOptions& o, const Segment& seg, size_t s, const TermPlan& plan, Cursors& cur, double* x,
              std::vector<int32_t>& touched) {
  for (int f = 0; f < kFieldCount; ++f) {
    if (!plan.postings[s][f]) continue;
    const Lucene::SegmentTermDocsPtr& td = cur.Seek(s, *plan.postings[s][f]);
    for (int32_t n; (n = td->read(cur.docs, cur.freqs)) > 0;) {
      const int32_t* docs = &*cur.docs.begin();
      const int32_t* freqs = &*cur.freqs.begin();
      for (int32_t i = 0; i < n; ++i) {
        const int32_t d = docs[i];
        if (x[d] == 0) touched.push_back(d);
        x[d] += FieldPart(o, seg, f, d, freqs[i]);
      }
    }
  }
}

// Adds the term's field parts to x[doc] for the given documents only (ascending), skipping through the postings.
// `mark[doc]` is 1 for exactly those documents. Postings not much longer than the list are read in blocks and
// filtered by the mark (skipTo walks them one virtual call per document anyway); longer ones are skipped through.
void ProbeTerm(const RankingOptions& o, const Segment& seg, size_t s, const TermPlan& plan, Cursors& cur,
               const std::vector<int32_t>& docs, const uint8_t* mark, double* x) {
  for (int f = 0; f < kFieldCount; ++f) {
    if (!plan.postings[s][f]) continue;
    const Lucene::SegmentTermDocsPtr& td = cur.Seek(s, *plan.postings[s][f]);
    if (static_cast<size_t>(plan.postings[s][f]->df) <= kDenseProbe * docs.size()) {
      for (int32_t n; (n = td->read(cur.docs, cur.freqs)) > 0;) {
        const int32_t* block = &*cur.docs.begin();
        const int32_t* freqs = &*cur.freqs.begin();
        for (int32_t i = 0; i < n; ++i) {
          if (mark[block[i]]) x[block[i]] += FieldPart(o, seg, f, block[i], freqs[i]);
        }
      }
      continue;
    }
    int32_t at = -1;
    for (const int32_t d : docs) {
      if (at < d) {
        if (!td->skipTo(d)) break;
        at = td->doc();
      }
      if (at == d) x[d] += FieldPart(o, seg, f, d, td->freq());
    }
  }
}

// Scores of one segment's matching documents, ascending by document, for the scorer to replay.
struct SegmentScores {
  std::vector<int32_t> docs;
  std::vector<double> score;
};

// The exhaustive accumulator (retrieval.md 1.3 step 6, "single query"): every posting of every term, scores summed
// in query-term order. The reference for the pruned path.
std::vector<SegmentScores> ScoreAll(const Snapshot& snap, const RankingOptions& o, const std::vector<TermPlan>& plans,
                                    Cursors& cur) {
  std::vector<SegmentScores> out(snap.segments.size());
  for (size_t s = 0; s < snap.segments.size(); ++s) {
    const Segment& seg = snap.segments[s];
    std::vector<double> acc(seg.max_doc, 0.0), x(seg.max_doc, 0.0);
    std::vector<int32_t> touched, matched;
    for (const TermPlan& plan : plans) {
      if (plan.mult == 0) continue;
      touched.clear();
      ScanTerm(o, seg, s, plan, cur, x.data(), touched);
      for (const int32_t d : touched) {
        if (acc[d] == 0) matched.push_back(d);
        acc[d] += TermScore(o, seg, d, plan.mult, x[d]);
        x[d] = 0;
      }
    }
    std::sort(matched.begin(), matched.end());
    for (const int32_t d : matched) {
      out[s].docs.push_back(d);
      out[s].score.push_back(acc[d]);
    }
  }
  return out;
}

// Exact top-k with term-at-a-time MaxScore pruning. A term's score is below its `mult` (the saturation
// x/(k1+x) < 1), so once the bounds of the terms not yet read add up to less than the k-th best partial score
// (a lower bound of the final k-th score: scores only grow), no unseen document can reach the top k. Terms are read
// in decreasing bound: the rare ones in full (few postings), the common ones only for the remaining candidates
// (skipTo), dropping each candidate whose partial score plus the remaining bounds falls below the threshold. The
// survivors' scores are then summed again in query-term order from the recorded per-term scores, so they are
// bit-identical to ScoreAll's.
std::vector<SegmentScores> ScoreTopK(const Snapshot& snap, const RankingOptions& o, const std::vector<TermPlan>& plans,
                                     size_t k, Cursors& cur) {
  const size_t nseg = snap.segments.size();
  std::vector<uint32_t> order;
  for (uint32_t t = 0; t < plans.size(); ++t) {
    if (plans[t].mult > 0) order.push_back(t);
  }
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return plans[a].mult > plans[b].mult; });
  // rest[i]: the bound of everything from order[i] on, summed smallest first.
  std::vector<double> rest(order.size() + 1, 0.0);
  for (size_t i = order.size(); i-- > 0;) rest[i] = rest[i + 1] + plans[order[i]].mult;

  // Dense per-document accumulators, reused by the thread's next search (a fresh 2 x 8 bytes x max_doc per query
  // costs more than a short query at 100k skills); every entry is back to 0 when the search ends.
  thread_local std::vector<double> acc_buf, x_buf;
  thread_local std::vector<uint8_t> mark_buf;  // phase 2 candidates
  std::vector<size_t> base(nseg + 1, 0);
  for (size_t s = 0; s < nseg; ++s) base[s + 1] = base[s] + static_cast<size_t>(snap.segments[s].max_doc);
  if (acc_buf.size() < base[nseg]) {
    acc_buf.resize(base[nseg], 0.0);
    x_buf.resize(base[nseg], 0.0);
    mark_buf.resize(base[nseg], 0);
  }

  struct Record {
    int32_t seg, doc;
    uint32_t term;
    double score;
  };
  // Per-term scores of every document read, for the final sum; kept across the thread's searches for its capacity.
  thread_local std::vector<Record> records;
  records.clear();
  // Restores the all-zero state on every exit; after an exception (a Lucene++ error mid-term) some x entries are
  // unknown, so everything is cleared.
  struct Reset {
    std::vector<Record>& records;
    const std::vector<size_t>& base;
    int uncaught = std::uncaught_exceptions();
    ~Reset() {
      if (std::uncaught_exceptions() > uncaught) {
        std::fill(acc_buf.begin(), acc_buf.end(), 0.0);
        std::fill(x_buf.begin(), x_buf.end(), 0.0);
        std::fill(mark_buf.begin(), mark_buf.end(), 0);
        return;
      }
      if (records.size() * 4 > base.back()) {
        std::fill(acc_buf.begin(), acc_buf.begin() + static_cast<std::ptrdiff_t>(base.back()), 0.0);
        std::fill(mark_buf.begin(), mark_buf.begin() + static_cast<std::ptrdiff_t>(base.back()), 0);
        return;
      }
      for (const Record& r : records) acc_buf[base[r.seg] + r.doc] = 0, mark_buf[base[r.seg] + r.doc] = 0;
    }
  } reset{records, base};

  // Candidates as (segment, doc).
  thread_local std::vector<std::pair<int32_t, int32_t>> cands;
  thread_local std::vector<double> kth_scratch;
  cands.clear();
  auto acc_of = [&](const std::pair<int32_t, int32_t>& c) -> double& { return acc_buf[base[c.first] + c.second]; };
  // Phase 1 keeps k documents with their current partial scores; the smallest of them is a lower bound of the
  // k-th best partial score (any k documents give one), updated in O(1) for most postings: a document whose
  // partial score does not pass that bound is neither in the set nor entering it.
  std::vector<std::pair<double, int64_t>> best;  // (partial score, base[s] + doc)
  best.reserve(k);
  double best_min = 0;
  auto offer = [&](int64_t key, double score) {
    if (best.size() == k && score <= best_min) return;
    auto it = std::find_if(best.begin(), best.end(), [&](const auto& b) { return b.second == key; });
    if (it != best.end()) {
      it->first = score;
    } else if (best.size() < k) {
      best.emplace_back(score, key);
    } else {
      std::min_element(best.begin(), best.end())->operator=({score, key});
    }
    if (best.size() == k) best_min = std::min_element(best.begin(), best.end())->first;
  };
  auto kth_best = [&]() {
    if (cands.size() < k) return 0.0;
    kth_scratch.clear();
    for (const auto& c : cands) kth_scratch.push_back(acc_of(c));
    std::nth_element(kth_scratch.begin(), kth_scratch.begin() + (k - 1), kth_scratch.end(), std::greater<double>());
    return kth_scratch[k - 1];
  };

  // Phase 1: read whole postings while an unseen document could still make the top k.
  size_t i = 0;
  double theta = 0;
  thread_local std::vector<int32_t> touched;
  while (i < order.size() && (theta == 0 || rest[i] >= theta * (1 - kPruneSlack))) {
    const uint32_t t = order[i];
    for (size_t s = 0; s < nseg; ++s) {
      const Segment& seg = snap.segments[s];
      double* acc = acc_buf.data() + base[s];
      double* x = x_buf.data() + base[s];
      touched.clear();
      ScanTerm(o, seg, s, plans[t], cur, x, touched);
      for (const int32_t d : touched) {
        const double score = TermScore(o, seg, d, plans[t].mult, x[d]);
        x[d] = 0;
        acc[d] += score;
        offer(static_cast<int64_t>(base[s]) + d, acc[d]);
        records.push_back(Record{static_cast<int32_t>(s), d, t, score});
      }
    }
    ++i;
    theta = best_min;
  }
  auto prune = [&](double bound) {
    if (theta == 0) return;
    const double cut = theta * (1 - kPruneSlack);
    std::erase_if(cands, [&](const auto& c) {
      if (acc_of(c) + bound >= cut) return false;
      mark_buf[base[c.first] + c.second] = 0;
      return true;
    });
  };
  // The candidates: documents read so far that can still reach the threshold, ascending.
  const double cut0 = theta == 0 ? 0 : theta * (1 - kPruneSlack);
  if (records.size() * 8 > base[nseg]) {
    // Most documents matched: a pass over the dense scores is cheaper than sorting them.
    for (size_t s = 0; s < nseg; ++s) {
      const double* acc = acc_buf.data() + base[s];
      for (int32_t d = 0; d < snap.segments[s].max_doc; ++d) {
        if (acc[d] != 0 && acc[d] + rest[i] >= cut0) cands.emplace_back(static_cast<int32_t>(s), d);
      }
    }
  } else {
    for (const Record& r : records) {
      uint8_t& m = mark_buf[base[r.seg] + r.doc];
      if (m == 0 && acc_buf[base[r.seg] + r.doc] + rest[i] >= cut0) cands.emplace_back(r.seg, r.doc), m = 1;
    }
    std::sort(cands.begin(), cands.end());
  }
  for (const auto& c : cands) mark_buf[base[c.first] + c.second] = 1;

  // Phase 2: the remaining (common) terms, for the candidates only.
  thread_local std::vector<int32_t> seg_docs;
  while (i < order.size() && !cands.empty()) {
    const uint32_t t = order[i];
    for (size_t s = 0, c = 0; s < nseg; ++s) {
      seg_docs.clear();
      for (; c < cands.size() && cands[c].first == static_cast<int32_t>(s); ++c) seg_docs.push_back(cands[c].second);
      if (seg_docs.empty()) continue;
      const Segment& seg = snap.segments[s];
      double* acc = acc_buf.data() + base[s];
      double* x = x_buf.data() + base[s];
      ProbeTerm(o, seg, s, plans[t], cur, seg_docs, mark_buf.data() + base[s], x);
      for (const int32_t d : seg_docs) {
        if (x[d] == 0) continue;
        const double score = TermScore(o, seg, d, plans[t].mult, x[d]);
        x[d] = 0;
        acc[d] += score;
        records.push_back(Record{static_cast<int32_t>(s), d, t, score});
      }
    }
    ++i;
    theta = kth_best();
    prune(rest[i]);
  }

  // Final scores of the survivors in query-term order, as ScoreAll sums them (survivors are marked with -1).
  std::vector<SegmentScores> out(nseg);
  for (const auto& c : cands) acc_of(c) = -1;
  std::vector<Record> kept;
  for (const Record& r : records) {
    if (acc_buf[base[r.seg] + r.doc] == -1) kept.push_back(r);
  }
  std::sort(kept.begin(), kept.end(), [](const Record& a, const Record& b) {
    return std::tie(a.seg, a.doc, a.term) < std::tie(b.seg, b.doc, b.term);
  });
  for (size_t r = 0; r < kept.size();) {
    double sum = 0;
    size_t e = r;
    for (; e < kept.size() && kept[e].seg == kept[r].seg && kept[e].doc == kept[r].doc; ++e) sum += kept[e].score;
    out[kept[r].seg].docs.push_back(kept[r].doc);
    out[kept[r].seg].score.push_back(sum);
    r = e;
  }
  return out;
}

class BM25FWeight;

// All query terms in one query (the "single query" accumulator variant of retrieval.md 1.3 step 6), for the top k.
class BM25FQuery : public Lucene::Query {
 public:
  BM25FQuery(const Snapshot* snap, const RankingOptions* opts, std::vector<QueryTerm> terms, size_t k, TopK mode)
      : snap_(snap), opts_(opts), terms_(std::move(terms)), k_(k), mode_(mode) {}
  LUCENE_CLASS(BM25FQuery);
  Lucene::WeightPtr createWeight(const Lucene::SearcherPtr& searcher) override;
  Lucene::String toString(const Lucene::String&) override { return L"BM25FQuery"; }
  Lucene::LuceneObjectPtr clone(const Lucene::LuceneObjectPtr& other) override {
    (void)other;
    return newLucene<BM25FQuery>(snap_, opts_, terms_, k_, mode_);
  }
  const Snapshot* snap_;
  const RankingOptions* opts_;
  std::vector<QueryTerm> terms_;
  size_t k_;
  TopK mode_;
};

class BM25FScorer : public Lucene::Scorer {
 public:
  BM25FScorer(const Lucene::WeightPtr& weight, const SegmentScores* scores) : Scorer(weight), scores_(scores) {}
  LUCENE_CLASS(BM25FScorer);
  int32_t docID() override { return doc_; }
  int32_t nextDoc() override {
    doc_ = ++pos_ < static_cast<int64_t>(scores_->docs.size()) ? scores_->docs[pos_] : NO_MORE_DOCS;
    return doc_;
  }
  int32_t advance(int32_t target) override {
    while (nextDoc() != NO_MORE_DOCS && doc_ < target) {
    }
    return doc_;
  }
  double score() override { return scores_->score[pos_]; }

 private:
  const SegmentScores* scores_;
  int64_t pos_ = -1;
  int32_t doc_ = -1;
};

// Computes the whole query's BM25F scores at construction (df and the pruning threshold span every segment), then
// hands each segment's scores to a scorer.
class BM25FWeight : public Lucene::Weight {
 public:
  explicit BM25FWeight(const Lucene::QueryPtr& query) : query_(query) {
    auto* q = static_cast<BM25FQuery*>(query.get());
    Cursors cur(*q->snap_);
    const std::vector<TermPlan> plans = PlanTerms(*q->snap_, *q->opts_, q->terms_, cur);
    // Past a few hundred hits pruning saves little and its bookkeeping (linear in k) grows.
    scores_ = q->mode_ == TopK::kExhaustive || q->k_ > kMaxPrunedK ? ScoreAll(*q->snap_, *q->opts_, plans, cur)
                                                                    : ScoreTopK(*q->snap_, *q->opts_, plans, q->k_, cur);
  }
  LUCENE_CLASS(BM25FWeight);
  Lucene::ExplanationPtr explain(const Lucene::IndexReaderPtr& reader, int32_t doc) override {
    auto* q = static_cast<BM25FQuery*>(query_.get());
    auto it = q->snap_->segment_of.find(reader.get());
    double s = 0;
    if (it != q->snap_->segment_of.end()) {
      const SegmentScores& seg = scores_[it->second];
      auto pos = std::lower_bound(seg.docs.begin(), seg.docs.end(), doc);
      if (pos != seg.docs.end() && *pos == doc) s = seg.score[pos - seg.docs.begin()];
    }
    return newLucene<Lucene::Explanation>(s, L"BM25F");
  }
  Lucene::QueryPtr getQuery() override { return query_; }
  double getValue() override { return 1.0; }
  void normalize(double) override {}             // BM25 has no query normalisation
  double sumOfSquaredWeights() override { return 1.0; }
  Lucene::ScorerPtr scorer(const Lucene::IndexReaderPtr& reader, bool, bool) override {
    auto* q = static_cast<BM25FQuery*>(query_.get());
    auto it = q->snap_->segment_of.find(reader.get());
    if (it == q->snap_->segment_of.end() || scores_[it->second].docs.empty()) return Lucene::ScorerPtr();
    return newLucene<BM25FScorer>(shared_from_this(), &scores_[it->second]);
  }

 private:
  Lucene::QueryPtr query_;
  std::vector<SegmentScores> scores_;
};

Lucene::WeightPtr BM25FQuery::createWeight(const Lucene::SearcherPtr&) {
  return newLucene<BM25FWeight>(shared_from_this());
}

struct Candidate {
  double score;
  int32_t seg;
  int32_t doc;
};

class CandidateCollector : public Lucene::Collector {
 public:
  explicit CandidateCollector(const Snapshot* snap) : snap_(snap) {}
  LUCENE_CLASS(CandidateCollector);
  void setScorer(const Lucene::ScorerPtr& scorer) override { scorer_ = scorer; }
  void collect(int32_t doc) override { out.push_back(Candidate{scorer_->score(), seg_, doc}); }
  void setNextReader(const Lucene::IndexReaderPtr& reader, int32_t) override {
    auto it = snap_->segment_of.find(reader.get());
    seg_ = it == snap_->segment_of.end() ? -1 : it->second;
  }
  bool acceptsDocsOutOfOrder() override { return true; }
  std::vector<Candidate> out;

 private:
  const Snapshot* snap_;
  Lucene::ScorerPtr scorer_;
  int32_t seg_ = -1;
};

class LuceneIndex : public SearchIndex {
 public:
  LuceneIndex(const RankingOptions& o, TopK mode) : opts_(o), mode_(mode) {}

  Status Init() {
    try {
      dir_ = newLucene<Lucene::RAMDirectory>();
      writer_ = newLucene<Lucene::IndexWriter>(dir_, newLucene<Lucene::WhitespaceAnalyzer>(), true,
                                               Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
      // ConcurrentMergeScheduler races on writer shutdown (LucenePlusPlus issue #86); merges run in the writer.
      writer_->setMergeScheduler(newLucene<Lucene::SerialMergeScheduler>());
      writer_->setRAMBufferSizeMB(64);
      // A dictionary lookup scans up to this many terms after the binary search; a query looks up each of its words
      // once per weighted field, so a denser term index (a few KB per segment) buys query time.
      writer_->setTermIndexInterval(16);
    } catch (const Lucene::LuceneException& e) {
      return Status::Internal(LuceneError("creating the skill index", e));
    }
    return Publish();
  }

  ~LuceneIndex() override {
    current_.store(nullptr);
    try {
      if (writer_) writer_->close();
    } catch (const Lucene::LuceneException&) {
      // The in-memory index is discarded anyway.
    }
  }

  Status Upsert(const std::vector<IndexDoc>& docs) override {
    try {
      for (const IndexDoc& d : docs) {
        Lucene::DocumentPtr doc = newLucene<Lucene::Document>();
        const std::wstring wname = Lucene::StringUtils::toUnicode(d.name);
        doc->add(newLucene<Lucene::Field>(kNameField, wname, Lucene::Field::STORE_YES,
                                          Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
        auto terms = newLucene<Lucene::Field>(kTermsField, newLucene<TokenListStream>(&d, &opts_));
        terms->setOmitNorms(true);
        doc->add(terms);
        for (int f = 0; f < kFieldCount; ++f) {
          doc->add(newLucene<Lucene::Field>(kLenField[f], std::to_wstring(d.tokens[f].size()),
                                            Lucene::Field::STORE_NO, Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
        }
        if (names_.insert(d.name).second) {
          writer_->addDocument(doc);
        } else {
          writer_->updateDocument(newLucene<Lucene::Term>(kNameField, wname), doc);
        }
      }
    } catch (const Lucene::LuceneException& e) {
      return Status::Internal(LuceneError("indexing skills", e));
    }
    return Status::Ok();
  }

  Status Remove(const std::vector<std::string>& names) override {
    try {
      for (const auto& n : names) {
        if (names_.erase(n) == 0) continue;
        writer_->deleteDocuments(newLucene<Lucene::Term>(kNameField, Lucene::StringUtils::toUnicode(n)));
      }
    } catch (const Lucene::LuceneException& e) {
      return Status::Internal(LuceneError("removing skills from the index", e));
    }
    return Status::Ok();
  }

  Status Publish() override {
    auto snap = std::make_shared<Snapshot>();
    try {
      snap->reader = writer_->getReader();
      snap->searcher = newLucene<Lucene::IndexSearcher>(snap->reader);
      Lucene::Collection<Lucene::IndexReaderPtr> subs = Lucene::Collection<Lucene::IndexReaderPtr>::newInstance();
      Lucene::ReaderUtil::gatherSubReaders(subs, snap->reader);
      snap->n = snap->reader->numDocs();
      std::set<std::string> live_segments;
      std::vector<Lucene::Collection<int32_t>> lens[kFieldCount];
      double sum[kFieldCount] = {0, 0, 0, 0};
      for (const auto& sub : subs) {
        Segment seg;
        seg.reader = sub;
        seg.max_doc = sub->maxDoc();
        seg.has_deletions = sub->hasDeletions();
        auto segment_reader = boost::dynamic_pointer_cast<Lucene::SegmentReader>(sub);
        if (!segment_reader) return Status::Internal("a skill index sub-reader is not a SegmentReader");
        const std::string seg_name = Lucene::StringUtils::toUTF8(segment_reader->getSegmentName());
        auto cached = dictionaries_.find(seg_name);
        if (cached == dictionaries_.end()) {
          WARDEN_ASSIGN_OR_RETURN(auto dict, ReadDictionary(sub));
          cached = dictionaries_.emplace(seg_name, std::move(dict)).first;
        }
        seg.dict = cached->second;
        live_segments.insert(seg_name);
        for (int f = 0; f < kFieldCount; ++f) {
          lens[f].push_back(seg.max_doc > 0 ? Lucene::FieldCache::DEFAULT()->getInts(sub, kLenField[f])
                                            : Lucene::Collection<int32_t>());
          for (int32_t d = 0; d < seg.max_doc; ++d) {
            if (!sub->isDeleted(d)) sum[f] += lens[f].back()[d];
          }
        }
        seg.names.resize(seg.max_doc);
        if (seg.max_doc > 0) {
          Lucene::Collection<Lucene::String> names = Lucene::FieldCache::DEFAULT()->getStrings(sub, kNameField);
          for (int32_t d = 0; d < seg.max_doc; ++d) seg.names[d] = Lucene::StringUtils::toUTF8(names[d]);
        }
        snap->segment_of[sub.get()] = static_cast<int>(snap->segments.size());
        snap->segments.push_back(std::move(seg));
      }
      // Merged-away segments' dictionaries go; snapshots still searching them hold their own reference.
      std::erase_if(dictionaries_, [&](const auto& d) { return !live_segments.count(d.first); });
      // avgdl per field and of the weighted sum (simple BM25F); an empty field everywhere normalises to 1.
      double avg[kFieldCount], avg_shared = 0;
      for (int f = 0; f < kFieldCount; ++f) {
        avg[f] = snap->n > 0 ? sum[f] / snap->n : 0;
        if (opts_.field_weight[f] > 0) avg_shared += opts_.field_weight[f] * avg[f];
      }
      for (size_t s = 0; s < snap->segments.size(); ++s) {
        Segment& seg = snap->segments[s];
        seg.shared_norm.assign(seg.max_doc, 1.0);
        for (int f = 0; f < kFieldCount; ++f) seg.norm[f].assign(seg.max_doc, 1.0);
        for (int32_t d = 0; d < seg.max_doc; ++d) {
          double dl_shared = 0;
          for (int f = 0; f < kFieldCount; ++f) {
            const double dl = lens[f][s][d];
            if (avg[f] > 0) seg.norm[f][d] = 1.0 - opts_.field_b[f] + opts_.field_b[f] * dl / avg[f];
            if (opts_.field_weight[f] > 0) dl_shared += opts_.field_weight[f] * dl;
          }
          if (avg_shared > 0) seg.shared_norm[d] = 1.0 - opts_.b + opts_.b * dl_shared / avg_shared;
        }
      }
    } catch (const Lucene::LuceneException& e) {
      return Status::Internal(LuceneError("opening a reader on the skill index", e));
    }
    current_.store(std::shared_ptr<const Snapshot>(std::move(snap)));
    return Status::Ok();
  }

  Result<std::vector<Hit>> Search(const std::vector<std::string>& query_tokens, int k, bool explain) const override {
    std::shared_ptr<const Snapshot> snap = current_.load();
    std::vector<QueryTerm> terms;
    {
      std::unordered_map<std::string, size_t> pos;
      for (const auto& t : query_tokens) {
        auto [it, fresh] = pos.emplace(t, terms.size());
        if (fresh) {
          terms.push_back(QueryTerm{t, 1});
        } else {
          ++terms[it->second].count;
        }
      }
    }
    std::vector<Hit> hits;
    if (terms.empty() || k <= 0 || snap->n == 0) return hits;
    std::vector<Candidate> cands;
    try {
      auto query = newLucene<BM25FQuery>(snap.get(), &opts_, terms, static_cast<size_t>(k), mode_);
      auto collector = newLucene<CandidateCollector>(snap.get());
      snap->searcher->search(query, collector);
      cands = std::move(collector->out);
    } catch (const Lucene::LuceneException& e) {
      return Status::Internal(LuceneError("searching the skill index", e));
    }
    auto better = [&](const Candidate& a, const Candidate& b) {
      if (a.score != b.score) return a.score > b.score;
      return snap->segments[a.seg].names[a.doc] < snap->segments[b.seg].names[b.doc];
    };
    const size_t top = std::min(cands.size(), static_cast<size_t>(k));
    std::partial_sort(cands.begin(), cands.begin() + top, cands.end(), better);
    hits.reserve(top);
    for (size_t i = 0; i < top; ++i) {
      Hit h;
      h.name = snap->segments[cands[i].seg].names[cands[i].doc];
      h.score = cands[i].score;
      if (explain) {
        auto st = Explain(*snap, cands[i], terms, &h);
        if (!st.ok()) return st;
      }
      hits.push_back(std::move(h));
    }
    return hits;
  }

  size_t DocCount() const override {
    auto snap = current_.load();
    return static_cast<size_t>(snap ? snap->n : 0);
  }

 private:
  // Splits each term's score over fields by their share of the combined term frequency (the saturation is
  // shared, so a field's share of tf~ is its share of the term's score); the shares sum to the hit's score.
  Status Explain(const Snapshot& snap, const Candidate& c, const std::vector<QueryTerm>& terms, Hit* hit) const {
    const Segment& seg = snap.segments[c.seg];
    double field_total[kFieldCount] = {0, 0, 0, 0};
    try {
      Cursors cur(snap);
      const std::vector<TermPlan> plans = PlanTerms(snap, opts_, terms, cur);
      for (size_t t = 0; t < terms.size(); ++t) {
        if (plans[t].mult == 0) continue;
        double part[kFieldCount] = {0, 0, 0, 0};
        double x = 0;
        for (int f = 0; f < kFieldCount; ++f) {
          if (!plans[t].postings[c.seg][f]) continue;
          const Lucene::SegmentTermDocsPtr& td = cur.Seek(c.seg, *plans[t].postings[c.seg][f]);
          if (td->skipTo(c.doc) && td->doc() == c.doc) {
            part[f] = FieldPart(opts_, seg, f, c.doc, td->freq());
            x += part[f];
          }
        }
        if (x == 0) continue;
        const double term_score = TermScore(opts_, seg, c.doc, plans[t].mult, x);
        hit->terms.emplace_back(terms[t].text, term_score);
        for (int f = 0; f < kFieldCount; ++f) field_total[f] += term_score * part[f] / x;
      }
    } catch (const Lucene::LuceneException& e) {
      return Status::Internal(LuceneError("explaining a skill score", e));
    }
    for (int f = 0; f < kFieldCount; ++f) {
      if (field_total[f] > 0) hit->fields.push_back(FieldScore{static_cast<Field>(f), field_total[f]});
    }
    std::sort(hit->terms.begin(), hit->terms.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return Status::Ok();
  }

  RankingOptions opts_;
  TopK mode_;
  Lucene::RAMDirectoryPtr dir_;
  Lucene::IndexWriterPtr writer_;
  std::set<std::string> names_;
  std::map<std::string, std::shared_ptr<const Dictionary>> dictionaries_;  // by segment name; Publish only
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace

Result<std::unique_ptr<SearchIndex>> CreateLuceneIndex(const RankingOptions& options, TopK mode) {
  auto index = std::make_unique<LuceneIndex>(options, mode);
  WARDEN_RETURN_IF_ERROR(index->Init());
  return std::unique_ptr<SearchIndex>(std::move(index));
}

}  // namespace detail
}  // namespace warden::skills
