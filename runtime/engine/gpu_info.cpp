// The backend factory's device query: the one place outside cuda/ that knows whether CUDA is built in.
#include "runtime/engine/engine.h"

#ifdef WARDEN_HAS_CUDA
#include "runtime/engine/cuda/device_query.h"
#endif

namespace warden::engine {

bool IsCudaBuiltIn() {
#ifdef WARDEN_HAS_CUDA
  return true;
#else
  return false;
#endif
}

Result<std::vector<GpuInfo>> ListGpus() {
#ifdef WARDEN_HAS_CUDA
  return cuda::QueryDevices();
#else
  return Status::Unavailable("this warden was built without CUDA (rebuild with -DWARDEN_CUDA=ON on a machine with nvcc)");
#endif
}

}  // namespace warden::engine
