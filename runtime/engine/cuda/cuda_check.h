// Every CUDA runtime call goes through WARDEN_CUDA_STATUS, which turns a failure into a Status naming the call,
// the CUDA error string and file:line, at the backend boundary.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "runtime/base/status.h"

#define WARDEN_CUDA_STATUS(call)                                                                 \
  ([&]() -> ::warden::Status {                                                                   \
    cudaError_t warden_cuda_err_ = (call);                                                       \
    if (warden_cuda_err_ == cudaSuccess) return ::warden::Status::Ok();                          \
    return ::warden::Status::Unavailable(std::string(#call) + " failed: " +                      \
                                         cudaGetErrorString(warden_cuda_err_) + " at " __FILE__ \
                                         ":" + std::to_string(__LINE__));                        \
  }())
