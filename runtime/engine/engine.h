// Public interface of Warden's in-process model engine.
//
// The engine reads Hugging Face checkpoints (safetensors, configs, ModelOpt FP8/NVFP4), tokenizes, renders chat
// templates, runs the Qwen3.5/3.6 forward pass on a CPU or CUDA backend and parses model output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace warden::engine {

// One CUDA device as the CUDA runtime reports it.
struct GpuInfo {
  int index = 0;
  std::string name;
  uint64_t total_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
};

// True when this binary was built with the CUDA backend.
bool IsCudaBuiltIn();

// The GPUs the CUDA runtime sees. Unavailable (never a crash) when CUDA is not built in, no driver is
// loaded or no device is present; the message says which.
Result<std::vector<GpuInfo>> ListGpus();

}  // namespace warden::engine
