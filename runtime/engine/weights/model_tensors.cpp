// Expected tensor names and shapes of Qwen3_5ForConditionalGeneration / Qwen3_5ForCausalLM (docs/model.md §2.8).
#include "runtime/engine/weights/model_tensors.h"

#include <algorithm>

#include "runtime/engine/weights/safetensors.h"

namespace warden::engine {

std::string_view ModelPartName(ModelPart p) {
  switch (p) {
    case ModelPart::kText: return "text";
    case ModelPart::kVision: return "vision";
    case ModelPart::kMtp: return "mtp";
  }
  return "?";
}

int64_t ModelTensors::ParameterCount() const {
  int64_t n = 0;
  for (const auto& l : linears) n += l.out_features * l.in_features + (l.has_bias ? l.out_features : 0);
  for (const auto& t : others) {
    int64_t e = 1;
    for (int64_t d : t.shape) e *= d;
    n += e;
  }
  return n;
}

namespace {

struct Builder {
  ModelTensors* out;
  ModelPart part;
  void Linear(const std::string& module, int64_t out_f, int64_t in_f, bool bias = false) {
    out->linears.push_back({module, out_f, in_f, bias, part});
  }
  void Other(const std::string& name, std::vector<int64_t> shape) { out->others.push_back({name, std::move(shape), part}); }
};

// A gated full-attention decoder layer (main model or MTP) with its MLP (§2.2, §2.3, §2.5).
void FullAttentionLayer(Builder& b, const TextConfig& t, const std::string& p) {
  const int64_t h = t.hidden_size;
  b.Other(p + "input_layernorm.weight", {h});
  b.Other(p + "post_attention_layernorm.weight", {h});
  // q_proj carries query and output gate per head (always gated in HF Qwen3.5).
  b.Linear(p + "self_attn.q_proj", t.num_attention_heads * t.head_dim * 2, h);
  b.Linear(p + "self_attn.k_proj", t.num_key_value_heads * t.head_dim, h);
  b.Linear(p + "self_attn.v_proj", t.num_key_value_heads * t.head_dim, h);
  b.Linear(p + "self_attn.o_proj", h, t.num_attention_heads * t.head_dim);
  b.Other(p + "self_attn.q_norm.weight", {t.head_dim});
  b.Other(p + "self_attn.k_norm.weight", {t.head_dim});
}

void Mlp(Builder& b, const TextConfig& t, const std::string& p) {
  b.Linear(p + "mlp.gate_proj", t.intermediate_size, t.hidden_size);
  b.Linear(p + "mlp.up_proj", t.intermediate_size, t.hidden_size);
  b.Linear(p + "mlp.down_proj", t.hidden_size, t.intermediate_size);
}

}  // namespace

ModelTensors ExpectedTensors(const ModelConfig& config, const std::string& text_prefix, bool include_mtp) {
  ModelTensors m;
  m.text_prefix = text_prefix;
  const TextConfig& t = config.text;
  const int64_t h = t.hidden_size;
  Builder b{&m, ModelPart::kText};
  b.Other(text_prefix + "embed_tokens.weight", {t.vocab_size, h});
  for (int64_t i = 0; i < t.num_hidden_layers; ++i) {
    const std::string p = text_prefix + "layers." + std::to_string(i) + ".";
    if (t.layer_types[static_cast<size_t>(i)] == LayerType::kFullAttention) {
      FullAttentionLayer(b, t, p);
    } else {
      b.Other(p + "input_layernorm.weight", {h});
      b.Other(p + "post_attention_layernorm.weight", {h});
      const int64_t nv = t.linear_num_value_heads;
      b.Linear(p + "linear_attn.in_proj_qkv", t.linear_conv_dim(), h);
      b.Linear(p + "linear_attn.in_proj_z", t.linear_value_dim(), h);
      b.Linear(p + "linear_attn.in_proj_b", nv, h);
      b.Linear(p + "linear_attn.in_proj_a", nv, h);
      b.Other(p + "linear_attn.conv1d.weight", {t.linear_conv_dim(), 1, t.linear_conv_kernel_dim});
      b.Other(p + "linear_attn.A_log", {nv});
      b.Other(p + "linear_attn.dt_bias", {nv});
      b.Other(p + "linear_attn.norm.weight", {t.linear_value_head_dim});
      b.Linear(p + "linear_attn.out_proj", h, t.linear_value_dim());
    }
    Mlp(b, t, p);
  }
  b.Other(text_prefix + "norm.weight", {h});
  if (!config.tie_word_embeddings) b.Linear("lm_head", t.vocab_size, h);

  if (config.vision && !config.language_model_only) {
    const VisionConfig& v = *config.vision;
    Builder vb{&m, ModelPart::kVision};
    const std::string p = "model.visual.";
    const int64_t vh = v.hidden_size;
    vb.Other(p + "patch_embed.proj.weight", {vh, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size});
    vb.Other(p + "patch_embed.proj.bias", {vh});
    vb.Other(p + "pos_embed.weight", {v.num_position_embeddings, vh});
    for (int64_t i = 0; i < v.depth; ++i) {
      const std::string bp = p + "blocks." + std::to_string(i) + ".";
      for (const char* n : {"norm1", "norm2"}) {
        vb.Other(bp + n + ".weight", {vh});
        vb.Other(bp + n + ".bias", {vh});
      }
      vb.Linear(bp + "attn.qkv", 3 * vh, vh, true);
      vb.Linear(bp + "attn.proj", vh, vh, true);
      vb.Linear(bp + "mlp.linear_fc1", v.intermediate_size, vh, true);
      vb.Linear(bp + "mlp.linear_fc2", vh, v.intermediate_size, true);
    }
    vb.Other(p + "merger.norm.weight", {vh});
    vb.Other(p + "merger.norm.bias", {vh});
    vb.Linear(p + "merger.linear_fc1", v.merger_hidden(), v.merger_hidden(), true);
    vb.Linear(p + "merger.linear_fc2", v.out_hidden_size, v.merger_hidden(), true);
  }

  if (include_mtp && t.mtp_num_hidden_layers > 0) {
    m.has_mtp = true;
    Builder mb{&m, ModelPart::kMtp};
    mb.Linear("mtp.fc", h, 2 * h);
    mb.Other("mtp.pre_fc_norm_embedding.weight", {h});
    mb.Other("mtp.pre_fc_norm_hidden.weight", {h});
    mb.Other("mtp.norm.weight", {h});
    for (int64_t i = 0; i < t.mtp_num_hidden_layers; ++i) {
      std::string p = "mtp.layers.";
      p += std::to_string(i);
      p += '.';
      FullAttentionLayer(mb, t, p);
      Mlp(mb, t, p);
    }
  }
  return m;
}

ModelTensors ExpectedTensorsFor(const ModelConfig& config, const Checkpoint& checkpoint) {
  std::string prefix = config.model_type == "qwen3_5" ? "model.language_model." : "model.";
  for (const char* candidate : {"model.language_model.", "model."}) {
    if (checkpoint.Find(std::string(candidate) + "embed_tokens.weight") != nullptr) {
      prefix = candidate;
      break;
    }
  }
  // HF drops mtp.* on load, and exporters often leave it out; list it only when the checkpoint ships it.
  bool has_mtp = std::any_of(checkpoint.tensors().begin(), checkpoint.tensors().end(),
                             [](const TensorView& t) { return t.name.rfind("mtp.", 0) == 0; });
  return ExpectedTensors(config, prefix, has_mtp);
}

Status TensorCheckReport::ToStatus(const std::string& where) const {
  if (ok()) return Status::Ok();
  std::string msg = where + ": checkpoint does not match config.json:";
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    msg += ' ';
    msg += std::to_string(v.size());
    msg += ' ';
    msg += what;
    msg += " (";
    for (size_t i = 0; i < v.size() && i < 5; ++i) {
      if (i) msg += "; ";
      msg += v[i];
    }
    if (v.size() > 5) msg += "; ...";
    msg += ")";
  };
  list("missing", missing);
  list("mis-shaped", mis_shaped);
  list("unexpected", unexpected);
  return Status::Corruption(msg + "; check that config.json belongs to these weights");
}

}  // namespace warden::engine
