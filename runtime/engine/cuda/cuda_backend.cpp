// CudaBackend: checks shapes at the backend boundary (the same checks and messages as cpu_backend.cpp), charges
// every allocation to the memory budget, then launches the kernel of each family on the backend's stream.
// Launch and runtime errors become Statuses here (cuda_check.h); asynchronous kernel faults surface at the next
// Download, which synchronises the stream.
#include "runtime/engine/cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>

#include "runtime/engine/backend_checks.h"
#include "runtime/engine/cpu/sample.h"
#include "runtime/engine/cuda/attention.cuh"
#include "runtime/engine/cuda/cuda_check.h"
#include "runtime/engine/cuda/deltanet.cuh"
#include "runtime/engine/cuda/elementwise.cuh"
#include "runtime/engine/cuda/matmul.cuh"
#include "runtime/engine/cuda/norm.cuh"
#include "runtime/engine/cuda/rope.cuh"
#include "runtime/engine/cuda/sample.cuh"

namespace warden::engine::cuda {

namespace detail {

// The device, its stream and the budget, shared by the backend and every buffer it made, so buffers may outlive
// the backend object.
struct DeviceContext {
  int device = 0;
  std::string device_name;
  size_t total_bytes = 0;
  double utilization = 0.9;
  size_t budget_bytes = 0;
  std::atomic<size_t> used_bytes{0};
  cudaStream_t stream = nullptr;

  ~DeviceContext() {
    if (stream != nullptr) {
      cudaSetDevice(device);
      cudaStreamSynchronize(stream);
      cudaStreamDestroy(stream);
    }
  }

  Status Enter() const { return WARDEN_CUDA_STATUS(cudaSetDevice(device)); }

  std::string BudgetText() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%.2f GiB in use of a %.2f GiB budget (--gpu-memory-utilization %.2f of %.2f GiB on %s)",
                  static_cast<double>(used_bytes.load()) / (1u << 30), static_cast<double>(budget_bytes) / (1u << 30),
                  utilization, static_cast<double>(total_bytes) / (1u << 30), device_name.c_str());
    return buf;
  }
};

}  // namespace detail

namespace {

using detail::DeviceContext;

double Gib(size_t bytes) { return static_cast<double>(bytes) / (1u << 30); }

// Device memory charged to the budget, freed in stream order.
class DeviceStorage final : public TensorStorage {
 public:
  static Result<std::unique_ptr<DeviceStorage>> Make(const std::shared_ptr<DeviceContext>& ctx, size_t bytes,
                                                     const std::string& what) {
    const size_t used = ctx->used_bytes.fetch_add(bytes) + bytes;
    if (used > ctx->budget_bytes) {
      ctx->used_bytes.fetch_sub(bytes);
      char buf[128];
      std::snprintf(buf, sizeof buf, "%.3f GiB", Gib(bytes));
      return Status::ResourceExhausted("cuda backend: " + what + " needs " + buf + " more than the memory plan allows: " +
                                       ctx->BudgetText() +
                                       "; use a smaller or more quantised model, a shorter context, an FP8 KV cache "
                                       "or a higher --gpu-memory-utilization");
    }
    void* ptr = nullptr;
    if (bytes > 0) {
      cudaError_t err = cudaMallocAsync(&ptr, bytes, ctx->stream);
      if (err == cudaSuccess) err = cudaMemsetAsync(ptr, 0, bytes, ctx->stream);
      if (err != cudaSuccess) {
        ctx->used_bytes.fetch_sub(bytes);
        if (ptr != nullptr) cudaFreeAsync(ptr, ctx->stream);
        cudaGetLastError();  // an allocation failure is not sticky; clear it for the next call
        return Status::ResourceExhausted("cuda backend: allocating " + std::to_string(bytes) + " bytes for " + what +
                                         " failed (" + cudaGetErrorString(err) + "); " + ctx->BudgetText() +
                                         "; lower --gpu-memory-utilization if another process shares the GPU");
      }
    }
    return std::unique_ptr<DeviceStorage>(new DeviceStorage(ctx, ptr, bytes));
  }
  ~DeviceStorage() override {
    if (ptr_ != nullptr) {
      cudaSetDevice(ctx_->device);
      cudaFreeAsync(ptr_, ctx_->stream);
    }
    ctx_->used_bytes.fetch_sub(bytes_);
  }
  void* data() override { return ptr_; }
  size_t bytes() const override { return bytes_; }

 private:
  DeviceStorage(std::shared_ptr<DeviceContext> ctx, void* ptr, size_t bytes)
      : ctx_(std::move(ctx)), ptr_(ptr), bytes_(bytes) {}
  std::shared_ptr<DeviceContext> ctx_;
  void* ptr_;
  size_t bytes_;
};

float* F(Tensor& t) { return static_cast<float*>(t.raw()); }
const float* F(const Tensor& t) { return static_cast<const float*>(t.raw()); }

#define WARDEN_CUDA_EXPECT(ok, op, what)                                                            \
  do {                                                                                              \
    if (!(ok)) return Status::InvalidArgument("cuda backend " + std::string(op) + ": " + (what)); \
  } while (0)

// A kernel launch: the launcher's error with the op's name.
#define WARDEN_CUDA_LAUNCH(op, call)                                                                          \
  do {                                                                                                        \
    const cudaError_t warden_launch_err_ = (call);                                                            \
    if (warden_launch_err_ != cudaSuccess) {                                                                  \
      return Status::Internal("cuda backend " + std::string(op) + ": kernel launch failed: " +              \
                              cudaGetErrorString(warden_launch_err_) + " at " __FILE__ ":" +                  \
                              std::to_string(__LINE__));                                                     \
    }                                                                                                         \
  } while (0)

Status ExpectF32(std::string_view op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts) {
    if (t->empty() || t->dtype() != DType::kF32 || t->device() != Device::kCuda) {
      return Status::InvalidArgument("cuda backend " + std::string(op) + ": expected an F32 cuda tensor, got " +
                                     (t->empty() ? std::string("an empty handle")
                                                 : t->Describe() + " on " + std::string(DeviceName(t->device()))));
    }
  }
  return Status::Ok();
}

// A prepared Linear: the checkpoint bytes in device memory and the kernel's view of them.
class CudaLinear final : public LinearWeightImpl {
 public:
  ResolvedLinear resolved;  // RandomLinear's own description (PrepareLinear points at the caller's)
  std::unique_ptr<DeviceStorage> weight, block_scales, bias;
  WeightArgs args;
  float input_scale = 0.f;  // W8A8 static activation scale; 0 = none
};

Result<float> ScalarOf(const TensorView* t, const std::string& module, const char* field) {
  if (t == nullptr || t->num_elements() < 1) {
    return Status::Corruption("Linear \"" + module + "\" has no " + field + " scalar");
  }
  return static_cast<float>(ElementAsDouble(*t, 0));
}

// Pages of K and V for every layer in device memory, plus a device table of page addresses per layer that the
// kernels read.
class CudaKvCache final : public KvCache {
 public:
  CudaKvCache(std::shared_ptr<DeviceContext> ctx, const KvCacheOptions& o, size_t layers, size_t kv_heads,
              size_t head_dim)
      : ctx_(std::move(ctx)), options_(o), layers_(layers), kv_heads_(kv_heads), head_dim_(head_dim) {}
  const KvCacheOptions& options() const override { return options_; }
  size_t memory_bytes() const override {
    size_t total = 0;
    for (const auto& L : layers_) total += (L.k_pages.size() + L.v_pages.size()) * PageBytes();
    return total;
  }
  size_t width() const { return kv_heads_ * head_dim_; }
  size_t PageBytes() const { return options_.page_size * width() * DTypeSize(options_.dtype); }

  struct Layer {
    std::vector<std::unique_ptr<DeviceStorage>> k_pages, v_pages;
    std::vector<void*> k_ptrs, v_ptrs;                // host copies of the tables
    std::unique_ptr<DeviceStorage> k_table, v_table;  // device tables, capacity = table_capacity
    size_t table_capacity = 0;
  };

  // Makes sure pages cover positions [0, end) of `layer` and the device tables list them.
  Status Reserve(size_t layer, size_t end) {
    Layer& L = layers_[layer];
    const size_t pages = (end + options_.page_size - 1) / options_.page_size;
    if (pages <= L.k_pages.size()) return Status::Ok();
    while (L.k_pages.size() < pages) {
      WARDEN_ASSIGN_OR_RETURN(auto k, DeviceStorage::Make(ctx_, PageBytes(), "a KV cache page"));
      WARDEN_ASSIGN_OR_RETURN(auto v, DeviceStorage::Make(ctx_, PageBytes(), "a KV cache page"));
      L.k_ptrs.push_back(k->data());
      L.v_ptrs.push_back(v->data());
      L.k_pages.push_back(std::move(k));
      L.v_pages.push_back(std::move(v));
    }
    if (L.table_capacity < pages) {
      const size_t capacity = std::max<size_t>(16, 2 * pages);
      WARDEN_ASSIGN_OR_RETURN(L.k_table, DeviceStorage::Make(ctx_, capacity * sizeof(void*), "a KV page table"));
      WARDEN_ASSIGN_OR_RETURN(L.v_table, DeviceStorage::Make(ctx_, capacity * sizeof(void*), "a KV page table"));
      L.table_capacity = capacity;
    }
    // Pageable host memory: the copy is staged before the call returns, so the vectors may change afterwards.
    WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaMemcpyAsync(L.k_table->data(), L.k_ptrs.data(),
                                                              pages * sizeof(void*), cudaMemcpyHostToDevice,
                                                              ctx_->stream)));
    return WARDEN_CUDA_STATUS(cudaMemcpyAsync(L.v_table->data(), L.v_ptrs.data(), pages * sizeof(void*),
                                              cudaMemcpyHostToDevice, ctx_->stream));
  }

  KvLayerArgs Args(size_t layer) const {
    const Layer& L = layers_[layer];
    KvLayerArgs a;
    a.k_pages = L.k_table ? static_cast<void* const*>(L.k_table->data()) : nullptr;
    a.v_pages = L.v_table ? static_cast<void* const*>(L.v_table->data()) : nullptr;
    a.page_size = options_.page_size;
    a.num_kv_heads = kv_heads_;
    a.head_dim = head_dim_;
    a.storage = options_.dtype == DType::kBF16     ? KvStorage::kBF16
                : options_.dtype == DType::kF8E4M3 ? KvStorage::kFP8E4M3
                                                   : KvStorage::kF32;
    a.k_scale = options_.k_scale;
    a.v_scale = options_.v_scale;
    return a;
  }

  std::shared_ptr<DeviceContext> ctx_;
  KvCacheOptions options_;
  std::vector<Layer> layers_;
  size_t kv_heads_, head_dim_;
};

// splitmix64 of (seed, index), the host twin of elementwise.cu's Mix: the same synthetic weights on every backend.
uint64_t SeedFor(uint64_t seed, const std::string& module) {
  uint64_t h = seed ^ 0xcbf29ce484222325ull;
  for (unsigned char c : module) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

// ----- creation -----

Result<std::shared_ptr<CudaBackend>> CudaBackend::Create(const BackendOptions& options) {
  if (!(options.gpu_memory_utilization > 0.0 && options.gpu_memory_utilization <= 1.0)) {
    return Status::InvalidArgument("--gpu-memory-utilization must be in (0, 1], got " +
                                   std::to_string(options.gpu_memory_utilization));
  }
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    cudaGetLastError();
    return Status::Unavailable(std::string("no CUDA device found (") +
                               (err != cudaSuccess ? cudaGetErrorString(err) : "the runtime reports 0 devices") +
                               "); the CUDA backend needs an NVIDIA GPU (sm_90: H100/H200) and its driver");
  }
  if (options.device < 0 || options.device >= count) {
    return Status::InvalidArgument("CUDA device " + std::to_string(options.device) + " does not exist (" +
                                   std::to_string(count) + " found)");
  }
  auto ctx = std::make_shared<DeviceContext>();
  ctx->device = options.device;
  ctx->utilization = options.gpu_memory_utilization;
  WARDEN_RETURN_IF_ERROR(ctx->Enter());
  cudaDeviceProp prop{};
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaGetDeviceProperties(&prop, ctx->device)));
  ctx->device_name = prop.name;
  if (prop.major < 9) {
    return Status::Unavailable("CUDA device " + std::to_string(ctx->device) + " (" + ctx->device_name +
                               ") has compute capability " + std::to_string(prop.major) + "." +
                               std::to_string(prop.minor) + "; this build targets sm_90a (H100/H200)");
  }
  size_t free_bytes = 0, total_bytes = 0;
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaMemGetInfo(&free_bytes, &total_bytes)));
  ctx->total_bytes = total_bytes;
  // vLLM's rule: this process may use utilization × total, minus what others already hold.
  const double allowed = options.gpu_memory_utilization * static_cast<double>(total_bytes);
  const double others = static_cast<double>(total_bytes - free_bytes);
  if (allowed <= others) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "GPU %d (%s): --gpu-memory-utilization %.2f allows %.2f GiB but %.2f GiB of %.2f GiB are already in "
                  "use by other processes; raise the flag or free the GPU",
                  ctx->device, ctx->device_name.c_str(), options.gpu_memory_utilization, allowed / (1u << 30),
                  others / (1u << 30), Gib(total_bytes));
    return Status::ResourceExhausted(buf);
  }
  ctx->budget_bytes = static_cast<size_t>(allowed - others);
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking)));
  // Keep freed blocks in the pool: activations are freed and re-made on every forward call.
  cudaMemPool_t pool = nullptr;
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaDeviceGetDefaultMemPool(&pool, ctx->device)));
  uint64_t threshold = UINT64_MAX;
  WARDEN_RETURN_IF_ERROR(
      WARDEN_CUDA_STATUS(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold)));
  return std::shared_ptr<CudaBackend>(new CudaBackend(std::move(ctx)));
}

CudaBackend::~CudaBackend() = default;

std::string CudaBackend::DeviceDescription() const { return ctx_->device_name; }

MemoryUsage CudaBackend::memory_usage() const {
  return {ctx_->used_bytes.load(), ctx_->budget_bytes, ctx_->total_bytes, ctx_->device_name};
}

bool CudaBackend::Supports(Op op, DType dtype) const {
  // The vision ops (LayerNorm, Gelu, 2-D rope, segment attention, scatter) are CPU-only so far.
  if (op == Op::kVision) return false;
  return engine::detail::SupportsDtype(op, dtype);
}

// ----- memory -----

Result<Tensor> CudaBackend::Alloc(DType dtype, std::vector<size_t> shape) {
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckAllocDtype("cuda", dtype));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  size_t n = 1;
  for (size_t d : shape) n *= d;
  Tensor probe(dtype, shape, Device::kCuda, nullptr);
  WARDEN_ASSIGN_OR_RETURN(auto storage, DeviceStorage::Make(ctx_, n * DTypeSize(dtype), "tensor " + probe.Describe()));
  return Tensor(dtype, std::move(shape), Device::kCuda, std::move(storage));
}

Status CudaBackend::Upload(Tensor& dst, const void* host, size_t bytes) {
  WARDEN_CUDA_EXPECT(!dst.empty() && dst.device() == Device::kCuda && bytes == dst.bytes(), "upload",
                     std::to_string(bytes) + " bytes into " + dst.Describe());
  if (bytes == 0) return Status::Ok();
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  return WARDEN_CUDA_STATUS(cudaMemcpyAsync(dst.raw(), host, bytes, cudaMemcpyHostToDevice, ctx_->stream));
}

Status CudaBackend::Download(const Tensor& src, void* host, size_t bytes) {
  WARDEN_CUDA_EXPECT(!src.empty() && src.device() == Device::kCuda && bytes == src.bytes(), "download",
                     src.Describe() + " into " + std::to_string(bytes) + " bytes");
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  if (bytes > 0) {
    WARDEN_RETURN_IF_ERROR(
        WARDEN_CUDA_STATUS(cudaMemcpyAsync(host, src.raw(), bytes, cudaMemcpyDeviceToHost, ctx_->stream)));
  }
  // Also where a fault of any earlier kernel on the stream is reported.
  return WARDEN_CUDA_STATUS(cudaStreamSynchronize(ctx_->stream));
}

// ----- matmul -----

namespace {

Result<WeightFormat> FormatOf(const ResolvedLinear& L) {
  switch (L.format) {
    case LinearFormat::kBF16:
      if (L.weight->dtype == DType::kBF16) return WeightFormat::kBF16;
      if (L.weight->dtype == DType::kF16) return WeightFormat::kF16;
      if (L.weight->dtype == DType::kF32) return WeightFormat::kF32;
      break;
    case LinearFormat::kFP8:
      if (L.weight->dtype == DType::kF8E4M3) return WeightFormat::kFP8;
      break;
    case LinearFormat::kNVFP4:
    case LinearFormat::kW4A16NVFP4:
      if (L.weight->dtype == DType::kU8) return WeightFormat::kNVFP4;
      break;
  }
  return Status::InvalidArgument("Linear \"" + L.spec.module + "\": the cuda backend cannot read " +
                                 std::string(DTypeName(L.weight->dtype)) + " weights declared " +
                                 std::string(LinearFormatName(L.format)));
}

Result<std::unique_ptr<DeviceStorage>> UploadBytes(const std::shared_ptr<DeviceContext>& ctx, const void* host,
                                                   size_t bytes, const std::string& what) {
  WARDEN_ASSIGN_OR_RETURN(auto s, DeviceStorage::Make(ctx, bytes, what));
  if (bytes > 0) {
    WARDEN_RETURN_IF_ERROR(
        WARDEN_CUDA_STATUS(cudaMemcpyAsync(s->data(), host, bytes, cudaMemcpyHostToDevice, ctx->stream)));
  }
  return s;
}

}  // namespace

Result<LinearWeight> CudaBackend::PrepareLinear(const ResolvedLinear& L) {
  if (L.weight == nullptr) return Status::InvalidArgument("Linear \"" + L.spec.module + "\" has no weight tensor");
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_ASSIGN_OR_RETURN(WeightFormat format, FormatOf(L));
  auto impl = std::make_unique<CudaLinear>();
  const size_t out = static_cast<size_t>(L.spec.out_features), in = static_cast<size_t>(L.spec.in_features);
  WeightArgs& a = impl->args;
  a.format = format;
  a.out = out;
  a.in = in;
  size_t expect_bytes = out * in * DTypeSize(L.weight->dtype);
  if (format == WeightFormat::kNVFP4) {
    if (in % 16 != 0) {
      return Status::InvalidArgument("Linear \"" + L.spec.module + "\": NVFP4 needs in_features divisible by 16, got " +
                                     std::to_string(in));
    }
    expect_bytes = out * in / 2;
    if (L.weight_scale == nullptr || L.weight_scale->size_bytes != out * in / 16) {
      return Status::Corruption("Linear \"" + L.spec.module + "\": NVFP4 weight_scale must hold " +
                                std::to_string(out * in / 16) + " E4M3 block scales");
    }
    WARDEN_ASSIGN_OR_RETURN(a.scale, ScalarOf(L.weight_scale_2, L.spec.module, "weight_scale_2"));
    WARDEN_ASSIGN_OR_RETURN(impl->block_scales, UploadBytes(ctx_, L.weight_scale->data, L.weight_scale->size_bytes,
                                                            "block scales of " + L.spec.module));
    a.block_scales = static_cast<const uint8_t*>(impl->block_scales->data());
  } else if (format == WeightFormat::kFP8) {
    WARDEN_ASSIGN_OR_RETURN(a.scale, ScalarOf(L.weight_scale, L.spec.module, "weight_scale"));
    if (L.input_scale != nullptr) {
      WARDEN_ASSIGN_OR_RETURN(impl->input_scale, ScalarOf(L.input_scale, L.spec.module, "input_scale"));
    }
  }
  if (L.weight->size_bytes != expect_bytes) {
    return Status::Corruption("Linear \"" + L.spec.module + "\": weight holds " + std::to_string(L.weight->size_bytes) +
                              " bytes, its shape implies " + std::to_string(expect_bytes));
  }
  WARDEN_ASSIGN_OR_RETURN(impl->weight, UploadBytes(ctx_, L.weight->data, L.weight->size_bytes, "weight of " + L.spec.module));
  a.data = impl->weight->data();
  if (L.bias != nullptr) {
    const std::vector<float> bias = ToFloat(*L.bias);
    if (bias.size() != out) {
      return Status::Corruption("Linear \"" + L.spec.module + "\": bias has " + std::to_string(bias.size()) +
                                " values for " + std::to_string(out) + " outputs");
    }
    WARDEN_ASSIGN_OR_RETURN(impl->bias, UploadBytes(ctx_, bias.data(), out * sizeof(float), "bias of " + L.spec.module));
  }
  // The host bytes may be unmapped after the caller drops the checkpoint: finish the copies now.
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaStreamSynchronize(ctx_->stream)));
  return LinearWeight(&L, std::move(impl));
}

Result<LinearWeight> CudaBackend::RandomLinear(const LinearSpec& spec, LinearFormat format, uint64_t seed) {
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  const size_t out = static_cast<size_t>(spec.out_features), in = static_cast<size_t>(spec.in_features);
  if (out == 0 || in == 0) return Status::InvalidArgument("RandomLinear \"" + spec.module + "\" has an empty shape");
  auto impl = std::make_unique<CudaLinear>();
  impl->resolved.spec = spec;
  impl->resolved.spec.has_bias = false;
  impl->resolved.format = format;
  WeightArgs& a = impl->args;
  a.out = out;
  a.in = in;
  const uint64_t s = SeedFor(seed, spec.module);
  const float amplitude = 1.f / std::sqrt(static_cast<float>(in));
  const std::string what = "synthetic weight of " + spec.module;
  switch (format) {
    case LinearFormat::kBF16: {
      a.format = WeightFormat::kBF16;
      WARDEN_ASSIGN_OR_RETURN(impl->weight, DeviceStorage::Make(ctx_, out * in * 2, what));
      WARDEN_CUDA_LAUNCH("random_linear", LaunchRandomBf16(static_cast<uint16_t*>(impl->weight->data()), out * in,
                                                           amplitude, s, ctx_->stream));
      break;
    }
    case LinearFormat::kFP8: {
      a.format = WeightFormat::kFP8;
      a.scale = amplitude / 448.f;
      WARDEN_ASSIGN_OR_RETURN(impl->weight, DeviceStorage::Make(ctx_, out * in, what));
      WARDEN_CUDA_LAUNCH("random_linear", LaunchRandomE4M3(static_cast<uint8_t*>(impl->weight->data()), out * in,
                                                           -448.f, 448.f, s, ctx_->stream));
      break;
    }
    case LinearFormat::kNVFP4:
    case LinearFormat::kW4A16NVFP4: {
      if (in % 16 != 0) {
        return Status::InvalidArgument("RandomLinear \"" + spec.module + "\": NVFP4 needs in_features divisible by 16");
      }
      a.format = WeightFormat::kNVFP4;
      a.scale = amplitude / 6.f;
      WARDEN_ASSIGN_OR_RETURN(impl->weight, DeviceStorage::Make(ctx_, out * in / 2, what));
      WARDEN_ASSIGN_OR_RETURN(impl->block_scales, DeviceStorage::Make(ctx_, out * in / 16, what + " (block scales)"));
      WARDEN_CUDA_LAUNCH("random_linear", LaunchRandomBytes(static_cast<uint8_t*>(impl->weight->data()), out * in / 2,
                                                            s, ctx_->stream));
      WARDEN_CUDA_LAUNCH("random_linear", LaunchRandomE4M3(static_cast<uint8_t*>(impl->block_scales->data()),
                                                           out * in / 16, 0.5f, 1.f, s + 1, ctx_->stream));
      a.block_scales = static_cast<const uint8_t*>(impl->block_scales->data());
      break;
    }
  }
  a.data = impl->weight->data();
  const ResolvedLinear* resolved = &impl->resolved;
  return LinearWeight(resolved, std::move(impl));
}

Status CudaBackend::Linear(const LinearWeight& w, const Tensor& x, Tensor& y, const LinearOptions& options) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("linear", {&x, &y}));
  WARDEN_CUDA_EXPECT(!w.empty() && w.impl() != nullptr, "linear", "empty weight handle");
  const auto& impl = static_cast<const CudaLinear&>(*w.impl());
  const size_t in = w.in_features(), out = w.out_features();
  const size_t T = x.rank() ? x.dim(0) : 0;
  WARDEN_CUDA_EXPECT(x.numel() == T * in && y.numel() == T * out && y.dim(0) == T, "linear",
                     w.linear().spec.module + " [" + std::to_string(out) + ", " + std::to_string(in) + "] with x " +
                         x.Describe() + ", y " + y.Describe());
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  const float* xp = F(x);
  Tensor xq;
  if (options.fp8_activations && impl.args.format == WeightFormat::kFP8 && impl.input_scale != 0.f) {
    // W8A8: the layer sees its input rounded through FP8 with the calibrated static scale.
    WARDEN_ASSIGN_OR_RETURN(xq, Alloc(DType::kF32, {T, in}));
    WARDEN_CUDA_LAUNCH("linear", LaunchFakeQuantFp8(xp, F(xq), T * in, impl.input_scale, ctx_->stream));
    xp = F(xq);
  }
  const float* bias = impl.bias ? static_cast<const float*>(impl.bias->data()) : nullptr;
  WARDEN_CUDA_LAUNCH("linear", LaunchLinear(impl.args, xp, T, F(y), bias, ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::Embedding(const LinearWeight& table, const Tensor& ids, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("embedding", {&out}));
  WARDEN_CUDA_EXPECT(!table.empty() && table.impl() != nullptr && ids.dtype() == DType::kI32 &&
                         ids.device() == Device::kCuda,
                     "embedding", "needs a table and I32 ids, got " + ids.Describe());
  const size_t T = ids.numel(), H = table.in_features(), V = table.out_features();
  WARDEN_CUDA_EXPECT(out.numel() == T * H, "embedding", "out " + out.Describe() + " for " + std::to_string(T) + " ids");
  // Ids are checked on the host (T × 4 bytes) so a bad one is an error, never an out-of-bounds read.
  std::vector<int32_t> host(T);
  WARDEN_RETURN_IF_ERROR(Download(ids, host.data(), T * sizeof(int32_t)));
  for (int32_t id : host) {
    if (id < 0 || static_cast<size_t>(id) >= V) {
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                     std::to_string(V) + ")");
    }
  }
  const auto& impl = static_cast<const CudaLinear&>(*table.impl());
  WARDEN_CUDA_LAUNCH("embedding", LaunchEmbedding(impl.args, static_cast<const int32_t*>(ids.raw()), T, F(out),
                                                  ctx_->stream));
  return Status::Ok();
}

// ----- norm -----

Status CudaBackend::ZeroCenteredRmsNorm(const Tensor& x, const Tensor& w, Tensor& y, float eps) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("rms_norm", {&x, &w, &y}));
  const size_t dim = w.numel();
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckZeroCenteredRmsNorm("cuda", x, w, y));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("rms_norm", LaunchZeroCenteredRmsNorm(F(x), F(w), F(y), x.numel() / dim, dim, eps, ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::GatedRmsNorm(const Tensor& o, const Tensor& z, const Tensor& w, Tensor& y, float eps) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("gated_rms_norm", {&o, &z, &w, &y}));
  const size_t dim = w.numel();
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckGatedRmsNorm("cuda", o, z, w, y));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("gated_rms_norm",
                     LaunchGatedRmsNorm(F(o), F(z), F(w), F(y), o.numel() / dim, dim, eps, ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::L2NormalizeRows(Tensor& x, size_t dim, float eps, float scale) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("l2_norm", {&x}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckL2NormalizeRows("cuda", x, dim));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("l2_norm", LaunchL2NormalizeRows(F(x), x.numel() / dim, dim, eps, scale, ctx_->stream));
  return Status::Ok();
}

// ----- rope -----

Status CudaBackend::ApplyMrope(Tensor& x, size_t heads, const Tensor& positions, const RopeParams& p) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("rope", {&x}));
  const size_t T = x.rank() ? x.dim(0) : 0;
  WARDEN_ASSIGN_OR_RETURN(const size_t D, engine::detail::CheckMrope("cuda", x, heads, positions, p,
                                                                 positions.device() == Device::kCuda));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  MropeArgs a{p.rotary_dim, p.theta, {p.mrope_section[0], p.mrope_section[1], p.mrope_section[2]},
              p.mrope_interleaved};
  WARDEN_CUDA_LAUNCH("rope", LaunchApplyMrope(F(x), T, heads, D, static_cast<const int64_t*>(positions.raw()), a,
                                              ctx_->stream));
  return Status::Ok();
}

// ----- attention -----

Result<std::unique_ptr<KvCache>> CudaBackend::NewKvCache(const KvCacheOptions& options, size_t num_layers,
                                                         size_t num_kv_heads, size_t head_dim) {
  WARDEN_RETURN_IF_ERROR(
      engine::detail::CheckKvCacheOptions("cuda", options, Supports(Op::kAttention, options.dtype)));
  if (head_dim > kMaxAttentionHeadDim) {
    return Status::InvalidArgument("cuda backend: head_dim " + std::to_string(head_dim) + " exceeds " +
                                   std::to_string(kMaxAttentionHeadDim) + ", the attention kernel's limit");
  }
  return std::unique_ptr<KvCache>(std::make_unique<CudaKvCache>(ctx_, options, num_layers, num_kv_heads, head_dim));
}

Status CudaBackend::AppendKv(KvCache& cache_base, size_t layer, size_t start, const Tensor& k, const Tensor& v) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("append_kv", {&k, &v}));
  auto& cache = static_cast<CudaKvCache&>(cache_base);
  const size_t W = cache.width(), T = k.numel() / (W ? W : 1);
  WARDEN_CUDA_EXPECT(layer < cache.layers_.size() && k.numel() == T * W && v.numel() == k.numel(), "append_kv",
                     "layer " + std::to_string(layer) + ", k " + k.Describe() + ", v " + v.Describe() + ", width " +
                         std::to_string(W));
  WARDEN_CUDA_EXPECT(start <= cache.layers_[layer].k_pages.size() * cache.options_.page_size, "append_kv",
                     "start " + std::to_string(start) + " leaves a gap in layer " + std::to_string(layer));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_RETURN_IF_ERROR(cache.Reserve(layer, start + T));
  WARDEN_CUDA_LAUNCH("append_kv", LaunchAppendKv(cache.Args(layer), start, F(k), F(v), T, ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::CausalAttention(const Tensor& q, size_t num_heads, const KvCache& cache_base, size_t layer,
                                    size_t length, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("attention", {&q, &out}));
  const auto& cache = static_cast<const CudaKvCache&>(cache_base);
  const size_t D = cache.head_dim_, T = num_heads * D > 0 ? q.numel() / (num_heads * D) : 0;
  WARDEN_CUDA_EXPECT(layer < cache.layers_.size() && cache.kv_heads_ > 0 && num_heads % cache.kv_heads_ == 0 &&
                         q.numel() == T * num_heads * D && out.numel() == q.numel() && T <= length &&
                         length <= cache.layers_[layer].k_pages.size() * cache.options_.page_size,
                     "attention",
                     "layer " + std::to_string(layer) + ", q " + q.Describe() + " with " + std::to_string(num_heads) +
                         " heads over " + std::to_string(length) + " cached positions");
  WARDEN_CUDA_EXPECT(T <= 65535, "attention",
                     std::to_string(T) + " query tokens in one call; the kernel takes at most 65535 (split the prefill)");
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("attention", LaunchCausalAttention(F(q), T, num_heads, cache.Args(layer), length, F(out),
                                                        ctx_->stream));
  return Status::Ok();
}

// ----- deltanet -----

Status CudaBackend::CausalConv1dSilu(const Tensor& m, const Tensor& w, Tensor& history, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("conv1d", {&m, &w, &history, &out}));
  const size_t C = m.rank() == 2 ? m.dim(1) : 0, T = m.rank() == 2 ? m.dim(0) : 0;
  const size_t K = C ? w.numel() / C : 0;
  WARDEN_CUDA_EXPECT(C > 0 && K > 0 && K <= kMaxConvTaps && w.numel() == C * K && history.numel() == (K - 1) * C &&
                         out.numel() == T * C,
                     "conv1d",
                     "m " + m.Describe() + ", w " + w.Describe() + ", history " + history.Describe() + ", out " +
                         out.Describe() + " (at most " + std::to_string(kMaxConvTaps) + " taps)");
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("conv1d", LaunchCausalConv1dSilu(F(m), T, C, F(w), K, F(history), F(out), ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::DeltaNetGates(const Tensor& b, const Tensor& a, const Tensor& a_log, const Tensor& dt_bias,
                                  Tensor& beta, Tensor& g) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("deltanet_gates", {&b, &a, &a_log, &dt_bias, &beta, &g}));
  const size_t Hv = a_log.numel(), n = b.numel();
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckDeltaNetGates("cuda", b, a, a_log, dt_bias, beta, g));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("deltanet_gates",
                     LaunchDeltaNetGates(F(b), F(a), F(a_log), F(dt_bias), F(beta), F(g), n, Hv, ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::GatedDeltaRule(const DeltaNetDims& d, DeltaRuleForm form, const Tensor& q, const Tensor& k,
                                   const Tensor& v, const Tensor& g, const Tensor& beta, Tensor& state, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("delta_rule", {&q, &k, &v, &g, &beta, &state, &out}));
  WARDEN_ASSIGN_OR_RETURN(const size_t T,
                          engine::detail::CheckGatedDeltaRule("cuda", d, q, k, v, g, beta, state, out));
  WARDEN_CUDA_EXPECT(d.v_dim <= 1024, "delta_rule",
                     "value head dim " + std::to_string(d.v_dim) + " exceeds 1024 (one thread per state column)");
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  const DeltaNetArgs s{d.num_k_heads, d.num_v_heads, d.k_dim, d.v_dim};
  if (form == DeltaRuleForm::kRecurrent) {
    WARDEN_CUDA_LAUNCH("delta_rule", LaunchGatedDeltaRuleRecurrent(s, T, F(q), F(k), F(v), F(g), F(beta), F(state),
                                                                   F(out), ctx_->stream));
  } else {
    WARDEN_CUDA_LAUNCH("delta_rule", LaunchGatedDeltaRuleChunked(s, T, F(q), F(k), F(v), F(g), F(beta), F(state),
                                                                 F(out), ctx_->stream));
  }
  return Status::Ok();
}

// ----- elementwise -----

Status CudaBackend::SiluMul(const Tensor& gate, const Tensor& up, Tensor& out) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("silu_mul", {&gate, &up, &out}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckSiluMul("cuda", gate, up, out));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("silu_mul", LaunchSiluMul(F(gate), F(up), F(out), gate.numel(), ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::MulSigmoid(Tensor& x, const Tensor& gate) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("mul_sigmoid", {&x, &gate}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckMulSigmoid("cuda", x, gate));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("mul_sigmoid", LaunchMulSigmoid(F(x), F(gate), x.numel(), ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::Add(Tensor& acc, const Tensor& x) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("add", {&acc, &x}));
  WARDEN_RETURN_IF_ERROR(engine::detail::CheckAdd("cuda", acc, x));
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  WARDEN_CUDA_LAUNCH("add", LaunchAdd(F(acc), F(x), acc.numel(), ctx_->stream));
  return Status::Ok();
}

Status CudaBackend::SplitColumns(const Tensor& src, std::span<Tensor* const> dst) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("split_columns", {&src}));
  for (Tensor* t : dst) WARDEN_RETURN_IF_ERROR(ExpectF32("split_columns", {t}));
  WARDEN_ASSIGN_OR_RETURN(const engine::detail::ColumnSplit split, engine::detail::CheckSplitColumns("cuda", src, dst));
  const size_t rows = split.rows, total = split.total;
  const std::vector<size_t>& widths = split.widths;
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  size_t offset = 0;
  for (size_t i = 0; i < dst.size(); ++i) {
    // A strided 2-D copy: rows of widths[i] floats out of rows of `total` floats.
    WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaMemcpy2DAsync(
        F(*dst[i]), widths[i] * sizeof(float), F(src) + offset, total * sizeof(float), widths[i] * sizeof(float), rows,
        cudaMemcpyDeviceToDevice, ctx_->stream)));
    offset += widths[i];
  }
  return Status::Ok();
}

// ----- sample -----

Result<int32_t> CudaBackend::Sample(const Tensor& logits, size_t row, cpu::Sampler& sampler,
                                    std::span<const int32_t> seen) {
  WARDEN_RETURN_IF_ERROR(ExpectF32("sample", {&logits}));
  const size_t V = logits.rank() ? logits.shape().back() : 0;
  WARDEN_CUDA_EXPECT(V > 0 && (row + 1) * V <= logits.numel(), "sample",
                     "row " + std::to_string(row) + " of " + logits.Describe());
  WARDEN_RETURN_IF_ERROR(ctx_->Enter());
  const cpu::SamplingParams& p = sampler.params();
  if (p.temperature <= 0.f && p.repetition_penalty == 1.f && p.presence_penalty == 0.f) {
    // Greedy without penalties consumes no randomness: the argmax runs on the GPU and four bytes come back.
    WARDEN_ASSIGN_OR_RETURN(Tensor picked, Alloc(DType::kI32, {1}));
    WARDEN_CUDA_LAUNCH("sample", LaunchArgmax(F(logits) + row * V, V, static_cast<int32_t*>(picked.raw()),
                                              ctx_->stream));
    int32_t id = -1;
    WARDEN_RETURN_IF_ERROR(Download(picked, &id, sizeof id));
    return id;
  }
  // Penalties and random draws use the host sampler (its RNG lives on the host): one row comes back.
  std::vector<float> host(V);
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaMemcpyAsync(host.data(), F(logits) + row * V, V * sizeof(float),
                                                            cudaMemcpyDeviceToHost, ctx_->stream)));
  WARDEN_RETURN_IF_ERROR(WARDEN_CUDA_STATUS(cudaStreamSynchronize(ctx_->stream)));
  return sampler.Sample(host, seen);
}

}  // namespace warden::engine::cuda
