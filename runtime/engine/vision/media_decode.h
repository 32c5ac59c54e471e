// Decoding user media into RGB8 frames for preprocessing (model.md §4.1, §4.5): images through stb_image (PNG,
// JPEG, BMP, GIF first frame, and the other formats stb reads) with the JPEG EXIF orientation applied as
// transformers' loader does (PIL exif_transpose); videos through FFmpeg's libraries, decoding only the frames the
// video processor samples (fps and frame limits of VideoPreprocessorConfig) with their timestamps.
//
// Every error names the file and says what to do. Decoded size is bounded before any pixel is allocated.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/vision/preprocess.h"

namespace warden::engine {

struct DecodeLimits {
  // Largest picture (or video frame) decoded, in pixels; larger ones are refused before decoding (each pixel
  // costs 3 bytes while decoding; preprocessing then downscales to max_pixels). Default 128 Mpx ≈ 400 MB.
  int64_t max_pixels = int64_t{1} << 27;
};

// InvalidArgument for unsupported or corrupt data and zero or oversized dimensions; IoError when unreadable.
Result<RgbImage> DecodeImageFile(const std::filesystem::path& path, const DecodeLimits& limits = {});
// `name` is used in errors.
Result<RgbImage> DecodeImageBytes(std::string_view bytes, const std::string& name, const DecodeLimits& limits = {});

struct DecodedVideo {
  std::vector<RgbImage> frames;  // the sampled frames, in order
  std::vector<double> times;     // seconds: frame index / video fps (as the processor)
  std::vector<int64_t> indices;  // which decoded frames were kept
  int64_t total_frames = 0;
  double fps = 0;
};

// Decodes the frames SampleFrameIndices picks. InvalidArgument when the file has no video stream or no decodable
// frame; IoError when it cannot be opened.
Result<DecodedVideo> DecodeVideoFile(const std::filesystem::path& path, const VideoPreprocessorConfig& config,
                                     const DecodeLimits& limits = {});

// Applies an EXIF orientation (1–8) to a picture (exposed for tests).
RgbImage ApplyExifOrientation(const RgbImage& in, int orientation);
// The EXIF orientation of a JPEG stream, 1 when absent or unreadable.
int JpegExifOrientation(std::string_view bytes);

}  // namespace warden::engine
