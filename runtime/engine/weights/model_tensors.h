// The tensors a Qwen3.5/3.6 config implies (docs/model.md §2.8, §2.6, §4.2), and the check of a checkpoint against
// them: every required tensor present with the right shape and a dtype that fits its role, nothing unexpected.
//
// Names: the language model lives under `model.language_model.` (Qwen3_5ForConditionalGeneration) or `model.`
// (Qwen3_5ForCausalLM), the vision tower under `model.visual.`, the untied head is `lm_head.weight`, the optional
// multi-token-prediction block under `mtp.`. Linear layers are listed separately because their stored form depends
// on the quantisation format (quant_config.h resolves it); everything else is a plain float tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/weights/model_config.h"

namespace warden::engine {

class Checkpoint;

// Which part of the model a tensor belongs to (for per-part parameter and byte counts).
enum class ModelPart { kText, kVision, kMtp };
std::string_view ModelPartName(ModelPart p);  // "text", "vision", "mtp"

// One nn.Linear: `module` is its path without ".weight" (e.g. "model.language_model.layers.3.self_attn.q_proj").
struct LinearSpec {
  std::string module;
  int64_t out_features = 0;
  int64_t in_features = 0;
  bool has_bias = false;  // bias stored as "<module>.bias", always unquantised
  ModelPart part = ModelPart::kText;
};

// One non-Linear tensor (norm, embedding, conv, A_log ...). Any float dtype is accepted.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  ModelPart part = ModelPart::kText;
};

struct ModelTensors {
  std::string text_prefix;  // "model.language_model." or "model."
  std::vector<LinearSpec> linears;
  std::vector<TensorSpec> others;
  bool has_mtp = false;  // the MTP block is listed (config declares it and the checkpoint holds mtp.* tensors)

  int64_t ParameterCount() const;  // logical weights: out × in per Linear (+bias) + every other tensor
};

// The tensors `config` implies. `text_prefix` is where the language model's tensors live; `include_mtp` lists
// the MTP block (config.text.mtp_num_hidden_layers layers).
ModelTensors ExpectedTensors(const ModelConfig& config, const std::string& text_prefix, bool include_mtp);

// Picks the language-model prefix the checkpoint uses (the one holding embed_tokens.weight), defaulting to the
// prefix of config.model_type, and whether the MTP block is present.
ModelTensors ExpectedTensorsFor(const ModelConfig& config, const Checkpoint& checkpoint);

// What is wrong with a checkpoint, by tensor name.
struct TensorCheckReport {
  std::vector<std::string> missing;     // "name [shape]"
  std::vector<std::string> unexpected;  // "name [shape] dtype"
  std::vector<std::string> mis_shaped;  // "name: expected [..], got [..] DTYPE"
  bool ok() const { return missing.empty() && unexpected.empty() && mis_shaped.empty(); }
  // Corruption listing the first few of each kind, with counts; Ok when ok().
  Status ToStatus(const std::string& where) const;
};

}  // namespace warden::engine
