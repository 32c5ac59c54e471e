// `warden model preprocess`: run the Qwen image or video processor (model.md §4.1, §4.5) on one file and show
// or write what the model would receive: pixel values, the grid in patches, the prompt's pad-token count and,
// for videos, the per-group timestamps. For inspecting inputs and feeding `warden model logits`.
#include <filesystem>
#include <memory>

#include "runtime/cli/commands.h"
#include "runtime/engine/vision/media_decode.h"
#include "runtime/engine/vision/preprocess.h"
#include "runtime/engine/weights/model_config.h"
#include "runtime/engine/weights/safetensors_writer.h"

namespace warden::cli {
namespace {

template <typename T>
std::string RawBytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string GridText(const engine::GridThw& g) {
  return "(" + std::to_string(g.t) + ", " + std::to_string(g.h) + ", " + std::to_string(g.w) + ")";
}

}  // namespace

void RegisterModelPreprocess(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("preprocess",
                                   "Turn an image or a video into the pixel values, grid and pad-token count the "
                                   "model receives (Qwen processor rules)");
  struct Options {
    std::string image, video, model, out;
    int64_t min_pixels = 0, max_pixels = 0;
  };
  auto o = std::make_shared<Options>();
  auto* image = cmd->add_option("--image", o->image, "Image file (PNG, JPEG, BMP, GIF first frame)");
  auto* video = cmd->add_option("--video", o->video, "Video file (anything FFmpeg decodes)");
  image->excludes(video);
  cmd->add_option("--model", o->model,
                  "Model folder whose preprocessor_config.json / video_preprocessor_config.json to use "
                  "(default: the Qwen3.6 processor defaults)");
  cmd->add_option("--min-pixels", o->min_pixels, "Override size.shortest_edge (pixel budget lower bound)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-pixels", o->max_pixels, "Override size.longest_edge (pixel budget upper bound)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", o->out,
                  "Write pixel_values (or pixel_values_videos), image_grid_thw (or video_grid_thw) and llm_tokens "
                  "as safetensors; the file can be merged into `warden model logits` inputs");
  cmd->callback([&ctx, o] {
    if (o->image.empty() == o->video.empty()) {
      return ctx.Fail(Status::InvalidArgument("give exactly one of --image or --video"),
                      "e.g. warden model preprocess --image photo.png", 2);
    }
    const std::filesystem::path dir = o->model;
    engine::ProcessedMedia media;
    int64_t merge = 2;
    nlohmann::json extra = nlohmann::json::object();
    if (!o->image.empty()) {
      engine::PreprocessorConfig config;
      if (!o->model.empty() && std::filesystem::exists(dir / "preprocessor_config.json")) {
        auto c = engine::PreprocessorConfig::FromFile(dir / "preprocessor_config.json");
        if (!c.ok()) return ctx.Fail(c.status());
        config = *c;
      }
      if (o->min_pixels > 0) config.min_pixels = o->min_pixels;
      if (o->max_pixels > 0) config.max_pixels = o->max_pixels;
      merge = config.merge_size;
      auto img = engine::DecodeImageFile(o->image);
      if (!img.ok()) return ctx.Fail(img.status());
      extra["width"] = img->width;
      extra["height"] = img->height;
      auto p = engine::PreprocessImage(*img, config);
      if (!p.ok()) return ctx.Fail(p.status().WithContext(o->image));
      media = std::move(p).value();
    } else {
      engine::VideoPreprocessorConfig config;
      if (!o->model.empty() && std::filesystem::exists(dir / "video_preprocessor_config.json")) {
        auto c = engine::VideoPreprocessorConfig::FromFile(dir / "video_preprocessor_config.json");
        if (!c.ok()) return ctx.Fail(c.status());
        config = *c;
      }
      if (o->min_pixels > 0) config.min_pixels = o->min_pixels;
      if (o->max_pixels > 0) config.max_pixels = o->max_pixels;
      merge = config.merge_size;
      auto v = engine::DecodeVideoFile(o->video, config);
      if (!v.ok()) return ctx.Fail(v.status());
      extra["width"] = v->frames[0].width;
      extra["height"] = v->frames[0].height;
      extra["total_frames"] = v->total_frames;
      extra["fps"] = v->fps;
      extra["sampled_frames"] = v->indices;
      auto p = engine::PreprocessVideo(v->frames, v->times, config);
      if (!p.ok()) return ctx.Fail(p.status().WithContext(o->video));
      media = std::move(p).value();
    }
    const bool is_image = !o->image.empty();
    const int64_t tokens = media.llm_tokens(merge);
    if (!o->out.empty()) {
      const std::vector<int64_t> grid = {media.grid.t, media.grid.h, media.grid.w};
      const int64_t rows = media.grid.patches();
      const int64_t width = static_cast<int64_t>(media.pixel_values.size()) / std::max<int64_t>(rows, 1);
      std::vector<engine::TensorToWrite> out;
      out.push_back({is_image ? "pixel_values" : "pixel_values_videos", engine::DType::kF32, {rows, width},
                     engine::BytesOf(media.pixel_values)});
      out.push_back({is_image ? "image_grid_thw" : "video_grid_thw", engine::DType::kI64, {1, 3}, RawBytes(grid)});
      const std::vector<int64_t> tok = {tokens};
      out.push_back({"llm_tokens", engine::DType::kI64, {}, RawBytes(tok)});
      if (!is_image) {
        out.push_back({"timestamps", engine::DType::kF64, {static_cast<int64_t>(media.timestamps.size())},
                       RawBytes(media.timestamps)});
      }
      if (Status s = engine::WriteSafetensors(o->out, out); !s.ok()) return ctx.Fail(s);
    }
    nlohmann::json doc = {{"kind", is_image ? "image" : "video"},
                          {"file", is_image ? o->image : o->video},
                          {"grid_thw", {media.grid.t, media.grid.h, media.grid.w}},
                          {"resized_width", media.resized_width},
                          {"resized_height", media.resized_height},
                          {"llm_tokens", tokens},
                          {"pixel_values_shape", {media.grid.patches(),
                                                  static_cast<int64_t>(media.pixel_values.size()) /
                                                      std::max<int64_t>(media.grid.patches(), 1)}}};
    doc.update(extra);
    if (!is_image) doc["timestamps"] = media.timestamps;
    if (!o->out.empty()) doc["out"] = o->out;
    std::string text = std::string(is_image ? "image " : "video ") + doc["file"].get<std::string>() + ": " +
                       std::to_string(extra["width"].get<int64_t>()) + "×" +
                       std::to_string(extra["height"].get<int64_t>()) + " → " +
                       std::to_string(media.resized_width) + "×" + std::to_string(media.resized_height) +
                       ", grid_thw " + GridText(media.grid) + ", " + std::to_string(tokens) + " pad tokens";
    if (!o->out.empty()) text += "; wrote " + o->out;
    ctx.Emit(doc, text);
  });
}

}  // namespace warden::cli
