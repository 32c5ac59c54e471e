// Qwen3.5/3.6 text decoder in three parts (style: one file per architecture): read the config, take the tensors
// by name (model.md §2.8), run the forward pass from the CPU op families (§2.1–2.5, §3).
#include "runtime/engine/models/qwen3_5_text.h"

#include <cmath>
#include <cstring>

#include "runtime/engine/cpu/attention.h"
#include "runtime/engine/cpu/deltanet.h"
#include "runtime/engine/cpu/elementwise.h"
#include "runtime/engine/cpu/matmul.h"
#include "runtime/engine/cpu/norm.h"
#include "runtime/engine/numeric.h"
#include "runtime/engine/cpu/rope.h"
#include "runtime/engine/weights/dequant.h"

namespace warden::engine {
namespace {

// ---------------------------------------------------------------------------------------------------------
// Tensor access

Result<std::vector<float>> FloatTensor(const Checkpoint& ckpt, const std::string& name, int64_t expect_elements) {
  WARDEN_ASSIGN_OR_RETURN(TensorView view, ckpt.Get(name));
  if (view.num_elements() != expect_elements) {
    return Status::Corruption("tensor " + name + " has " + std::to_string(view.num_elements()) +
                              " elements, the config implies " + std::to_string(expect_elements));
  }
  return ToFloat(view);
}

// Row `row` of a 2-D float tensor (BF16, F16 or F32) into dst.
void TensorRow(const TensorView& t, size_t row, size_t cols, float* dst) {
  const std::byte* base = t.data + row * cols * DTypeSize(t.dtype);
  switch (t.dtype) {
    case DType::kBF16:
      for (size_t i = 0; i < cols; ++i) {
        uint16_t b;
        std::memcpy(&b, base + 2 * i, 2);
        dst[i] = Bf16ToFloat(b);
      }
      break;
    case DType::kF16:
      for (size_t i = 0; i < cols; ++i) {
        uint16_t b;
        std::memcpy(&b, base + 2 * i, 2);
        dst[i] = F16ToFloat(b);
      }
      break;
    default:  // F32 (Load checks the dtype)
      std::memcpy(dst, base, cols * sizeof(float));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Load

Result<std::unique_ptr<Qwen35TextModel>> Qwen35TextModel::Load(const ModelFiles& files,
                                                                const TextModelOptions& options) {
  std::unique_ptr<Qwen35TextModel> m(new Qwen35TextModel());  // private constructor
  m->config_ = files.config().text;
  m->options_ = options;
  const TextConfig& c = m->config_;
  const std::string prefix = files.expected().text_prefix;
  const Checkpoint& ckpt = files.checkpoint();
  if (c.hidden_act != "silu") {
    return Status::InvalidArgument(files.config().source + ": hidden_act \"" + c.hidden_act +
                                   "\" is not supported (only silu)");
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0 ||
      c.linear_num_value_heads % c.linear_num_key_heads != 0) {
    return Status::InvalidArgument(files.config().source + ": head counts must divide (attention " +
                                   std::to_string(c.num_attention_heads) + "/" +
                                   std::to_string(c.num_key_value_heads) + ", linear " +
                                   std::to_string(c.linear_num_value_heads) + "/" +
                                   std::to_string(c.linear_num_key_heads) + ")");
  }
  WARDEN_ASSIGN_OR_RETURN(TensorView embed, ckpt.Get(prefix + "embed_tokens.weight"));
  m->embed_ = ckpt.Find(prefix + "embed_tokens.weight");
  if (embed.dtype != DType::kBF16 && embed.dtype != DType::kF16 && embed.dtype != DType::kF32) {
    return Status::InvalidArgument("embed_tokens.weight has dtype " + std::string(DTypeName(embed.dtype)) +
                                   "; expected BF16, F16 or F32");
  }
  const int64_t H = c.hidden_size;
  WARDEN_ASSIGN_OR_RETURN(m->final_norm_, FloatTensor(ckpt, prefix + "norm.weight", H));
  if (!files.config().tie_word_embeddings) {
    m->lm_head_ = files.FindLinear("lm_head");
    if (m->lm_head_ == nullptr) return Status::Corruption("lm_head.weight is missing and embeddings are not tied");
  }
  auto linear = [&](const std::string& module) -> Result<const ResolvedLinear*> {
    const ResolvedLinear* l = files.FindLinear(module);
    if (l == nullptr) return Status::Corruption("Linear " + module + " is missing from the checkpoint");
    return l;
  };
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = prefix + "layers." + std::to_string(i) + ".";
    LayerWeights w;
    w.is_full_attention = c.layer_types[static_cast<size_t>(i)] == LayerType::kFullAttention;
    WARDEN_ASSIGN_OR_RETURN(w.input_layernorm, FloatTensor(ckpt, p + "input_layernorm.weight", H));
    WARDEN_ASSIGN_OR_RETURN(w.post_attention_layernorm, FloatTensor(ckpt, p + "post_attention_layernorm.weight", H));
    WARDEN_ASSIGN_OR_RETURN(w.gate_proj, linear(p + "mlp.gate_proj"));
    WARDEN_ASSIGN_OR_RETURN(w.up_proj, linear(p + "mlp.up_proj"));
    WARDEN_ASSIGN_OR_RETURN(w.down_proj, linear(p + "mlp.down_proj"));
    if (w.is_full_attention) {
      WARDEN_ASSIGN_OR_RETURN(w.q_proj, linear(p + "self_attn.q_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.k_proj, linear(p + "self_attn.k_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.v_proj, linear(p + "self_attn.v_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.o_proj, linear(p + "self_attn.o_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.q_norm, FloatTensor(ckpt, p + "self_attn.q_norm.weight", c.head_dim));
      WARDEN_ASSIGN_OR_RETURN(w.k_norm, FloatTensor(ckpt, p + "self_attn.k_norm.weight", c.head_dim));
    } else {
      const std::string a = p + "linear_attn.";
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_qkv, linear(a + "in_proj_qkv"));
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_z, linear(a + "in_proj_z"));
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_b, linear(a + "in_proj_b"));
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_a, linear(a + "in_proj_a"));
      WARDEN_ASSIGN_OR_RETURN(w.out_proj, linear(a + "out_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.conv1d, FloatTensor(ckpt, a + "conv1d.weight",
                                                     c.linear_conv_dim() * c.linear_conv_kernel_dim));
      WARDEN_ASSIGN_OR_RETURN(w.a_log, FloatTensor(ckpt, a + "A_log", c.linear_num_value_heads));
      WARDEN_ASSIGN_OR_RETURN(w.dt_bias, FloatTensor(ckpt, a + "dt_bias", c.linear_num_value_heads));
      WARDEN_ASSIGN_OR_RETURN(w.gdn_norm, FloatTensor(ckpt, a + "norm.weight", c.linear_value_head_dim));
    }
    m->layers_.push_back(std::move(w));
  }
  return m;
}

std::unique_ptr<SequenceState> Qwen35TextModel::NewSequence(const KvCacheOptions& kv) const {
  const TextConfig& c = config_;
  std::vector<bool> full;
  for (const auto& l : layers_) full.push_back(l.is_full_attention);
  const size_t conv = static_cast<size_t>((c.linear_conv_kernel_dim - 1) * c.linear_conv_dim());
  const size_t state = static_cast<size_t>(c.linear_num_value_heads * c.linear_key_head_dim * c.linear_value_head_dim);
  return std::make_unique<SequenceState>(full, static_cast<size_t>(c.num_key_value_heads * c.head_dim), conv, state,
                                         kv);
}

// ---------------------------------------------------------------------------------------------------------
// Forward

void Qwen35TextModel::Embed(std::span<const int32_t> ids, float* x) const {
  const size_t H = static_cast<size_t>(config_.hidden_size);
  for (size_t t = 0; t < ids.size(); ++t) TensorRow(*embed_, static_cast<size_t>(ids[t]), H, x + t * H);
}

void Qwen35TextModel::RunLinear(const ResolvedLinear& linear, const float* x, size_t T, float* y) const {
  const size_t in = static_cast<size_t>(linear.spec.in_features), out = static_cast<size_t>(linear.spec.out_features);
  std::vector<float> xq;
  if (options_.fp8_activations && linear.format == LinearFormat::kFP8 && linear.input_scale != nullptr) {
    // W8A8: the layer sees its input rounded through FP8 with the calibrated static scale.
    const float scale = static_cast<float>(ElementAsDouble(*linear.input_scale, 0));
    xq.assign(x, x + T * in);
    for (float& v : xq) v = FakeQuantFp8(v, scale);
    x = xq.data();
  }
  cpu::Linear(x, T, in, out, [&](size_t r0, size_t r1, float* dst) {
    thread_local std::vector<float> buf;
    // The row range is valid by construction (r1 ≤ out_features), so the status is always OK here.
    (void)DequantizeRows(linear, static_cast<int64_t>(r0), static_cast<int64_t>(r1), &buf);
    std::memcpy(dst, buf.data(), (r1 - r0) * in * sizeof(float));
  }, y);
}

void Qwen35TextModel::FullAttention(const LayerWeights& w, size_t layer, SequenceState& seq, const float* h,
                                    size_t T, const int64_t* positions, float* out) const {
  const TextConfig& c = config_;
  const size_t Hq = static_cast<size_t>(c.num_attention_heads), Hkv = static_cast<size_t>(c.num_key_value_heads),
               D = static_cast<size_t>(c.head_dim);
  // q_proj rows interleave per head: [query(D) | gate(D)] for head 0, then head 1, ... (§2.3 step 1).
  std::vector<float> qg(T * Hq * 2 * D), q(T * Hq * D), gate(T * Hq * D), k(T * Hkv * D), v(T * Hkv * D);
  RunLinear(*w.q_proj, h, T, qg.data());
  RunLinear(*w.k_proj, h, T, k.data());
  RunLinear(*w.v_proj, h, T, v.data());
  for (size_t t = 0; t < T; ++t) {
    for (size_t j = 0; j < Hq; ++j) {
      const float* src = &qg[(t * Hq + j) * 2 * D];
      std::memcpy(&q[(t * Hq + j) * D], src, D * sizeof(float));
      std::memcpy(&gate[(t * Hq + j) * D], src + D, D * sizeof(float));
    }
  }
  const float eps = static_cast<float>(c.rms_norm_eps);
  cpu::ZeroCenteredRmsNorm(q.data(), w.q_norm.data(), q.data(), T * Hq, D, eps);
  cpu::ZeroCenteredRmsNorm(k.data(), w.k_norm.data(), k.data(), T * Hkv, D, eps);
  cpu::RopeParams rope;
  rope.rotary_dim = static_cast<size_t>(c.rotary_dim());
  rope.theta = c.rope_parameters.rope_theta;
  for (size_t i = 0; i < 3 && i < c.rope_parameters.mrope_section.size(); ++i) {
    rope.mrope_section[i] = static_cast<int>(c.rope_parameters.mrope_section[i]);
  }
  rope.mrope_interleaved = c.rope_parameters.mrope_interleaved;
  cpu::ApplyMrope(q.data(), T, Hq, D, positions, rope);
  cpu::ApplyMrope(k.data(), T, Hkv, D, positions, rope);
  seq.AppendKv(layer, T, k.data(), v.data());
  std::vector<float> o(T * Hq * D);
  cpu::CausalAttention(q.data(), T, Hq, seq.KvView(layer, seq.length() + T, Hkv, D), o.data());
  cpu::MulSigmoid(o.data(), gate.data(), o.size());
  RunLinear(*w.o_proj, o.data(), T, out);
}

void Qwen35TextModel::GatedDeltaNet(const LayerWeights& w, size_t layer, SequenceState& seq, const float* h,
                                    size_t T, float* out) const {
  const TextConfig& c = config_;
  const size_t Hk = static_cast<size_t>(c.linear_num_key_heads), Hv = static_cast<size_t>(c.linear_num_value_heads),
               Dk = static_cast<size_t>(c.linear_key_head_dim), Dv = static_cast<size_t>(c.linear_value_head_dim),
               K = static_cast<size_t>(c.linear_conv_kernel_dim), conv_dim = static_cast<size_t>(c.linear_conv_dim()),
               key_dim = Hk * Dk;
  std::vector<float> m(T * conv_dim), z(T * Hv * Dv), b(T * Hv), a(T * Hv), conv(T * conv_dim);
  RunLinear(*w.in_proj_qkv, h, T, m.data());
  RunLinear(*w.in_proj_z, h, T, z.data());
  RunLinear(*w.in_proj_b, h, T, b.data());
  RunLinear(*w.in_proj_a, h, T, a.data());
  cpu::CausalConv1dSilu(m.data(), T, conv_dim, w.conv1d.data(), K, seq.conv_history(layer).data(), conv.data());
  // Split the conv output rows [q | k | v] into contiguous per-token head arrays.
  std::vector<float> q(T * key_dim), k(T * key_dim), v(T * Hv * Dv);
  for (size_t t = 0; t < T; ++t) {
    const float* row = &conv[t * conv_dim];
    std::memcpy(&q[t * key_dim], row, key_dim * sizeof(float));
    std::memcpy(&k[t * key_dim], row + key_dim, key_dim * sizeof(float));
    std::memcpy(&v[t * Hv * Dv], row + 2 * key_dim, Hv * Dv * sizeof(float));
  }
  cpu::L2NormalizeRows(q.data(), T * Hk, Dk, 1e-6f, 1.f / std::sqrt(static_cast<float>(Dk)));
  cpu::L2NormalizeRows(k.data(), T * Hk, Dk, 1e-6f, 1.f);
  std::vector<float> beta(T * Hv), g(T * Hv);
  for (size_t t = 0; t < T; ++t) {
    for (size_t j = 0; j < Hv; ++j) {
      beta[t * Hv + j] = cpu::Sigmoid(b[t * Hv + j]);
      g[t * Hv + j] = -std::exp(w.a_log[j]) * cpu::Softplus(a[t * Hv + j] + w.dt_bias[j]);
    }
  }
  const cpu::DeltaNetShape shape{Hk, Hv, Dk, Dv};
  std::vector<float> o(T * Hv * Dv);
  float* state = seq.recurrent_state(layer).data();
  // HF: the chunked form for every multi-token call, the recurrence for single-token decode.
  if (T == 1) {
    cpu::GatedDeltaRuleRecurrent(shape, T, q.data(), k.data(), v.data(), g.data(), beta.data(), state, o.data());
  } else {
    cpu::GatedDeltaRuleChunked(shape, T, q.data(), k.data(), v.data(), g.data(), beta.data(), state, o.data());
  }
  cpu::GatedRmsNorm(o.data(), z.data(), w.gdn_norm.data(), o.data(), T * Hv, Dv, static_cast<float>(c.rms_norm_eps));
  RunLinear(*w.out_proj, o.data(), T, out);
}

Result<ForwardResult> Qwen35TextModel::Forward(SequenceState& seq, const ForwardRequest& req) const {
  const TextConfig& c = config_;
  const size_t T = req.ids.size(), H = static_cast<size_t>(c.hidden_size), I = static_cast<size_t>(c.intermediate_size),
               V = static_cast<size_t>(c.vocab_size);
  if (T == 0) return Status::InvalidArgument("forward needs at least one token");
  for (size_t t = 0; t < T; ++t) {
    if (req.ids[t] < 0 || static_cast<size_t>(req.ids[t]) >= V) {
      return Status::InvalidArgument("token id " + std::to_string(req.ids[t]) + " at index " + std::to_string(t) +
                                     " is outside the vocabulary [0, " + std::to_string(V) + ")");
    }
  }
  std::vector<int64_t> positions;
  if (req.positions.empty()) {
    positions.resize(3 * T);
    for (size_t axis = 0; axis < 3; ++axis) {
      for (size_t t = 0; t < T; ++t) {
        positions[axis * T + t] = static_cast<int64_t>(seq.length() + t) + seq.rope_delta;
      }
    }
  } else if (req.positions.size() != 3 * T) {
    return Status::InvalidArgument("positions must hold 3 × " + std::to_string(T) + " ids, got " +
                                   std::to_string(req.positions.size()));
  } else {
    positions.assign(req.positions.begin(), req.positions.end());
  }

  ForwardResult result;
  std::vector<float> x(T * H), h(T * H), attn(T * H), gate(T * I), up(T * I);
  Embed(req.ids, x.data());
  if (req.want_hidden_states) result.hidden_states.push_back(x);
  const float eps = static_cast<float>(c.rms_norm_eps);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LayerWeights& w = layers_[l];
    cpu::ZeroCenteredRmsNorm(x.data(), w.input_layernorm.data(), h.data(), T, H, eps);
    if (w.is_full_attention) FullAttention(w, l, seq, h.data(), T, positions.data(), attn.data());
    else GatedDeltaNet(w, l, seq, h.data(), T, attn.data());
    cpu::AddInPlace(x.data(), attn.data(), T * H);
    cpu::ZeroCenteredRmsNorm(x.data(), w.post_attention_layernorm.data(), h.data(), T, H, eps);
    RunLinear(*w.gate_proj, h.data(), T, gate.data());
    RunLinear(*w.up_proj, h.data(), T, up.data());
    cpu::SiluMul(gate.data(), up.data(), gate.data(), T * I);
    RunLinear(*w.down_proj, gate.data(), T, attn.data());
    cpu::AddInPlace(x.data(), attn.data(), T * H);
    if (req.want_hidden_states && l + 1 < layers_.size()) result.hidden_states.push_back(x);
  }
  seq.Advance(T);
  cpu::ZeroCenteredRmsNorm(x.data(), final_norm_.data(), x.data(), T, H, eps);
  if (req.want_hidden_states) result.hidden_states.push_back(x);

  const size_t first = req.all_logits ? 0 : T - 1;
  result.rows = T - first;
  result.vocab_size = V;
  result.logits.resize(result.rows * V);
  const float* xs = x.data() + first * H;
  if (lm_head_ != nullptr) {
    RunLinear(*lm_head_, xs, result.rows, result.logits.data());
  } else {
    cpu::Linear(xs, result.rows, H, V, [&](size_t r0, size_t r1, float* dst) {
      for (size_t r = r0; r < r1; ++r) TensorRow(*embed_, r, H, dst + (r - r0) * H);
    }, result.logits.data());
  }
  return result;
}

}  // namespace warden::engine
