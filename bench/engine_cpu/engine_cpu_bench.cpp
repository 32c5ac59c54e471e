// CPU engine throughput: prefill and decode tokens/s of a model folder, against this machine's memory-bandwidth
// roofline measured in the same run.
//
// Workloads: the tiny-c fixture (if --shared is given) and a synthetic Qwen3.6-27B slice: the real 27B decoder
// layer shapes (hidden 5120, MLP 17408, 24/4 heads of 256, DeltaNet 16/48 heads of 128) but 2 layers (one Gated
// DeltaNet, one full attention) and a small vocabulary, in BF16, with random weights written to a temporary folder.
// Decode at batch 1 must stream every weight once per token, so bytes-of-weights / bandwidth bounds tokens/s.
//
//   warden_engine_cpu_bench [--shared DIR] [--prefill N] [--decode N] [--vocab N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine/numeric.h"
#include "runtime/engine/cpu/thread_pool.h"
#include "runtime/engine/models/qwen3_5_text.h"
#include "runtime/engine/weights/model_info.h"
#include "runtime/engine/weights/safetensors_writer.h"

using namespace warden::engine;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Read bandwidth (GB/s) of a 1 GiB buffer summed by every pool thread: the ceiling for streaming weights.
double MeasureReadBandwidth() {
  const size_t n = (size_t{1} << 30) / sizeof(float);
  std::vector<float> buf(n, 1.0f);
  auto& pool = cpu::ThreadPool::Default();
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<double> partial(pool.num_threads() * 16, 0.0);
    auto t0 = Clock::now();
    pool.ParallelFor(n, [&](size_t b, size_t e) {
      float acc[8] = {};
      size_t i = b;
      for (; i + 8 <= e; i += 8)
        for (int j = 0; j < 8; ++j) acc[j] += buf[i + static_cast<size_t>(j)];
      double s = 0;
      for (float a : acc) s += a;
      partial[(b * pool.num_threads() / n) * 16] = s;  // one slot per range, padded against false sharing
    });
    auto t1 = Clock::now();
    double sum = 0;
    for (double p : partial) sum += p;
    if (sum < 0) std::printf("impossible\n");  // keep the loop alive
    best = std::max(best, static_cast<double>(n * sizeof(float)) / Seconds(t0, t1) / 1e9);
  }
  return best;
}

std::string RandomBf16(size_t count, std::mt19937& rng, float scale) {
  std::normal_distribution<float> dist(0.f, scale);
  std::string bytes(count * 2, '\0');
  for (size_t i = 0; i < count; ++i) {
    uint16_t b = FloatToBf16(dist(rng));
    std::memcpy(&bytes[2 * i], &b, 2);
  }
  return bytes;
}

// `n` random bytes, with E4M3 NaN codes (S.1111.111) nudged to the nearest finite code when `fp8`.
std::string RandomBytes(size_t n, std::mt19937_64& rng, bool fp8) {
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) {
      uint8_t b = static_cast<uint8_t>(r >> (8 * j));
      if (fp8 && (b & 0x7f) == 0x7f) b ^= 1;
      bytes[i + j] = static_cast<char>(b);
    }
  }
  return bytes;
}

std::string F32Scalar(float v) {
  std::string b(4, '\0');
  std::memcpy(b.data(), &v, 4);
  return b;
}

// Writes the synthetic 2-layer 27B-shaped model into `dir`; `format` is "BF16", "FP8" or "NVFP4".
void WriteSyntheticModel(const std::filesystem::path& dir, int64_t vocab, const std::string& format) {
  std::filesystem::create_directories(dir);
  const int64_t H = 5120, I = 17408, Hq = 24, Hkv = 4, D = 256, Hk = 16, Hv = 48, Dk = 128, Dv = 128, K = 4;
  const int64_t conv = 2 * Hk * Dk + Hv * Dv;
  std::ofstream(dir / "config.json") << R"({"architectures": ["Qwen3_5ForCausalLM"], "model_type": "qwen3_5_text",
 "vocab_size": )" << vocab << R"(, "hidden_size": 5120, "intermediate_size": 17408, "num_hidden_layers": 2,
 "num_attention_heads": 24, "num_key_value_heads": 4, "head_dim": 256, "rms_norm_eps": 1e-6,
 "layer_types": ["linear_attention", "full_attention"], "linear_num_key_heads": 16, "linear_num_value_heads": 48,
 "linear_key_head_dim": 128, "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4, "tie_word_embeddings": false,
 "rope_parameters": {"rope_type": "default", "rope_theta": 10000000, "partial_rotary_factor": 0.25,
 "mrope_section": [11, 11, 10], "mrope_interleaved": true}, "max_position_embeddings": 262144})";
  if (format != "BF16") {
    std::ofstream(dir / "hf_quant_config.json") << R"({"producer": {"name": "modelopt", "version": "0.45.0"},
 "quantization": {"quant_algo": ")" << format << R"(", "kv_cache_quant_algo": null, "group_size": 16,
 "exclude_modules": ["lm_head", "*linear_attn.conv1d*", "*linear_attn.in_proj_a*", "*linear_attn.in_proj_b*"]}})";
  }
  std::mt19937 rng(42);
  std::mt19937_64 rng64(43);
  std::vector<TensorToWrite> t;
  auto w = [&](const std::string& name, std::vector<int64_t> shape, float scale = 0.02f) {
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    t.push_back({name, DType::kBF16, shape, RandomBf16(n, rng, scale)});
  };
  // A quantisable Linear [out, in] in the model's format.
  auto lin = [&](const std::string& module, int64_t out, int64_t in) {
    const size_t n = static_cast<size_t>(out * in);
    if (format == "FP8") {
      t.push_back({module + ".weight", DType::kF8E4M3, {out, in}, RandomBytes(n, rng64, true)});
      t.push_back({module + ".weight_scale", DType::kF32, {}, F32Scalar(1e-4f)});
      t.push_back({module + ".input_scale", DType::kF32, {}, F32Scalar(0.01f)});
    } else if (format == "NVFP4") {
      t.push_back({module + ".weight", DType::kU8, {out, in / 2}, RandomBytes(n / 2, rng64, false)});
      t.push_back({module + ".weight_scale", DType::kF8E4M3, {out, in / 16}, std::string(n / 16, '\x38')});
      t.push_back({module + ".weight_scale_2", DType::kF32, {}, F32Scalar(0.01f)});
      t.push_back({module + ".input_scale", DType::kF32, {}, F32Scalar(0.01f)});
    } else {
      w(module + ".weight", {out, in});
    }
  };
  const std::string p = "model.";
  w(p + "embed_tokens.weight", {vocab, H});
  w(p + "norm.weight", {H}, 0.1f);
  w("lm_head.weight", {vocab, H});
  for (int l = 0; l < 2; ++l) {
    const std::string L = p + "layers." + std::to_string(l) + ".";
    w(L + "input_layernorm.weight", {H}, 0.1f);
    w(L + "post_attention_layernorm.weight", {H}, 0.1f);
    lin(L + "mlp.gate_proj", I, H);
    lin(L + "mlp.up_proj", I, H);
    lin(L + "mlp.down_proj", H, I);
    if (l == 0) {
      const std::string A = L + "linear_attn.";
      lin(A + "in_proj_qkv", conv, H);
      lin(A + "in_proj_z", Hv * Dv, H);
      w(A + "in_proj_b.weight", {Hv, H});
      w(A + "in_proj_a.weight", {Hv, H});
      lin(A + "out_proj", H, Hv * Dv);
      w(A + "conv1d.weight", {conv, 1, K}, 0.3f);
      w(A + "A_log", {Hv}, 0.5f);
      w(A + "dt_bias", {Hv}, 0.5f);
      w(A + "norm.weight", {Dv}, 0.1f);
    } else {
      const std::string A = L + "self_attn.";
      lin(A + "q_proj", Hq * D * 2, H);
      lin(A + "k_proj", Hkv * D, H);
      lin(A + "v_proj", Hkv * D, H);
      lin(A + "o_proj", H, Hq * D);
      w(A + "q_norm.weight", {D}, 0.1f);
      w(A + "k_norm.weight", {D}, 0.1f);
    }
  }
  auto s = WriteSafetensors(dir / "model.safetensors", t);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
}

struct Row {
  std::string workload;
  double prefill_tok_s, decode_tok_s, weight_gb, roofline_tok_s;
};

Row Run(const std::string& name, const std::filesystem::path& dir, size_t prefill, size_t decode, double bw_gbs) {
  auto files = ModelFiles::Load(dir);
  if (!files.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), files.status().ToString().c_str());
    std::exit(1);
  }
  auto model = Qwen35TextModel::Load(*files);
  if (!model.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), model.status().ToString().c_str());
    std::exit(1);
  }
  // Bytes a decode step streams: every Linear's stored weight (embedding rows are a lookup, not a stream).
  double weight_bytes = 0;
  for (const auto& l : files->linears()) {
    if (l.spec.part == ModelPart::kText) weight_bytes += static_cast<double>(l.storage_bytes());
  }
  const int32_t vocab = static_cast<int32_t>((*model)->config().vocab_size);
  std::vector<int32_t> ids(prefill);
  for (size_t i = 0; i < prefill; ++i) ids[i] = static_cast<int32_t>((i * 7919) % static_cast<size_t>(vocab));
  auto seq = (*model)->NewSequence();
  auto t0 = Clock::now();
  auto r = (*model)->Forward(*seq, {.ids = ids, .all_logits = false});
  auto t1 = Clock::now();
  if (!r.ok()) std::exit(1);
  int32_t next = 1;
  auto t2 = Clock::now();
  for (size_t i = 0; i < decode; ++i) {
    r = (*model)->Forward(*seq, {.ids = std::span<const int32_t>(&next, 1), .all_logits = false});
    next = static_cast<int32_t>(std::max_element(r->logits.begin(), r->logits.end()) - r->logits.begin());
  }
  auto t3 = Clock::now();
  return {name, static_cast<double>(prefill) / Seconds(t0, t1), static_cast<double>(decode) / Seconds(t2, t3),
          weight_bytes / 1e9, bw_gbs * 1e9 / weight_bytes};
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  std::string shared;
  size_t prefill = 128, decode = 16;
  int64_t vocab = 8192;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--shared") shared = argv[i + 1];
    else if (a == "--prefill") prefill = std::stoul(argv[i + 1]);
    else if (a == "--decode") decode = std::stoul(argv[i + 1]);
    else if (a == "--vocab") vocab = std::stol(argv[i + 1]);
  }
  const double bw = MeasureReadBandwidth();
  std::vector<Row> rows;
  if (!shared.empty()) rows.push_back(Run("tiny-c (BF16)", shared + "/fixtures/qwen3_5-tiny-c/model", prefill, 64, bw));
  for (const std::string format : {"BF16", "FP8", "NVFP4"}) {
    auto synth = std::filesystem::temp_directory_path() / ("warden-bench-27b-slice-" + format);
    WriteSyntheticModel(synth, vocab, format);
    rows.push_back(Run("27B shapes, 2 layers (" + format + ")", synth, prefill, decode, bw));
    std::filesystem::remove_all(synth);
  }

  std::printf("machine: %s, %zu threads, read bandwidth %.1f GB/s (measured)\n", CpuModel().c_str(),
              cpu::ThreadPool::Default().num_threads(), bw);
  std::printf("%-30s %12s %12s %12s %14s %10s\n", "workload", "prefill t/s", "decode t/s", "weights GB",
              "roofline t/s", "decode/roof");
  for (const auto& r : rows) {
    std::printf("%-30s %12.1f %12.2f %12.3f %14.2f %9.0f%%\n", r.workload.c_str(), r.prefill_tok_s, r.decode_tok_s,
                r.weight_gb, r.roofline_tok_s, 100.0 * r.decode_tok_s / r.roofline_tok_s);
  }
  return 0;
}
