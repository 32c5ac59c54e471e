// Launcher of the sample family on the GPU: greedy selection without copying the logits to the host (twin of
// the temperature-0 path of cpu/sample.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace warden::engine::cuda {

// *result = argmax of logits[0, V); ties go to the lowest id (std::max_element's rule).
cudaError_t LaunchArgmax(const float* logits, size_t V, int32_t* result, cudaStream_t stream);

}  // namespace warden::engine::cuda
