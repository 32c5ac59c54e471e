// `warden model bench --synthetic CONFIG.json`: builds a model of any Qwen3.5/3.6 config with random weights made
// directly on the backend (device memory on CUDA; issue 10 "Synthetic weights"), in the Linear formats its
// quantisation declaration names, then times one prefill and a run of greedy decode steps. The memory plan
// (weights, KV for the run, DeltaNet state) is checked against the backend's budget before anything is made.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/engine/models/qwen3_5_text.h"
#include "runtime/engine/weights/model_info.h"

namespace warden::cli {
namespace {

struct BenchOptions {
  std::string config, quant_config, backend = "cpu", kv_dtype = "bf16";
  double gpu_memory_utilization = 0.9;
  size_t prompt_tokens = 128, decode_tokens = 16;
  uint64_t seed = 0;
  bool fp8_activations = false;
};

double Gib(uint64_t b) { return static_cast<double>(b) / (1ull << 30); }

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The quantisation declaration: --quant-config FILE (hf_quant_config.json), else the config's own
// "quantization_config", else hf_quant_config.json beside it, else none (BF16 everywhere).
Result<engine::QuantConfig> ReadQuant(const BenchOptions& o, const std::string& config_text) {
  if (!o.quant_config.empty()) {
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(o.quant_config));
    return engine::QuantConfig::FromHfQuantConfig(text, o.quant_config);
  }
  WARDEN_ASSIGN_OR_RETURN(engine::QuantConfig q, engine::QuantConfig::FromConfigJson(config_text, o.config));
  if (q.kind != engine::QuantConfig::Kind::kNone) return q;
  const std::filesystem::path beside = std::filesystem::path(o.config).parent_path() / "hf_quant_config.json";
  if (std::filesystem::exists(beside)) {
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(beside));
    return engine::QuantConfig::FromHfQuantConfig(text, beside.string());
  }
  return q;
}

// Bytes the synthetic model will hold on the backend: Linears as stored, the embedding in BF16, vectors in fp32.
uint64_t WeightBytes(const engine::ModelConfig& config, const engine::QuantConfig& quant) {
  const std::string prefix = config.model_type == "qwen3_5_text" ? "model." : "model.language_model.";
  const engine::ModelTensors t = engine::ExpectedTensors(config, prefix, false);
  uint64_t bytes = 0;
  for (const auto& l : t.linears) {
    if (l.part != engine::ModelPart::kText) continue;
    const uint64_t n = static_cast<uint64_t>(l.out_features) * static_cast<uint64_t>(l.in_features);
    switch (quant.DeclaredFormat(l.module)) {
      case engine::LinearFormat::kBF16: bytes += 2 * n; break;
      case engine::LinearFormat::kFP8: bytes += n; break;
      default: bytes += n / 2 + n / 16;
    }
  }
  for (const auto& o : t.others) {
    if (o.part != engine::ModelPart::kText) continue;
    uint64_t n = 1;
    for (int64_t d : o.shape) n *= static_cast<uint64_t>(d);
    bytes += o.name.ends_with("embed_tokens.weight") ? 2 * n : 4 * n;
  }
  return bytes;
}

}  // namespace

void RegisterModelBench(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("bench", "Time prefill and greedy decode of a model with synthetic (random) "
                                            "weights made on the backend, for any config, without a checkpoint");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("--synthetic", o->config, "config.json of the model to build (e.g. Qwen3.6-27B's)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--quant-config", o->quant_config,
                  "hf_quant_config.json giving each Linear's format (default: the config's quantization_config, "
                  "else hf_quant_config.json beside it, else BF16)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--backend", o->backend, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--gpu-memory-utilization", o->gpu_memory_utilization,
                  "Fraction of GPU memory this process may use (cuda), default 0.9")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--prompt-tokens", o->prompt_tokens, "Prefill length, default 128")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--decode-tokens", o->decode_tokens, "Greedy decode steps after the prefill, default 16")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--kv-dtype", o->kv_dtype, "KV cache storage: f32, bf16 (default) or fp8")
      ->check(CLI::IsMember({"f32", "bf16", "fp8"}));
  cmd->add_option("--seed", o->seed, "Seed of the synthetic weights and prompt, default 0");
  cmd->add_flag("--fp8-activations", o->fp8_activations, "FP8 layers run W8A8 with a static input scale");
  cmd->callback([&ctx, o] {
    const bool progress = !ctx.json && ::isatty(STDERR_FILENO);
    auto say = [&](const char* what) {
      if (progress) std::fprintf(stderr, "\r%s\033[K", what);
    };
    auto text = ReadFile(o->config);
    if (!text.ok()) return ctx.Fail(text.status(), "--synthetic needs a Hugging Face config.json");
    auto config = engine::ModelConfig::FromJson(*text, o->config);
    if (!config.ok()) return ctx.Fail(config.status(), "--synthetic needs a Qwen3.5/3.6 config.json");
    auto quant = ReadQuant(*o, *text);
    if (!quant.ok()) return ctx.Fail(quant.status());
    engine::BackendOptions bo;
    bo.gpu_memory_utilization = o->gpu_memory_utilization;
    auto backend = engine::MakeBackend(o->backend, bo);
    if (!backend.ok()) return ctx.Fail(backend.status(), "use --backend cpu");

    // Memory plan: weights + KV for the whole run + one sequence's DeltaNet state, against the budget.
    const uint64_t weights = WeightBytes(*config, *quant);
    const int64_t context = static_cast<int64_t>(o->prompt_tokens + o->decode_tokens);
    const engine::MemoryEstimate est = engine::EstimateMemory(*config, *quant, weights, context);
    const engine::DType kv_dtype = KvDtypeFromFlag(o->kv_dtype);
    const uint64_t kv_bytes = est.kv_cache_bytes / std::max<uint64_t>(1, engine::ConfigDTypeBytes(est.kv_dtype)) *
                              engine::DTypeSize(kv_dtype);
    const uint64_t planned = weights + kv_bytes + est.deltanet_state_bytes;
    engine::MemoryUsage mem = (*backend)->memory_usage();
    if (mem.budget_bytes == 0) {
      // Host backends have no plan of their own: the free physical memory is the budget.
      mem.budget_bytes = static_cast<size_t>(::sysconf(_SC_AVPHYS_PAGES)) * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
      mem.used_bytes = 0;
      mem.device_name = "the host (free physical memory)";
    }
    if (planned > mem.budget_bytes - std::min(mem.budget_bytes, mem.used_bytes)) {
      return ctx.Fail(Status::ResourceExhausted(
                          o->config + ": the model does not fit: weights " + Fixed(Gib(weights), 2) + " GiB + KV " +
                          Fixed(Gib(kv_bytes), 2) + " GiB + DeltaNet state " +
                          Fixed(Gib(est.deltanet_state_bytes), 2) + " GiB exceed the " +
                          Fixed(Gib(mem.budget_bytes), 2) + " GiB budget on " + mem.device_name),
                      std::string((*backend)->memory_usage().budget_bytes ? "raise --gpu-memory-utilization, "
                                                                              : "use --backend cuda, ") +
                          "use fewer --prompt-tokens/--decode-tokens, --kv-dtype fp8, or a more quantised layout");
    }

    say("building synthetic weights...");
    auto t0 = std::chrono::steady_clock::now();
    auto model = engine::Qwen35TextModel::Synthetic(
        *config, *quant, {.fp8_activations = o->fp8_activations, .backend = *backend}, o->seed);
    if (!model.ok()) return ctx.Fail(model.status());
    const engine::TextConfig& c = (*model)->config();
    std::vector<int32_t> prompt(o->prompt_tokens);
    for (size_t i = 0; i < prompt.size(); ++i) {
      prompt[i] = static_cast<int32_t>((o->seed * 7919 + i * 104729) % static_cast<uint64_t>(c.vocab_size));
    }
    engine::KvCacheOptions kv;
    kv.dtype = kv_dtype;
    auto seq = (*model)->NewSequence(kv);
    // Forward returns downloaded logits, so each timed call ends with the device idle.
    auto t1 = std::chrono::steady_clock::now();
    say("prefill...");
    auto r = (*model)->Forward(*seq, {.ids = prompt, .all_logits = false});
    if (!r.ok()) return ctx.Fail(r.status());
    auto t2 = std::chrono::steady_clock::now();
    say("decode...");
    for (size_t s = 0; s < o->decode_tokens; ++s) {
      const int32_t next = static_cast<int32_t>(std::max_element(r->logits.begin(), r->logits.end()) -
                                                r->logits.begin());
      const std::vector<int32_t> one = {next};
      r = (*model)->Forward(*seq, {.ids = one, .all_logits = false});
      if (!r.ok()) return ctx.Fail(r.status());
    }
    auto t3 = std::chrono::steady_clock::now();
    say("");
    const auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    const double build_s = secs(t0, t1), prefill_s = secs(t1, t2), decode_s = secs(t2, t3);
    const double prefill_tps = static_cast<double>(o->prompt_tokens) / prefill_s;
    const double decode_tps = o->decode_tokens ? static_cast<double>(o->decode_tokens) / decode_s : 0.0;
    const engine::MemoryUsage after = (*backend)->memory_usage();
    nlohmann::json doc = {{"config", o->config},
                          {"backend", std::string((*backend)->name())},
                          {"device", after.device_name.empty() ? std::string("host") : after.device_name},
                          {"quant", quant->quant_algo.empty() ? std::string("none") : quant->quant_algo},
                          {"layers", c.num_hidden_layers},
                          {"planned_weight_bytes", weights},
                          {"planned_kv_bytes", kv_bytes},
                          {"planned_deltanet_state_bytes", est.deltanet_state_bytes},
                          {"device_bytes_in_use", after.used_bytes},
                          {"device_budget_bytes", after.budget_bytes},
                          {"build_seconds", build_s},
                          {"prompt_tokens", o->prompt_tokens},
                          {"prefill_seconds", prefill_s},
                          {"prefill_tokens_per_second", prefill_tps},
                          {"decode_tokens", o->decode_tokens},
                          {"decode_seconds", decode_s},
                          {"decode_tokens_per_second", decode_tps},
                          {"finite", std::all_of(r->logits.begin(), r->logits.end(),
                                                 [](float v) { return std::isfinite(v); })}};
    std::string out = "synthetic " + std::string(config->architecture) + " (" + std::to_string(c.num_hidden_layers) +
                      " layers, " + doc["quant"].get<std::string>() + ") on " + std::string((*backend)->name()) +
                      (after.device_name.empty() ? "" : " (" + after.device_name + ")") + "\n";
    out += "  weights    " + Fixed(Gib(weights), 3) + " GiB planned";
    if (after.budget_bytes) out += ", " + Fixed(Gib(after.used_bytes), 3) + " GiB in use of " + Fixed(Gib(after.budget_bytes), 2) + " GiB";
    out += "\n  build      " + Fixed(build_s, 2) + " s\n";
    out += "  prefill    " + std::to_string(o->prompt_tokens) + " tokens in " + Fixed(prefill_s, 3) + " s = " +
           Fixed(prefill_tps, 1) + " tok/s\n";
    out += "  decode     " + std::to_string(o->decode_tokens) + " tokens in " + Fixed(decode_s, 3) + " s = " +
           Fixed(decode_tps, 2) + " tok/s";
    ctx.Emit(doc, out);
  });
}

}  // namespace warden::cli
