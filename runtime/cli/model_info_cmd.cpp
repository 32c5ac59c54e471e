// `warden model info DIR`: load a Hugging Face model folder the way the engine will (config, quantisation
// declaration, every shard mapped and validated, tensors checked against the config) and summarise it: layer
// pattern, per-format storage, per-Linear formats and the memory a context of N tokens needs (docs/model.md §1.4–1.5,
// §5). Text output is for people; --json carries everything, including every Linear's {name, format}.
#include <unistd.h>

#include <cstdio>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/engine/weights/model_info.h"

namespace warden::cli {
namespace {

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream s;
  if (u == 0) {
    s << b << " B";
  } else {
    s << std::fixed << std::setprecision(v < 10 ? 2 : 1) << v << " " << units[u];
  }
  return s.str();
}

std::string HumanCount(int64_t n) {
  std::ostringstream s;
  const double v = static_cast<double>(n);
  if (n >= 1'000'000'000) {
    s << std::fixed << std::setprecision(2) << v / 1e9 << " B";
  } else if (n >= 1'000'000) {
    s << std::fixed << std::setprecision(2) << v / 1e6 << " M";
  } else if (n >= 1'000) {
    s << std::fixed << std::setprecision(1) << v / 1e3 << " K";
  } else {
    s << n;
  }
  return s.str();
}

// "0-2,4-6" from a sorted index set.
std::string Ranges(const std::set<int>& idx) {
  std::string out;
  for (auto it = idx.begin(); it != idx.end();) {
    int lo = *it, hi = lo;
    for (++it; it != idx.end() && *it == hi + 1; ++it) hi = *it;
    if (!out.empty()) out += ",";
    out += std::to_string(lo);
    if (hi > lo) out += "-" + std::to_string(hi);
  }
  return out;
}

// Groups Linear names per format by replacing the first numeric path component with {ranges}:
// "model.language_model.layers.{0-2,4-6}.linear_attn.in_proj_qkv".
std::map<std::string, std::vector<std::string>> GroupLinears(
    const std::vector<std::pair<std::string, std::string>>& linears) {
  static const std::regex kIndex(R"(\.(\d+)\.)");
  std::map<std::string, std::map<std::string, std::set<int>>> groups;  // format -> template -> indices
  std::map<std::string, std::vector<std::string>> order;               // format -> templates in first-seen order
  for (const auto& [name, format] : linears) {
    std::smatch m;
    std::string tmpl = name;
    int index = -1;
    if (std::regex_search(name, m, kIndex)) {
      tmpl = m.prefix().str() + ".{}." + m.suffix().str();
      index = std::stoi(m[1].str());
    }
    auto& g = groups[format];
    if (!g.count(tmpl)) order[format].push_back(tmpl);
    if (index >= 0) g[tmpl].insert(index);
    else g[tmpl];
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [format, tmpls] : order) {
    for (const auto& t : tmpls) {
      const auto& idx = groups[format][t];
      std::string line = t;
      if (!idx.empty()) line.replace(line.find("{}"), 2, "{" + Ranges(idx) + "}");
      out[format].push_back(line);
    }
  }
  return out;
}

template <typename T>
nlohmann::json Opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json GenerationJson(const engine::ModelFiles& model) {
  if (!model.generation_config()) return nullptr;
  const auto& g = *model.generation_config();
  return {{"eos_token_id", g.eos_token_id}, {"bos_token_id", Opt(g.bos_token_id)},
          {"pad_token_id", Opt(g.pad_token_id)}, {"do_sample", Opt(g.do_sample)},
          {"temperature", Opt(g.temperature)}, {"top_p", Opt(g.top_p)}, {"top_k", Opt(g.top_k)},
          {"min_p", Opt(g.min_p)}, {"repetition_penalty", Opt(g.repetition_penalty)},
          {"presence_penalty", Opt(g.presence_penalty)}, {"max_new_tokens", Opt(g.max_new_tokens)}};
}

nlohmann::json PreprocessorJson(const engine::ModelFiles& model) {
  if (!model.preprocessor_config()) return nullptr;
  const auto& p = *model.preprocessor_config();
  return {{"patch_size", p.patch_size}, {"temporal_patch_size", p.temporal_patch_size},
          {"merge_size", p.merge_size},  {"image_mean", p.image_mean},
          {"image_std", p.image_std},    {"min_pixels", p.min_pixels},
          {"max_pixels", p.max_pixels}};
}

nlohmann::json ToJson(const engine::ModelInfo& info, const engine::ModelFiles& model) {
  nlohmann::json formats = nlohmann::json::object();
  for (const auto& [name, fs] : info.formats)
    formats[name] = {{"linears", fs.linears}, {"parameters", fs.parameters}, {"bytes", fs.bytes}};
  nlohmann::json linears = nlohmann::json::array();
  for (const auto& l : model.linears()) {
    linears.push_back({{"name", l.spec.module},
                       {"format", std::string(engine::LinearFormatName(l.format))},
                       {"out_features", l.spec.out_features},
                       {"in_features", l.spec.in_features},
                       {"part", std::string(engine::ModelPartName(l.spec.part))}});
  }
  const auto& m = info.memory;
  return {{"dir", info.dir},
          {"architecture", info.architecture},
          {"model_type", info.model_type},
          {"dtype", info.dtype},
          {"layers",
           {{"count", info.num_hidden_layers},
            {"full_attention", info.num_full_attention_layers},
            {"linear_attention", info.num_linear_attention_layers},
            {"pattern", info.layer_pattern},
            {"types", info.layer_types}}},
          {"vision", info.has_vision},
          {"mtp", info.has_mtp},
          {"quantization",
           {{"quant_algo", info.quant_algo.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.quant_algo)},
            {"source", info.quant_source.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.quant_source)},
            {"kv_cache_quant_algo", info.kv_cache_quant_algo.empty() ? nlohmann::json(nullptr)
                                                                     : nlohmann::json(info.kv_cache_quant_algo)}}},
          {"parameters", info.parameters},
          {"parameters_by_part", info.parameters_by_part},
          {"formats", formats},
          {"checkpoint", {{"tensors", info.num_tensors}, {"shards", info.num_shards}, {"bytes", info.checkpoint_bytes}}},
          {"memory",
           {{"context_tokens", m.context_tokens},
            {"weight_bytes", m.weight_bytes},
            {"kv_dtype", m.kv_dtype},
            {"kv_bytes_per_token", m.kv_bytes_per_token},
            {"kv_cache_bytes", m.kv_cache_bytes},
            {"deltanet_state_bytes", m.deltanet_state_bytes},
            {"total_bytes", m.total_bytes}}},
          {"linears", linears},
          {"generation_config", GenerationJson(model)},
          {"preprocessor_config", PreprocessorJson(model)}};
}

std::string ToText(const engine::ModelInfo& info, const engine::ModelFiles& model) {
  std::ostringstream t;
  const auto& c = model.config();
  t << "Model " << info.dir << "\n";
  t << "  architecture   " << info.architecture << " (model_type " << info.model_type << ", dtype " << info.dtype
    << ")\n";
  t << "  text           hidden " << c.text.hidden_size << ", vocab " << c.text.vocab_size << ", " << info.num_hidden_layers
    << " layers: " << info.num_linear_attention_layers << " linear_attention + " << info.num_full_attention_layers
    << " full_attention";
  if (!info.layer_pattern.empty()) t << ", pattern " << info.layer_pattern;
  t << "\n";
  if (c.vision) {
    t << "  vision         " << c.vision->depth << " blocks, hidden " << c.vision->hidden_size << ", patch "
      << c.vision->patch_size << "\n";
  } else {
    t << "  vision         none\n";
  }
  t << "  mtp            " << (info.has_mtp ? "present" : "absent") << "\n";
  if (const auto& g = model.generation_config()) {
    t << "  generation     eos";
    if (g->eos_token_id.empty()) t << " (none)";
    for (int64_t id : g->eos_token_id) t << " " << id;
    if (g->temperature) t << ", temperature " << *g->temperature;
    if (g->top_p) t << ", top_p " << *g->top_p;
    if (g->top_k) t << ", top_k " << *g->top_k;
    t << "\n";
  }
  if (const auto& p = model.preprocessor_config()) {
    t << "  images         patch " << p->patch_size << ", merge " << p->merge_size << ", temporal "
      << p->temporal_patch_size << ", pixels " << p->min_pixels << "-" << p->max_pixels << "\n";
  }
  t << "  quantisation   " << (info.quant_algo.empty() ? std::string("none") : info.quant_algo);
  if (!info.quant_source.empty()) t << " (from " << info.quant_source << ")";
  t << ", KV cache " << (info.kv_cache_quant_algo.empty() ? info.dtype : info.kv_cache_quant_algo) << "\n";
  t << "  parameters     " << HumanCount(info.parameters) << " (" << info.parameters << ")";
  for (const auto& [part, n] : info.parameters_by_part) t << ", " << part << " " << HumanCount(n);
  t << "\n";
  t << "  checkpoint     " << info.num_tensors << " tensors in " << info.num_shards << " file"
    << (info.num_shards == 1 ? "" : "s") << ", " << HumanBytes(info.checkpoint_bytes) << "\n\n";

  t << "Storage by format\n";
  t << "  " << std::left << std::setw(13) << "format" << std::right << std::setw(8) << "linears" << std::setw(16)
    << "parameters" << std::setw(14) << "bytes" << "\n";
  for (const auto& [name, fs] : info.formats) {
    t << "  " << std::left << std::setw(13) << name << std::right << std::setw(8)
      << (name == "other" ? std::string("-") : std::to_string(fs.linears)) << std::setw(16) << HumanCount(fs.parameters)
      << std::setw(14) << HumanBytes(fs.bytes) << "\n";
  }
  std::set<std::string> plain_dtypes;
  for (const auto& l : model.linears())
    if (l.format == engine::LinearFormat::kBF16) plain_dtypes.insert(std::string(engine::DTypeName(l.weight->dtype)));
  if (!plain_dtypes.empty() && plain_dtypes != std::set<std::string>{"BF16"}) {
    t << "  (BF16 = unquantised; stored as";
    for (const auto& d : plain_dtypes) t << " " << d;
    t << ")\n";
  }
  const auto& m = info.memory;
  t << "\nMemory for " << m.context_tokens << " tokens of context (one sequence)\n";
  t << "  weights         " << HumanBytes(m.weight_bytes) << "\n";
  t << "  KV cache        " << HumanBytes(m.kv_cache_bytes) << " (" << m.kv_bytes_per_token << " B/token, " << m.kv_dtype
    << ", " << info.num_full_attention_layers << " full-attention layers)\n";
  t << "  DeltaNet state  " << HumanBytes(m.deltanet_state_bytes) << " (" << info.num_linear_attention_layers
    << " linear-attention layers, fixed per sequence)\n";
  t << "  total           " << HumanBytes(m.total_bytes) << "\n";

  t << "\nLinear formats\n";
  for (const auto& [format, lines] : GroupLinears(info.linear_formats)) {
    int64_t n = info.formats.count(format) ? info.formats.at(format).linears : 0;
    t << "  " << format << " (" << n << ")\n";
    for (const auto& l : lines) t << "    " << l << "\n";
  }
  return t.str();
}

}  // namespace

void RegisterModelInfo(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("info", "Load a model folder (config.json, quantisation, safetensors shards), "
                                           "check every tensor against the config and summarise it");
  struct Options {
    std::string dir;
    int64_t context = -1;  // -1: max_position_embeddings
  };
  auto opts = std::make_shared<Options>();
  cmd->add_option("DIR", opts->dir, "Model folder: config.json, model.safetensors or shards + index")->required();
  cmd->add_option("--context", opts->context,
                  "Tokens of context for the memory estimate (default: max_position_embeddings)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, opts] {
    auto model = engine::ModelFiles::Load(opts->dir, ShardProgress(ctx));
    if (!model.ok()) {
      return ctx.Fail(model.status(), "the folder must hold config.json and the safetensors weights of the same "
                                      "model (Qwen3.5/3.6, optionally ModelOpt NVFP4/FP8)");
    }
    const int64_t n = opts->context >= 0 ? opts->context : model->config().text.max_position_embeddings;
    engine::ModelInfo info = engine::Summarize(*model, n);
    ctx.Emit(ToJson(info, *model), ToText(info, *model));
  });
}

}  // namespace warden::cli
