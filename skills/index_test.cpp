// The BM25F index (retrieval.md 1.3-1.4, 1.9): scores equal an independent computation for both BM25F variants,
// before and after updates and deletions; ties go by name; explanations add up to the score.
#include <catch2/catch.hpp>
#include <random>

#include "skills/skills_test_util.h"

namespace warden::skills {
namespace {

std::vector<Skill> SampleSkills() {
  return {
      testutil::MakeSkill("csv-to-json", "Convert a CSV file to JSON records", {"csv", "json"},
                          {{"type", "object"},
                           {"properties", {{"input_path", {{"type", "string"}, {"description", "CSV file to read"}}}}}}),
      testutil::MakeSkill("json-query", "Query JSON documents with a path expression; JSON in, JSON out", {"json"}),
      testutil::MakeSkill("word-count", "Count words, lines and characters of a text file", {"text"}),
      testutil::MakeSkill("getVehicleBattery", "Battery level of a vehicle", {}),
      testutil::MakeSkill("sha256-hash", "Compute the SHA-256 hash of a file", {"hash"},
                          {{"type", "object"},
                           {"properties", {{"path", {{"type", "string"}, {"description", "file to hash"}}}}}}),
      testutil::MakeSkill(
          "long-doc",
          "A long description about files and text and files and more text to make this document much longer "
          "than the others so that its length normalisation differs clearly from the short ones file file",
          {"text", "files"}),
  };
}

void CheckAgainstBruteForce(const Catalog& catalog, const std::vector<Skill>& skills, const RankingOptions& o,
                            const std::string& query) {
  auto expected = testutil::BruteForceScores(skills, query, o);
  auto sel = catalog.Search(query, 100);
  REQUIRE(sel.ok());
  CHECK(sel->hits.size() == expected.size());
  for (const auto& h : sel->hits) {
    INFO(query << " / " << h.name);
    REQUIRE(expected.count(h.name));
    CHECK(std::abs(h.score - expected[h.name]) < 1e-12);
  }
}

TEST_CASE("Scores equal an independent BM25F computation", "[skills][index]") {
  auto skills = SampleSkills();
  const std::vector<std::string> queries = {"convert csv file to json", "json json query", "count the words of a file",
                                            "vehicle battery", "hash a file", "nothing matches zzz", "file"};
  for (int variant = 0; variant < 3; ++variant) {
    RankingOptions o = variant == 0 ? RankingOptions::Reference() : RankingOptions{};
    if (variant == 2) {
      o.per_field_b = true;
      o.field_b[1] = 0.5;
      o.field_weight[0] = 3;
      o.field_weight[3] = 0.5;
      o.k1 = 0.9;
      o.b = 0.4;
    }
    auto catalog = Catalog::FromSkills(skills, o);
    REQUIRE(catalog.ok());
    for (const auto& q : queries) CheckAgainstBruteForce(**catalog, skills, o, q);
  }
}

TEST_CASE("The reference configuration equals BM25 over one concatenated field", "[skills][index]") {
  // With weights 1 and a shared b, simple BM25F is exactly Okapi BM25 on name+description+tags (the reference).
  auto skills = SampleSkills();
  auto catalog = Catalog::FromSkills(skills, RankingOptions::Reference());
  REQUIRE(catalog.ok());
  const double k1 = 1.2, b = 0.75;
  std::vector<std::vector<std::string>> docs;
  double avg = 0;
  for (const auto& s : skills) {
    std::string text = s.name + " " + s.description;
    for (const auto& t : s.tags) text += " " + t;
    docs.push_back(detail::Tokenize(text, false));
    avg += docs.back().size() / static_cast<double>(skills.size());
  }
  const std::string term = "file";
  int df = 0;
  for (const auto& d : docs) df += std::count(d.begin(), d.end(), term) > 0;
  const double idf = std::log(1 + (skills.size() - df + 0.5) / (df + 0.5));
  auto sel = (*catalog)->Search(term, 10);
  REQUIRE(sel.ok());
  REQUIRE_FALSE(sel->hits.empty());
  for (const auto& h : sel->hits) {
    size_t i = std::find_if(skills.begin(), skills.end(), [&](const Skill& s) { return s.name == h.name; }) - skills.begin();
    const double tf = std::count(docs[i].begin(), docs[i].end(), term);
    const double expect = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * docs[i].size() / avg));
    CHECK(std::abs(h.score - expect) < 1e-12);
  }
}

TEST_CASE("Ties are broken by name and only positive scores are returned", "[skills][index]") {
  std::vector<Skill> skills = {testutil::MakeSkill("zeta", "same words here"), testutil::MakeSkill("alpha", "same words here"),
                               testutil::MakeSkill("mid", "same words here"), testutil::MakeSkill("other", "unrelated")};
  auto catalog = Catalog::FromSkills(skills, RankingOptions::Reference());
  REQUIRE(catalog.ok());
  auto sel = (*catalog)->Search("words", 10);
  REQUIRE(sel.ok());
  REQUIRE(sel->hits.size() == 3);
  CHECK(sel->hits[0].name == "alpha");
  CHECK(sel->hits[1].name == "mid");
  CHECK(sel->hits[2].name == "zeta");
  CHECK(sel->hits[0].score == sel->hits[2].score);
  auto top1 = (*catalog)->Search("words", 1);
  REQUIRE(top1->hits.size() == 1);
  CHECK(top1->hits[0].name == "alpha");
  CHECK((*catalog)->Search("", 10)->hits.empty());
}

TEST_CASE("Explain splits the score over fields and terms", "[skills][index]") {
  auto catalog = Catalog::FromSkills(SampleSkills(), RankingOptions{});
  REQUIRE(catalog.ok());
  auto sel = (*catalog)->Search("convert csv input path to json", 3, true);
  REQUIRE(sel.ok());
  REQUIRE(sel->hits[0].name == "csv-to-json");
  for (const auto& h : sel->hits) {
    double fields = 0, terms = 0;
    for (const auto& f : h.fields) fields += f.score;
    for (const auto& t : h.terms) terms += t.second;
    CHECK(std::abs(fields - h.score) < 1e-9);
    CHECK(std::abs(terms - h.score) < 1e-9);
  }
  bool has_params = false;
  for (const auto& f : sel->hits[0].fields) has_params |= f.field == Field::kParams;
  CHECK(has_params);
  auto j = sel->ToJson();
  CHECK(j["results"][0]["fields"].contains("parameters"));
}

TEST_CASE("Index updates and deletions keep scores exact", "[skills][index]") {
  RankingOptions o;
  auto index = detail::CreateLuceneIndex(o);
  REQUIRE(index.ok());
  std::vector<Skill> live = SampleSkills();
  std::vector<detail::IndexDoc> docs;
  for (const auto& s : live) docs.push_back(detail::MakeIndexDoc(s, o.split_identifiers));
  REQUIRE((*index)->Upsert(docs).ok());
  REQUIRE((*index)->Publish().ok());
  std::mt19937 rng(7);
  const char* words[] = {"file", "json", "text", "hash", "csv", "battery", "count", "query"};
  for (int round = 0; round < 30; ++round) {
    const int op = rng() % 3;
    if (op == 0 && live.size() > 2) {
      size_t i = rng() % live.size();
      REQUIRE((*index)->Remove({live[i].name}).ok());
      live.erase(live.begin() + i);
    } else {
      std::string desc;
      for (int w = 0; w < 3 + static_cast<int>(rng() % 8); ++w) desc += std::string(words[rng() % 8]) + " ";
      std::string name = op == 1 && !live.empty() ? live[rng() % live.size()].name : "skill-" + std::to_string(round);
      auto it = std::find_if(live.begin(), live.end(), [&](const Skill& s) { return s.name == name; });
      if (it != live.end()) live.erase(it);
      live.push_back(testutil::MakeSkill(name, desc));
      REQUIRE((*index)->Upsert({detail::MakeIndexDoc(live.back(), o.split_identifiers)}).ok());
    }
    REQUIRE((*index)->Publish().ok());
    CHECK((*index)->DocCount() == live.size());
    const std::string q = std::string(words[rng() % 8]) + " " + words[rng() % 8];
    auto expected = testutil::BruteForceScores(live, q, o);
    auto hits = (*index)->Search(detail::Tokenize(q, true), 100, false);
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == expected.size());
    for (const auto& h : *hits) CHECK(std::abs(h.score - expected.at(h.name)) < 1e-12);
  }
}

}  // namespace
}  // namespace warden::skills
