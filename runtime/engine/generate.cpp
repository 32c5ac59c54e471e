#include "runtime/engine/generate.h"

#include <algorithm>
#include <chrono>

namespace warden::engine {

Result<GenerateResult> Generate(const Qwen35TextModel& model, SequenceState& seq, std::span<const int32_t> prompt_ids,
                                const GenerateOptions& options) {
  if (prompt_ids.empty()) return Status::InvalidArgument("the prompt is empty: give at least one token");
  if (!options.stop_strings.empty() && options.tokenizer == nullptr) {
    return Status::InvalidArgument("stop strings need the model's tokenizer (tokenizer.json in the model folder)");
  }
  using Clock = std::chrono::steady_clock;
  GenerateResult out;
  out.prompt_tokens = prompt_ids.size();
  std::vector<int32_t> seen(prompt_ids.begin(), prompt_ids.end());
  cpu::Sampler sampler(options.sampling);
  auto t0 = Clock::now();
  WARDEN_ASSIGN_OR_RETURN(ForwardResult step, options.prefill
                                                  ? options.prefill(seq, prompt_ids)
                                                  : model.Forward(seq, {.ids = prompt_ids, .all_logits = false}));
  auto t1 = Clock::now();
  out.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  out.finish_reason = "length";
  for (size_t i = 0; i < options.max_new_tokens; ++i) {
    const int32_t next = sampler.Sample(step.logits, seen);
    out.output_ids.push_back(next);
    seen.push_back(next);
    if (options.keep_step_logits) out.step_logits.insert(out.step_logits.end(), step.logits.begin(), step.logits.end());
    if (options.on_token && !options.on_token(next)) {
      out.finish_reason = "cancelled";
      break;
    }
    if (std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), next) !=
        options.stop_token_ids.end()) {
      out.finish_reason = "stop_token";
      break;
    }
    if (!options.stop_strings.empty()) {
      WARDEN_ASSIGN_OR_RETURN(std::string text, options.tokenizer->Decode(out.output_ids));
      const bool hit = std::any_of(options.stop_strings.begin(), options.stop_strings.end(),
                                   [&](const std::string& s) { return !s.empty() && text.find(s) != std::string::npos; });
      if (hit) {
        out.finish_reason = "stop_string";
        break;
      }
    }
    if (i + 1 == options.max_new_tokens) break;  // the last sampled token needs no forward pass
    WARDEN_ASSIGN_OR_RETURN(step, model.Forward(seq, {.ids = std::span<const int32_t>(&out.output_ids.back(), 1),
                                                      .all_logits = false}));
  }
  out.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return out;
}

void ApplyGenerationConfig(const GenerationConfig& config, GenerateOptions* options) {
  for (int64_t id : config.eos_token_id) options->stop_token_ids.push_back(static_cast<int32_t>(id));
  auto& s = options->sampling;
  if (config.temperature) s.temperature = static_cast<float>(*config.temperature);
  if (config.top_k) s.top_k = static_cast<int>(*config.top_k);
  if (config.top_p) s.top_p = static_cast<float>(*config.top_p);
  if (config.min_p) s.min_p = static_cast<float>(*config.min_p);
  if (config.presence_penalty) s.presence_penalty = static_cast<float>(*config.presence_penalty);
  if (config.repetition_penalty) s.repetition_penalty = static_cast<float>(*config.repetition_penalty);
  if (config.do_sample.has_value() && !*config.do_sample) s.temperature = 0.f;
  if (config.max_new_tokens) options->max_new_tokens = static_cast<size_t>(*config.max_new_tokens);
}

}  // namespace warden::engine
