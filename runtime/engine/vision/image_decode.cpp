// Image decoding through stb_image with JPEG EXIF orientation (model.md §4.1 input; see media_decode.h).
#include <stb_image.h>

#include <cstring>
#include <memory>

#include "runtime/base/file_util.h"
#include "runtime/engine/vision/media_decode.h"

namespace warden::engine {
namespace {

uint16_t Read16(const uint8_t* p, bool little) {
  return little ? static_cast<uint16_t>(p[0] | (p[1] << 8)) : static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t Read32(const uint8_t* p, bool little) {
  return little ? (uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24))
                : ((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}

// Orientation tag of a TIFF block (the EXIF payload after "Exif\0\0"), or 1.
int TiffOrientation(const uint8_t* t, size_t n) {
  if (n < 8) return 1;
  bool little;
  if (t[0] == 'I' && t[1] == 'I') little = true;
  else if (t[0] == 'M' && t[1] == 'M') little = false;
  else return 1;
  const uint32_t ifd = Read32(t + 4, little);
  if (ifd > n || n - ifd < 2) return 1;
  const uint16_t count = Read16(t + ifd, little);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + size_t{12} * i;
    if (e + 12 > n) break;
    if (Read16(t + e, little) == 0x0112) {  // Orientation, SHORT
      const int v = Read16(t + e + 8, little);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

}  // namespace

int JpegExifOrientation(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return 1;
  size_t i = 2;
  while (i + 4 <= n && p[i] == 0xFF) {
    const uint8_t marker = p[i + 1];
    if (marker == 0xDA || marker == 0xD9) break;  // image data starts: no EXIF before it
    const size_t len = (size_t{p[i + 2]} << 8) | p[i + 3];
    if (len < 2 || i + 2 + len > n) break;
    if (marker == 0xE1 && len >= 8 && std::memcmp(p + i + 4, "Exif\0\0", 6) == 0) {
      return TiffOrientation(p + i + 10, len - 8);
    }
    i += 2 + len;
  }
  return 1;
}

RgbImage ApplyExifOrientation(const RgbImage& in, int o) {
  if (o <= 1 || o > 8) return in;
  const int64_t W = in.width, H = in.height;
  const bool swap = o >= 5;
  RgbImage out;
  out.width = swap ? H : W;
  out.height = swap ? W : H;
  out.pixels.resize(in.pixels.size());
  for (int64_t y = 0; y < out.height; ++y) {
    for (int64_t x = 0; x < out.width; ++x) {
      int64_t sx = x, sy = y;  // the source pixel shown at (x, y)
      switch (o) {
        case 2: sx = W - 1 - x; break;
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;
        case 4: sy = H - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = H - 1 - x; break;
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;
        case 8: sx = W - 1 - y; sy = x; break;
        default: break;
      }
      std::memcpy(&out.pixels[static_cast<size_t>((y * out.width + x) * 3)],
                  &in.pixels[static_cast<size_t>((sy * W + sx) * 3)], 3);
    }
  }
  return out;
}

Result<RgbImage> DecodeImageBytes(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  if (bytes.empty()) return Status::InvalidArgument(name + ": the file is empty; attach a PNG, JPEG, BMP or GIF");
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::InvalidArgument(name + ": the file is larger than 2 GiB; attach a smaller image");
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, comp = 0;
  if (stbi_info_from_memory(data, len, &w, &h, &comp) == 0) {
    return Status::InvalidArgument(name + ": not a readable image (" + stbi_failure_reason() +
                                   "); supported: PNG, JPEG, BMP, GIF (first frame), TGA, PSD, HDR, PNM");
  }
  if (w <= 0 || h <= 0) {
    return Status::InvalidArgument(name + ": the image has zero size (" + std::to_string(w) + "×" +
                                   std::to_string(h) + ")");
  }
  if (static_cast<int64_t>(w) * h > limits.max_pixels) {
    return Status::InvalidArgument(name + ": " + std::to_string(w) + "×" + std::to_string(h) +
                                   " pixels exceed the decode limit of " + std::to_string(limits.max_pixels) +
                                   " pixels; downscale the image first");
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, len, &w, &h, &comp, 3),
                                                    stbi_image_free);
  if (pixels == nullptr) {
    return Status::InvalidArgument(name + ": the image is corrupt or truncated (" + stbi_failure_reason() + ")");
  }
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(pixels.get(), pixels.get() + static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  return ApplyExifOrientation(img, JpegExifOrientation(bytes));
}

Result<RgbImage> DecodeImageFile(const std::filesystem::path& path, const DecodeLimits& limits) {
  WARDEN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return DecodeImageBytes(bytes, path.string(), limits);
}

}  // namespace warden::engine
