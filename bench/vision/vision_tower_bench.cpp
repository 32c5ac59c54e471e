// Vision tower time per image on the CPU backend at the Qwen3.6-27B vision shapes (model.md §1.3: hidden 1152,
// 16 heads of 72, MLP 4304, merger 4608 → 5120, 48×48 position table), against a matmul roofline measured in the
// same run: the tower's FLOPs at the GFLOP/s this backend's BF16 Linear reaches on the block MLP shape.
//
// The 27 blocks are not written out (BF16 weights would be ~1 GB): synthetic checkpoints with 1 and 2 blocks are
// timed and the 27-block time is extrapolated (fixed part + 27 × the per-block difference), as is the roofline.
//
//   warden_vision_tower_bench [--side PIXELS] [--reps N]      (default 448: a 28×28 patch grid, 196 LLM tokens)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "runtime/engine/cpu/thread_pool.h"
#include "runtime/engine/numeric.h"
#include "runtime/engine/vision/qwen3_5_vision.h"
#include "runtime/engine/weights/model_info.h"
#include "runtime/engine/weights/safetensors_writer.h"

using namespace warden::engine;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kHidden = 1152, kInter = 4304, kOut = 5120, kPatchIn = 1536, kMerge = 4 * kHidden;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::string RandomBf16(size_t count, std::mt19937& rng, float scale) {
  std::normal_distribution<float> dist(0.f, scale);
  std::string bytes(count * 2, '\0');
  for (size_t i = 0; i < count; ++i) {
    const uint16_t b = FloatToBf16(dist(rng));
    std::memcpy(&bytes[2 * i], &b, 2);
  }
  return bytes;
}

// A qwen3_5 checkpoint: a one-layer toy text model (never run; hidden 5120 as the config check demands) and a vision tower of `depth` blocks at 27B shapes.
void WriteModel(const std::filesystem::path& dir, int depth) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << R"({"architectures": ["Qwen3_5ForConditionalGeneration"],
 "model_type": "qwen3_5", "dtype": "bfloat16", "image_token_id": 60, "video_token_id": 61,
 "vision_start_token_id": 62, "vision_end_token_id": 63, "tie_word_embeddings": false,
 "text_config": {"model_type": "qwen3_5_text", "vocab_size": 64, "hidden_size": 5120, "intermediate_size": 64,
  "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32,
  "layer_types": ["full_attention"], "rope_parameters": {"rope_type": "default", "rope_theta": 10000000,
  "partial_rotary_factor": 0.25, "mrope_section": [2, 1, 1], "mrope_interleaved": true}},
 "vision_config": {"model_type": "qwen3_5_vision", "depth": )" << depth << R"(, "hidden_size": 1152,
  "hidden_act": "gelu_pytorch_tanh", "intermediate_size": 4304, "num_heads": 16, "in_channels": 3,
  "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 5120,
  "num_position_embeddings": 2304}})";
  std::mt19937 rng(7);
  std::vector<TensorToWrite> t;
  auto w = [&](const std::string& name, std::vector<int64_t> shape, float scale = 0.02f) {
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    t.push_back({name, DType::kBF16, shape, RandomBf16(n, rng, scale)});
  };
  const std::string l = "model.language_model.";
  const int64_t th = kOut;  // the text hidden size must equal the merger's output
  w(l + "embed_tokens.weight", {64, th});
  w(l + "norm.weight", {th});
  w("lm_head.weight", {64, th});
  const std::string p = l + "layers.0.";
  w(p + "input_layernorm.weight", {th});
  w(p + "post_attention_layernorm.weight", {th});
  w(p + "mlp.gate_proj.weight", {64, th});
  w(p + "mlp.up_proj.weight", {64, th});
  w(p + "mlp.down_proj.weight", {th, 64});
  w(p + "self_attn.q_proj.weight", {128, th});
  w(p + "self_attn.k_proj.weight", {32, th});
  w(p + "self_attn.v_proj.weight", {32, th});
  w(p + "self_attn.o_proj.weight", {th, 64});
  w(p + "self_attn.q_norm.weight", {32});
  w(p + "self_attn.k_norm.weight", {32});
  const std::string v = "model.visual.";
  w(v + "patch_embed.proj.weight", {kHidden, 3, 2, 16, 16});
  w(v + "patch_embed.proj.bias", {kHidden});
  w(v + "pos_embed.weight", {2304, kHidden});
  for (int b = 0; b < depth; ++b) {
    const std::string bp = v + "blocks." + std::to_string(b) + ".";
    for (const char* n : {"norm1", "norm2"}) {
      w(bp + n + ".weight", {kHidden}, 1.0f);
      w(bp + n + ".bias", {kHidden});
    }
    w(bp + "attn.qkv.weight", {3 * kHidden, kHidden});
    w(bp + "attn.qkv.bias", {3 * kHidden});
    w(bp + "attn.proj.weight", {kHidden, kHidden});
    w(bp + "attn.proj.bias", {kHidden});
    w(bp + "mlp.linear_fc1.weight", {kInter, kHidden});
    w(bp + "mlp.linear_fc1.bias", {kInter});
    w(bp + "mlp.linear_fc2.weight", {kHidden, kInter});
    w(bp + "mlp.linear_fc2.bias", {kHidden});
  }
  w(v + "merger.norm.weight", {kHidden}, 1.0f);
  w(v + "merger.norm.bias", {kHidden});
  w(v + "merger.linear_fc1.weight", {kMerge, kMerge});
  w(v + "merger.linear_fc1.bias", {kMerge});
  w(v + "merger.linear_fc2.weight", {kOut, kMerge});
  w(v + "merger.linear_fc2.bias", {kOut});
  const warden::Status s = WriteSafetensors(dir / "model.safetensors", t);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
}

// Best-of-`reps` seconds of one Encode of a side×side image.
double TimeTower(const std::filesystem::path& dir, int64_t grid, int reps) {
  auto files = ModelFiles::Load(dir);
  if (!files.ok()) {
    std::fprintf(stderr, "%s\n", files.status().ToString().c_str());
    std::exit(1);
  }
  auto tower = VisionTower::Load(*files);
  if (!tower.ok()) {
    std::fprintf(stderr, "%s\n", tower.status().ToString().c_str());
    std::exit(1);
  }
  const size_t N = static_cast<size_t>(grid * grid);
  std::vector<float> px(N * kPatchIn);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& x : px) x = u(rng);
  const std::vector<GridThw> grids = {{1, grid, grid}};
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    auto out = (*tower)->Encode(px, grids);
    auto t1 = Clock::now();
    if (!out.ok()) {
      std::fprintf(stderr, "%s\n", out.status().ToString().c_str());
      std::exit(1);
    }
    best = std::min(best, Seconds(t0, t1));
  }
  return best;
}

// GFLOP/s of the backend's BF16 Linear on the block MLP shape [N, 1152] × [4304, 1152]ᵀ.
double MeasureLinearGflops(const std::filesystem::path& dir, size_t N, int reps) {
  auto files = ModelFiles::Load(dir);
  if (!files.ok()) {
    std::fprintf(stderr, "%s\n", files.status().ToString().c_str());
    std::exit(1);
  }
  const ResolvedLinear* fc1 = files->FindLinear("model.visual.blocks.0.mlp.linear_fc1");
  auto backend = MakeBackend("cpu");
  auto w = (*backend)->PrepareLinear(*fc1);
  std::vector<float> x(N * kHidden, 0.5f);
  auto tx = (*backend)->UploadF32(x, {N, static_cast<size_t>(kHidden)});
  auto ty = (*backend)->Alloc(DType::kF32, {N, static_cast<size_t>(kInter)});
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    (void)(*backend)->Linear(*w, *tx, *ty);
    best = std::min(best, Seconds(t0, Clock::now()));
  }
  return 2.0 * static_cast<double>(N) * kHidden * kInter / best / 1e9;
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
  int64_t side = 448;
  int reps = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--side") side = std::stol(argv[i + 1]);
    else if (a == "--reps") reps = std::stoi(argv[i + 1]);
  }
  const int64_t grid = side / 16;
  const double N = static_cast<double>(grid * grid), M = N / 4;
  const auto base = std::filesystem::temp_directory_path() / ("warden_vision_bench_" + std::to_string(::getpid()));
  WriteModel(base / "d1", 1);
  WriteModel(base / "d2", 2);
  const double gflops = MeasureLinearGflops(base / "d1", static_cast<size_t>(N), reps);
  const double t1 = TimeTower(base / "d1", grid, reps), t2 = TimeTower(base / "d2", grid, reps);
  std::filesystem::remove_all(base);
  const double per_block = t2 - t1, fixed = t1 - per_block, t27 = fixed + 27 * per_block;
  const double block_flops = 2 * N * (4.0 * kHidden * kHidden + 2.0 * kHidden * kInter) + 4 * N * N * kHidden;
  const double fixed_flops = 2 * N * kPatchIn * kHidden + 2 * M * (double(kMerge) * kMerge + double(kMerge) * kOut);
  const double roof_block = block_flops / (gflops * 1e9), roof_fixed = fixed_flops / (gflops * 1e9);
  std::printf("machine: %s, %zu threads; BF16 Linear [%.0f x 1152] x [4304 x 1152]^T: %.1f GFLOP/s (measured)\n",
              CpuModel().c_str(), cpu::ThreadPool::Default().num_threads(), N, gflops);
  std::printf("image %lldx%lld -> grid (1, %lld, %lld), %.0f patches, %.0f LLM tokens; best of %d\n",
              static_cast<long long>(side), static_cast<long long>(side), static_cast<long long>(grid),
              static_cast<long long>(grid), N, M, reps);
  std::printf("| part | ours (s) | roofline (s) | ratio |\n|---|---|---|---|\n");
  std::printf("| one block (1152, 16 heads, MLP 4304) | %.3f | %.3f | %.2f |\n", per_block, roof_block,
              per_block / roof_block);
  std::printf("| patch embed + pos + merger | %.3f | %.3f | %.2f |\n", fixed, roof_fixed, fixed / roof_fixed);
  std::printf("| whole tower, 27 blocks (extrapolated) | %.2f | %.2f | %.2f |\n", t27, roof_fixed + 27 * roof_block,
              t27 / (roof_fixed + 27 * roof_block));
  return 0;
}
