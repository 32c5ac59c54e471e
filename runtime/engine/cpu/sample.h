// CPU sampling from one row of logits: greedy, temperature, top-k, top-p, min-p, presence and repetition
// penalties, seeded so a run can be repeated exactly.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace warden::engine::cpu {

struct SamplingParams {
  float temperature = 1.0f;         // 0 = greedy (argmax; ties go to the lowest id)
  int top_k = 0;                    // keep the k most likely tokens; 0 = off
  float top_p = 1.0f;               // keep the smallest set whose probability reaches top_p; 1 = off
  float min_p = 0.0f;               // drop tokens below min_p × the top probability; 0 = off
  float presence_penalty = 0.0f;    // subtracted once from the logit of every token already generated
  float repetition_penalty = 1.0f;  // >1 discourages seen tokens: positive logits divided, negative multiplied
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

  // Picks the next token. `seen` lists the tokens the penalties apply to (prompt and output so far).
  // The logits are copied, not changed.
  int32_t Sample(std::span<const float> logits, std::span<const int32_t> seen);

  // A backend may pick greedy tokens itself (on the device) when these say no randomness or penalty applies.
  const SamplingParams& params() const { return params_; }

 private:
  double Uniform();  // [0, 1), the same sequence on every platform for a given seed

  SamplingParams params_;
  std::mt19937_64 rng_;
};

}  // namespace warden::engine::cpu
