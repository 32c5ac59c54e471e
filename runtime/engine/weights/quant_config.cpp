// Reading ModelOpt quantisation declarations and resolving each Linear's storage format (docs/model.md §5.2–5.4).
//
// Resolution rule: the declaration (hf_quant_config.json / quantization_config) and the stored tensors must tell
// the same story. The stored weight dtype identifies the family (U8 → packed NVFP4, F8_E4M3 → FP8, float →
// unquantised); the declaration picks between NVFP4 and W4A16_NVFP4 and is checked against it. One exception,
// following vLLM: the MTP block may stay unquantised even when a uniform declaration does not exclude it.
#include "runtime/engine/weights/quant_config.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "runtime/base/file_util.h"
#include "runtime/engine/weights/json_fields.h"

namespace warden::engine {

using detail::JsonFields;

std::string_view LinearFormatName(LinearFormat f) {
  switch (f) {
    case LinearFormat::kBF16: return "BF16";
    case LinearFormat::kFP8: return "FP8";
    case LinearFormat::kNVFP4: return "NVFP4";
    case LinearFormat::kW4A16NVFP4: return "W4A16_NVFP4";
  }
  return "?";
}

bool GlobMatch(std::string_view p, std::string_view s) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion on hostile patterns.
  size_t pi = 0, si = 0, star_p = std::string_view::npos, star_s = 0;
  auto match_one = [&](size_t& pj, char c) -> bool {  // matches p[pj] (a char, '?' or a set) against c
    if (p[pj] == '?') {
      ++pj;
      return true;
    }
    if (p[pj] == '[') {
      size_t k = pj + 1;
      bool negate = k < p.size() && (p[k] == '!' || p[k] == '^');
      if (negate) ++k;
      bool found = false;
      size_t start = k;
      while (k < p.size() && (p[k] != ']' || k == start)) {
        if (k + 2 < p.size() && p[k + 1] == '-' && p[k + 2] != ']') {
          if (c >= p[k] && c <= p[k + 2]) found = true;
          k += 3;
        } else {
          if (p[k] == c) found = true;
          ++k;
        }
      }
      if (k >= p.size()) {  // unterminated set: a literal '['
        if (c != '[') return false;
        ++pj;
        return true;
      }
      pj = k + 1;
      return found != negate;
    }
    if (p[pj] != c) return false;
    ++pj;
    return true;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = pi++;
      star_s = si;
      continue;
    }
    size_t pj = pi;
    if (pi < p.size() && match_one(pj, s[si])) {
      pi = pj;
      ++si;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

LinearFormat QuantConfig::DeclaredFormat(const std::string& module) const {
  switch (kind) {
    case Kind::kNone: return LinearFormat::kBF16;
    case Kind::kMixed: {
      auto it = quantized_layers.find(module);
      return it == quantized_layers.end() ? LinearFormat::kBF16 : it->second;
    }
    case Kind::kUniform: {
      for (const auto& pat : exclude_modules) {
        // A pattern excludes the module and everything below it ("model.visual" covers model.visual.blocks.0...).
        const std::string_view mv(module);
        size_t end = mv.size();
        while (end > 0) {
          if (GlobMatch(pat, mv.substr(0, end))) return LinearFormat::kBF16;
          const size_t dot = mv.rfind('.', end - 1);
          if (dot == std::string_view::npos) break;
          end = dot;
        }
      }
      if (quant_algo == "FP8") return LinearFormat::kFP8;
      if (quant_algo == "W4A16_NVFP4") return LinearFormat::kW4A16NVFP4;
      return LinearFormat::kNVFP4;
    }
  }
  return LinearFormat::kBF16;
}

namespace {

constexpr const char* kSupportedAlgos = "NVFP4, W4A16_NVFP4, FP8 and MIXED_PRECISION";

Result<LinearFormat> ParseLayerAlgo(const JsonFields& f, const std::string& key, const std::string& algo) {
  if (algo == "NVFP4") return LinearFormat::kNVFP4;
  if (algo == "W4A16_NVFP4") return LinearFormat::kW4A16NVFP4;
  if (algo == "FP8") return LinearFormat::kFP8;
  return f.Error(key, "quant_algo \"" + algo + "\" is not supported (Warden reads " + kSupportedAlgos + ")");
}

Status CheckGroupSize(const JsonFields& f, LinearFormat fmt) {
  if (!f.Has("group_size") || fmt == LinearFormat::kFP8) return Status::Ok();
  WARDEN_ASSIGN_OR_RETURN(int64_t g, f.Int("group_size", std::nullopt));
  if (g != 16) return f.Error("group_size", "NVFP4 uses blocks of 16, got " + std::to_string(g));
  return Status::Ok();
}

Status ReadKvAlgo(const JsonFields& f, QuantConfig* q) {
  if (!f.Has("kv_cache_quant_algo")) return Status::Ok();
  WARDEN_ASSIGN_OR_RETURN(std::string kv, f.String("kv_cache_quant_algo", std::nullopt));
  if (kv != "FP8")
    return f.Error("kv_cache_quant_algo", "\"" + kv + "\" is not supported (only FP8 or null)");
  q->kv_cache_quant_algo = kv;
  return Status::Ok();
}

Status ReadStringList(const JsonFields& f, const std::string& key, std::vector<std::string>* out) {
  const nlohmann::json* j = f.Get(key);
  if (j == nullptr) return Status::Ok();
  if (!j->is_array()) return f.Error(key, "expected a list of module name patterns");
  for (const auto& e : *j) {
    if (!e.is_string()) return f.Error(key, "expected strings, got " + JsonFields::Short(e));
    out->push_back(e.get<std::string>());
  }
  return Status::Ok();
}

Status ReadQuantizedLayers(const JsonFields& f, QuantConfig* q) {
  const nlohmann::json* layers = f.Get("quantized_layers");
  if (layers == nullptr) return Status::Ok();
  if (!layers->is_object()) return f.Error("quantized_layers", "expected an object {module: {quant_algo, ...}}");
  for (auto it = layers->begin(); it != layers->end(); ++it) {
    const std::string key = "quantized_layers." + it.key();
    if (!it.value().is_object()) return f.Error(key, "expected an object with quant_algo");
    JsonFields lf(&it.value(), f.file(), f.Path(key) + ".");
    WARDEN_ASSIGN_OR_RETURN(std::string algo, lf.String("quant_algo", std::nullopt));
    WARDEN_ASSIGN_OR_RETURN(LinearFormat fmt, ParseLayerAlgo(lf, "quant_algo", algo));
    WARDEN_RETURN_IF_ERROR(CheckGroupSize(lf, fmt));
    q->quantized_layers[it.key()] = fmt;
  }
  return Status::Ok();
}

// Common part of both shapes: quant_algo, group_size, kv, exclusions / layers.
Status ReadDeclaration(const JsonFields& f, QuantConfig* q) {
  if (f.Has("quant_algo")) {
    WARDEN_ASSIGN_OR_RETURN(q->quant_algo, f.String("quant_algo", std::nullopt));
  }
  WARDEN_RETURN_IF_ERROR(ReadKvAlgo(f, q));
  if (q->quant_algo.empty()) {
    q->kind = QuantConfig::Kind::kNone;  // e.g. KV-cache-only quantisation
    return Status::Ok();
  }
  if (q->quant_algo == "MIXED_PRECISION") {
    q->kind = QuantConfig::Kind::kMixed;
    return ReadQuantizedLayers(f, q);
  }
  WARDEN_ASSIGN_OR_RETURN(LinearFormat fmt, ParseLayerAlgo(f, "quant_algo", q->quant_algo));
  WARDEN_RETURN_IF_ERROR(CheckGroupSize(f, fmt));
  q->kind = QuantConfig::Kind::kUniform;
  WARDEN_RETURN_IF_ERROR(ReadStringList(f, "exclude_modules", &q->exclude_modules));
  WARDEN_RETURN_IF_ERROR(ReadStringList(f, "ignore", &q->exclude_modules));
  return Status::Ok();
}

void ReadProducer(const nlohmann::json* p, QuantConfig* q) {
  if (p == nullptr || !p->is_object()) return;
  if (p->contains("name") && (*p)["name"].is_string()) q->producer_name = (*p)["name"].get<std::string>();
  if (p->contains("version") && (*p)["version"].is_string()) q->producer_version = (*p)["version"].get<std::string>();
}

// Mixed configs converted into config.json may carry only config_groups ({targets, weights{num_bits, ...},
// input_activations}); map each group back to a ModelOpt algo.
Status ReadConfigGroups(const JsonFields& f, QuantConfig* q) {
  const nlohmann::json* groups = f.Get("config_groups");
  if (groups == nullptr) return Status::Ok();
  if (!groups->is_object()) return f.Error("config_groups", "expected an object of groups");
  for (auto it = groups->begin(); it != groups->end(); ++it) {
    const std::string key = "config_groups." + it.key();
    if (!it.value().is_object()) return f.Error(key, "expected an object");
    JsonFields gf(&it.value(), f.file(), f.Path(key) + ".");
    const nlohmann::json* w = gf.Get("weights");
    if (w == nullptr || !w->is_object()) return gf.Error("weights", "required object is missing");
    JsonFields wf(w, f.file(), gf.Path("weights."));
    WARDEN_ASSIGN_OR_RETURN(int64_t bits, wf.Int("num_bits", std::nullopt));
    WARDEN_ASSIGN_OR_RETURN(std::string type, wf.String("type", std::string("float")));
    LinearFormat fmt;
    if (bits == 8 && type == "float") {
      fmt = LinearFormat::kFP8;
    } else if (bits == 4 && type == "float") {
      WARDEN_ASSIGN_OR_RETURN(int64_t g, wf.Int("group_size", 16));
      if (g != 16) return wf.Error("group_size", "NVFP4 uses blocks of 16, got " + std::to_string(g));
      fmt = gf.Has("input_activations") ? LinearFormat::kNVFP4 : LinearFormat::kW4A16NVFP4;
    } else {
      return wf.Error("num_bits", std::to_string(bits) + "-bit " + type + " weights are not supported (Warden reads " +
                                      kSupportedAlgos + ")");
    }
    std::vector<std::string> targets;
    WARDEN_RETURN_IF_ERROR(ReadStringList(gf, "targets", &targets));
    for (const auto& t : targets) q->quantized_layers[t] = fmt;
  }
  return Status::Ok();
}

bool SameDeclaration(const QuantConfig& a, const QuantConfig& b) {
  if (a.kind != b.kind || a.quant_algo != b.quant_algo || a.kv_cache_quant_algo != b.kv_cache_quant_algo) return false;
  if (a.kind == QuantConfig::Kind::kMixed) return a.quantized_layers == b.quantized_layers;
  if (a.kind == QuantConfig::Kind::kUniform)
    return std::set<std::string>(a.exclude_modules.begin(), a.exclude_modules.end()) ==
           std::set<std::string>(b.exclude_modules.begin(), b.exclude_modules.end());
  return true;
}

}  // namespace

Result<QuantConfig> QuantConfig::FromHfQuantConfig(const std::string& text, const std::string& file) {
  WARDEN_ASSIGN_OR_RETURN(nlohmann::json j, detail::ParseJsonObject(text, file));
  try {
    JsonFields top(&j, file, "");
    QuantConfig q;
    q.source = file;
    ReadProducer(top.Get("producer"), &q);
    const nlohmann::json* quant = top.Get("quantization");
    if (quant == nullptr || !quant->is_object()) return top.Error("quantization", "required object is missing");
    JsonFields f(quant, file, "quantization.");
    WARDEN_RETURN_IF_ERROR(ReadDeclaration(f, &q));
    if (q.kind == Kind::kMixed && q.quantized_layers.empty())
      return f.Error("quantized_layers", "MIXED_PRECISION needs a non-empty quantized_layers object");
    return q;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(file + ": " + e.what());
  }
}

Result<QuantConfig> QuantConfig::FromConfigJson(const std::string& text, const std::string& file) {
  WARDEN_ASSIGN_OR_RETURN(nlohmann::json j, detail::ParseJsonObject(text, file));
  try {
    QuantConfig q;
    auto it = j.find("quantization_config");
    if (it == j.end() || it->is_null()) return q;
    if (!it->is_object()) return Status::InvalidArgument(file + ": field quantization_config: expected an object");
    JsonFields f(&*it, file, "quantization_config.");
    WARDEN_ASSIGN_OR_RETURN(std::string method, f.String("quant_method", std::nullopt));
    if (method != "modelopt") {
      return f.Error("quant_method", "\"" + method +
                                         "\" is not supported; Warden reads NVIDIA ModelOpt checkpoints "
                                         "(quant_method \"modelopt\": NVFP4, W4A16_NVFP4, FP8, MIXED_PRECISION)");
    }
    q.source = file;
    ReadProducer(f.Get("producer"), &q);
    WARDEN_RETURN_IF_ERROR(ReadDeclaration(f, &q));
    if (const nlohmann::json* kv = f.Get("kv_cache_scheme")) {
      if (!kv->is_object()) return f.Error("kv_cache_scheme", "expected an object");
      JsonFields kf(kv, file, "quantization_config.kv_cache_scheme.");
      WARDEN_ASSIGN_OR_RETURN(int64_t bits, kf.Int("num_bits", std::nullopt));
      WARDEN_ASSIGN_OR_RETURN(std::string type, kf.String("type", std::string("float")));
      if (bits != 8 || type != "float")
        return kf.Error("num_bits", "only an 8-bit float (FP8) KV cache is supported, got " + std::to_string(bits) +
                                        "-bit " + type);
      q.kv_cache_quant_algo = "FP8";
    }
    if (q.kind == Kind::kMixed && q.quantized_layers.empty()) WARDEN_RETURN_IF_ERROR(ReadConfigGroups(f, &q));
    if (q.kind == Kind::kMixed && q.quantized_layers.empty())
      return f.Error("quantized_layers", "MIXED_PRECISION needs quantized_layers (or config_groups with targets)");
    return q;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(file + ": " + e.what());
  }
}

Result<QuantConfig> QuantConfig::LoadFromDir(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto hf_path = dir / "hf_quant_config.json";
  const auto cfg_path = dir / "config.json";
  std::optional<QuantConfig> hf, cfg;
  if (std::filesystem::exists(hf_path, ec)) {
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(hf_path));
    WARDEN_ASSIGN_OR_RETURN(hf, FromHfQuantConfig(text, hf_path.string()));
  }
  if (std::filesystem::exists(cfg_path, ec)) {
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(cfg_path));
    WARDEN_ASSIGN_OR_RETURN(QuantConfig c, FromConfigJson(text, cfg_path.string()));
    if (!c.source.empty()) cfg = std::move(c);
  }
  if (hf && cfg && !SameDeclaration(*hf, *cfg)) {
    return Status::InvalidArgument(hf_path.string() + " and " + cfg_path.string() +
                                   " (quantization_config) declare different quantisation (quant_algo \"" +
                                   hf->quant_algo + "\" vs \"" + cfg->quant_algo +
                                   "\", or different kv_cache_quant_algo / excluded or quantised layers); "
                                   "re-export the checkpoint or remove the stale file");
  }
  if (hf) return *hf;
  if (cfg) return *cfg;
  return QuantConfig{};
}

// ---------------------------------------------------------------------------------------------------------------

uint64_t ResolvedLinear::storage_bytes() const {
  uint64_t n = 0;
  for (const TensorView* t : {weight, weight_scale, weight_scale_2, input_scale, bias})
    if (t != nullptr) n += t->size_bytes;
  return n;
}

namespace {

bool IsScalar(const TensorView& t) { return t.shape.empty() || (t.shape.size() == 1 && t.shape[0] == 1); }

// A positive finite F32 scalar (weight_scale, weight_scale_2, input_scale, k/v_scale).
Status CheckScaleScalar(const TensorView& t) {
  if (t.dtype != DType::kF32 || !IsScalar(t)) {
    return Status::Corruption("tensor \"" + t.name + "\": expected an F32 scalar (shape []), got " +
                              std::string(DTypeName(t.dtype)) + " " + t.ShapeString());
  }
  float v;
  std::memcpy(&v, t.data, 4);
  if (!std::isfinite(v) || !(v > 0.0f))
    return Status::Corruption("tensor \"" + t.name + "\": scale must be positive and finite, got " + std::to_string(v));
  return Status::Ok();
}

}  // namespace

Result<std::vector<ResolvedLinear>> ResolveLinears(const std::vector<LinearSpec>& linears, const QuantConfig& quant,
                                                   const Checkpoint& checkpoint, TensorCheckReport* report,
                                                   std::set<std::string>* claimed) {
  std::vector<ResolvedLinear> out;
  out.reserve(linears.size());
  // Without hf_quant_config.json / quantization_config every Linear is declared unquantised.
  const std::string declared_by = quant.source.empty()
                                      ? std::string("the folder (no hf_quant_config.json or quantization_config)")
                                      : quant.source;
  auto find = [&](const std::string& name) -> const TensorView* {
    const TensorView* t = checkpoint.Find(name);
    if (t != nullptr) claimed->insert(name);
    return t;
  };
  auto expect = [&](const TensorView* t, DType dtype, const std::vector<int64_t>& shape) {
    if (t->dtype != dtype || t->shape != shape)
      report->mis_shaped.push_back(t->name + ": expected " + std::string(DTypeName(dtype)) + " " + ShapeToString(shape) +
                                   ", got " + std::string(DTypeName(t->dtype)) + " " + t->ShapeString());
  };

  for (const LinearSpec& spec : linears) {
    ResolvedLinear r;
    r.spec = spec;
    const std::string& m = spec.module;
    const int64_t out_f = spec.out_features, in_f = spec.in_features;
    r.weight = find(m + ".weight");
    if (spec.has_bias) {
      r.bias = find(m + ".bias");
      if (r.bias == nullptr) {
        report->missing.push_back(m + ".bias " + ShapeToString({out_f}));
      } else if (!IsFloatDType(r.bias->dtype) || r.bias->shape != std::vector<int64_t>{out_f}) {
        report->mis_shaped.push_back(r.bias->name + ": expected a float " + ShapeToString({out_f}) + ", got " +
                                     std::string(DTypeName(r.bias->dtype)) + " " + r.bias->ShapeString());
      }
    }
    // Claim every companion tensor up front so an unusable one is reported once, as mis-shaped, not unexpected.
    const TensorView* ws = find(m + ".weight_scale");
    const TensorView* ws2 = find(m + ".weight_scale_2");
    const TensorView* is = find(m + ".input_scale");
    for (const char* kv : {".k_scale", ".v_scale"}) {
      const bool mine = m.size() > 7 && m.compare(m.size() - 7, 7, std::string(".") + kv[1] + "_proj") == 0;
      const TensorView* t = find(m + kv);
      if (t == nullptr && mine) t = find(m.substr(0, m.size() - 7) + kv);  // "<self_attn>.k_scale" spelling
      if (t == nullptr) continue;
      WARDEN_RETURN_IF_ERROR(CheckScaleScalar(*t));
      if (mine) r.kv_scale = t;
    }
    if (r.weight == nullptr) {
      report->missing.push_back(m + ".weight " + ShapeToString({out_f, in_f}));
      continue;
    }
    const LinearFormat declared = quant.DeclaredFormat(m);
    const std::string declared_name(LinearFormatName(declared));
    const DType wd = r.weight->dtype;
    LinearFormat stored;
    if (wd == DType::kU8) {
      stored = LinearFormat::kNVFP4;
    } else if (wd == DType::kF8E4M3) {
      stored = LinearFormat::kFP8;
    } else if (IsFloatDType(wd)) {
      stored = LinearFormat::kBF16;
    } else {
      return Status::Corruption("tensor \"" + r.weight->name + "\": dtype " + std::string(DTypeName(wd)) +
                                " is not a weight format Warden reads (float, F8_E4M3 or U8-packed NVFP4)");
    }
    const bool declared_nvfp4 = declared == LinearFormat::kNVFP4 || declared == LinearFormat::kW4A16NVFP4;
    if (stored == LinearFormat::kBF16 && declared != LinearFormat::kBF16) {
      // FAIL-CLOSED: a Linear declared quantised but stored as floats means the config and weights disagree.
      // vLLM keeps the MTP block unquantised whatever the declaration says; do the same.
      if (m.rfind("mtp.", 0) != 0) {
        return Status::Corruption("Linear \"" + m + "\" is declared " + declared_name + " by " + declared_by +
                                  " but its weight is " + std::string(DTypeName(wd)) + " without " +
                                  (ws == nullptr ? "weight_scale" : "a quantised weight") +
                                  "; the quantisation config does not match the weights");
      }
    } else if (stored == LinearFormat::kNVFP4 && !declared_nvfp4) {
      return Status::Corruption("Linear \"" + m + "\" is stored as packed NVFP4 (U8 weight) but " + declared_by +
                                " declares it " + declared_name);
    } else if (stored == LinearFormat::kFP8 && declared != LinearFormat::kFP8) {
      return Status::Corruption("Linear \"" + m + "\" is stored as FP8 (F8_E4M3 weight) but " + declared_by +
                                " declares it " + declared_name);
    }
    r.format = stored == LinearFormat::kNVFP4 ? declared : stored;

    auto require = [&](const TensorView* t, const char* suffix) -> Status {
      if (t != nullptr) return Status::Ok();
      return Status::Corruption("Linear \"" + m + "\" is " + std::string(LinearFormatName(r.format)) + " (declared by " +
                                declared_by + ") but tensor \"" + m + suffix + "\" is missing");
    };
    switch (r.format) {
      case LinearFormat::kBF16:
        if (r.weight->shape != std::vector<int64_t>{out_f, in_f})
          report->mis_shaped.push_back(r.weight->name + ": expected " + ShapeToString({out_f, in_f}) + ", got " +
                                       r.weight->ShapeString());
        break;
      case LinearFormat::kFP8:
        WARDEN_RETURN_IF_ERROR(require(ws, ".weight_scale"));
        WARDEN_RETURN_IF_ERROR(require(is, ".input_scale"));
        expect(r.weight, DType::kF8E4M3, {out_f, in_f});
        WARDEN_RETURN_IF_ERROR(CheckScaleScalar(*ws));
        WARDEN_RETURN_IF_ERROR(CheckScaleScalar(*is));
        r.weight_scale = ws;
        r.input_scale = is;
        break;
      case LinearFormat::kNVFP4:
      case LinearFormat::kW4A16NVFP4:
        if (in_f % 16 != 0) {
          return Status::Corruption("Linear \"" + m + "\" is NVFP4 but its in_features " + std::to_string(in_f) +
                                    " is not a multiple of the 16-element block");
        }
        WARDEN_RETURN_IF_ERROR(require(ws, ".weight_scale"));
        WARDEN_RETURN_IF_ERROR(require(ws2, ".weight_scale_2"));
        if (r.format == LinearFormat::kNVFP4) WARDEN_RETURN_IF_ERROR(require(is, ".input_scale"));
        expect(r.weight, DType::kU8, {out_f, in_f / 2});
        expect(ws, DType::kF8E4M3, {out_f, in_f / 16});
        WARDEN_RETURN_IF_ERROR(CheckScaleScalar(*ws2));
        if (is != nullptr) WARDEN_RETURN_IF_ERROR(CheckScaleScalar(*is));
        r.weight_scale = ws;
        r.weight_scale_2 = ws2;
        r.input_scale = is;  // a W4A16 layer may carry an unused one
        break;
    }
    if (r.format != LinearFormat::kFP8 && r.format != LinearFormat::kNVFP4 && r.format != LinearFormat::kW4A16NVFP4 &&
        (ws != nullptr || ws2 != nullptr)) {
      return Status::Corruption("Linear \"" + m + "\" has a float weight but also quantisation scales (" +
                                (ws != nullptr ? ws->name : ws2->name) + "); the checkpoint is inconsistent");
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace warden::engine
