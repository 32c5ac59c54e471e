// Qwen image and video preprocessing (model.md §4.1, §4.5): smart resize to multiples of patch × merge within the
// pixel budget, PIL-compatible antialiased bicubic resampling with uint8 rounding between the two passes,
// rescale + normalise, temporal patching (an image duplicated to temporal_patch_size frames, a video padded with
// its last frame) and patch flattening in merge-block order. The output is what the HF processor emits as
// pixel_values / *_grid_thw.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/vision/qwen3_5_vision.h"
#include "runtime/engine/weights/model_config.h"

namespace warden::engine {

// A decoded picture: 8-bit RGB, rows top to bottom, `pixels` = height · width · 3.
struct RgbImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

// video_preprocessor_config.json (transformers Qwen3VLVideoProcessor). Absent fields take the class defaults.
struct VideoPreprocessorConfig {
  int64_t patch_size = 16;
  int64_t temporal_patch_size = 2;
  int64_t merge_size = 2;
  std::vector<double> image_mean{0.5, 0.5, 0.5};
  std::vector<double> image_std{0.5, 0.5, 0.5};
  int64_t min_pixels = 131072;   // size.shortest_edge: lower bound on frames · h̄ · w̄
  int64_t max_pixels = 786432;   // size.longest_edge: upper bound on frames · h̄ · w̄ (the whole clip)
  double rescale_factor = 1.0 / 255.0;
  double fps = 2.0;              // frames sampled per second of video
  int64_t min_frames = 4;
  int64_t max_frames = 768;

  // Reads `path`; errors name the file and field.
  static Result<VideoPreprocessorConfig> FromFile(const std::filesystem::path& path);
  static Result<VideoPreprocessorConfig> FromJson(const std::string& text, const std::string& file);
};

// What the processor produces for one image or video.
struct ProcessedMedia {
  std::vector<float> pixel_values;  // [grid.patches(), 3 · temporal · patch²]
  GridThw grid;                     // in patches
  int64_t resized_width = 0, resized_height = 0;
  std::vector<double> timestamps;   // video: seconds per temporal group (mean of its two frames' times)
  int64_t llm_tokens(int64_t merge_size) const { return grid.patches() / (merge_size * merge_size); }
};

// Image smart_resize (§4.1 step 1): (h̄, w̄) multiples of `factor` with h̄·w̄ in [min_pixels, max_pixels].
// InvalidArgument for a zero size or an aspect ratio above 200.
Result<std::pair<int64_t, int64_t>> SmartResize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels,
                                                int64_t max_pixels);
// Video smart_resize (§4.5): the budget bounds frames · h̄ · w̄.
Result<std::pair<int64_t, int64_t>> SmartResizeVideo(int64_t frames, int64_t height, int64_t width, int64_t factor,
                                                     int64_t min_pixels, int64_t max_pixels);

// Antialiased bicubic (Keys a = −0.5, PIL support rules), horizontal pass first, each pass rounded to uint8.
RgbImage ResizeBicubic(const RgbImage& in, int64_t out_width, int64_t out_height);

Result<ProcessedMedia> PreprocessImage(const RgbImage& image, const PreprocessorConfig& config);

// `frames` are the sampled frames (all the same size) and `frame_times` their times in seconds.
Result<ProcessedMedia> PreprocessVideo(const std::vector<RgbImage>& frames, const std::vector<double>& frame_times,
                                       const VideoPreprocessorConfig& config);

// Which of `total` decoded frames the video processor keeps (§4.5): n = min(max(⌊total / video_fps · fps⌋,
// min_frames), max_frames, total), indices round(linspace(0, total − 1, n)).
std::vector<int64_t> SampleFrameIndices(int64_t total, double video_fps, const VideoPreprocessorConfig& config);

}  // namespace warden::engine
