// The skill index on Lucene++ 3.0.8 (retrieval.md 1.3 "Implementation route", 1.6 hot reload, 1.9 option 3):
// exact BM25F with a custom Query/Weight/Scorer. Each field's exact token count is stored in an untokenized
// `__len<f>` field read through FieldCache (no lossy norm bytes); N and avgdl are computed once per reader
// snapshot; df counts live documents that contain the term in any weighted field. Updates go through one
// IndexWriter on a RAMDirectory and become visible by swapping an immutable snapshot built on a near-real-time
// reader, so searches never wait for the writer. This is the only translation unit that includes Lucene++.
#include <lucene++/LuceneHeaders.h>
#include <lucene++/FieldCache.h>
#include <lucene++/ReaderUtil.h>
#include <lucene++/TermAttribute.h>
#include <lucene++/TermPositions.h>
#include <lucene++/SerialMergeScheduler.h>

#include <algorithm>
#include <atomic>
#include <cmath>
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
// All four fields' tokens go into one indexed field, in field order; a token's position tells its field (the
// exact per-field lengths are known), so one postings lookup per query term gives the per-field frequencies.
const wchar_t* const kTextField = L"text";
const wchar_t* const kLenField[kFieldCount] = {L"__len_name", L"__len_desc", L"__len_tags", L"__len_params"};

// Tokens are ASCII by construction (Tokenize), so widening byte by byte is exact.
std::wstring Widen(const std::string& s) { return std::wstring(s.begin(), s.end()); }

std::string LuceneError(const std::string& what, const Lucene::LuceneException& e) {
  return what + ": Lucene++ error: " + Lucene::StringUtils::toUTF8(e.getError());
}

// Feeds the tokens Tokenize produced straight to the index: Lucene's own tokenizers cut words at 255 characters,
// and the reference tokenizer does not (Seal-Tools has a 413-character token that queries repeat).
class TokenListStream : public Lucene::TokenStream {
 public:
  explicit TokenListStream(const IndexDoc* doc) : doc_(doc) { term_ = addAttribute<Lucene::TermAttribute>(); }
  LUCENE_CLASS(TokenListStream);
  bool incrementToken() override {
    while (field_ < kFieldCount && next_ >= doc_->tokens[field_].size()) ++field_, next_ = 0;
    if (field_ >= kFieldCount) return false;
    clearAttributes();
    term_->setTermBuffer(Widen(doc_->tokens[field_][next_++]));
    return true;
  }

 private:
  const IndexDoc* doc_;
  int field_ = 0;
  size_t next_ = 0;
  Lucene::TermAttributePtr term_;
};

// One segment of a snapshot with everything scoring needs per document, precomputed for the ranking options.
struct Segment {
  Lucene::IndexReaderPtr reader;
  int32_t max_doc = 0;
  std::vector<std::string> names;
  std::vector<int32_t> field_end;          // [doc * kFieldCount + f]: first position after field f
  std::vector<double> norm[kFieldCount];  // per-field b: 1 - b_f + b_f*dl_f/avgdl_f (per_field_b)
  std::vector<double> shared_norm;        // shared b: 1 - b + b*dl~/avgdl~
};

// Per-field frequencies of the term at the current posting of `tp` (positioned on `doc`).
void FieldFreqs(const Lucene::TermPositionsPtr& tp, const Segment& seg, int32_t doc, int32_t tf[kFieldCount]) {
  for (int f = 0; f < kFieldCount; ++f) tf[f] = 0;
  const int32_t* end = &seg.field_end[static_cast<size_t>(doc) * kFieldCount];
  const int32_t freq = tp->freq();
  for (int32_t i = 0; i < freq; ++i) {
    const int32_t pos = tp->nextPosition();
    int f = 0;
    while (f < kFieldCount - 1 && pos >= end[f]) ++f;
    ++tf[f];
  }
}

// The BM25F "x" of one document for one term: weighted, length-normalised frequency (0 if only in fields of
// weight 0).
double TermX(const RankingOptions& o, const Segment& seg, int32_t doc, const int32_t tf[kFieldCount],
             double part[kFieldCount]) {
  double x = 0;
  for (int f = 0; f < kFieldCount; ++f) {
    part[f] = 0;
    if (tf[f] == 0 || o.field_weight[f] <= 0) continue;
    part[f] = o.field_weight[f] * tf[f] / (o.per_field_b ? seg.norm[f][doc] : 1.0);
    x += part[f];
  }
  return x;
}

struct Snapshot {
  Lucene::IndexReaderPtr reader;
  Lucene::IndexSearcherPtr searcher;
  std::vector<Segment> segments;
  std::unordered_map<const Lucene::IndexReader*, int> segment_of;
  double n = 0;  // live documents
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

// Per-query scores of one segment, filled by the weight and replayed by the scorer in document order.
struct SegmentScores {
  std::vector<int32_t> docs;     // matched docs, ascending after Finish
  std::vector<double> score;     // dense, max_doc
};

struct QueryTerm {
  std::string text;
  int count = 1;  // the reference adds a repeated query token again
};

class BM25FWeight;

// All query terms in one query (the "single query" accumulator variant of retrieval.md 1.3 step 6).
class BM25FQuery : public Lucene::Query {
 public:
  BM25FQuery(const Snapshot* snap, const RankingOptions* opts, std::vector<QueryTerm> terms)
      : snap_(snap), opts_(opts), terms_(std::move(terms)) {}
  LUCENE_CLASS(BM25FQuery);
  Lucene::WeightPtr createWeight(const Lucene::SearcherPtr& searcher) override;
  Lucene::String toString(const Lucene::String&) override { return L"BM25FQuery"; }
  Lucene::LuceneObjectPtr clone(const Lucene::LuceneObjectPtr& other) override {
    (void)other;
    return newLucene<BM25FQuery>(snap_, opts_, terms_);
  }
  const Snapshot* snap_;
  const RankingOptions* opts_;
  std::vector<QueryTerm> terms_;
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
  double score() override { return scores_->score[doc_]; }

 private:
  const SegmentScores* scores_;
  int64_t pos_ = -1;
  int32_t doc_ = -1;
};

// Computes the whole query's BM25F scores at construction (df needs every segment before any score), then hands
// each segment's scores to a scorer.
class BM25FWeight : public Lucene::Weight {
 public:
  explicit BM25FWeight(const Lucene::QueryPtr& query) : query_(query) {
    auto* q = static_cast<BM25FQuery*>(query.get());
    Accumulate(*q->snap_, *q->opts_, q->terms_);
  }
  LUCENE_CLASS(BM25FWeight);
  Lucene::ExplanationPtr explain(const Lucene::IndexReaderPtr& reader, int32_t doc) override {
    auto* q = static_cast<BM25FQuery*>(query_.get());
    auto it = q->snap_->segment_of.find(reader.get());
    double s = it == q->snap_->segment_of.end() ? 0 : scores_[it->second].score[doc];
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
  void Accumulate(const Snapshot& snap, const RankingOptions& o, const std::vector<QueryTerm>& terms) {
    const size_t nseg = snap.segments.size();
    scores_.resize(nseg);
    std::vector<Lucene::TermPositionsPtr> cursors(nseg);
    for (size_t s = 0; s < nseg; ++s) {
      scores_[s].score.assign(snap.segments[s].max_doc, 0.0);
      // One cursor per segment, re-seeked per term: opening one per term clones the postings streams.
      cursors[s] = snap.segments[s].reader->termPositions();
    }
    std::vector<std::vector<std::pair<int32_t, double>>> matched(nseg);
    int32_t tf[kFieldCount];
    double part[kFieldCount];
    for (const QueryTerm& term : terms) {
      const Lucene::TermPtr lterm = newLucene<Lucene::Term>(kTextField, Widen(term.text));
      size_t df = 0;
      for (size_t s = 0; s < nseg; ++s) {
        const Segment& seg = snap.segments[s];
        const Lucene::TermPositionsPtr& tp = cursors[s];
        matched[s].clear();
        tp->seek(lterm);
        while (tp->next()) {
          const int32_t d = tp->doc();
          FieldFreqs(tp, seg, d, tf);
          const double x = TermX(o, seg, d, tf, part);
          if (x > 0) matched[s].emplace_back(d, o.per_field_b ? x : x / seg.shared_norm[d]);
        }
        df += matched[s].size();
      }
      if (df == 0) continue;
      const double idf = std::log(1.0 + (snap.n - df + 0.5) / (df + 0.5));
      const double mult = term.count * idf * (o.k1 + 1.0);
      for (size_t s = 0; s < nseg; ++s) {
        SegmentScores& out = scores_[s];
        for (const auto& [d, xv] : matched[s]) {
          if (out.score[d] == 0) out.docs.push_back(d);
          out.score[d] += mult * xv / (o.k1 + xv);
        }
      }
    }
    for (auto& tp : cursors) tp->close();
    for (auto& seg : scores_) std::sort(seg.docs.begin(), seg.docs.end());
  }

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
  explicit LuceneIndex(const RankingOptions& o) : opts_(o) {}

  Status Init() {
    try {
      dir_ = newLucene<Lucene::RAMDirectory>();
      writer_ = newLucene<Lucene::IndexWriter>(dir_, newLucene<Lucene::WhitespaceAnalyzer>(), true,
                                               Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
      // ConcurrentMergeScheduler races on writer shutdown (LucenePlusPlus issue #86); merges run in the writer.
      writer_->setMergeScheduler(newLucene<Lucene::SerialMergeScheduler>());
      writer_->setRAMBufferSizeMB(64);
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
        auto text = newLucene<Lucene::Field>(kTextField, newLucene<TokenListStream>(&d));
        text->setOmitNorms(true);
        doc->add(text);
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
      std::vector<Lucene::Collection<int32_t>> lens[kFieldCount];
      double sum[kFieldCount] = {0, 0, 0, 0};
      for (const auto& sub : subs) {
        Segment seg;
        seg.reader = sub;
        seg.max_doc = sub->maxDoc();
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
      // avgdl per field and of the weighted sum (simple BM25F); an empty field everywhere normalises to 1.
      double avg[kFieldCount], avg_shared = 0;
      for (int f = 0; f < kFieldCount; ++f) {
        avg[f] = snap->n > 0 ? sum[f] / snap->n : 0;
        if (opts_.field_weight[f] > 0) avg_shared += opts_.field_weight[f] * avg[f];
      }
      for (size_t s = 0; s < snap->segments.size(); ++s) {
        Segment& seg = snap->segments[s];
        seg.shared_norm.assign(seg.max_doc, 1.0);
        seg.field_end.assign(static_cast<size_t>(seg.max_doc) * kFieldCount, 0);
        for (int f = 0; f < kFieldCount; ++f) seg.norm[f].assign(seg.max_doc, 1.0);
        for (int32_t d = 0; d < seg.max_doc; ++d) {
          double dl_shared = 0;
          int32_t end = 0;
          for (int f = 0; f < kFieldCount; ++f) {
            const double dl = lens[f][s][d];
            end += lens[f][s][d];
            seg.field_end[static_cast<size_t>(d) * kFieldCount + f] = end;
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
      auto query = newLucene<BM25FQuery>(snap.get(), &opts_, terms);
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
      int32_t tf[kFieldCount];
      double part[kFieldCount];
      for (const QueryTerm& term : terms) {
        const Lucene::TermPtr lterm = newLucene<Lucene::Term>(kTextField, Widen(term.text));
        Lucene::TermPositionsPtr tp = seg.reader->termPositions(lterm);
        double x = 0;
        if (tp->skipTo(c.doc) && tp->doc() == c.doc) {
          FieldFreqs(tp, seg, c.doc, tf);
          x = TermX(opts_, seg, c.doc, tf, part);
        }
        tp->close();
        if (x == 0) continue;
        // df over the snapshot, as the weight counted it.
        size_t df = 0;
        double unused[kFieldCount];
        for (const Segment& s : snap.segments) {
          Lucene::TermPositionsPtr all = s.reader->termPositions(lterm);
          while (all->next()) {
            FieldFreqs(all, s, all->doc(), tf);
            df += TermX(opts_, s, all->doc(), tf, unused) > 0;
          }
          all->close();
        }
        const double idf = std::log(1.0 + (snap.n - df + 0.5) / (df + 0.5));
        const double xv = opts_.per_field_b ? x : x / seg.shared_norm[c.doc];
        const double term_score = term.count * idf * (opts_.k1 + 1.0) * xv / (opts_.k1 + xv);
        hit->terms.emplace_back(term.text, term_score);
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
  Lucene::RAMDirectoryPtr dir_;
  Lucene::IndexWriterPtr writer_;
  std::set<std::string> names_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace

Result<std::unique_ptr<SearchIndex>> CreateLuceneIndex(const RankingOptions& options) {
  auto index = std::make_unique<LuceneIndex>(options);
  WARDEN_RETURN_IF_ERROR(index->Init());
  return std::unique_ptr<SearchIndex>(std::move(index));
}

}  // namespace detail
}  // namespace warden::skills
