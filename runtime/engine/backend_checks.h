// The shape checks that every Backend runs before an op (backend.h says what each op takes), shared so the CPU and
// CUDA backends reject the same calls with the same message; each backend keeps its own dtype/device check and
// does only its own work after these. Internal to the engine: model code never includes this.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/engine/backend.h"

namespace warden::engine::detail {

// The dtypes each op family takes in both backends (a backend may refuse a family outright before asking this).
inline bool SupportsDtype(Op op, DType dtype) {
  switch (op) {
    case Op::kLinear:
    case Op::kEmbedding:
      return dtype == DType::kBF16 || dtype == DType::kF16 || dtype == DType::kF32 || dtype == DType::kF8E4M3 ||
             dtype == DType::kU8;
    case Op::kAttention:
      return dtype == DType::kF32 || dtype == DType::kBF16 || dtype == DType::kF8E4M3;
    default:
      return dtype == DType::kF32;
  }
}

// The dtypes a backend can hold in a tensor.
inline Status CheckAllocDtype(std::string_view backend, DType dtype) {
  if (dtype != DType::kF32 && dtype != DType::kBF16 && dtype != DType::kF8E4M3 && dtype != DType::kI32 &&
      dtype != DType::kI64 && dtype != DType::kF16 && dtype != DType::kU8) {
    return Status::InvalidArgument(std::string(backend) + " backend cannot hold " + std::string(DTypeName(dtype)) +
                                   " tensors");
  }
  return Status::Ok();
}

// "<backend> backend <op>: <what>", the wording of every shape error of a backend.
inline Status ShapeError(std::string_view backend, std::string_view op, const std::string& what) {
  return Status::InvalidArgument(std::string(backend) + " backend " + std::string(op) + ": " + what);
}

// `dtype_supported`: whether the backend Supports(Op::kAttention, options.dtype).
inline Status CheckKvCacheOptions(std::string_view backend, const KvCacheOptions& options, bool dtype_supported) {
  if (!dtype_supported) {
    return Status::InvalidArgument(std::string(backend) + " backend: KV cache dtype " +
                                   std::string(DTypeName(options.dtype)) + " is not supported (F32, BF16, F8_E4M3)");
  }
  if (options.page_size == 0) {
    return Status::InvalidArgument(std::string(backend) + " backend: KV page_size must be positive");
  }
  return Status::Ok();
}

// The head dim D the rope runs over. `positions_here`: whether the positions tensor is on the backend's device
// (the CPU backend reads any host tensor and passes true).
inline Result<size_t> CheckMrope(std::string_view backend, const Tensor& x, size_t heads, const Tensor& positions,
                                 const RopeParams& p, bool positions_here) {
  const size_t T = x.rank() ? x.dim(0) : 0;
  if (!(heads > 0 && T > 0 && x.numel() % (T * heads) == 0 && positions.dtype() == DType::kI64 && positions_here &&
        positions.numel() == 3 * T)) {
    return ShapeError(backend, "rope",
                      "x " + x.Describe() + " with " + std::to_string(heads) + " heads, positions " +
                          positions.Describe());
  }
  const size_t D = x.numel() / (T * heads);
  if (!(p.rotary_dim <= D && p.rotary_dim % 2 == 0)) {
    return ShapeError(backend, "rope",
                      "rotary_dim " + std::to_string(p.rotary_dim) + " for head_dim " + std::to_string(D));
  }
  return D;
}

inline Status CheckZeroCenteredRmsNorm(std::string_view backend, const Tensor& x, const Tensor& w, const Tensor& y) {
  const size_t dim = w.numel();
  if (dim > 0 && x.numel() % dim == 0 && y.numel() == x.numel()) return Status::Ok();
  return ShapeError(backend, "rms_norm", "x " + x.Describe() + ", w " + w.Describe() + ", y " + y.Describe());
}

inline Status CheckGatedRmsNorm(std::string_view backend, const Tensor& o, const Tensor& z, const Tensor& w,
                                const Tensor& y) {
  const size_t dim = w.numel();
  if (dim > 0 && o.numel() % dim == 0 && z.numel() == o.numel() && y.numel() == o.numel()) return Status::Ok();
  return ShapeError(backend, "gated_rms_norm",
                    "o " + o.Describe() + ", z " + z.Describe() + ", w " + w.Describe() + ", y " + y.Describe());
}

inline Status CheckL2NormalizeRows(std::string_view backend, const Tensor& x, size_t dim) {
  if (dim > 0 && x.numel() % dim == 0) return Status::Ok();
  return ShapeError(backend, "l2_norm", x.Describe() + " in rows of " + std::to_string(dim));
}

inline Status CheckDeltaNetGates(std::string_view backend, const Tensor& b, const Tensor& a, const Tensor& a_log,
                                 const Tensor& dt_bias, const Tensor& beta, const Tensor& g) {
  const size_t Hv = a_log.numel(), n = b.numel();
  if (Hv > 0 && dt_bias.numel() == Hv && n % Hv == 0 && a.numel() == n && beta.numel() == n && g.numel() == n) {
    return Status::Ok();
  }
  return ShapeError(backend, "deltanet_gates",
                    "b " + b.Describe() + ", a " + a.Describe() + ", A_log " + a_log.Describe());
}

// The number of tokens T the delta rule runs over.
inline Result<size_t> CheckGatedDeltaRule(std::string_view backend, const DeltaNetDims& d, const Tensor& q,
                                          const Tensor& k, const Tensor& v, const Tensor& g, const Tensor& beta,
                                          const Tensor& state, const Tensor& out) {
  const size_t kw = d.num_k_heads * d.k_dim, vw = d.num_v_heads * d.v_dim;
  const size_t T = kw ? q.numel() / kw : 0;
  if (d.num_k_heads > 0 && d.num_v_heads % d.num_k_heads == 0 && q.numel() == T * kw && k.numel() == T * kw &&
      v.numel() == T * vw && out.numel() == T * vw && g.numel() == T * d.num_v_heads &&
      beta.numel() == T * d.num_v_heads && state.numel() == d.num_v_heads * d.k_dim * d.v_dim) {
    return T;
  }
  return ShapeError(backend, "delta_rule", "q " + q.Describe() + ", v " + v.Describe() + ", state " + state.Describe());
}

inline Status CheckSiluMul(std::string_view backend, const Tensor& gate, const Tensor& up, const Tensor& out) {
  if (up.numel() == gate.numel() && out.numel() == gate.numel()) return Status::Ok();
  return ShapeError(backend, "silu_mul", gate.Describe() + " · " + up.Describe());
}

inline Status CheckMulSigmoid(std::string_view backend, const Tensor& x, const Tensor& gate) {
  if (x.numel() == gate.numel()) return Status::Ok();
  return ShapeError(backend, "mul_sigmoid", x.Describe() + " · σ(" + gate.Describe() + ")");
}

inline Status CheckAdd(std::string_view backend, const Tensor& acc, const Tensor& x) {
  if (acc.numel() == x.numel()) return Status::Ok();
  return ShapeError(backend, "add", acc.Describe() + " + " + x.Describe());
}

// How SplitColumns cuts `src`: rows shared by every part, each part's width, and their sum (src's row width).
struct ColumnSplit {
  size_t rows = 0, total = 0;
  std::vector<size_t> widths;
};

inline Result<ColumnSplit> CheckSplitColumns(std::string_view backend, const Tensor& src,
                                             std::span<Tensor* const> dst) {
  ColumnSplit s;
  if (!dst.empty()) s.rows = dst[0]->rank() ? dst[0]->dim(0) : 0;
  for (Tensor* t : dst) {
    const size_t w = s.rows ? t->numel() / s.rows : 0;
    if (w == 0 || t->numel() != s.rows * w) {
      return ShapeError(backend, "split_columns", "parts must share their first dim, got " + t->Describe());
    }
    s.widths.push_back(w);
    s.total += w;
  }
  if (dst.empty() || src.numel() != s.rows * s.total) {
    return ShapeError(backend, "split_columns",
                      src.Describe() + " into " + std::to_string(dst.size()) + " parts of " + std::to_string(s.total) +
                          " columns");
  }
  return s;
}

}  // namespace warden::engine::detail
