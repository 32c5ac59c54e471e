// Flags shared by the verbs that run a model (model logits, model generate).
#pragma once

#include <string>

#include "runtime/engine/weights/safetensors.h"

namespace warden::cli {

// --kv-dtype f32|bf16|fp8 (CLI11 has already checked the value) → the KV cache storage type.
inline engine::DType KvDtypeFromFlag(const std::string& flag) {
  if (flag == "bf16") return engine::DType::kBF16;
  if (flag == "fp8") return engine::DType::kF8E4M3;
  return engine::DType::kF32;
}

}  // namespace warden::cli
