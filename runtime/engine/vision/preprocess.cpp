// Image and video preprocessing (model.md §4.1, §4.5); see preprocess.h.
#include "runtime/engine/vision/preprocess.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/base/file_util.h"

namespace warden::engine {
namespace {

// Python's round(): ties to even (the default FE_TONEAREST mode of nearbyint).
int64_t PyRound(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

// Keys cubic convolution with a = −0.5 (PIL's and torchvision's bicubic).
double Cubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// One output position's taps: the first input index and its weights as integers of `precision` fractional bits.
struct Taps {
  int64_t first = 0;
  std::vector<int32_t> weights;
};
struct TapTable {
  std::vector<Taps> taps;
  int precision = 0;
};

// PIL's precompute_coeffs (support 2·max(scale, 1), centres at (i + 0.5)·scale, weights normalised to sum 1),
// then quantised as PyTorch's uint8 antialias kernel does (torchvision, the fixture's path): the precision is the
// largest (< 22 bits) at which the biggest weight still fits an int16, each weight rounded half away from zero.
TapTable ComputeTaps(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 2.0 * filter_scale;
  std::vector<int64_t> first(static_cast<size_t>(out_size));
  std::vector<std::vector<double>> weights(static_cast<size_t>(out_size));
  double w_max = 0;
  for (int64_t i = 0; i < out_size; ++i) {
    const double center = (static_cast<double>(i) + 0.5) * scale;
    // C truncation as PIL: the value is clipped at 0 right after, so truncation and floor agree where it matters.
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    first[static_cast<size_t>(i)] = lo;
    auto& w = weights[static_cast<size_t>(i)];
    double sum = 0;
    for (int64_t j = lo; j < hi; ++j) {
      w.push_back(Cubic((static_cast<double>(j) - center + 0.5) / filter_scale));
      sum += w.back();
    }
    for (double& v : w) {
      if (sum != 0) v /= sum;
      w_max = std::max(w_max, v);
    }
  }
  TapTable t;
  while (t.precision < 22 &&
         static_cast<int64_t>(0.5 + w_max * static_cast<double>(int64_t{1} << (t.precision + 1))) < (1 << 15)) {
    ++t.precision;
  }
  const double unit = static_cast<double>(int64_t{1} << t.precision);
  t.taps.resize(static_cast<size_t>(out_size));
  for (size_t i = 0; i < t.taps.size(); ++i) {
    t.taps[i].first = first[i];
    for (double v : weights[i]) {
      const double q = v * unit;
      t.taps[i].weights.push_back(static_cast<int32_t>(q < 0 ? -0.5 + q : 0.5 + q));
    }
  }
  return t;
}

// Fixed-point accumulator → uint8: add half, arithmetic shift (floor), saturate.
uint8_t FixedToU8(int64_t acc, int precision) {
  const int64_t v = (acc + (precision > 0 ? (int64_t{1} << (precision - 1)) : 0)) >> precision;
  return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
}

Status CheckNormalisation(const std::vector<double>& mean, const std::vector<double>& std_dev,
                          const std::string& what) {
  if (mean.size() != 3 || std_dev.size() != 3) {
    return Status::InvalidArgument(what + ": image_mean and image_std need 3 values (RGB)");
  }
  for (double s : std_dev) {
    if (!(s > 0)) return Status::InvalidArgument(what + ": image_std values must be positive");
  }
  return Status::Ok();
}

// Flattens `frames` (already resized, count a multiple of temporal) into patch rows (§4.1 step 5).
std::vector<float> Patchify(const std::vector<const RgbImage*>& frames, int64_t temporal, int64_t patch,
                            int64_t merge, double rescale, const std::vector<double>& mean,
                            const std::vector<double>& std_dev, GridThw& grid) {
  const int64_t H = frames[0]->height, W = frames[0]->width;
  grid = {static_cast<int64_t>(frames.size()) / temporal, H / patch, W / patch};
  const size_t row_len = static_cast<size_t>(3 * temporal * patch * patch);
  std::vector<float> out(static_cast<size_t>(grid.patches()) * row_len);
  // Per-channel lookup: value → normalised float, as the processor computes it in fp32.
  float lut[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      lut[c][v] = static_cast<float>((static_cast<float>(v) * static_cast<float>(rescale) -
                                      static_cast<float>(mean[static_cast<size_t>(c)])) /
                                     static_cast<float>(std_dev[static_cast<size_t>(c)]));
    }
  }
  size_t row = 0;
  for (int64_t tg = 0; tg < grid.t; ++tg) {
    for (int64_t br = 0; br < grid.h / merge; ++br) {
      for (int64_t bc = 0; bc < grid.w / merge; ++bc) {
        for (int64_t ir = 0; ir < merge; ++ir) {
          for (int64_t ic = 0; ic < merge; ++ic, ++row) {
            float* dst = out.data() + row * row_len;
            const int64_t y0 = (br * merge + ir) * patch, x0 = (bc * merge + ic) * patch;
            for (int64_t c = 0; c < 3; ++c) {
              for (int64_t tt = 0; tt < temporal; ++tt) {
                const RgbImage& f = *frames[static_cast<size_t>(tg * temporal + tt)];
                for (int64_t y = 0; y < patch; ++y) {
                  const uint8_t* src = f.pixels.data() + static_cast<size_t>(((y0 + y) * W + x0) * 3 + c);
                  for (int64_t x = 0; x < patch; ++x) *dst++ = lut[c][src[x * 3]];
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace

Result<std::pair<int64_t, int64_t>> SmartResize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels,
                                                int64_t max_pixels) {
  if (height <= 0 || width <= 0) {
    return Status::InvalidArgument("image size " + std::to_string(width) + "×" + std::to_string(height) +
                                   " is empty");
  }
  if (static_cast<double>(std::max(height, width)) / static_cast<double>(std::min(height, width)) > 200.0) {
    return Status::InvalidArgument("image size " + std::to_string(width) + "×" + std::to_string(height) +
                                   ": aspect ratio above 200 (the processor refuses it); crop or pad the image");
  }
  const double h = static_cast<double>(height), w = static_cast<double>(width), f = static_cast<double>(factor);
  int64_t hb = PyRound(h / f) * factor, wb = PyRound(w / f) * factor;
  if (static_cast<double>(hb) * static_cast<double>(wb) > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt(h * w / static_cast<double>(max_pixels));
    hb = std::max(factor, static_cast<int64_t>(std::floor(h / beta / f)) * factor);
    wb = std::max(factor, static_cast<int64_t>(std::floor(w / beta / f)) * factor);
  } else if (static_cast<double>(hb) * static_cast<double>(wb) < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (h * w));
    hb = static_cast<int64_t>(std::ceil(h * beta / f)) * factor;
    wb = static_cast<int64_t>(std::ceil(w * beta / f)) * factor;
  }
  return std::make_pair(hb, wb);
}

Result<std::pair<int64_t, int64_t>> SmartResizeVideo(int64_t frames, int64_t height, int64_t width, int64_t factor,
                                                     int64_t min_pixels, int64_t max_pixels) {
  if (height <= 0 || width <= 0 || frames <= 0) {
    return Status::InvalidArgument("video frames of " + std::to_string(width) + "×" + std::to_string(height) +
                                   " (" + std::to_string(frames) + " frames) are empty");
  }
  double h = static_cast<double>(height), w = static_cast<double>(width);
  const double f = static_cast<double>(factor), n = static_cast<double>(frames);
  if (h < f || w < f) {  // first scale up so the smaller side is one factor
    const double s = f / std::min(h, w);
    h = std::max(f, std::round(h * s));
    w = std::max(f, std::round(w * s));
  }
  if (std::max(h, w) / std::min(h, w) > 200.0) {
    return Status::InvalidArgument("video frame size " + std::to_string(width) + "×" + std::to_string(height) +
                                   ": aspect ratio above 200");
  }
  int64_t hb = PyRound(h / f) * factor, wb = PyRound(w / f) * factor;
  const double tb = static_cast<double>(PyRound(n / 2.0) * 2);
  if (tb * static_cast<double>(hb) * static_cast<double>(wb) > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt(n * h * w / static_cast<double>(max_pixels));
    hb = std::max(factor, static_cast<int64_t>(std::floor(h / beta / f)) * factor);
    wb = std::max(factor, static_cast<int64_t>(std::floor(w / beta / f)) * factor);
  } else if (tb * static_cast<double>(hb) * static_cast<double>(wb) < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (n * h * w));
    hb = static_cast<int64_t>(std::ceil(h * beta / f)) * factor;
    wb = static_cast<int64_t>(std::ceil(w * beta / f)) * factor;
  }
  return std::make_pair(hb, wb);
}

RgbImage ResizeBicubic(const RgbImage& in, int64_t out_width, int64_t out_height) {
  // Horizontal pass into a uint8 buffer of in.height × out_width, then vertical; each rounded and clipped to
  // uint8. A pass whose size does not change is skipped, as in PyTorch.
  RgbImage mid;
  if (out_width == in.width) {
    mid = in;
  } else {
    mid.width = out_width;
    mid.height = in.height;
    mid.pixels.resize(static_cast<size_t>(mid.width * mid.height * 3));
    const TapTable h = ComputeTaps(in.width, out_width);
    for (int64_t y = 0; y < in.height; ++y) {
      const uint8_t* src = in.pixels.data() + static_cast<size_t>(y * in.width * 3);
      uint8_t* dst = mid.pixels.data() + static_cast<size_t>(y * out_width * 3);
      for (int64_t x = 0; x < out_width; ++x) {
        const Taps& t = h.taps[static_cast<size_t>(x)];
        int64_t acc[3] = {0, 0, 0};
        for (size_t k = 0; k < t.weights.size(); ++k) {
          const uint8_t* p = src + (t.first + static_cast<int64_t>(k)) * 3;
          for (int c = 0; c < 3; ++c) acc[c] += int64_t{t.weights[k]} * p[c];
        }
        for (int c = 0; c < 3; ++c) dst[x * 3 + c] = FixedToU8(acc[c], h.precision);
      }
    }
  }
  if (out_height == mid.height) return mid;
  RgbImage out;
  out.width = out_width;
  out.height = out_height;
  out.pixels.resize(static_cast<size_t>(out_width * out_height * 3));
  const TapTable v = ComputeTaps(mid.height, out_height);
  const size_t stride = static_cast<size_t>(out_width * 3);
  std::vector<int64_t> acc(stride);
  for (int64_t y = 0; y < out_height; ++y) {
    const Taps& t = v.taps[static_cast<size_t>(y)];
    std::fill(acc.begin(), acc.end(), 0);
    for (size_t k = 0; k < t.weights.size(); ++k) {
      const uint8_t* row = mid.pixels.data() + static_cast<size_t>(t.first + static_cast<int64_t>(k)) * stride;
      const int64_t wk = t.weights[k];
      for (size_t i = 0; i < stride; ++i) acc[i] += wk * row[i];
    }
    uint8_t* dst = out.pixels.data() + static_cast<size_t>(y) * stride;
    for (size_t i = 0; i < stride; ++i) dst[i] = FixedToU8(acc[i], v.precision);
  }
  return out;
}

Result<ProcessedMedia> PreprocessImage(const RgbImage& image, const PreprocessorConfig& c) {
  WARDEN_RETURN_IF_ERROR(CheckNormalisation(c.image_mean, c.image_std, "preprocessor_config.json"));
  if (c.patch_size <= 0 || c.merge_size <= 0 || c.temporal_patch_size <= 0) {
    return Status::InvalidArgument("preprocessor_config.json: patch_size, merge_size and temporal_patch_size must "
                                   "be positive");
  }
  if (static_cast<int64_t>(image.pixels.size()) != image.width * image.height * 3) {
    return Status::InvalidArgument("image buffer holds " + std::to_string(image.pixels.size()) + " bytes, not " +
                                   std::to_string(image.width) + "×" + std::to_string(image.height) + "×3");
  }
  const int64_t factor = c.patch_size * c.merge_size;
  WARDEN_ASSIGN_OR_RETURN(auto hw, SmartResize(image.height, image.width, factor, c.min_pixels, c.max_pixels));
  RgbImage resized = (hw.first == image.height && hw.second == image.width)
                         ? image
                         : ResizeBicubic(image, hw.second, hw.first);
  ProcessedMedia out;
  out.resized_height = hw.first;
  out.resized_width = hw.second;
  // A single image becomes temporal_patch_size identical frames (grid_t = 1).
  std::vector<const RgbImage*> frames(static_cast<size_t>(c.temporal_patch_size), &resized);
  out.pixel_values = Patchify(frames, c.temporal_patch_size, c.patch_size, c.merge_size,
                              c.do_rescale ? c.rescale_factor : 1.0,
                              c.do_normalize ? c.image_mean : std::vector<double>{0, 0, 0},
                              c.do_normalize ? c.image_std : std::vector<double>{1, 1, 1}, out.grid);
  return out;
}

Result<ProcessedMedia> PreprocessVideo(const std::vector<RgbImage>& frames, const std::vector<double>& frame_times,
                                       const VideoPreprocessorConfig& c) {
  WARDEN_RETURN_IF_ERROR(CheckNormalisation(c.image_mean, c.image_std, "video_preprocessor_config.json"));
  if (frames.empty()) return Status::InvalidArgument("the video has no frames");
  if (frame_times.size() != frames.size()) {
    return Status::InvalidArgument("video: " + std::to_string(frames.size()) + " frames but " +
                                   std::to_string(frame_times.size()) + " timestamps");
  }
  for (const RgbImage& f : frames) {
    if (f.width != frames[0].width || f.height != frames[0].height ||
        static_cast<int64_t>(f.pixels.size()) != f.width * f.height * 3) {
      return Status::InvalidArgument("video frames differ in size (" + std::to_string(f.width) + "×" +
                                     std::to_string(f.height) + " vs " + std::to_string(frames[0].width) + "×" +
                                     std::to_string(frames[0].height) + ")");
    }
  }
  const int64_t factor = c.patch_size * c.merge_size, T = c.temporal_patch_size;
  WARDEN_ASSIGN_OR_RETURN(auto hw, SmartResizeVideo(static_cast<int64_t>(frames.size()), frames[0].height,
                                                    frames[0].width, factor, c.min_pixels, c.max_pixels));
  std::vector<RgbImage> resized;
  resized.reserve(frames.size());
  for (const RgbImage& f : frames) resized.push_back(ResizeBicubic(f, hw.second, hw.first));
  std::vector<const RgbImage*> ptrs;
  std::vector<double> times = frame_times;
  for (const RgbImage& f : resized) ptrs.push_back(&f);
  while (static_cast<int64_t>(ptrs.size()) % T != 0) {  // pad with the last frame
    ptrs.push_back(ptrs.back());
    times.push_back(times.back());
  }
  ProcessedMedia out;
  out.resized_height = hw.first;
  out.resized_width = hw.second;
  out.pixel_values = Patchify(ptrs, T, c.patch_size, c.merge_size, c.rescale_factor, c.image_mean, c.image_std,
                              out.grid);
  for (size_t i = 0; i < times.size(); i += static_cast<size_t>(T)) {
    out.timestamps.push_back((times[i] + times[i + static_cast<size_t>(T) - 1]) / 2.0);
  }
  return out;
}

std::vector<int64_t> SampleFrameIndices(int64_t total, double video_fps, const VideoPreprocessorConfig& c) {
  if (total <= 0) return {};
  int64_t n = video_fps > 0 ? static_cast<int64_t>(std::floor(static_cast<double>(total) / video_fps * c.fps))
                            : total;
  n = std::min({std::max(n, c.min_frames), c.max_frames, total});
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i) {
    // torch.linspace(0, total − 1, n) then round (ties to even), as the processor.
    const double v = n == 1 ? 0.0 : static_cast<double>(i) * static_cast<double>(total - 1) / static_cast<double>(n - 1);
    idx.push_back(PyRound(v));
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------------------
// video_preprocessor_config.json

Result<VideoPreprocessorConfig> VideoPreprocessorConfig::FromJson(const std::string& text, const std::string& file) {
  VideoPreprocessorConfig c;
  std::string field;
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return Status::InvalidArgument(file + ": expected a JSON object");
    auto num = [&](const char* name, auto& out) {
      field = name;
      if (j.contains(name) && !j[name].is_null()) out = j[name].get<std::remove_reference_t<decltype(out)>>();
    };
    num("patch_size", c.patch_size);
    num("temporal_patch_size", c.temporal_patch_size);
    num("merge_size", c.merge_size);
    num("image_mean", c.image_mean);
    num("image_std", c.image_std);
    num("rescale_factor", c.rescale_factor);
    num("fps", c.fps);
    num("min_frames", c.min_frames);
    num("max_frames", c.max_frames);
    num("min_pixels", c.min_pixels);
    num("max_pixels", c.max_pixels);
    if (j.contains("size") && j["size"].is_object()) {
      field = "size.shortest_edge";
      if (j["size"].contains("shortest_edge")) c.min_pixels = j["size"]["shortest_edge"].get<int64_t>();
      field = "size.longest_edge";
      if (j["size"].contains("longest_edge")) c.max_pixels = j["size"]["longest_edge"].get<int64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(file + (field.empty() ? "" : ": field " + field) + ": " + e.what());
  }
  if (c.patch_size <= 0 || c.temporal_patch_size <= 0 || c.merge_size <= 0 || c.min_frames <= 0 ||
      c.max_frames < c.min_frames || !(c.fps > 0) || c.max_pixels <= 0) {
    return Status::InvalidArgument(file + ": patch_size, temporal_patch_size, merge_size, fps, min_frames ≤ "
                                   "max_frames and size.longest_edge must be positive");
  }
  return c;
}

Result<VideoPreprocessorConfig> VideoPreprocessorConfig::FromFile(const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return FromJson(text, path.string());
}

}  // namespace warden::engine
