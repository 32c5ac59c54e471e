// Read-only access to safetensors checkpoints: one file, or every shard named by model.safetensors.index.json.
//
// Files are memory-mapped, never copied; a TensorView points into the mapping and stays valid while the
// SafetensorsFile or Checkpoint that produced it is alive (moving them keeps the views valid). Every header is
// validated before any tensor byte is exposed (docs/model.md §2.7–2.8; the safetensors format rules): header length
// vs file size, JSON shape, dtype names, shape × dtype size == byte range, ranges inside the data section,
// contiguous and non-overlapping, unique names. A failure is Status::Corruption naming the file and the tensor.
// Nothing here dequantises: quantised tensors are exposed as their raw bytes (U8 packed FP4, F8_E4M3 ...).
// Thread safety: immutable after construction; concurrent readers are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/numeric.h"

namespace warden::engine {

// Element types of the safetensors format that Warden reads. Names in files: "BF16", "F8_E4M3", ...
enum class DType { kBF16, kF16, kF32, kF64, kF8E4M3, kU8, kI8, kI16, kI32, kI64, kBool };

std::string_view DTypeName(DType dtype);
// Bytes per element (1 for BOOL and the 8-bit types).
size_t DTypeSize(DType dtype);
// True for BF16, F16, F32, F64 (the dtypes an unquantised weight may have).
bool IsFloatDType(DType dtype);
// Parses a safetensors dtype name; InvalidArgument naming the string when unknown.
Result<DType> ParseDType(std::string_view name);

// One tensor inside a mapped file. `data` is unaligned in general: read it with memcpy.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // empty for a 0-d scalar
  const std::byte* data = nullptr;
  size_t size_bytes = 0;
  uint32_t shard = 0;  // index into Checkpoint::shard_paths() (0 for a single file)

  int64_t num_elements() const;
  std::string ShapeString() const;  // "[248320, 5120]", "[]" for a scalar
};

namespace detail {
class Mapping;  // an mmap'ed file or an owned buffer
}

// One safetensors file. Made by Open() (mmap) or FromBytes() (owns a copy; used by tests and the fuzzer).
class SafetensorsFile {
 public:
  // Maps `path` read-only and validates its header. Errors: IoError (open/stat/mmap), Corruption (format).
  static Result<SafetensorsFile> Open(const std::filesystem::path& path);
  // Validates `bytes` as a safetensors file; `label` names it in errors.
  static Result<SafetensorsFile> FromBytes(std::string bytes, std::string label);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& label() const { return label_; }
  // Tensors in the order of their byte ranges (the order the writer laid them out).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorView* Find(std::string_view name) const;
  // The "__metadata__" string map (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  size_t file_size_bytes() const;
  size_t header_size_bytes() const { return header_size_; }

 private:
  SafetensorsFile();
  static Result<SafetensorsFile> Build(std::unique_ptr<detail::Mapping> mapping, std::string label);

  std::unique_ptr<detail::Mapping> mapping_;
  std::string label_;
  size_t header_size_ = 0;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Every tensor of a checkpoint folder (or one file), looked up by name.
class Checkpoint {
 public:
  // `path` is a folder or a .safetensors file. A folder is read through model.safetensors.index.json when present
  // (every shard in its weight_map is opened and each listed tensor must be in its shard, and each shard tensor
  // must be listed), else model.safetensors, else every *.safetensors file in it (names must not repeat).
  // `on_shard(i, n, name)` is called before mapping shard i of n (for progress; may be empty).
  using ProgressFn = std::function<void(size_t index, size_t count, const std::string& name)>;
  static Result<Checkpoint> Open(const std::filesystem::path& path, ProgressFn on_shard = {});

  Checkpoint();  // empty: no shards, no tensors
  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  // All tensors sorted by name (a stable order independent of sharding).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* Find(std::string_view name) const;
  // NotFound naming the tensor.
  Result<TensorView> Get(std::string_view name) const;
  const std::vector<std::filesystem::path>& shard_paths() const { return shard_paths_; }
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  // Sum of tensor bytes over all shards.
  uint64_t total_tensor_bytes() const;

 private:
  std::vector<SafetensorsFile> shards_;
  std::vector<std::filesystem::path> shard_paths_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> index_;
};

// "[248320, 5120]"; "[]" for a scalar.
std::string ShapeToString(const std::vector<int64_t>& shape);

// Exact scalar conversions (Bf16ToFloat, F16ToFloat, F8E4M3ToFloat) live in runtime/engine/numeric.h.

// Every element of `t` converted to float (integers and BOOL numerically). F64 rounds to nearest float.
std::vector<float> ToFloat(const TensorView& t);
// Element i of `t` as double (no bounds check beyond an assert; i < num_elements()).
double ElementAsDouble(const TensorView& t, int64_t i);

}  // namespace warden::engine
