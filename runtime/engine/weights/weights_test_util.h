// Test helpers for the weights suite: writing safetensors files and model folders, and the shared fixtures.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace warden::engine::testing {

// One tensor to write: dtype by its safetensors name, raw little-endian bytes.
struct StTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// A well-formed safetensors file holding `tensors` in the given order (offsets contiguous from 0).
std::string BuildSafetensors(const std::vector<StTensor>& tensors,
                             const std::map<std::string, std::string>& metadata = {});
// 8-byte little-endian length + `header` + `data`, with no checks (for corrupt files).
std::string RawSafetensors(const std::string& header, const std::string& data);

void WriteBytes(const std::filesystem::path& path, const std::string& bytes);
std::string ReadBytes(const std::filesystem::path& path);

// Copies every regular file of `src` into `dst` (created).
void CopyFolder(const std::filesystem::path& src, const std::filesystem::path& dst);

// Reads `path` (a safetensors file) into StTensor records in file order.
std::vector<StTensor> ReadAllTensors(const std::filesystem::path& path);

// Rewrites <dir>/model.safetensors: `edit` may change, drop (return false) or keep each tensor; `extra` is appended.
void RewriteModelSafetensors(const std::filesystem::path& dir, const std::function<bool(StTensor&)>& edit,
                             const std::vector<StTensor>& extra = {});

// Splits <dir>/model.safetensors into `shards` files plus model.safetensors.index.json (removes the original).
void ShardModel(const std::filesystem::path& dir, int shards);

// A fixture model folder, e.g. Fixture("qwen3_5-tiny-c/model-mixed"); fails the test when absent.
std::filesystem::path Fixture(const std::string& relative);

// Float32 bytes of `values`; BF16 bytes (truncation of exactly representable values).
std::string F32Bytes(const std::vector<float>& values);

}  // namespace warden::engine::testing
