// The backend interface: the only engine API that model code sees (style.md "Engine: write the model once,
// against a backend interface"; model.md §2–3 for what each op computes).
//
// A backend owns device memory: Tensors (dtype, shape, device), prepared Linear weights, KV caches. Model code
// allocates through it, uploads small host arrays, runs ops by family (norm, rope, attention, deltanet, matmul,
// elementwise, sample) and downloads results. The op names match the CPU reference functions in cpu/<family>.h,
// which stay the definition of each op; cpu/cpu_backend.cpp calls them, a CUDA backend implements the same
// entries with kernels in cuda/<family>.cu. Every op returns a Status so device errors surface at this boundary.
//
// Shapes: ops read sizes from the tensors' shapes (row-major, last dim contiguous) plus the few head counts that
// a flat shape cannot say. Inputs and outputs of ops are F32 unless stated; ids I32; positions I64.
//
// Thread safety: a Backend may be shared by several models; ops on distinct tensors may run concurrently.
// A KvCache, like the SequenceState holding it, is used by one forward call at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/weights/quant_config.h"
#include "runtime/engine/weights/safetensors.h"

namespace warden::engine {

namespace cpu {
class Sampler;
}

enum class Device { kCpu, kCuda };
std::string_view DeviceName(Device d);

// Storage behind a Tensor, made by a backend. `data()` is an address on the tensor's device: only the backend
// that made it dereferences it.
class TensorStorage {
 public:
  virtual ~TensorStorage() = default;
  virtual void* data() = 0;
  virtual size_t bytes() const = 0;
};

// A handle to a backend-owned array. Move-only; the storage is freed with the handle.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<size_t> shape, Device device, std::unique_ptr<TensorStorage> storage)
      : dtype_(dtype), shape_(std::move(shape)), device_(device), storage_(std::move(storage)) {}
  Tensor(Tensor&&) = default;
  Tensor& operator=(Tensor&&) = default;

  bool empty() const { return storage_ == nullptr; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  const std::vector<size_t>& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  size_t dim(size_t i) const { return shape_[i]; }
  size_t numel() const;
  size_t bytes() const { return numel() * DTypeSize(dtype_); }
  // "F32[3, 64]", for error messages.
  std::string Describe() const;

  // Reinterprets the same elements with another shape (metadata only). InvalidArgument if the counts differ.
  Status Reshape(std::vector<size_t> shape);

  // For backends only.
  void* raw() { return storage_ ? storage_->data() : nullptr; }
  const void* raw() const { return storage_ ? storage_->data() : nullptr; }

 private:
  DType dtype_ = DType::kF32;
  std::vector<size_t> shape_;
  Device device_ = Device::kCpu;
  std::unique_ptr<TensorStorage> storage_;
};

// A Linear's weight as the backend keeps it. Built from a ResolvedLinear (raw packed checkpoint bytes: BF16/F16/
// F32, FP8 E4M3 + scale, NVFP4 + block scales); the backend decides whether to decode on the fly, cache or upload.
// The ResolvedLinear and the Checkpoint it points into must outlive the handle.
class LinearWeightImpl {
 public:
  virtual ~LinearWeightImpl() = default;
};
class LinearWeight {
 public:
  LinearWeight() = default;
  LinearWeight(const ResolvedLinear* linear, std::unique_ptr<LinearWeightImpl> impl)
      : linear_(linear), impl_(std::move(impl)) {}
  bool empty() const { return linear_ == nullptr; }
  const ResolvedLinear& linear() const { return *linear_; }
  size_t in_features() const { return static_cast<size_t>(linear_->spec.in_features); }
  size_t out_features() const { return static_cast<size_t>(linear_->spec.out_features); }
  LinearWeightImpl* impl() const { return impl_.get(); }

 private:
  const ResolvedLinear* linear_ = nullptr;
  std::unique_ptr<LinearWeightImpl> impl_;
};

// Options of one Linear call.
struct LinearOptions {
  // W8A8 for FP8 layers with an input_scale: the input is rounded through FP8 E4M3 with the static scale
  // (ModelOpt fake quantisation), then multiplied by the FP8 weight. Ignored for other formats.
  bool fp8_activations = false;
};

// KV cache storage options (model.md §1.5). dtype: kF32 (reference), kBF16, or kF8E4M3 with scales.
struct KvCacheOptions {
  DType dtype = DType::kF32;
  size_t page_size = 16;  // positions per page
  float k_scale = 1.f;    // FP8 only: stored = k / k_scale
  float v_scale = 1.f;
};

// Paged K and V for the full-attention layers of one sequence, owned by the backend (device memory on CUDA).
// Layers are indexed 0 … num_layers−1 by the caller's own numbering of its attention layers.
class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual const KvCacheOptions& options() const = 0;
  virtual size_t memory_bytes() const = 0;
};

// M-RoPE parameters (model.md §3).
struct RopeParams {
  size_t rotary_dim = 64;                        // leading dims of each head that rotate
  double theta = 1e7;                            // rope_theta
  std::array<int, 3> mrope_section{11, 11, 10};  // frequencies taken from the t, h, w axes
  bool mrope_interleaved = true;                 // Qwen3.5/3.6 layout; false = contiguous sections
};

// Gated DeltaNet head layout (model.md §2.4): Hk key heads of Dk, Hv value heads of Dv, Hv a multiple of Hk.
struct DeltaNetDims {
  size_t num_k_heads = 0, num_v_heads = 0, k_dim = 0, v_dim = 0;
};
// Which form of the delta rule to run. They agree in exact arithmetic; HF uses the chunked form for every
// multi-token call and the recurrence for one-token decode, and the model follows it.
enum class DeltaRuleForm { kRecurrent, kChunked };

// The ops a backend can be asked about; `Supports(op, dtype)` names the dtype that matters for each (below).
enum class Op {
  kLinear,        // dtype of the weight storage: BF16/F16/F32, F8E4M3 (FP8), U8 (NVFP4)
  kEmbedding,     // dtype of the table
  kRmsNorm,       // F32
  kGatedRmsNorm,  // F32
  kL2Norm,        // F32
  kRope,          // F32
  kAttention,     // KV cache dtype: F32, BF16, F8E4M3
  kConv1d,        // F32
  kDeltaRule,     // F32
  kElementwise,   // F32
  kSample,        // F32 logits
  kVision,        // F32: LayerNorm, GELU, 2-D rotary, segment attention, row scatter
};

// The two GELU forms of the vision tower: the blocks' MLP uses the tanh approximation, the merger the exact erf.
enum class GeluForm { kTanh, kErf };
std::string_view OpName(Op op);

// How a backend is made (MakeBackend). The CPU backend ignores these.
struct BackendOptions {
  // Fraction of the GPU's total memory this process may use (vLLM's --gpu-memory-utilization), minus what other
  // processes already hold. Default 0.9. Weights, KV pages, DeltaNet states and activations all count; a higher
  // value fits longer contexts but leaves less to other processes.
  double gpu_memory_utilization = 0.9;
  // CUDA device ordinal. Default 0.
  int device = 0;
};

// A backend's memory plan and use. budget_bytes 0 = no plan (host memory, the CPU backend).
struct MemoryUsage {
  size_t used_bytes = 0;
  size_t budget_bytes = 0;
  size_t device_total_bytes = 0;
  std::string device_name;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;  // "cpu", "cuda"
  virtual Device device() const = 0;
  virtual bool Supports(Op op, DType dtype) const = 0;
  // Bytes held and the budget they are charged against.
  virtual MemoryUsage memory_usage() const { return {}; }

  // ----- memory -----
  // A zero-filled tensor. InvalidArgument for an unsupported dtype; ResourceExhausted when out of memory.
  virtual Result<Tensor> Alloc(DType dtype, std::vector<size_t> shape) = 0;
  // Copies host bytes (dtype's layout, `bytes` must equal the tensor size) into / out of a tensor.
  virtual Status Upload(Tensor& dst, const void* host, size_t bytes) = 0;
  virtual Status Download(const Tensor& src, void* host, size_t bytes) = 0;
  // Convenience wrappers.
  Result<Tensor> UploadF32(std::span<const float> host, std::vector<size_t> shape);
  Result<Tensor> UploadI32(std::span<const int32_t> host, std::vector<size_t> shape);
  Result<Tensor> UploadI64(std::span<const int64_t> host, std::vector<size_t> shape);
  Result<std::vector<float>> DownloadF32(const Tensor& src);

  // ----- matmul -----
  virtual Result<LinearWeight> PrepareLinear(const ResolvedLinear& linear) = 0;
  // A Linear of `spec`'s shape stored in `format` with reproducible random contents made on the backend (in
  // device memory on CUDA), for synthetic benchmarks without a checkpoint. Values are scaled by 1/sqrt(in) so
  // activations stay finite; the handle owns its description (no checkpoint behind it); no bias.
  virtual Result<LinearWeight> RandomLinear(const LinearSpec& spec, LinearFormat format, uint64_t seed) = 0;
  // y[T, out] = x[T, in] · Wᵀ (+ bias).
  virtual Status Linear(const LinearWeight& w, const Tensor& x, Tensor& y, const LinearOptions& options = {}) = 0;
  // out[t] = row ids[t] of the weight (an embedding table read as a Linear [vocab, hidden]). ids: I32 [T].
  virtual Status Embedding(const LinearWeight& table, const Tensor& ids, Tensor& out) = 0;

  // ----- norm -----
  // Zero-centred RMSNorm over rows of w.numel() values: y = x / rms(x) · (1 + w). y may be x.
  virtual Status ZeroCenteredRmsNorm(const Tensor& x, const Tensor& w, Tensor& y, float eps) = 0;
  // GDN output norm over rows of w.numel(): y = w · o / rms(o) · silu(z). y may be o.
  virtual Status GatedRmsNorm(const Tensor& o, const Tensor& z, const Tensor& w, Tensor& y, float eps) = 0;
  // In place, rows of `dim`: x / sqrt(Σx² + eps) · scale.
  virtual Status L2NormalizeRows(Tensor& x, size_t dim, float eps, float scale) = 0;

  // ----- rope -----
  // x: [T, heads, head_dim] (any shape whose numel is T·heads·head_dim with dim(0) = T), in place;
  // positions: I64 [3, T].
  virtual Status ApplyMrope(Tensor& x, size_t heads, const Tensor& positions, const RopeParams& p) = 0;

  // ----- attention -----
  virtual Result<std::unique_ptr<KvCache>> NewKvCache(const KvCacheOptions& options, size_t num_layers,
                                                      size_t num_kv_heads, size_t head_dim) = 0;
  // Stores k, v ([T, num_kv_heads·head_dim]) at positions [start, start + T) of layer `layer`.
  virtual Status AppendKv(KvCache& cache, size_t layer, size_t start, const Tensor& k, const Tensor& v) = 0;
  // Causal GQA attention of q ([T, Hq·D], the T newest positions ending at `length`) over the cache's first
  // `length` positions; out: [T, Hq·D]. Softmax in fp32, scale 1/sqrt(D).
  virtual Status CausalAttention(const Tensor& q, size_t num_heads, const KvCache& cache, size_t layer,
                                 size_t length, Tensor& out) = 0;

  // ----- deltanet -----
  // m: [T, C] raw in_proj_qkv rows; w: [C, K]; history: [K−1, C], updated; out: [T, C] = silu(conv).
  virtual Status CausalConv1dSilu(const Tensor& m, const Tensor& w, Tensor& history, Tensor& out) = 0;
  // beta = σ(b), g = −exp(a_log) · softplus(a + dt_bias), per [T, Hv] element (a_log, dt_bias: [Hv]).
  virtual Status DeltaNetGates(const Tensor& b, const Tensor& a, const Tensor& a_log, const Tensor& dt_bias,
                               Tensor& beta, Tensor& g) = 0;
  // q, k: [T, Hk·Dk] (normalised); v, out: [T, Hv·Dv]; g, beta: [T, Hv]; state: [Hv, Dk, Dv] in/out.
  virtual Status GatedDeltaRule(const DeltaNetDims& dims, DeltaRuleForm form, const Tensor& q, const Tensor& k,
                                const Tensor& v, const Tensor& g, const Tensor& beta, Tensor& state,
                                Tensor& out) = 0;

  // ----- elementwise -----
  // out = silu(gate) · up; out may be gate or up.
  virtual Status SiluMul(const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  // x *= σ(gate).
  virtual Status MulSigmoid(Tensor& x, const Tensor& gate) = 0;
  // acc += x.
  virtual Status Add(Tensor& acc, const Tensor& x) = 0;
  // src viewed as rows of Σ widths columns; dst[i] (rows × widths[i]) receives columns of part i. Splits
  // interleaved projections (query | gate per head, q | k | v of the DeltaNet conv).
  virtual Status SplitColumns(const Tensor& src, std::span<Tensor* const> dst) = 0;

  // ----- vision (model.md §4.2, §4.4) -----
  // The CPU backend implements all of them; a backend that does not yet (CUDA today) inherits these defaults,
  // which return Unavailable naming the op, and answers false to Supports(kVision, ...).
  // LayerNorm with weight and bias over rows of w.numel() values (biased variance). y may be x.
  virtual Status LayerNorm(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, float eps);
  // In place.
  virtual Status Gelu(Tensor& x, GeluForm form);
  // The vision tower's 2-D rotary, in place over whole heads. x: [N, heads·head_dim]; positions: I64 [2, N]
  // (patch row ids, then column ids).
  virtual Status ApplyRope2d(Tensor& x, size_t heads, const Tensor& positions, double theta);
  // Bidirectional attention within segments (one image or one video frame each; scale 1/sqrt(D), softmax in
  // fp32). q, k, v, out: [N, heads·D]; segment_ends: ascending exclusive ends, the last = N.
  virtual Status SegmentAttention(const Tensor& q, const Tensor& k, const Tensor& v, size_t heads,
                                  std::span<const int64_t> segment_ends, Tensor& out);
  // dst[rows[i]] = src[i]. dst: [T, W]; src: [n, W]; rows: I32 [n], each < T.
  virtual Status ScatterRows(Tensor& dst, const Tensor& rows, const Tensor& src);

  // ----- sample -----
  // Picks a token from row `row` of logits [rows, V] with a host-side sampler (its RNG lives on the host).
  virtual Result<int32_t> Sample(const Tensor& logits, size_t row, cpu::Sampler& sampler,
                                 std::span<const int32_t> seen) = 0;
};

// "cpu" → the CPU backend (process-wide thread pool); "cuda" → a CUDA backend on options.device when CUDA is built
// in and a device is present, else Unavailable saying which ("no CUDA device found ...", "built without CUDA").
// InvalidArgument for other names.
Result<std::shared_ptr<Backend>> MakeBackend(std::string_view name, const BackendOptions& options = {});

}  // namespace warden::engine
