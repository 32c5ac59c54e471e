#include "runtime/engine/cuda/cuda_check.h"
#include "runtime/engine/cuda/device_query.h"

namespace warden::engine::cuda {

Result<std::vector<GpuInfo>> QueryDevices() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    // cudaErrorNoDevice / cudaErrorInsufficientDriver are the normal answers on a machine without a GPU.
    return Status::Unavailable(std::string("no usable CUDA device: ") + cudaGetErrorString(err));
  }
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaGetDeviceProperties(&prop, i)));
    gpus.push_back(GpuInfo{i, prop.name, static_cast<uint64_t>(prop.totalGlobalMem), prop.major, prop.minor});
  }
  if (gpus.empty()) return Status::Unavailable("the CUDA runtime reports no devices");
  return gpus;
}

}  // namespace warden::engine::cuda
