// Qwen3.5/3.6 text decoder in three parts (style: one file per architecture): read the config, take the tensors
// by name (model.md §2.8), run the forward pass through backend.h (§2.1–2.5, §3).
//
// Intermediates a DebugHook sees, per call of T tokens (shapes in brackets; H hidden, I intermediate, l layer):
//   embed [T, H]                         token embeddings (vision features already scattered in)
//   layer.l.input_norm [T, H]            input_layernorm output
//   layer.l.attn.q / .k / .v / .gate     full attention: q and k after q/k norm and M-RoPE, [T, heads·D]
//   layer.l.attn.core [T, Hq·D]          attention output after the sigmoid gate, before o_proj
//   layer.l.gdn.conv [T, conv_dim]       DeltaNet: causal conv + SiLU of in_proj_qkv
//   layer.l.gdn.q / .k / .v / .z         q, k L2-normalised (q scaled), [T, heads·dim]
//   layer.l.gdn.beta / .g [T, Hv]        β = σ(b), g = −exp(A_log)·softplus(a + dt_bias)
//   layer.l.gdn.core [T, Hv·Dv]          delta rule output after the gated RMSNorm, before out_proj
//   layer.l.attn_out [T, H]              token mixer output (o_proj / out_proj)
//   layer.l.post_norm [T, H]             post_attention_layernorm output
//   layer.l.mlp_out [T, H]               down_proj output
//   layer.l.out [T, H]                   residual stream after the layer (= fixtures' hidden_states[l + 1],
//                                        except the last layer, whose fixture entry is final_norm)
//   final_norm [T, H]                    after the final norm
//   logits [rows, V]
#include "runtime/engine/models/qwen3_5_text.h"

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>

namespace warden::engine {
namespace {

// A norm/DeltaNet vector of the checkpoint as an fp32 backend tensor, its element count checked against the config.
Result<Tensor> FloatTensor(Backend& backend, const Checkpoint& ckpt, const std::string& name,
                           std::vector<size_t> shape) {
  WARDEN_ASSIGN_OR_RETURN(TensorView view, ckpt.Get(name));
  size_t expect = 1;
  for (size_t d : shape) expect *= d;
  if (static_cast<size_t>(view.num_elements()) != expect) {
    return Status::Corruption("tensor " + name + " has " + std::to_string(view.num_elements()) +
                              " elements, the config implies " + std::to_string(expect));
  }
  const std::vector<float> host = ToFloat(view);
  return backend.UploadF32(host, std::move(shape));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Load

Result<std::unique_ptr<Qwen35TextModel>> Qwen35TextModel::Load(const ModelFiles& files,
                                                                const TextModelOptions& options) {
  std::unique_ptr<Qwen35TextModel> m(new Qwen35TextModel());  // private constructor
  m->config_ = files.config().text;
  m->options_ = options;
  m->linear_options_.fp8_activations = options.fp8_activations;
  if (options.backend != nullptr) {
    m->backend_ = options.backend;
  } else {
    WARDEN_ASSIGN_OR_RETURN(m->backend_, MakeBackend("cpu"));
  }
  Backend& be = *m->backend_;
  const TextConfig& c = m->config_;
  const std::string prefix = files.expected().text_prefix;
  const Checkpoint& ckpt = files.checkpoint();
  const size_t H = static_cast<size_t>(c.hidden_size), V = static_cast<size_t>(c.vocab_size);
  WeightSource source;
  source.embedding = [&]() -> Result<LinearWeight> {
    WARDEN_ASSIGN_OR_RETURN(TensorView embed, ckpt.Get(prefix + "embed_tokens.weight"));
    if (embed.dtype != DType::kBF16 && embed.dtype != DType::kF16 && embed.dtype != DType::kF32) {
      return Status::InvalidArgument("embed_tokens.weight has dtype " + std::string(DTypeName(embed.dtype)) +
                                     "; expected BF16, F16 or F32");
    }
    if (static_cast<size_t>(embed.num_elements()) != V * H) {
      return Status::Corruption("embed_tokens.weight has " + std::to_string(embed.num_elements()) +
                                " elements, the config implies " + std::to_string(V) + " × " + std::to_string(H));
    }
    // The table is handed to the backend as an unquantised Linear [vocab, hidden]: the same handle serves the
    // embedding lookup and, when tied, the lm_head.
    m->embed_linear_.spec.module = prefix + "embed_tokens";
    m->embed_linear_.spec.out_features = static_cast<int64_t>(V);
    m->embed_linear_.spec.in_features = static_cast<int64_t>(H);
    m->embed_linear_.format = LinearFormat::kBF16;
    m->embed_linear_.weight = ckpt.Find(prefix + "embed_tokens.weight");
    return be.PrepareLinear(m->embed_linear_);
  };
  source.linear = [&](const std::string& module) -> Result<LinearWeight> {
    const ResolvedLinear* l = files.FindLinear(module);
    if (l == nullptr) return Status::Corruption("Linear " + module + " is missing from the checkpoint");
    return be.PrepareLinear(*l);
  };
  source.vector = [&](const std::string& name, std::vector<size_t> shape) {
    return FloatTensor(be, ckpt, name, std::move(shape));
  };
  WARDEN_RETURN_IF_ERROR(m->Assemble(files.config().source, prefix, files.config().tie_word_embeddings, source));
  return m;
}

Result<std::unique_ptr<Qwen35TextModel>> Qwen35TextModel::Synthetic(const ModelConfig& config,
                                                                     const QuantConfig& quant,
                                                                     const TextModelOptions& options, uint64_t seed) {
  std::unique_ptr<Qwen35TextModel> m(new Qwen35TextModel());
  m->config_ = config.text;
  m->options_ = options;
  m->linear_options_.fp8_activations = options.fp8_activations;
  if (options.backend != nullptr) {
    m->backend_ = options.backend;
  } else {
    WARDEN_ASSIGN_OR_RETURN(m->backend_, MakeBackend("cpu"));
  }
  Backend& be = *m->backend_;
  const TextConfig& c = m->config_;
  const std::string prefix = config.model_type == "qwen3_5_text" ? "model." : "model.language_model.";
  // Shapes of every Linear as a checkpoint of this config would hold them.
  const ModelTensors expected = ExpectedTensors(config, prefix, false);
  std::map<std::string, LinearSpec> specs;
  for (const LinearSpec& l : expected.linears) specs[l.module] = l;
  WeightSource source;
  source.embedding = [&]() {
    LinearSpec spec;
    spec.module = prefix + "embed_tokens";
    spec.out_features = c.vocab_size;
    spec.in_features = c.hidden_size;
    return be.RandomLinear(spec, LinearFormat::kBF16, seed);
  };
  source.linear = [&](const std::string& module) -> Result<LinearWeight> {
    auto it = specs.find(module);
    if (it == specs.end()) return Status::Internal("no expected Linear " + module + " for this config");
    return be.RandomLinear(it->second, quant.DeclaredFormat(module), seed);
  };
  // Norm and DeltaNet vectors in the ranges trained models have, so activations stay finite through the layers.
  source.vector = [&](const std::string& name, std::vector<size_t> shape) -> Result<Tensor> {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    std::mt19937_64 rng(seed ^ std::hash<std::string>{}(name));
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> host(n);
    const bool a_log = name.ends_with("A_log"), dt_bias = name.ends_with("dt_bias"),
               conv = name.ends_with("conv1d.weight"), gdn_norm = name.ends_with("linear_attn.norm.weight");
    for (float& v : host) {
      const float r = u(rng);
      v = a_log ? std::log(1.f + 15.f * r) : dt_bias ? r - 0.5f : conv ? r - 0.5f : gdn_norm ? 0.9f + 0.2f * r
                                                                                           : 0.2f * r - 0.1f;
    }
    return be.UploadF32(host, std::move(shape));
  };
  WARDEN_RETURN_IF_ERROR(m->Assemble(config.source, prefix, config.tie_word_embeddings, source));
  return m;
}

Status Qwen35TextModel::Assemble(const std::string& source_name, const std::string& prefix,
                                 bool tie_word_embeddings, const WeightSource& source) {
  const TextConfig& c = config_;
  if (c.hidden_act != "silu") {
    return Status::InvalidArgument(source_name + ": hidden_act \"" + c.hidden_act + "\" is not supported (only silu)");
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0 ||
      c.linear_num_value_heads % c.linear_num_key_heads != 0) {
    return Status::InvalidArgument(source_name + ": head counts must divide (attention " +
                                   std::to_string(c.num_attention_heads) + "/" +
                                   std::to_string(c.num_key_value_heads) + ", linear " +
                                   std::to_string(c.linear_num_value_heads) + "/" +
                                   std::to_string(c.linear_num_key_heads) + ")");
  }
  const size_t H = static_cast<size_t>(c.hidden_size);
  WARDEN_ASSIGN_OR_RETURN(embed_, source.embedding());
  WARDEN_ASSIGN_OR_RETURN(final_norm_, source.vector(prefix + "norm.weight", {H}));
  if (!tie_word_embeddings) {
    auto head = source.linear("lm_head");
    if (!head.ok() && head.status().message().ends_with("missing from the checkpoint")) {
      return Status::Corruption("lm_head.weight is missing and embeddings are not tied");
    }
    WARDEN_ASSIGN_OR_RETURN(lm_head_, std::move(head));
  }
  const auto& linear = source.linear;
  const auto& vec = source.vector;
  const size_t D = static_cast<size_t>(c.head_dim), Hv = static_cast<size_t>(c.linear_num_value_heads),
               K = static_cast<size_t>(c.linear_conv_kernel_dim), conv_dim = static_cast<size_t>(c.linear_conv_dim());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = prefix + "layers." + std::to_string(i) + ".";
    LayerWeights w;
    w.is_full_attention = c.layer_types[static_cast<size_t>(i)] == LayerType::kFullAttention;
    WARDEN_ASSIGN_OR_RETURN(w.input_layernorm, vec(p + "input_layernorm.weight", {H}));
    WARDEN_ASSIGN_OR_RETURN(w.post_attention_layernorm, vec(p + "post_attention_layernorm.weight", {H}));
    WARDEN_ASSIGN_OR_RETURN(w.gate_proj, linear(p + "mlp.gate_proj"));
    WARDEN_ASSIGN_OR_RETURN(w.up_proj, linear(p + "mlp.up_proj"));
    WARDEN_ASSIGN_OR_RETURN(w.down_proj, linear(p + "mlp.down_proj"));
    if (w.is_full_attention) {
      WARDEN_ASSIGN_OR_RETURN(w.q_proj, linear(p + "self_attn.q_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.k_proj, linear(p + "self_attn.k_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.v_proj, linear(p + "self_attn.v_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.o_proj, linear(p + "self_attn.o_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.q_norm, vec(p + "self_attn.q_norm.weight", {D}));
      WARDEN_ASSIGN_OR_RETURN(w.k_norm, vec(p + "self_attn.k_norm.weight", {D}));
    } else {
      const std::string a = p + "linear_attn.";
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_qkv, linear(a + "in_proj_qkv"));
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_z, linear(a + "in_proj_z"));
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_b, linear(a + "in_proj_b"));
      WARDEN_ASSIGN_OR_RETURN(w.in_proj_a, linear(a + "in_proj_a"));
      WARDEN_ASSIGN_OR_RETURN(w.out_proj, linear(a + "out_proj"));
      WARDEN_ASSIGN_OR_RETURN(w.conv1d, vec(a + "conv1d.weight", {conv_dim, K}));
      WARDEN_ASSIGN_OR_RETURN(w.a_log, vec(a + "A_log", {Hv}));
      WARDEN_ASSIGN_OR_RETURN(w.dt_bias, vec(a + "dt_bias", {Hv}));
      WARDEN_ASSIGN_OR_RETURN(w.gdn_norm, vec(a + "norm.weight", {static_cast<size_t>(c.linear_value_head_dim)}));
    }
    layers_.push_back(std::move(w));
  }
  rope_.rotary_dim = static_cast<size_t>(c.rotary_dim());
  rope_.theta = c.rope_parameters.rope_theta;
  for (size_t i = 0; i < 3 && i < c.rope_parameters.mrope_section.size(); ++i) {
    rope_.mrope_section[i] = static_cast<int>(c.rope_parameters.mrope_section[i]);
  }
  rope_.mrope_interleaved = c.rope_parameters.mrope_interleaved;
  return Status::Ok();
}

std::unique_ptr<SequenceState> Qwen35TextModel::NewSequence(const KvCacheOptions& kv) const {
  const TextConfig& c = config_;
  SequenceLayout layout;
  for (const auto& l : layers_) layout.is_full_attention.push_back(l.is_full_attention);
  layout.num_kv_heads = static_cast<size_t>(c.num_key_value_heads);
  layout.head_dim = static_cast<size_t>(c.head_dim);
  layout.conv_history_shape = {static_cast<size_t>(c.linear_conv_kernel_dim - 1),
                               static_cast<size_t>(c.linear_conv_dim())};
  layout.recurrent_state_shape = {static_cast<size_t>(c.linear_num_value_heads),
                                  static_cast<size_t>(c.linear_key_head_dim),
                                  static_cast<size_t>(c.linear_value_head_dim)};
  return std::make_unique<SequenceState>(backend_, std::move(layout), kv);
}

// ---------------------------------------------------------------------------------------------------------
// Forward

// One Forward call: allocates scratch on the backend and reports named intermediates to the debug hook.
class Qwen35TextModel::Pass {
 public:
  Pass(Backend& backend, const DebugHook& hook) : backend_(backend), hook_(hook) {}

  Result<Tensor> F32(std::vector<size_t> shape) { return backend_.Alloc(DType::kF32, std::move(shape)); }

  bool observed() const { return static_cast<bool>(hook_); }
  // `name` is built only when someone listens.
  template <typename NameFn>
  Status Observe(const NameFn& name, const Tensor& t) {
    if (!hook_) return Status::Ok();
    WARDEN_ASSIGN_OR_RETURN(std::vector<float> host, backend_.DownloadF32(t));
    hook_(name(), t.shape(), host);
    return Status::Ok();
  }

 private:
  Backend& backend_;
  const DebugHook& hook_;
};

namespace {
std::string LayerName(size_t l, const char* what) { return "layer." + std::to_string(l) + "." + what; }
}  // namespace

Status Qwen35TextModel::FullAttention(Pass& pass, const LayerWeights& w, size_t layer, SequenceState& seq,
                                      const Tensor& h, const Tensor& positions, Tensor& out) const {
  Backend& be = *backend_;
  const TextConfig& c = config_;
  const size_t T = h.dim(0), Hq = static_cast<size_t>(c.num_attention_heads),
               Hkv = static_cast<size_t>(c.num_key_value_heads), D = static_cast<size_t>(c.head_dim);
  WARDEN_ASSIGN_OR_RETURN(Tensor qg, pass.F32({T, Hq * 2 * D}));
  WARDEN_ASSIGN_OR_RETURN(Tensor q, pass.F32({T * Hq, D}));
  WARDEN_ASSIGN_OR_RETURN(Tensor gate, pass.F32({T * Hq, D}));
  WARDEN_ASSIGN_OR_RETURN(Tensor k, pass.F32({T, Hkv * D}));
  WARDEN_ASSIGN_OR_RETURN(Tensor v, pass.F32({T, Hkv * D}));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.q_proj, h, qg, linear_options_));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.k_proj, h, k, linear_options_));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.v_proj, h, v, linear_options_));
  // q_proj rows interleave per head: [query(D) | gate(D)] for head 0, then head 1, ... (§2.3 step 1).
  WARDEN_RETURN_IF_ERROR(qg.Reshape({T * Hq, 2 * D}));
  Tensor* parts[] = {&q, &gate};
  WARDEN_RETURN_IF_ERROR(be.SplitColumns(qg, parts));
  const float eps = static_cast<float>(c.rms_norm_eps);
  WARDEN_RETURN_IF_ERROR(be.ZeroCenteredRmsNorm(q, w.q_norm, q, eps));
  WARDEN_RETURN_IF_ERROR(be.ZeroCenteredRmsNorm(k, w.k_norm, k, eps));
  WARDEN_RETURN_IF_ERROR(q.Reshape({T, Hq * D}));
  WARDEN_RETURN_IF_ERROR(gate.Reshape({T, Hq * D}));
  WARDEN_RETURN_IF_ERROR(be.ApplyMrope(q, Hq, positions, rope_));
  WARDEN_RETURN_IF_ERROR(be.ApplyMrope(k, Hkv, positions, rope_));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "attn.q"); }, q));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "attn.k"); }, k));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "attn.v"); }, v));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "attn.gate"); }, gate));
  const size_t kv_layer = seq.kv_layer(layer);
  WARDEN_RETURN_IF_ERROR(be.AppendKv(seq.kv_cache(), kv_layer, seq.length(), k, v));
  WARDEN_ASSIGN_OR_RETURN(Tensor o, pass.F32({T, Hq * D}));
  WARDEN_RETURN_IF_ERROR(be.CausalAttention(q, Hq, seq.kv_cache(), kv_layer, seq.length() + T, o));
  WARDEN_RETURN_IF_ERROR(be.MulSigmoid(o, gate));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "attn.core"); }, o));
  return be.Linear(w.o_proj, o, out, linear_options_);
}

Status Qwen35TextModel::GatedDeltaNet(Pass& pass, const LayerWeights& w, size_t layer, SequenceState& seq,
                                      const Tensor& h, Tensor& out) const {
  Backend& be = *backend_;
  const TextConfig& c = config_;
  const size_t T = h.dim(0), Hk = static_cast<size_t>(c.linear_num_key_heads),
               Hv = static_cast<size_t>(c.linear_num_value_heads), Dk = static_cast<size_t>(c.linear_key_head_dim),
               Dv = static_cast<size_t>(c.linear_value_head_dim), conv_dim = static_cast<size_t>(c.linear_conv_dim()),
               key_dim = Hk * Dk;
  WARDEN_ASSIGN_OR_RETURN(Tensor m, pass.F32({T, conv_dim}));
  WARDEN_ASSIGN_OR_RETURN(Tensor z, pass.F32({T, Hv * Dv}));
  WARDEN_ASSIGN_OR_RETURN(Tensor b, pass.F32({T, Hv}));
  WARDEN_ASSIGN_OR_RETURN(Tensor a, pass.F32({T, Hv}));
  WARDEN_ASSIGN_OR_RETURN(Tensor conv, pass.F32({T, conv_dim}));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.in_proj_qkv, h, m, linear_options_));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.in_proj_z, h, z, linear_options_));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.in_proj_b, h, b, linear_options_));
  WARDEN_RETURN_IF_ERROR(be.Linear(w.in_proj_a, h, a, linear_options_));
  WARDEN_RETURN_IF_ERROR(be.CausalConv1dSilu(m, w.conv1d, seq.conv_history(layer), conv));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.conv"); }, conv));
  // The conv output rows are [q | k | v].
  WARDEN_ASSIGN_OR_RETURN(Tensor q, pass.F32({T, key_dim}));
  WARDEN_ASSIGN_OR_RETURN(Tensor k, pass.F32({T, key_dim}));
  WARDEN_ASSIGN_OR_RETURN(Tensor v, pass.F32({T, Hv * Dv}));
  Tensor* parts[] = {&q, &k, &v};
  WARDEN_RETURN_IF_ERROR(be.SplitColumns(conv, parts));
  WARDEN_RETURN_IF_ERROR(be.L2NormalizeRows(q, Dk, 1e-6f, 1.f / std::sqrt(static_cast<float>(Dk))));
  WARDEN_RETURN_IF_ERROR(be.L2NormalizeRows(k, Dk, 1e-6f, 1.f));
  WARDEN_ASSIGN_OR_RETURN(Tensor beta, pass.F32({T, Hv}));
  WARDEN_ASSIGN_OR_RETURN(Tensor g, pass.F32({T, Hv}));
  WARDEN_RETURN_IF_ERROR(be.DeltaNetGates(b, a, w.a_log, w.dt_bias, beta, g));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.q"); }, q));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.k"); }, k));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.v"); }, v));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.z"); }, z));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.beta"); }, beta));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.g"); }, g));
  WARDEN_ASSIGN_OR_RETURN(Tensor o, pass.F32({T, Hv * Dv}));
  // HF: the chunked form for every multi-token call, the recurrence for single-token decode.
  const DeltaRuleForm form = T == 1 ? DeltaRuleForm::kRecurrent : DeltaRuleForm::kChunked;
  WARDEN_RETURN_IF_ERROR(be.GatedDeltaRule({Hk, Hv, Dk, Dv}, form, q, k, v, g, beta, seq.recurrent_state(layer), o));
  WARDEN_RETURN_IF_ERROR(be.GatedRmsNorm(o, z, w.gdn_norm, o, static_cast<float>(c.rms_norm_eps)));
  WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(layer, "gdn.core"); }, o));
  return be.Linear(w.out_proj, o, out, linear_options_);
}

Result<ForwardResult> Qwen35TextModel::Forward(SequenceState& seq, const ForwardRequest& req) const {
  Backend& be = *backend_;
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
  if ((req.media_embeds == nullptr) != req.media_rows.empty() ||
      (req.media_embeds != nullptr && req.media_embeds->numel() != req.media_rows.size() * H)) {
    return Status::InvalidArgument(
        "media embeddings: " + std::to_string(req.media_rows.size()) + " placeholder rows for " +
        (req.media_embeds ? req.media_embeds->Describe() : std::string("no tensor")) + " (need [rows, " +
        std::to_string(H) + "])");
  }
  for (int32_t r : req.media_rows) {
    if (r < 0 || static_cast<size_t>(r) >= T) {
      return Status::InvalidArgument("media row " + std::to_string(r) + " is outside the " + std::to_string(T) +
                                     " new tokens");
    }
  }
  WARDEN_RETURN_IF_ERROR(seq.EnsureAllocated());

  ForwardResult result;
  // Hidden states ride on the same hook as the debug names, so both see exactly the same tensors.
  const size_t L = layers_.size();
  DebugHook hook;
  if (req.want_hidden_states || req.debug_hook) {
    result.hidden_states.resize(req.want_hidden_states ? L + 1 : 0);
    hook = [&](const std::string& name, std::span<const size_t> shape, std::span<const float> values) {
      if (req.want_hidden_states) {
        size_t slot = L + 1;
        if (name == "embed") slot = 0;
        else if (name == "final_norm") slot = L;
        else if (name.starts_with("layer.") && name.ends_with(".out")) {
          const size_t l = std::stoul(name.substr(6));
          if (l + 1 < L) slot = l + 1;
        }
        if (slot <= L) result.hidden_states[slot].assign(values.begin(), values.end());
      }
      if (req.debug_hook) req.debug_hook(name, shape, values);
    };
  }
  Pass pass(be, hook);

  WARDEN_ASSIGN_OR_RETURN(Tensor ids, be.UploadI32(req.ids, {T}));
  WARDEN_ASSIGN_OR_RETURN(Tensor pos, be.UploadI64(positions, {3, T}));
  WARDEN_ASSIGN_OR_RETURN(Tensor x, pass.F32({T, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor h, pass.F32({T, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor mix, pass.F32({T, H}));
  WARDEN_ASSIGN_OR_RETURN(Tensor gate, pass.F32({T, I}));
  WARDEN_ASSIGN_OR_RETURN(Tensor up, pass.F32({T, I}));
  WARDEN_RETURN_IF_ERROR(be.Embedding(embed_, ids, x));
  if (req.media_embeds != nullptr) {
    WARDEN_ASSIGN_OR_RETURN(Tensor rows, be.UploadI32(req.media_rows, {req.media_rows.size()}));
    WARDEN_RETURN_IF_ERROR(be.ScatterRows(x, rows, *req.media_embeds));
  }
  WARDEN_RETURN_IF_ERROR(pass.Observe([] { return std::string("embed"); }, x));
  const float eps = static_cast<float>(c.rms_norm_eps);
  for (size_t l = 0; l < L; ++l) {
    const LayerWeights& w = layers_[l];
    WARDEN_RETURN_IF_ERROR(be.ZeroCenteredRmsNorm(x, w.input_layernorm, h, eps));
    WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(l, "input_norm"); }, h));
    if (w.is_full_attention) WARDEN_RETURN_IF_ERROR(FullAttention(pass, w, l, seq, h, pos, mix));
    else WARDEN_RETURN_IF_ERROR(GatedDeltaNet(pass, w, l, seq, h, mix));
    WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(l, "attn_out"); }, mix));
    WARDEN_RETURN_IF_ERROR(be.Add(x, mix));
    WARDEN_RETURN_IF_ERROR(be.ZeroCenteredRmsNorm(x, w.post_attention_layernorm, h, eps));
    WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(l, "post_norm"); }, h));
    WARDEN_RETURN_IF_ERROR(be.Linear(w.gate_proj, h, gate, linear_options_));
    WARDEN_RETURN_IF_ERROR(be.Linear(w.up_proj, h, up, linear_options_));
    WARDEN_RETURN_IF_ERROR(be.SiluMul(gate, up, gate));
    WARDEN_RETURN_IF_ERROR(be.Linear(w.down_proj, gate, mix, linear_options_));
    WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(l, "mlp_out"); }, mix));
    WARDEN_RETURN_IF_ERROR(be.Add(x, mix));
    WARDEN_RETURN_IF_ERROR(pass.Observe([&] { return LayerName(l, "out"); }, x));
  }
  seq.Advance(T);
  WARDEN_RETURN_IF_ERROR(be.ZeroCenteredRmsNorm(x, final_norm_, x, eps));
  WARDEN_RETURN_IF_ERROR(pass.Observe([] { return std::string("final_norm"); }, x));

  // Logits for every token, or only the last: the last row is copied out so lm_head reads one row.
  Tensor last;
  const Tensor* xs = &x;
  if (!req.all_logits && T > 1) {
    WARDEN_ASSIGN_OR_RETURN(last, pass.F32({1, H}));
    WARDEN_ASSIGN_OR_RETURN(Tensor rest, pass.F32({T - 1, H}));
    WARDEN_RETURN_IF_ERROR(x.Reshape({T, H}));
    // SplitColumns splits columns; view [T, H] as one row of T·H to split off the leading T−1 rows.
    WARDEN_RETURN_IF_ERROR(x.Reshape({1, T * H}));
    WARDEN_RETURN_IF_ERROR(rest.Reshape({1, (T - 1) * H}));
    WARDEN_RETURN_IF_ERROR(last.Reshape({1, H}));
    Tensor* parts[] = {&rest, &last};
    WARDEN_RETURN_IF_ERROR(be.SplitColumns(x, parts));
    xs = &last;
  }
  result.rows = xs->numel() / H;
  result.vocab_size = V;
  WARDEN_ASSIGN_OR_RETURN(Tensor logits, pass.F32({result.rows, V}));
  WARDEN_RETURN_IF_ERROR(be.Linear(lm_head_.empty() ? embed_ : lm_head_, *xs, logits, linear_options_));
  WARDEN_RETURN_IF_ERROR(pass.Observe([] { return std::string("logits"); }, logits));
  WARDEN_ASSIGN_OR_RETURN(result.logits, be.DownloadF32(logits));
  return result;
}

}  // namespace warden::engine
