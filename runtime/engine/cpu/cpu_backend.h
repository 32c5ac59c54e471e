// The CPU backend: backend.h implemented by the reference op families in this folder (norm, rope, attention,
// deltanet, matmul, elementwise, sample), in fp32 on the process-wide thread pool. Tensors live in host memory;
// Linear weights stay in the checkpoint's mapped bytes and are decoded as each Linear runs (matmul.h).
#pragma once

#include <memory>

#include "runtime/engine/backend.h"

namespace warden::engine::cpu {

class CpuBackend final : public Backend {
 public:
  // The process-wide instance (stateless apart from the shared thread pool).
  static std::shared_ptr<CpuBackend> Default();

  std::string_view name() const override { return "cpu"; }
  Device device() const override { return Device::kCpu; }
  bool Supports(Op op, DType dtype) const override;

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

  Status ApplyMrope(Tensor& x, size_t heads, const Tensor& positions, const engine::RopeParams& p) override;

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

  Status LayerNorm(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, float eps) override;
  Status Gelu(Tensor& x, GeluForm form) override;
  Status ApplyRope2d(Tensor& x, size_t heads, const Tensor& positions, double theta) override;
  Status SegmentAttention(const Tensor& q, const Tensor& k, const Tensor& v, size_t heads,
                          std::span<const int64_t> segment_ends, Tensor& out) override;
  Status ScatterRows(Tensor& dst, const Tensor& rows, const Tensor& src) override;

  Result<int32_t> Sample(const Tensor& logits, size_t row, Sampler& sampler, std::span<const int32_t> seen) override;
};

}  // namespace warden::engine::cpu
