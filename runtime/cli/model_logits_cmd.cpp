// `warden model logits`: run a model folder on token ids from a safetensors file and write the logits (and
// optionally every hidden state) to another — the interface golden checks and other tools drive the engine by.
//
// Inputs: `input_ids` I32/I64 [T] (or [1, T]); optional `prefix_len` scalar: that many tokens go in as one
// prefill, the rest as a second call through the same sequence state (prefill continuation); optional
// `position_ids` I32/I64 [3, T] (M-RoPE t/h/w ids; default: text positions, or the M-RoPE ids of model.md §3 when
// media are present). Media (model.md §4): `pixel_values` [patches, C·T·P²] with `image_grid_thw` I32/I64 [n, 3]
// (or [3]), and/or `pixel_values_videos` with `video_grid_thw`, exactly as the HF processor emits them; the vision
// tower's outputs replace the <|image_pad|> / <|video_pad|> embeddings.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/models/qwen3_5_text.h"
#include "runtime/engine/vision/multimodal.h"
#include "runtime/engine/weights/model_info.h"
#include "runtime/engine/weights/safetensors.h"
#include "runtime/engine/weights/safetensors_writer.h"

namespace warden::cli {
namespace {

struct LogitsInputs {
  std::vector<int32_t> ids;
  std::vector<int64_t> positions;  // [3, T] or empty
  size_t prefix_len = 0;           // 0 = one call
  engine::MediaBatch media;        // empty: text only
};

Result<std::vector<int64_t>> Integers(const engine::TensorView& t, const std::string& file) {
  if (t.dtype != engine::DType::kI32 && t.dtype != engine::DType::kI64) {
    return Status::InvalidArgument(file + ": tensor " + t.name + " has dtype " +
                                   std::string(engine::DTypeName(t.dtype)) + "; expected I32 or I64");
  }
  std::vector<int64_t> out(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(engine::ElementAsDouble(t, static_cast<int64_t>(i)));
  return out;
}

// Pixel rows and their grid list; both present or both absent. The row width is checked by the vision tower.
Status ReadMedia(const engine::SafetensorsFile& file, const std::string& path, const std::string& pixels_name,
                 const std::string& grid_name, std::vector<float>& pixels, std::vector<engine::GridThw>& grids) {
  const engine::TensorView* px = file.Find(pixels_name);
  const engine::TensorView* grid = file.Find(grid_name);
  if (px == nullptr && grid == nullptr) return Status::Ok();
  if (px == nullptr || grid == nullptr) {
    return Status::InvalidArgument(path + ": " + (px ? grid_name : pixels_name) + " is missing (" + pixels_name +
                                   " and " + grid_name + " go together)");
  }
  if (px->dtype != engine::DType::kF32 && px->dtype != engine::DType::kBF16 && px->dtype != engine::DType::kF16) {
    return Status::InvalidArgument(path + ": " + pixels_name + " has dtype " + std::string(engine::DTypeName(px->dtype)) +
                                   "; expected F32, BF16 or F16");
  }
  if (px->shape.size() != 2) {
    return Status::InvalidArgument(path + ": " + pixels_name + " has shape " + px->ShapeString() +
                                   "; expected [patches, channels · temporal_patch · patch²]");
  }
  WARDEN_ASSIGN_OR_RETURN(auto g, Integers(*grid, path));
  const bool one = grid->shape.size() == 1 && grid->shape[0] == 3;
  const bool many = grid->shape.size() == 2 && grid->shape[1] == 3;
  if (!one && !many) {
    return Status::InvalidArgument(path + ": " + grid_name + " has shape " + grid->ShapeString() +
                                   "; expected [n, 3] (t, h, w in patches) or [3]");
  }
  for (size_t i = 0; i + 2 < g.size(); i += 3) grids.push_back({g[i], g[i + 1], g[i + 2]});
  pixels = engine::ToFloat(*px);
  return Status::Ok();
}

Result<LogitsInputs> ReadInputs(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(auto file, engine::SafetensorsFile::Open(path));
  const engine::TensorView* ids = file.Find("input_ids");
  if (ids == nullptr) return Status::InvalidArgument(path + ": no tensor named input_ids (I32/I64 [T])");
  const bool one_d = ids->shape.size() == 1, batch_one = ids->shape.size() == 2 && ids->shape[0] == 1;
  if (!one_d && !batch_one) {
    return Status::InvalidArgument(path + ": input_ids has shape " + ids->ShapeString() + "; expected [T] or [1, T]");
  }
  LogitsInputs in;
  WARDEN_ASSIGN_OR_RETURN(auto raw, Integers(*ids, path));
  if (raw.empty()) return Status::InvalidArgument(path + ": input_ids is empty");
  for (int64_t v : raw) in.ids.push_back(static_cast<int32_t>(v));
  const size_t T = in.ids.size();
  if (const auto* pl = file.Find("prefix_len")) {
    WARDEN_ASSIGN_OR_RETURN(auto v, Integers(*pl, path));
    if (v.size() != 1 || v[0] < 0 || static_cast<size_t>(v[0]) > T) {
      return Status::InvalidArgument(path + ": prefix_len must be one integer in [0, " + std::to_string(T) + "]");
    }
    in.prefix_len = static_cast<size_t>(v[0]);
    if (in.prefix_len == T) in.prefix_len = 0;  // everything is the prefix: one call
  }
  if (const auto* pos = file.Find("position_ids")) {
    if (pos->num_elements() != static_cast<int64_t>(3 * T)) {
      return Status::InvalidArgument(path + ": position_ids has shape " + pos->ShapeString() + "; expected [3, " +
                                     std::to_string(T) + "]");
    }
    WARDEN_ASSIGN_OR_RETURN(in.positions, Integers(*pos, path));
  }
  WARDEN_RETURN_IF_ERROR(ReadMedia(file, path, "pixel_values", "image_grid_thw", in.media.image_pixels,
                                   in.media.image_grids));
  WARDEN_RETURN_IF_ERROR(ReadMedia(file, path, "pixel_values_videos", "video_grid_thw", in.media.video_pixels,
                                   in.media.video_grids));
  if (!in.media.empty() && in.prefix_len > 0) {
    return Status::InvalidArgument(path + ": prefix_len cannot be combined with pixel values; run the media "
                                          "prompt in one call (drop prefix_len)");
  }
  return in;
}

// Positions of tokens [begin, end) out of [3, T] ids.
std::vector<int64_t> Slice(const std::vector<int64_t>& pos, size_t T, size_t begin, size_t end) {
  std::vector<int64_t> out;
  if (pos.empty()) return out;
  for (size_t axis = 0; axis < 3; ++axis) {
    out.insert(out.end(), pos.begin() + static_cast<long>(axis * T + begin), pos.begin() + static_cast<long>(axis * T + end));
  }
  return out;
}

}  // namespace

void RegisterModelLogits(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("logits", "Run a model on token ids from a safetensors file and write the logits "
                                             "(F32 [T, vocab]) to another");
  struct Options {
    std::string model, inputs, out, backend = "cpu", kv_dtype = "f32";
    bool fp8_activations = false, hidden_states = false;
    double gpu_memory_utilization = 0.9;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--model", o->model, "Model folder (config.json + safetensors)")->required();
  cmd->add_option("--inputs", o->inputs,
                  "safetensors with input_ids [T], optional prefix_len, position_ids [3, T], pixel_values + "
                  "image_grid_thw, pixel_values_videos + video_grid_thw")
      ->required();
  cmd->add_option("--out", o->out, "Where to write logits (and hidden_states) as safetensors")->required();
  cmd->add_option("--backend", o->backend, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--gpu-memory-utilization", o->gpu_memory_utilization,
                  "Fraction of GPU memory this process may use (cuda), default 0.9")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_flag("--fp8-activations", o->fp8_activations,
                "FP8 layers quantise their input with the static input_scale (W8A8) instead of weight-only");
  cmd->add_flag("--hidden-states", o->hidden_states,
                "Also write hidden_states F32 [layers + 1, T, hidden]: embeddings, then each layer's output "
                "(the last after the final norm)");
  cmd->add_option("--kv-dtype", o->kv_dtype, "KV cache storage: f32 (reference), bf16 or fp8")
      ->check(CLI::IsMember({"f32", "bf16", "fp8"}));
  cmd->callback([&ctx, o] {
    engine::BackendOptions backend_options;
    backend_options.gpu_memory_utilization = o->gpu_memory_utilization;
    auto backend = engine::MakeBackend(o->backend, backend_options);
    if (!backend.ok()) return ctx.Fail(backend.status(), "use --backend cpu");
    auto inputs = ReadInputs(o->inputs);
    if (!inputs.ok()) return ctx.Fail(inputs.status());
    const auto start = std::chrono::steady_clock::now();
    auto files = engine::ModelFiles::Load(o->model, ShardProgress(ctx));
    if (!files.ok()) return ctx.Fail(files.status(), "--model must be a Qwen3.5/3.6 Hugging Face folder");
    auto model = engine::Qwen35TextModel::Load(*files, {.fp8_activations = o->fp8_activations, .backend = *backend});
    if (!model.ok()) return ctx.Fail(model.status());
    std::unique_ptr<engine::VisionTower> tower;
    if (!inputs->media.empty()) {
      auto t = engine::VisionTower::Load(*files, *backend);
      if (!t.ok()) return ctx.Fail(t.status(), "pixel values need a checkpoint with its vision tower");
      tower = std::move(t).value();
    }
    engine::KvCacheOptions kv;
    kv.dtype = KvDtypeFromFlag(o->kv_dtype);
    auto seq = (*model)->NewSequence(kv);
    const size_t T = inputs->ids.size();
    std::vector<size_t> bounds = {0};
    if (inputs->prefix_len > 0) bounds.push_back(inputs->prefix_len);
    bounds.push_back(T);
    std::vector<float> logits;
    std::vector<std::vector<float>> hidden;  // per layer, all tokens
    size_t vocab = 0;
    for (size_t c = 0; c + 1 < bounds.size(); ++c) {
      const size_t b = bounds[c], e = bounds[c + 1];
      auto positions = Slice(inputs->positions, T, b, e);
      Result<engine::ForwardResult> r = Status::Internal("not run");
      if (tower != nullptr) {
        engine::MultimodalRequest req;
        req.ids = inputs->ids;
        req.media = &inputs->media;
        req.positions = positions;
        req.want_hidden_states = o->hidden_states;
        r = engine::ForwardMultimodal(**model, tower.get(), files->config(), *seq, req);
      } else {
        r = (*model)->Forward(*seq, {.ids = std::span<const int32_t>(inputs->ids.data() + b, e - b),
                                     .positions = positions,
                                     .want_hidden_states = o->hidden_states});
      }
      if (!r.ok()) return ctx.Fail(r.status().WithContext(o->inputs));
      vocab = r->vocab_size;
      logits.insert(logits.end(), r->logits.begin(), r->logits.end());
      hidden.resize(r->hidden_states.size());
      for (size_t l = 0; l < r->hidden_states.size(); ++l) {
        hidden[l].insert(hidden[l].end(), r->hidden_states[l].begin(), r->hidden_states[l].end());
      }
    }
    std::vector<engine::TensorToWrite> out;
    out.push_back({"logits", engine::DType::kF32, {static_cast<int64_t>(T), static_cast<int64_t>(vocab)},
                   engine::BytesOf(logits)});
    if (o->hidden_states) {
      std::vector<float> flat;
      for (const auto& h : hidden) flat.insert(flat.end(), h.begin(), h.end());
      out.push_back({"hidden_states", engine::DType::kF32,
                     {static_cast<int64_t>(hidden.size()), static_cast<int64_t>(T),
                      static_cast<int64_t>((*model)->config().hidden_size)},
                     engine::BytesOf(flat)});
    }
    if (Status s = engine::WriteSafetensors(o->out, out); !s.ok()) return ctx.Fail(s);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json calls = nlohmann::json::array();
    for (size_t c = 0; c + 1 < bounds.size(); ++c) calls.push_back(bounds[c + 1] - bounds[c]);
    ctx.Emit({{"out", o->out}, {"tokens", T}, {"vocab_size", vocab}, {"calls", calls}, {"images", inputs->media.image_grids.size()},
              {"videos", inputs->media.video_grids.size()}, {"backend", std::string((*backend)->name())},
              {"seconds", seconds}},
             "wrote " + o->out + ": logits [" + std::to_string(T) + ", " + std::to_string(vocab) + "] in " +
                 std::to_string(seconds) + " s");
  });
}

}  // namespace warden::cli
