// libFuzzer target: arbitrary bytes as config.json, generation_config.json, preprocessor_config.json and both
// ModelOpt quantisation files. Every input must end in a value or a Status: no exception may escape, no crash.
// Seeds: the fixtures' JSON files (tests/fuzz has no corpus of its own; see docs/engine.md).
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/engine/weights/model_config.h"
#include "runtime/engine/weights/model_tensors.h"
#include "runtime/engine/weights/quant_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = warden::engine::ModelConfig::FromJson(text, "config.json");
  if (config.ok()) {
    // Listing the implied tensors must work for any accepted config (the loader caps layer counts and sizes).
    auto tensors = warden::engine::ExpectedTensors(*config, "model.language_model.", true);
    (void)tensors.linears.size();
  }
  (void)warden::engine::GenerationConfig::FromJson(text, "generation_config.json");
  (void)warden::engine::PreprocessorConfig::FromJson(text, "preprocessor_config.json");
  auto hf = warden::engine::QuantConfig::FromHfQuantConfig(text, "hf_quant_config.json");
  if (hf.ok()) (void)hf->DeclaredFormat("model.language_model.layers.0.mlp.up_proj");
  auto qc = warden::engine::QuantConfig::FromConfigJson(text, "config.json");
  if (qc.ok()) (void)qc->DeclaredFormat("model.visual.blocks.0.attn.qkv");
  return 0;
}
