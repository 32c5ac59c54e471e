// Loading a model folder end to end and summarising it (see model_info.h).
#include "runtime/engine/weights/model_info.h"

#include <set>

namespace warden::engine {

namespace {

bool IsKvScaleName(const std::string& name) {
  auto ends = [&](const char* s) {
    const std::string suf(s);
    return name.size() >= suf.size() && name.compare(name.size() - suf.size(), suf.size(), suf) == 0;
  };
  return ends(".self_attn.k_scale") || ends(".self_attn.v_scale") || ends(".self_attn.attn.k_scale") ||
         ends(".self_attn.attn.v_scale");
}

std::string LayerPattern(const std::vector<LayerType>& types) {
  const size_t n = types.size();
  if (n == 0) return "";
  auto letter = [](LayerType t) { return t == LayerType::kFullAttention ? "F" : "L"; };
  for (size_t p = 1; p <= n; ++p) {
    if (n % p != 0) continue;
    bool periodic = true;
    for (size_t i = p; i < n && periodic; ++i) periodic = types[i] == types[i - p];
    if (!periodic) continue;
    std::string s = "[";
    for (size_t i = 0; i < p; ++i) {
      if (i) s += " ";
      s += letter(types[i]);
    }
    s += "]";
    if (n / p > 1) {
      s += " x ";
      s += std::to_string(n / p);
    }
    return s;
  }
  return "";
}

}  // namespace

Result<ModelFiles> ModelFiles::Load(const std::filesystem::path& dir, Checkpoint::ProgressFn on_shard) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::NotFound(dir.string() + ": not a folder; pass the folder that holds config.json and the weights");
  const auto config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path, ec))
    return Status::NotFound(config_path.string() + ": no such file; a Hugging Face model folder needs config.json");
  ModelFiles m;
  m.dir_ = dir;
  WARDEN_ASSIGN_OR_RETURN(m.config_, ModelConfig::FromFile(config_path));
  WARDEN_ASSIGN_OR_RETURN(m.quant_, QuantConfig::LoadFromDir(dir));
  if (std::filesystem::exists(dir / "generation_config.json", ec)) {
    WARDEN_ASSIGN_OR_RETURN(auto g, GenerationConfig::FromFile(dir / "generation_config.json"));
    m.generation_ = std::move(g);
  }
  if (std::filesystem::exists(dir / "preprocessor_config.json", ec)) {
    WARDEN_ASSIGN_OR_RETURN(auto p, PreprocessorConfig::FromFile(dir / "preprocessor_config.json"));
    m.preprocessor_ = std::move(p);
  }
  WARDEN_ASSIGN_OR_RETURN(m.checkpoint_, Checkpoint::Open(dir, std::move(on_shard)));
  m.expected_ = ExpectedTensorsFor(m.config_, m.checkpoint_);

  TensorCheckReport report;
  std::set<std::string> claimed;
  WARDEN_ASSIGN_OR_RETURN(m.linears_, ResolveLinears(m.expected_.linears, m.quant_, m.checkpoint_, &report, &claimed));
  for (size_t i = 0; i < m.linears_.size(); ++i) m.linear_index_[m.linears_[i].spec.module] = i;
  if (m.quant_.kind == QuantConfig::Kind::kMixed) {
    for (const auto& [module, fmt] : m.quant_.quantized_layers) {
      if (!m.linear_index_.count(module)) {
        return Status::Corruption(m.quant_.source + ": quantized_layers names \"" + module +
                                  "\", which is not a Linear of this model (config.json implies no such module)");
      }
    }
  }
  for (const TensorSpec& spec : m.expected_.others) {
    const TensorView* t = m.checkpoint_.Find(spec.name);
    if (t == nullptr) {
      report.missing.push_back(spec.name + " " + ShapeToString(spec.shape));
      continue;
    }
    claimed.insert(spec.name);
    if (!IsFloatDType(t->dtype) || t->shape != spec.shape) {
      report.mis_shaped.push_back(spec.name + ": expected a float " + ShapeToString(spec.shape) + ", got " +
                                  std::string(DTypeName(t->dtype)) + " " + t->ShapeString());
    }
  }
  for (const TensorView& t : m.checkpoint_.tensors()) {
    if (claimed.count(t.name)) continue;
    if (IsKvScaleName(t.name) && t.dtype == DType::kF32 && t.num_elements() == 1) continue;
    report.unexpected.push_back(t.name + " " + t.ShapeString() + " " + std::string(DTypeName(t.dtype)));
  }
  WARDEN_RETURN_IF_ERROR(report.ToStatus(dir.string()));
  return m;
}

const ResolvedLinear* ModelFiles::FindLinear(const std::string& module) const {
  auto it = linear_index_.find(module);
  return it == linear_index_.end() ? nullptr : &linears_[it->second];
}

uint64_t ConfigDTypeBytes(const std::string& dtype) {
  if (dtype == "float32") return 4;
  if (dtype == "fp8") return 1;
  return 2;  // bfloat16, float16
}

MemoryEstimate EstimateMemory(const ModelConfig& config, const QuantConfig& quant, uint64_t weight_bytes,
                              int64_t context_tokens) {
  const TextConfig& t = config.text;
  MemoryEstimate e;
  e.context_tokens = context_tokens;
  e.weight_bytes = weight_bytes;
  e.kv_dtype = quant.is_kv_cache_fp8() ? "fp8" : config.dtype;
  const auto full = static_cast<uint64_t>(t.num_layers_of(LayerType::kFullAttention));
  const auto linear = static_cast<uint64_t>(t.num_layers_of(LayerType::kLinearAttention));
  e.kv_bytes_per_token = full * 2 * static_cast<uint64_t>(t.num_key_value_heads * t.head_dim) *
                         ConfigDTypeBytes(e.kv_dtype);
  e.kv_cache_bytes = e.kv_bytes_per_token * static_cast<uint64_t>(context_tokens);
  const uint64_t conv = static_cast<uint64_t>((t.linear_conv_kernel_dim - 1) * t.linear_conv_dim()) *
                        ConfigDTypeBytes(config.dtype);
  const uint64_t recurrent =
      static_cast<uint64_t>(t.linear_num_value_heads * t.linear_key_head_dim * t.linear_value_head_dim) *
      ConfigDTypeBytes(t.mamba_ssm_dtype);
  e.deltanet_state_bytes = linear * (conv + recurrent);
  e.total_bytes = e.weight_bytes + e.kv_cache_bytes + e.deltanet_state_bytes;
  return e;
}

ModelInfo Summarize(const ModelFiles& model, int64_t context_tokens) {
  const ModelConfig& c = model.config();
  ModelInfo info;
  info.dir = model.dir().string();
  info.architecture = c.architecture;
  info.model_type = c.model_type;
  info.dtype = c.dtype;
  info.num_hidden_layers = c.text.num_hidden_layers;
  info.num_full_attention_layers = c.text.num_layers_of(LayerType::kFullAttention);
  info.num_linear_attention_layers = c.text.num_layers_of(LayerType::kLinearAttention);
  info.layer_pattern = LayerPattern(c.text.layer_types);
  for (LayerType lt : c.text.layer_types) info.layer_types.emplace_back(LayerTypeName(lt));
  info.quant_algo = model.quant().quant_algo;
  info.quant_source = model.quant().source;
  info.kv_cache_quant_algo = model.quant().kv_cache_quant_algo.value_or("");
  info.has_vision = c.vision.has_value() && !c.language_model_only;
  info.has_mtp = model.expected().has_mtp;

  std::set<std::string> linear_tensors;
  for (const ResolvedLinear& l : model.linears()) {
    const int64_t params = l.spec.out_features * l.spec.in_features + (l.bias ? l.spec.out_features : 0);
    FormatStats& fs = info.formats[std::string(LinearFormatName(l.format))];
    fs.linears += 1;
    fs.parameters += params;
    fs.bytes += l.storage_bytes();
    info.parameters += params;
    info.parameters_by_part[std::string(ModelPartName(l.spec.part))] += params;
    info.linear_formats.emplace_back(l.spec.module, std::string(LinearFormatName(l.format)));
    for (const TensorView* t : {l.weight, l.weight_scale, l.weight_scale_2, l.input_scale, l.bias})
      if (t != nullptr) linear_tensors.insert(t->name);
  }
  FormatStats& other = info.formats["other"];
  for (const TensorSpec& s : model.expected().others) {
    const TensorView* t = model.checkpoint().Find(s.name);
    if (t == nullptr) continue;
    other.parameters += t->num_elements();
    info.parameters += t->num_elements();
    info.parameters_by_part[std::string(ModelPartName(s.part))] += t->num_elements();
    linear_tensors.insert(t->name);
  }
  // Whatever else is stored (KV scales, a W4A16 layer's unused input_scale) is counted as bytes, not parameters.
  for (const TensorView& t : model.checkpoint().tensors())
    if (!linear_tensors.count(t.name)) other.bytes += t.size_bytes;
  for (const TensorSpec& s : model.expected().others)
    if (const TensorView* t = model.checkpoint().Find(s.name)) other.bytes += t->size_bytes;

  info.num_tensors = static_cast<int64_t>(model.checkpoint().tensors().size());
  info.num_shards = static_cast<int64_t>(model.checkpoint().shard_paths().size());
  info.checkpoint_bytes = model.checkpoint().total_tensor_bytes();
  info.memory = EstimateMemory(c, model.quant(), info.checkpoint_bytes, context_tokens);
  return info;
}

}  // namespace warden::engine
