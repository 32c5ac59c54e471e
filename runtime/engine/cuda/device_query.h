// Lists CUDA devices through the runtime API. Never crashes without a driver or GPU: returns Unavailable.
#pragma once

#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/engine.h"

namespace warden::engine::cuda {

Result<std::vector<GpuInfo>> QueryDevices();

}  // namespace warden::engine::cuda
