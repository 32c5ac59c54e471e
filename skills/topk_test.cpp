// The pruned top-k search (MaxScore over the Lucene++ postings, skills/lucene_index.cpp ScoreTopK) against the
// exhaustive accumulator: the same hits in the same order with bit-identical scores, for every k, all three
// ranking variants, after updates and deletions (several segments, segments with deletions), and on the
// Seal-Tools catalog with its dev queries (long multi-tool requests, the latency benchmark's workload).
#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "skills/skills_test_util.h"
#include "tests/support/test_support.h"

namespace warden::skills {
namespace {

using detail::IndexDoc;
using detail::SearchIndex;
using detail::TopK;

struct IndexPair {
  std::unique_ptr<SearchIndex> pruned, exhaustive;
  Status Upsert(const std::vector<IndexDoc>& docs) {
    WARDEN_RETURN_IF_ERROR(pruned->Upsert(docs));
    return exhaustive->Upsert(docs);
  }
  Status Remove(const std::vector<std::string>& names) {
    WARDEN_RETURN_IF_ERROR(pruned->Remove(names));
    return exhaustive->Remove(names);
  }
  Status Publish() {
    WARDEN_RETURN_IF_ERROR(pruned->Publish());
    return exhaustive->Publish();
  }
};

IndexPair MakePair(const RankingOptions& o) {
  auto pruned = detail::CreateLuceneIndex(o, TopK::kPruned);
  auto exhaustive = detail::CreateLuceneIndex(o, TopK::kExhaustive);
  REQUIRE(pruned.ok());
  REQUIRE(exhaustive.ok());
  return IndexPair{std::move(*pruned), std::move(*exhaustive)};
}

// Same names in the same order and the same doubles (==, not a tolerance): the pruned path re-sums each survivor's
// term scores in query order exactly as the exhaustive one does.
void CheckSame(const IndexPair& p, const std::vector<std::string>& tokens, int k) {
  auto a = p.pruned->Search(tokens, k, false);
  auto b = p.exhaustive->Search(tokens, k, false);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    INFO("k " << k << " rank " << i);
    CHECK((*a)[i].name == (*b)[i].name);
    CHECK((*a)[i].score == (*b)[i].score);
  }
}

// prefix + n; operator+ on a literal trips GCC 12's -Wrestrict false positive at -O3.
std::string Word(const char* prefix, long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// A Zipf-like vocabulary: a few words in most documents (like "the", "of"), a long tail of rare ones.
std::string RandomText(std::mt19937& rng, int words) {
  std::string out;
  for (int w = 0; w < words; ++w) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    out += Word("w", static_cast<long>(std::pow(400.0, u * u)));
    out += ' ';
  }
  return out;
}

Skill RandomSkill(std::mt19937& rng, const std::string& name) {
  nlohmann::json args = {{"type", "object"}, {"properties", nlohmann::json::object()}};
  const int params = static_cast<int>(rng() % 4);
  for (int i = 0; i < params; ++i) {
    args["properties"][Word("p", rng() % 30)] = {{"type", "string"},
                                                            {"description", RandomText(rng, 2 + rng() % 12)}};
  }
  return testutil::MakeSkill(name, RandomText(rng, 1 + rng() % 30), {Word("w", rng() % 50)}, args);
}

std::vector<std::string> RandomQuery(std::mt19937& rng) {
  std::vector<std::string> q = detail::Tokenize(RandomText(rng, 1 + rng() % 60), true);
  if (rng() % 4 == 0) q.push_back("absent");  // a word no document has
  return q;
}

TEST_CASE("Pruned top k equals the exhaustive ranking, bit for bit, through updates and deletions",
          "[skills][topk]") {
  for (int variant = 0; variant < 3; ++variant) {
    RankingOptions o = variant == 0 ? RankingOptions{} : RankingOptions::Reference();
    if (variant == 2) {
      o = RankingOptions{};
      o.per_field_b = true;
      o.field_b[0] = 0.3;
      o.field_weight[3] = 0.5;
    }
    INFO("variant " << variant);
    std::mt19937 rng(11 + variant);
    IndexPair pair = MakePair(o);
    std::vector<Skill> skills;
    std::vector<IndexDoc> docs;
    std::vector<std::string> names;
    for (int i = 0; i < 600; ++i) {
      // Every fifth skill is a renamed copy of the one before: exact score ties, broken by name.
      Skill s = i % 5 == 4 ? skills.back() : RandomSkill(rng, Word("skill-", i));
      if (i % 5 == 4) s.name = Word("copy-", i);
      docs.push_back(detail::MakeIndexDoc(s, o.split_identifiers));
      names.push_back(s.name);
      skills.push_back(std::move(s));
    }
    REQUIRE(pair.Upsert(docs).ok());
    REQUIRE(pair.Publish().ok());
    for (int round = 0; round < 12; ++round) {
      for (int q = 0; q < 15; ++q) {
        const auto tokens = RandomQuery(rng);
        for (int k : {1, 3, 10, 40}) CheckSame(pair, tokens, k);
      }
      // Edits between rounds: new segments, and deletions in the old ones (df then counts live postings).
      std::vector<IndexDoc> changed;
      std::vector<std::string> removed;
      for (int e = 0; e < 20; ++e) {
        const std::string& name = names[rng() % names.size()];
        if (rng() % 3 == 0) {
          removed.push_back(name);
        } else {
          changed.push_back(detail::MakeIndexDoc(RandomSkill(rng, name), o.split_identifiers));
        }
      }
      REQUIRE(pair.Upsert(changed).ok());
      REQUIRE(pair.Remove(removed).ok());
      REQUIRE(pair.Publish().ok());
    }
  }
}

TEST_CASE("Pruned top 10 equals the exhaustive ranking on the Seal-Tools catalog and dev queries", "[skills][topk]") {
  const auto catalog_path = testing::SharedPath("bench/retrieval/seal-tools/catalog.jsonl");
  const auto queries_path = testing::SharedPath("bench/retrieval/seal-tools/dev_queries.jsonl");
  if (!std::filesystem::exists(catalog_path) || !std::filesystem::exists(queries_path)) {
    WARN("no Seal-Tools data under the shared folder; covered by the synthetic case only");
    return;
  }
  const RankingOptions o;
  IndexPair pair = MakePair(o);
  std::vector<IndexDoc> docs;
  std::ifstream in(catalog_path);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    Skill s = testutil::MakeSkill(j["name"].get<std::string>(), j.value("description", ""), {},
                                  j.value("parameters", nlohmann::json::object()));
    for (const auto& t : j.value("tags", nlohmann::json::array())) s.tags.push_back(t.get<std::string>());
    docs.push_back(detail::MakeIndexDoc(s, o.split_identifiers));
  }
  REQUIRE(docs.size() > 1000);
  REQUIRE(pair.Upsert(docs).ok());
  REQUIRE(pair.Publish().ok());
  std::ifstream qs(queries_path);
  int n = 0;
  for (std::string line; std::getline(qs, line) && n < 300; ++n) {
    const auto tokens = detail::Tokenize(nlohmann::json::parse(line)["query"].get<std::string>(), true);
    CheckSame(pair, tokens, 10);
  }
  CHECK(n == 300);
}

}  // namespace
}  // namespace warden::skills
