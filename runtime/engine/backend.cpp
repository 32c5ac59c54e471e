// Backend-independent parts of backend.h: tensor metadata, upload/download helpers and the backend factory (the
// one place outside cuda/ that may ask whether CUDA is built in).
#include "runtime/engine/backend.h"

#include "runtime/engine/cpu/cpu_backend.h"
#include "runtime/engine/engine.h"

#ifdef WARDEN_HAS_CUDA
#include "runtime/engine/cuda/cuda_backend.h"
#endif

namespace warden::engine {

std::string_view DeviceName(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kLinear: return "linear";
    case Op::kEmbedding: return "embedding";
    case Op::kRmsNorm: return "rms_norm";
    case Op::kGatedRmsNorm: return "gated_rms_norm";
    case Op::kL2Norm: return "l2_norm";
    case Op::kRope: return "rope";
    case Op::kAttention: return "attention";
    case Op::kConv1d: return "conv1d";
    case Op::kDeltaRule: return "delta_rule";
    case Op::kElementwise: return "elementwise";
    case Op::kSample: return "sample";
    case Op::kVision: return "vision";
  }
  return "?";
}

// Defaults of the vision family for backends that do not implement it yet (see backend.h).
namespace {
Status NoVisionOp(const Backend& b, std::string_view op) {
  return Status::Unavailable("the " + std::string(b.name()) + " backend has no " + std::string(op) +
                             " op yet (vision family); run the vision tower with --backend cpu");
}
}  // namespace
Status Backend::LayerNorm(const Tensor&, const Tensor&, const Tensor&, Tensor&, float) {
  return NoVisionOp(*this, "layer_norm");
}
Status Backend::Gelu(Tensor&, GeluForm) { return NoVisionOp(*this, "gelu"); }
Status Backend::ApplyRope2d(Tensor&, size_t, const Tensor&, double) { return NoVisionOp(*this, "rope_2d"); }
Status Backend::SegmentAttention(const Tensor&, const Tensor&, const Tensor&, size_t, std::span<const int64_t>,
                                 Tensor&) {
  return NoVisionOp(*this, "segment_attention");
}
Status Backend::ScatterRows(Tensor&, const Tensor&, const Tensor&) { return NoVisionOp(*this, "scatter_rows"); }

size_t Tensor::numel() const {
  size_t n = 1;
  for (size_t d : shape_) n *= d;
  return n;
}

std::string Tensor::Describe() const {
  std::string s(DTypeName(dtype_));
  s += "[";
  for (size_t i = 0; i < shape_.size(); ++i) s += (i ? ", " : "") + std::to_string(shape_[i]);
  return s + "]";
}

Status Tensor::Reshape(std::vector<size_t> shape) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  if (n != numel()) {
    return Status::InvalidArgument("cannot reshape " + Describe() + " to " + std::to_string(n) + " elements");
  }
  shape_ = std::move(shape);
  return Status::Ok();
}

namespace {
template <typename T>
Result<Tensor> UploadTyped(Backend& b, DType dtype, std::span<const T> host, std::vector<size_t> shape) {
  WARDEN_ASSIGN_OR_RETURN(Tensor t, b.Alloc(dtype, std::move(shape)));
  if (t.numel() != host.size()) {
    return Status::InvalidArgument("upload of " + std::to_string(host.size()) + " values into " + t.Describe());
  }
  WARDEN_RETURN_IF_ERROR(b.Upload(t, host.data(), host.size_bytes()));
  return t;
}
}  // namespace

Result<Tensor> Backend::UploadF32(std::span<const float> host, std::vector<size_t> shape) {
  return UploadTyped(*this, DType::kF32, host, std::move(shape));
}
Result<Tensor> Backend::UploadI32(std::span<const int32_t> host, std::vector<size_t> shape) {
  return UploadTyped(*this, DType::kI32, host, std::move(shape));
}
Result<Tensor> Backend::UploadI64(std::span<const int64_t> host, std::vector<size_t> shape) {
  return UploadTyped(*this, DType::kI64, host, std::move(shape));
}

Result<std::vector<float>> Backend::DownloadF32(const Tensor& src) {
  if (src.dtype() != DType::kF32) return Status::InvalidArgument("DownloadF32 of " + src.Describe());
  std::vector<float> host(src.numel());
  WARDEN_RETURN_IF_ERROR(Download(src, host.data(), host.size() * sizeof(float)));
  return host;
}

Result<std::shared_ptr<Backend>> MakeBackend(std::string_view name, const BackendOptions& options) {
  if (name == "cpu") return std::shared_ptr<Backend>(cpu::CpuBackend::Default());
  if (name == "cuda") {
#ifdef WARDEN_HAS_CUDA
    WARDEN_ASSIGN_OR_RETURN(std::shared_ptr<cuda::CudaBackend> backend, cuda::CudaBackend::Create(options));
    return std::shared_ptr<Backend>(std::move(backend));
#else
    (void)options;
    return Status::Unavailable("this warden was built without CUDA (rebuild with -DWARDEN_CUDA=ON where nvcc exists); "
                               "use --backend cpu");
#endif
  }
  return Status::InvalidArgument("unknown backend \"" + std::string(name) + "\"; expected cpu or cuda");
}

}  // namespace warden::engine
