#include "runtime/engine/cpu/sample.h"

#include <catch2/catch.hpp>
#include <map>
#include <vector>

using warden::engine::cpu::Sampler;
using warden::engine::cpu::SamplingParams;

TEST_CASE("greedy picks the argmax, lowest id on ties", "[engine][cpu][sample]") {
  Sampler s(SamplingParams{.temperature = 0});
  std::vector<float> logits = {0.1f, 3.f, 3.f, -1.f};
  CHECK(s.Sample(logits, {}) == 1);
}

TEST_CASE("sampling is repeatable for a seed and follows the distribution", "[engine][cpu][sample]") {
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  auto draw = [&](uint64_t seed) {
    Sampler s(SamplingParams{.temperature = 1, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 4000; ++i) out.push_back(s.Sample(logits, {}));
    return out;
  };
  auto a = draw(7), b = draw(7), c = draw(8);
  CHECK(a == b);
  CHECK(a != c);
  std::map<int32_t, int> counts;
  for (auto t : a) counts[t]++;
  CHECK(counts[0] == Approx(2000).margin(150));
  CHECK(counts[1] == Approx(1200).margin(150));
  CHECK(counts[2] == Approx(800).margin(150));
}

TEST_CASE("top-k, top-p and min-p cut the tail", "[engine][cpu][sample]") {
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  auto support = [&](SamplingParams p) {
    Sampler s(p);
    std::map<int32_t, int> seen;
    for (int i = 0; i < 2000; ++i) seen[s.Sample(logits, {})]++;
    return seen.size();
  };
  CHECK(support({.temperature = 1, .top_k = 2, .seed = 1}) == 2);
  CHECK(support({.temperature = 1, .top_k = 1, .seed = 1}) == 1);
  CHECK(support({.temperature = 1, .top_p = 0.75f, .seed = 1}) == 2);  // 0.5 + 0.3 reaches 0.75
  CHECK(support({.temperature = 1, .min_p = 0.35f, .seed = 1}) == 2);  // 0.35 × 0.5 = 0.175 drops 0.15 and 0.05
  CHECK(support({.temperature = 1, .seed = 1}) == 4);
}

TEST_CASE("penalties push seen tokens down", "[engine][cpu][sample]") {
  std::vector<float> logits = {2.0f, 1.9f, -1.0f};
  std::vector<int32_t> seen = {0, 0, 0};
  Sampler rep(SamplingParams{.temperature = 0, .repetition_penalty = 1.2f});
  CHECK(rep.Sample(logits, seen) == 1);  // 2.0 / 1.2 < 1.9
  Sampler pres(SamplingParams{.temperature = 0, .presence_penalty = 0.5f});
  CHECK(pres.Sample(logits, seen) == 1);  // applied once per distinct token: 1.5 < 1.9
  Sampler none(SamplingParams{.temperature = 0});
  CHECK(none.Sample(logits, seen) == 0);
  // A negative seen logit gets more negative under the repetition penalty.
  std::vector<float> neg = {-1.0f, -1.1f};
  Sampler rep2(SamplingParams{.temperature = 0, .repetition_penalty = 1.2f});
  std::vector<int32_t> seen0 = {0};
  CHECK(rep2.Sample(neg, seen0) == 1);
}
