// The CUDA backend: backend.h implemented with the kernels of this folder (matmul, norm, rope, attention,
// deltanet, elementwise, sample; one .cu per family), on one stream of one device. Correct first: every kernel
// mirrors its CPU reference function (cpu/<family>.cpp) and is checked against it by backend_ops_test.cpp.
//
// Memory plan: at creation the backend measures the device (cudaMemGetInfo) and takes a budget of
// gpu_memory_utilization × total memory minus what other processes already hold. Every allocation (weights,
// KV pages, DeltaNet states, activations) is charged to it; crossing it is a ResourceExhausted error that says
// how much was asked, what is in use and which flag to change. Device memory comes from the stream-ordered pool
// (cudaMallocAsync) with no release threshold, so freed activations, KV pages and state slots are reused
// without returning to the driver.
//
// Linear weights keep their checkpoint formats in device memory (BF16/F16/F32, FP8 E4M3 + scale, NVFP4 packed
// codes + E4M3 block scales + global scale) and are decoded in registers inside the matmul kernels.
#pragma once

#include <memory>
#include <string>

#include "runtime/engine/backend.h"

namespace warden::engine::cuda {

namespace detail {
struct DeviceContext;
}

class CudaBackend final : public Backend {
 public:
  // Unavailable with the reason when no device is usable ("no CUDA device found: ..."), InvalidArgument for a
  // bad option, ResourceExhausted when the budget leaves nothing.
  static Result<std::shared_ptr<CudaBackend>> Create(const BackendOptions& options);
  ~CudaBackend() override;

  std::string_view name() const override { return "cuda"; }
  Device device() const override { return Device::kCuda; }
  bool Supports(Op op, DType dtype) const override;
  MemoryUsage memory_usage() const override;
  std::string DeviceDescription() const;

  Result<Tensor> Alloc(DType dtype, std::vector<size_t> shape) override;
  Status Upload(Tensor& dst, const void* host, size_t bytes) override;
  Status Download(const Tensor& src, void* host, size_t bytes) override;

  Result<LinearWeight> PrepareLinear(const ResolvedLinear& linear) override;
  Result<LinearWeight> RandomLinear(const LinearSpec& spec, LinearFormat format, uint64_t seed) override;
  Status Linear(const LinearWeight& w, const Tensor& x, Tensor& y, const LinearOptions& options) override;
  Status Embedding(const LinearWeight& table, const Tensor& ids, Tensor& out) override;

  Status ZeroCenteredRmsNorm(const Tensor& x, const Tensor& w, Tensor& y, float eps) override;
  Status GatedRmsNorm(const Tensor& o, const Tensor& z, const Tensor& w, Tensor& y, float eps) override;
  Status L2NormalizeRows(Tensor& x, size_t dim, float eps, float scale) override;

  Status ApplyMrope(Tensor& x, size_t heads, const Tensor& positions, const RopeParams& p) override;

  Result<std::unique_ptr<KvCache>> NewKvCache(const KvCacheOptions& options, size_t num_layers, size_t num_kv_heads,
                                              size_t head_dim) override;
  Status AppendKv(KvCache& cache, size_t layer, size_t start, const Tensor& k, const Tensor& v) override;
  Status CausalAttention(const Tensor& q, size_t num_heads, const KvCache& cache, size_t layer, size_t length,
                         Tensor& out) override;

  Status CausalConv1dSilu(const Tensor& m, const Tensor& w, Tensor& history, Tensor& out) override;
  Status DeltaNetGates(const Tensor& b, const Tensor& a, const Tensor& a_log, const Tensor& dt_bias, Tensor& beta,
                       Tensor& g) override;
  Status GatedDeltaRule(const DeltaNetDims& dims, DeltaRuleForm form, const Tensor& q, const Tensor& k,
                        const Tensor& v, const Tensor& g, const Tensor& beta, Tensor& state, Tensor& out) override;

  Status SiluMul(const Tensor& gate, const Tensor& up, Tensor& out) override;
  Status MulSigmoid(Tensor& x, const Tensor& gate) override;
  Status Add(Tensor& acc, const Tensor& x) override;
  Status SplitColumns(const Tensor& src, std::span<Tensor* const> dst) override;

  Result<int32_t> Sample(const Tensor& logits, size_t row, cpu::Sampler& sampler,
                         std::span<const int32_t> seen) override;

 private:
  explicit CudaBackend(std::shared_ptr<detail::DeviceContext> ctx) : ctx_(std::move(ctx)) {}
  std::shared_ptr<detail::DeviceContext> ctx_;
};

}  // namespace warden::engine::cuda
