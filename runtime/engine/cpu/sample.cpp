// Order of the transforms (as vLLM and transformers apply them): penalties on raw logits, then temperature,
// then top-k, top-p and min-p on the resulting distribution, then one draw.
#include "runtime/engine/cpu/sample.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>
#include <vector>

namespace warden::engine::cpu {

double Sampler::Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::Sample(std::span<const float> logits_in, std::span<const int32_t> seen) {
  std::vector<float> logits(logits_in.begin(), logits_in.end());
  const size_t V = logits.size();
  if (params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f) {
    std::unordered_set<int32_t> unique(seen.begin(), seen.end());
    for (int32_t id : unique) {
      if (id < 0 || static_cast<size_t>(id) >= V) continue;
      float& l = logits[static_cast<size_t>(id)];
      if (params_.repetition_penalty != 1.0f) l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
      l -= params_.presence_penalty;
    }
  }
  if (params_.temperature <= 0.0f) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates sorted by logit, highest first (stable: ties keep the lower id first).
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  size_t keep = V;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < V) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  } else {
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  }
  std::vector<double> prob(keep);
  const double mx = logits[order[0]] / params_.temperature;
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += (prob[i] = std::exp(logits[order[i]] / params_.temperature - mx));
  for (auto& p : prob) p /= sum;
  if (params_.top_p < 1.0f) {
    double cum = 0;
    size_t n = 0;
    while (n < keep && cum < params_.top_p) cum += prob[n++];
    keep = std::max<size_t>(1, n);
  }
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * prob[0];
    size_t n = 0;
    while (n < keep && prob[n] >= floor) ++n;
    keep = std::max<size_t>(1, n);
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += prob[i];
  double r = Uniform() * total;
  for (size_t i = 0; i < keep; ++i) {
    r -= prob[i];
    if (r < 0) return order[i];
  }
  return order[keep - 1];
}

}  // namespace warden::engine::cpu
