// Autoregressive generation on top of a text model and a sequence: prefill the prompt, then sample one token at a
// time until a stop token, a stop string or the token budget. The sequence keeps everything, so a caller can
// append the next turn and call again without recomputing the conversation.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/cpu/sample.h"
#include "runtime/engine/models/qwen3_5_text.h"
#include "runtime/engine/tokenizer/tokenizer.h"

namespace warden::engine {

struct GenerateOptions {
  size_t max_new_tokens = 256;           // budget of generated tokens
  cpu::SamplingParams sampling;          // temperature 0 = greedy
  std::vector<int32_t> stop_token_ids;   // generation ends after emitting one of these (it is kept in the output)
  std::vector<std::string> stop_strings; // ends when the decoded output contains one (needs a tokenizer)
  const Tokenizer* tokenizer = nullptr;  // for stop strings; may be null otherwise
  bool keep_step_logits = false;         // keep the logits each token was sampled from ([steps, vocab])
  // Runs the prompt instead of a plain text Forward (multimodal prompts: vision features scattered into the pad
  // rows, M-RoPE positions and the rope delta; vision/multimodal.h). Must return the last row's logits.
  std::function<Result<ForwardResult>(SequenceState& seq, std::span<const int32_t> prompt_ids)> prefill;
  // Called after each generated token; returning false stops generation (finish_reason "cancelled").
  std::function<bool(int32_t token)> on_token;
};

struct GenerateResult {
  std::vector<int32_t> output_ids;
  std::vector<float> step_logits;        // [output_ids.size(), vocab] when keep_step_logits
  std::string finish_reason;             // "stop_token", "stop_string", "length" or "cancelled"
  size_t prompt_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

// Feeds `prompt_ids` into `seq` (which may already hold earlier turns) and generates. The penalties see the
// prompt and everything generated.
Result<GenerateResult> Generate(const Qwen35TextModel& model, SequenceState& seq, std::span<const int32_t> prompt_ids,
                                const GenerateOptions& options);

// Sampling defaults and stop ids from generation_config.json (absent fields keep SamplingParams' defaults;
// do_sample false means greedy).
void ApplyGenerationConfig(const GenerationConfig& config, GenerateOptions* options);

}  // namespace warden::engine
