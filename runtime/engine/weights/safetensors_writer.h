// Writes safetensors files (outputs of `warden model logits` and friends). The header is padded with spaces to a
// multiple of 8 bytes, as the reference writer does, so every tensor's data starts aligned; tensors are laid out
// in the order given. The file is replaced atomically: a failed write leaves the old file untouched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/engine/weights/safetensors.h"

namespace warden::engine {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // empty for a scalar
  std::string bytes;           // little-endian, shape × dtype size bytes
};

// Builds the file's bytes. InvalidArgument when a tensor's byte count does not match its shape and dtype, or a
// name repeats.
Result<std::string> EncodeSafetensors(const std::vector<TensorToWrite>& tensors,
                                      const std::map<std::string, std::string>& metadata = {});

Status WriteSafetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

// Helpers to fill TensorToWrite::bytes from host arrays.
std::string BytesOf(const std::vector<float>& v);
std::string BytesOf(const std::vector<int32_t>& v);

}  // namespace warden::engine
