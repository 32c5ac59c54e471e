// Helpers for the skills tests: writing skill folders and a brute-force BM25F scorer that the Lucene++ index is
// checked against (it shares only the tokenizer with the product code).
#pragma once

#include <cmath>
#include <map>
#include <string>

#include "runtime/base/file_util.h"
#include "skills/skills_internal.h"

namespace warden::skills::testutil {

inline void WriteSkillMd(const std::filesystem::path& folder, const std::string& name, const std::string& description,
                         const std::string& extra = "") {
  std::filesystem::create_directories(folder / name);
  std::string md = "---\nname: " + name + "\ndescription: " + nlohmann::json(description).dump() + "\n" + extra +
                   "---\n\nInstructions for " + name + ".\n";
  REQUIRE(WriteFileAtomic(folder / name / "SKILL.md", md).ok());
}

inline Skill MakeSkill(const std::string& name, const std::string& description, std::vector<std::string> tags = {},
                       nlohmann::json args = nlohmann::json::object()) {
  Skill s;
  s.name = name;
  s.description = description;
  s.tags = std::move(tags);
  s.arguments = std::move(args);
  return s;
}

// Independent BM25F: per document, tf~ and the normaliser from the formula in retrieval.md 1.9 option 3.
inline std::map<std::string, double> BruteForceScores(const std::vector<Skill>& skills, const std::string& query,
                                                      const RankingOptions& o) {
  std::vector<detail::IndexDoc> docs;
  for (const auto& s : skills) docs.push_back(detail::MakeIndexDoc(s, o.split_identifiers));
  const double n = static_cast<double>(docs.size());
  double avg[kFieldCount] = {0, 0, 0, 0};
  for (const auto& d : docs) {
    for (int f = 0; f < kFieldCount; ++f) avg[f] += static_cast<double>(d.tokens[f].size()) / n;
  }
  double avg_shared = 0;
  for (int f = 0; f < kFieldCount; ++f) avg_shared += o.field_weight[f] * avg[f];
  std::map<std::string, int> qtf;
  for (const auto& t : detail::Tokenize(query, o.split_identifiers)) ++qtf[t];
  std::map<std::string, double> scores;
  for (const auto& [term, count] : qtf) {
    int df = 0;
    std::vector<double> x(docs.size(), 0.0);
    for (size_t i = 0; i < docs.size(); ++i) {
      double dl_shared = 0;
      for (int f = 0; f < kFieldCount; ++f) dl_shared += o.field_weight[f] * docs[i].tokens[f].size();
      bool has = false;
      for (int f = 0; f < kFieldCount; ++f) {
        if (o.field_weight[f] <= 0) continue;
        int tf = 0;
        for (const auto& t : docs[i].tokens[f]) tf += t == term;
        if (tf == 0) continue;
        has = true;
        if (o.per_field_b) {
          double norm = avg[f] > 0 ? 1 - o.field_b[f] + o.field_b[f] * docs[i].tokens[f].size() / avg[f] : 1;
          x[i] += o.field_weight[f] * tf / norm;
        } else {
          x[i] += o.field_weight[f] * tf;
        }
      }
      if (!o.per_field_b && has) x[i] /= avg_shared > 0 ? 1 - o.b + o.b * dl_shared / avg_shared : 1;
      df += has;
    }
    if (df == 0) continue;
    const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
    for (size_t i = 0; i < docs.size(); ++i) {
      if (x[i] > 0) scores[docs[i].name] += count * idf * (o.k1 + 1) * x[i] / (o.k1 + x[i]);
    }
  }
  return scores;
}

}  // namespace warden::skills::testutil
