// The vision tower (model.md §4.2) in three parts as the text model: read the config, take the tensors by name
// (§2.8 `model.visual.*`), run the forward pass through backend.h.
#include "runtime/engine/vision/qwen3_5_vision.h"

#include <cmath>
#include <string>

namespace warden::engine {
namespace {

constexpr float kLayerNormEps = 1e-6f;  // every LayerNorm of the tower (HF hard-codes it)

Result<Tensor> FloatTensor(Backend& backend, const Checkpoint& ckpt, const std::string& name, size_t n) {
  WARDEN_ASSIGN_OR_RETURN(TensorView view, ckpt.Get(name));
  if (static_cast<size_t>(view.num_elements()) != n) {
    return Status::Corruption("tensor " + name + " has " + std::to_string(view.num_elements()) +
                              " elements, the vision config implies " + std::to_string(n));
  }
  const std::vector<float> host = ToFloat(view);
  return backend.UploadF32(host, {n});
}

}  // namespace

Status CheckGrids(std::span<const GridThw> grids, const VisionConfig& c, size_t rows, const std::string& what) {
  const int64_t m = c.spatial_merge_size;
  int64_t total = 0;
  for (size_t i = 0; i < grids.size(); ++i) {
    const GridThw& g = grids[i];
    if (g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % m != 0 || g.w % m != 0 || g.h > (1 << 20) || g.w > (1 << 20) ||
        g.t > (1 << 20)) {
      return Status::InvalidArgument(what + "[" + std::to_string(i) + "] = (" + std::to_string(g.t) + ", " +
                                     std::to_string(g.h) + ", " + std::to_string(g.w) +
                                     "): sizes must be positive and h, w multiples of spatial_merge_size " +
                                     std::to_string(m));
    }
    total += g.patches();
  }
  if (static_cast<size_t>(total) != rows) {
    return Status::InvalidArgument(what + " covers " + std::to_string(total) + " patches but the pixel values have " +
                                   std::to_string(rows) + " rows");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Load

Result<std::unique_ptr<VisionTower>> VisionTower::Load(const ModelFiles& files, std::shared_ptr<Backend> backend) {
  const ModelConfig& mc = files.config();
  if (!mc.vision || mc.language_model_only) {
    return Status::InvalidArgument(mc.source + ": the model has no vision tower (vision_config absent or "
                                   "language_model_only); use a checkpoint with model.visual.* tensors");
  }
  std::unique_ptr<VisionTower> v(new VisionTower());  // private constructor
  v->config_ = *mc.vision;
  if (backend != nullptr) {
    v->backend_ = std::move(backend);
  } else {
    WARDEN_ASSIGN_OR_RETURN(v->backend_, MakeBackend("cpu"));
  }
  const VisionConfig& c = v->config_;
  if (c.hidden_act != "gelu_pytorch_tanh") {
    return Status::InvalidArgument(mc.source + ": field vision_config.hidden_act: \"" + c.hidden_act +
                                   "\" is not supported (only gelu_pytorch_tanh)");
  }
  if (c.num_heads <= 0 || c.hidden_size % c.num_heads != 0 || c.head_dim() % 4 != 0 || c.spatial_merge_size <= 0) {
    return Status::InvalidArgument(mc.source + ": vision_config: hidden_size " + std::to_string(c.hidden_size) +
                                   " must split into num_heads " + std::to_string(c.num_heads) +
                                   " heads of a dim divisible by 4 (2-D rotary)");
  }
  const auto side = static_cast<size_t>(std::llround(std::sqrt(static_cast<double>(c.num_position_embeddings))));
  if (side * side != static_cast<size_t>(c.num_position_embeddings)) {
    return Status::InvalidArgument(mc.source + ": field vision_config.num_position_embeddings: " +
                                   std::to_string(c.num_position_embeddings) + " is not a square grid");
  }
  v->pos_side_ = side;
  Backend& be = *v->backend_;
  const Checkpoint& ckpt = files.checkpoint();
  const std::string p = "model.visual.";
  const size_t H = static_cast<size_t>(c.hidden_size);

  // Conv3d with kernel = stride is a Linear over the (c, t, y, x)-flattened patch.
  v->patch_linear_.spec.module = p + "patch_embed.proj";
  v->patch_linear_.spec.out_features = c.hidden_size;
  v->patch_linear_.spec.in_features = c.patch_input_dim();
  v->patch_linear_.format = LinearFormat::kBF16;
  v->patch_linear_.weight = ckpt.Find(p + "patch_embed.proj.weight");
  v->patch_linear_.bias = ckpt.Find(p + "patch_embed.proj.bias");
  if (v->patch_linear_.weight == nullptr || v->patch_linear_.bias == nullptr ||
      v->patch_linear_.weight->num_elements() != c.hidden_size * c.patch_input_dim() ||
      v->patch_linear_.bias->num_elements() != c.hidden_size) {
    return Status::Corruption(p + "patch_embed.proj.{weight,bias} are missing or do not match vision_config");
  }
  WARDEN_ASSIGN_OR_RETURN(v->patch_embed_, be.PrepareLinear(v->patch_linear_));
  WARDEN_ASSIGN_OR_RETURN(TensorView pos, ckpt.Get(p + "pos_embed.weight"));
  if (static_cast<size_t>(pos.num_elements()) != side * side * H) {
    return Status::Corruption(p + "pos_embed.weight has " + std::to_string(pos.num_elements()) +
                              " elements, the vision config implies " + std::to_string(side * side * H));
  }
  v->pos_table_ = ToFloat(pos);

  auto linear = [&](const std::string& module) -> Result<LinearWeight> {
    const ResolvedLinear* l = files.FindLinear(module);
    if (l == nullptr) return Status::Corruption("Linear " + module + " is missing from the checkpoint");
    return be.PrepareLinear(*l);
  };
  for (int64_t i = 0; i < c.depth; ++i) {
    const std::string bp = p + "blocks." + std::to_string(i) + ".";
    Block b;
    WARDEN_ASSIGN_OR_RETURN(b.norm1_w, FloatTensor(be, ckpt, bp + "norm1.weight", H));
    WARDEN_ASSIGN_OR_RETURN(b.norm1_b, FloatTensor(be, ckpt, bp + "norm1.bias", H));
    WARDEN_ASSIGN_OR_RETURN(b.norm2_w, FloatTensor(be, ckpt, bp + "norm2.weight", H));
    WARDEN_ASSIGN_OR_RETURN(b.norm2_b, FloatTensor(be, ckpt, bp + "norm2.bias", H));
    WARDEN_ASSIGN_OR_RETURN(b.qkv, linear(bp + "attn.qkv"));
    WARDEN_ASSIGN_OR_RETURN(b.proj, linear(bp + "attn.proj"));
    WARDEN_ASSIGN_OR_RETURN(b.fc1, linear(bp + "mlp.linear_fc1"));
    WARDEN_ASSIGN_OR_RETURN(b.fc2, linear(bp + "mlp.linear_fc2"));
    v->blocks_.push_back(std::move(b));
  }
  WARDEN_ASSIGN_OR_RETURN(v->merger_norm_w_, FloatTensor(be, ckpt, p + "merger.norm.weight", H));
  WARDEN_ASSIGN_OR_RETURN(v->merger_norm_b_, FloatTensor(be, ckpt, p + "merger.norm.bias", H));
  WARDEN_ASSIGN_OR_RETURN(v->merger_fc1_, linear(p + "merger.linear_fc1"));
  WARDEN_ASSIGN_OR_RETURN(v->merger_fc2_, linear(p + "merger.linear_fc2"));
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Forward

std::vector<float> VisionTower::PositionEmbeddings(const GridThw& g) const {
  const size_t H = static_cast<size_t>(config_.hidden_size), m = static_cast<size_t>(config_.spatial_merge_size);
  const size_t gh = static_cast<size_t>(g.h), gw = static_cast<size_t>(g.w), last = pos_side_ - 1;
  // align_corners sampling of the learned grid (torch.linspace(0, side − 1, n)), in fp32 as HF.
  auto coords = [&](size_t n) {
    std::vector<float> s(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = n == 1 ? 0.f : static_cast<float>(static_cast<double>(i) * static_cast<double>(last) /
                                               static_cast<double>(n - 1));
    }
    return s;
  };
  const std::vector<float> sr = coords(gh), sc = coords(gw);
  std::vector<float> raster(gh * gw * H, 0.f);
  for (size_t r = 0; r < gh; ++r) {
    const size_t r0 = static_cast<size_t>(sr[r]), r1 = std::min(r0 + 1, last);
    const float dr = sr[r] - static_cast<float>(r0);
    for (size_t c = 0; c < gw; ++c) {
      const size_t c0 = static_cast<size_t>(sc[c]), c1 = std::min(c0 + 1, last);
      const float dc = sc[c] - static_cast<float>(c0);
      const float wts[4] = {(1 - dr) * (1 - dc), (1 - dr) * dc, dr * (1 - dc), dr * dc};
      const size_t idx[4] = {r0 * pos_side_ + c0, r0 * pos_side_ + c1, r1 * pos_side_ + c0, r1 * pos_side_ + c1};
      float* out = raster.data() + (r * gw + c) * H;
      for (int k = 0; k < 4; ++k) {
        const float* row = pos_table_.data() + idx[k] * H;
        for (size_t d = 0; d < H; ++d) out[d] += wts[k] * row[d];
      }
    }
  }
  // Merge-block order (block row, block col, in-row, in-col), repeated for every temporal index.
  std::vector<float> out;
  out.reserve(static_cast<size_t>(g.patches()) * H);
  for (int64_t t = 0; t < g.t; ++t) {
    for (size_t br = 0; br < gh / m; ++br) {
      for (size_t bc = 0; bc < gw / m; ++bc) {
        for (size_t ir = 0; ir < m; ++ir) {
          for (size_t ic = 0; ic < m; ++ic) {
            const float* src = raster.data() + ((br * m + ir) * gw + bc * m + ic) * H;
            out.insert(out.end(), src, src + H);
          }
        }
      }
    }
  }
  return out;
}

Result<Tensor> VisionTower::Encode(std::span<const float> pixel_values, std::span<const GridThw> grids) const {
  Backend& be = *backend_;
  const VisionConfig& c = config_;
  const size_t D_in = static_cast<size_t>(c.patch_input_dim()), H = static_cast<size_t>(c.hidden_size),
               heads = static_cast<size_t>(c.num_heads), I = static_cast<size_t>(c.intermediate_size),
               m = static_cast<size_t>(c.spatial_merge_size), M = H * m * m;
  if (pixel_values.empty() || pixel_values.size() % D_in != 0) {
    return Status::InvalidArgument("pixel values hold " + std::to_string(pixel_values.size()) +
                                   " floats, not a positive multiple of the patch size " + std::to_string(D_in) +
                                   " (in_channels · temporal_patch_size · patch_size²)");
  }
  const size_t N = pixel_values.size() / D_in;
  WARDEN_RETURN_IF_ERROR(CheckGrids(grids, c, N, "grid_thw"));

  // Host-side per-patch tables: position embeddings, rotary (row, col) ids and the attention segments.
  std::vector<float> pos_embed;
  pos_embed.reserve(N * H);
  std::vector<int64_t> rope_pos(2 * N);
  std::vector<int64_t> segment_ends;
  size_t n = 0;
  for (const GridThw& g : grids) {
    const std::vector<float> pe = PositionEmbeddings(g);
    pos_embed.insert(pos_embed.end(), pe.begin(), pe.end());
    const size_t gh = static_cast<size_t>(g.h), gw = static_cast<size_t>(g.w);
    for (int64_t t = 0; t < g.t; ++t) {
      for (size_t br = 0; br < gh / m; ++br) {
        for (size_t bc = 0; bc < gw / m; ++bc) {
          for (size_t ir = 0; ir < m; ++ir) {
            for (size_t ic = 0; ic < m; ++ic, ++n) {
              rope_pos[n] = static_cast<int64_t>(br * m + ir);
              rope_pos[N + n] = static_cast<int64_t>(bc * m + ic);
            }
          }
        }
      }
      segment_ends.push_back(static_cast<int64_t>(n));
    }
  }

  WARDEN_ASSIGN_OR_RETURN(Tensor px, be.UploadF32(pixel_values, {N, D_in}));
  WARDEN_ASSIGN_OR_RETURN(Tensor x, be.Alloc(DType::kF32, {N, H}));
  WARDEN_RETURN_IF_ERROR(be.Linear(patch_embed_, px, x));
  {
    WARDEN_ASSIGN_OR_RETURN(Tensor pe, be.UploadF32(pos_embed, {N, H}));
    WARDEN_RETURN_IF_ERROR(be.Add(x, pe));
  }
  WARDEN_ASSIGN_OR_RETURN(Tensor positions, be.UploadI64(rope_pos, {2, N}));
  WARDEN_ASSIGN_OR_RETURN(Tensor h, be.Alloc(DType::kF32, {N, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor qkv, be.Alloc(DType::kF32, {N, 3 * H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor q, be.Alloc(DType::kF32, {N, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor k, be.Alloc(DType::kF32, {N, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor v, be.Alloc(DType::kF32, {N, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor o, be.Alloc(DType::kF32, {N, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor mlp, be.Alloc(DType::kF32, {N, I}));
  Tensor* parts[] = {&q, &k, &v};
  for (const Block& b : blocks_) {
    WARDEN_RETURN_IF_ERROR(be.LayerNorm(x, b.norm1_w, b.norm1_b, h, kLayerNormEps));
    WARDEN_RETURN_IF_ERROR(be.Linear(b.qkv, h, qkv));
    WARDEN_RETURN_IF_ERROR(be.SplitColumns(qkv, parts));
    WARDEN_RETURN_IF_ERROR(be.ApplyRope2d(q, heads, positions, c.rope_theta));
    WARDEN_RETURN_IF_ERROR(be.ApplyRope2d(k, heads, positions, c.rope_theta));
    WARDEN_RETURN_IF_ERROR(be.SegmentAttention(q, k, v, heads, segment_ends, o));
    WARDEN_RETURN_IF_ERROR(be.Linear(b.proj, o, h));
    WARDEN_RETURN_IF_ERROR(be.Add(x, h));
    WARDEN_RETURN_IF_ERROR(be.LayerNorm(x, b.norm2_w, b.norm2_b, h, kLayerNormEps));
    WARDEN_RETURN_IF_ERROR(be.Linear(b.fc1, h, mlp));
    WARDEN_RETURN_IF_ERROR(be.Gelu(mlp, GeluForm::kTanh));
    WARDEN_RETURN_IF_ERROR(be.Linear(b.fc2, mlp, h));
    WARDEN_RETURN_IF_ERROR(be.Add(x, h));
  }
  // Merger: the norm runs per patch, then each 2×2 block (consecutive rows) is one M-wide vector.
  WARDEN_RETURN_IF_ERROR(be.LayerNorm(x, merger_norm_w_, merger_norm_b_, x, kLayerNormEps));
  WARDEN_RETURN_IF_ERROR(x.Reshape({N / (m * m), M}));
  WARDEN_ASSIGN_OR_RETURN(Tensor mid, be.Alloc(DType::kF32, {N / (m * m), M}));
  WARDEN_RETURN_IF_ERROR(be.Linear(merger_fc1_, x, mid));
  WARDEN_RETURN_IF_ERROR(be.Gelu(mid, GeluForm::kErf));
  WARDEN_ASSIGN_OR_RETURN(Tensor out, be.Alloc(DType::kF32, {N / (m * m), static_cast<size_t>(c.out_hidden_size)}));
  WARDEN_RETURN_IF_ERROR(be.Linear(merger_fc2_, mid, out));
  return out;
}

}  // namespace warden::engine
