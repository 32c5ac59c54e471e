// ModelOpt quantisation configs and the per-Linear storage format (docs/model.md §5.2–5.4).
//
// Two sources say how a checkpoint is quantised: hf_quant_config.json ({"quantization": {quant_algo, ...}}) and
// config.json's "quantization_config" (quant_method "modelopt"). Both shapes are read: uniform (quant_algo NVFP4 /
// W4A16_NVFP4 / FP8 with fnmatch-style exclude_modules or ignore) and MIXED_PRECISION (quantized_layers per module,
// anything unlisted unquantised). When both files exist they must agree. Any other quant_algo / quant_method is
// refused by name. The format of each Linear is then resolved from the declaration AND the tensors present, and the
// two must agree (a Linear declared NVFP4 without its scales is an error naming it). Raw views only: dequant.h
// turns them into floats when a caller asks. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/weights/model_tensors.h"
#include "runtime/engine/weights/safetensors.h"

namespace warden::engine {

// How one Linear's weight is stored (docs/model.md §5.2 table).
enum class LinearFormat {
  kBF16,        // unquantised: weight in any float dtype (BF16 in the release; F32 in tiny-a)
  kFP8,         // weight F8_E4M3 [out, in], weight_scale F32 [], input_scale F32 [] (static W8A8)
  kNVFP4,       // weight U8 [out, in/2], weight_scale F8_E4M3 [out, in/16], weight_scale_2 F32 [], input_scale F32 []
  kW4A16NVFP4,  // as kNVFP4 without input_scale (weight-only)
};
// "BF16", "FP8", "NVFP4", "W4A16_NVFP4" (the ModelOpt quant_algo spelling; "BF16" for unquantised).
std::string_view LinearFormatName(LinearFormat f);

struct QuantConfig {
  enum class Kind { kNone, kUniform, kMixed };
  Kind kind = Kind::kNone;
  std::string source;                    // file the declaration came from ("" when unquantised)
  std::string quant_algo;                // "NVFP4", "W4A16_NVFP4", "FP8", "MIXED_PRECISION" or ""
  std::optional<std::string> kv_cache_quant_algo;  // "FP8" or unset (KV stays in the activation dtype)
  int64_t group_size = 16;               // NVFP4 block size; only 16 exists
  std::vector<std::string> exclude_modules;        // uniform: fnmatch patterns of unquantised modules
  std::map<std::string, LinearFormat> quantized_layers;  // mixed: module -> format
  std::string producer_name, producer_version;

  bool is_kv_cache_fp8() const { return kv_cache_quant_algo.has_value(); }

  // What the declaration says for `module` (a Linear path without ".weight"). Uniform: the algo unless an
  // exclude pattern matches the module or one of its dotted ancestors; mixed: its entry or BF16.
  LinearFormat DeclaredFormat(const std::string& module) const;

  // Reads <dir>/hf_quant_config.json and/or <dir>/config.json "quantization_config"; kNone when neither exists.
  static Result<QuantConfig> LoadFromDir(const std::filesystem::path& dir);
  // Parses the text of hf_quant_config.json (`file` names it in errors).
  static Result<QuantConfig> FromHfQuantConfig(const std::string& text, const std::string& file);
  // Parses config.json's "quantization_config" object, given the whole config.json text; kNone when absent.
  static Result<QuantConfig> FromConfigJson(const std::string& text, const std::string& file);
};

// fnmatch(3)-style match without flags: '*' any run (dots included), '?' one char, '[...]' a set.
bool GlobMatch(std::string_view pattern, std::string_view text);

// A Linear with its resolved format and views of its tensors (pointers into the Checkpoint; valid while it lives).
struct ResolvedLinear {
  LinearSpec spec;
  LinearFormat format = LinearFormat::kBF16;
  const TensorView* weight = nullptr;
  const TensorView* weight_scale = nullptr;    // FP8: F32 scalar; NVFP4: F8_E4M3 [out, in/16]
  const TensorView* weight_scale_2 = nullptr;  // NVFP4 global scale, F32 scalar
  const TensorView* input_scale = nullptr;     // FP8 and NVFP4 (W4A4); nullptr for W4A16_NVFP4
  const TensorView* bias = nullptr;
  // FP8 KV-cache scale of a k_proj / v_proj (`<k_proj>.k_scale` or `<self_attn>.k_scale`, likewise v): F32 scalar;
  // nullptr means 1.0 (ModelOpt's constant-amax recipe may omit it; docs/model.md §5.2).
  const TensorView* kv_scale = nullptr;

  uint64_t storage_bytes() const;  // weight + scales (+ bias) as stored
};

// Resolves every Linear of `linears` against `quant` and `checkpoint`. Collects problems into `report` (missing or
// mis-shaped tensors) and returns an error for declaration/tensor disagreements and unsupported dtypes. Every
// tensor it accounts for (weights, scales, biases, k_scale/v_scale KV scales) is added to `claimed`.
Result<std::vector<ResolvedLinear>> ResolveLinears(const std::vector<LinearSpec>& linears, const QuantConfig& quant,
                                                   const Checkpoint& checkpoint, TensorCheckReport* report,
                                                   std::set<std::string>* claimed);

}  // namespace warden::engine
