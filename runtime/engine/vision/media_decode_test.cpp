// Image and video decoding (media_decode.h): every format stb reads that users attach, JPEG EXIF orientation,
// tiny and extreme sizes through preprocessing, and corrupt, empty and unsupported files failing with the file name.
// Test media are made here: PNG/JPEG with stb_image_write, BMP/GIF bytes by hand, videos as YUV4MPEG2.
#include "runtime/engine/vision/media_decode.h"

#include <stb_image_write.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/test_support.h"

using namespace warden::engine;
using warden::testing::TempDir;

namespace {

RgbImage Gradient(int64_t w, int64_t h) {
  RgbImage img;
  img.width = w;
  img.height = h;
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      img.pixels.push_back(static_cast<uint8_t>((x * 255) / std::max<int64_t>(w - 1, 1)));
      img.pixels.push_back(static_cast<uint8_t>((y * 255) / std::max<int64_t>(h - 1, 1)));
      img.pixels.push_back(static_cast<uint8_t>((x + y) % 256));
    }
  }
  return img;
}

void AppendBytes(void* ctx, void* data, int size) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::string Png(const RgbImage& img) {
  std::string out;
  REQUIRE(stbi_write_png_to_func(AppendBytes, &out, static_cast<int>(img.width), static_cast<int>(img.height), 3,
                                 img.pixels.data(), static_cast<int>(img.width * 3)) != 0);
  return out;
}

std::string Jpeg(const RgbImage& img) {
  std::string out;
  REQUIRE(stbi_write_jpg_to_func(AppendBytes, &out, static_cast<int>(img.width), static_cast<int>(img.height), 3,
                                 img.pixels.data(), 100) != 0);
  return out;
}

// A 24-bit bottom-up BMP.
std::string Bmp(const RgbImage& img) {
  const uint32_t row = static_cast<uint32_t>((img.width * 3 + 3) / 4 * 4);
  const uint32_t data = row * static_cast<uint32_t>(img.height), size = 54 + data;
  std::string b(54, '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, size);
  put32(10, 54);
  put32(14, 40);
  put32(18, static_cast<uint32_t>(img.width));
  put32(22, static_cast<uint32_t>(img.height));
  b[26] = 1;
  b[28] = 24;
  put32(34, data);
  for (int64_t y = img.height - 1; y >= 0; --y) {
    std::string r(row, '\0');
    for (int64_t x = 0; x < img.width; ++x) {
      const uint8_t* p = &img.pixels[static_cast<size_t>((y * img.width + x) * 3)];
      r[static_cast<size_t>(x * 3)] = static_cast<char>(p[2]);
      r[static_cast<size_t>(x * 3 + 1)] = static_cast<char>(p[1]);
      r[static_cast<size_t>(x * 3 + 2)] = static_cast<char>(p[0]);
    }
    b += r;
  }
  return b;
}

// Inserts an APP1 EXIF segment (big-endian TIFF, one IFD entry: Orientation) after the JPEG SOI marker.
std::string WithExifOrientation(const std::string& jpeg, int orientation) {
  std::string tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
                      0, static_cast<char>(orientation), 0, 0, 0, 0, 0, 0};
  std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t len = payload.size() + 2;
  std::string seg = {static_cast<char>(0xFF), static_cast<char>(0xE1), static_cast<char>(len >> 8),
                     static_cast<char>(len & 0xFF)};
  return jpeg.substr(0, 2) + seg + payload + jpeg.substr(2);
}

void WriteFile(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// A YUV4MPEG2 clip (raw 4:2:0 frames FFmpeg demuxes natively): frame k is a flat luma of 20·k.
void WriteY4m(const std::filesystem::path& p, int w, int h, int frames, int fps) {
  std::string s = "YUV4MPEG2 W" + std::to_string(w) + " H" + std::to_string(h) + " F" + std::to_string(fps) +
                  ":1 Ip A1:1 C420jpeg\n";
  for (int k = 0; k < frames; ++k) {
    s += "FRAME\n";
    s += std::string(static_cast<size_t>(w * h), static_cast<char>(20 * k));
    s += std::string(static_cast<size_t>(w * h / 2), static_cast<char>(128));
  }
  WriteFile(p, s);
}

}  // namespace

TEST_CASE("decode: PNG, BMP and GIF give the exact pixels, JPEG close", "[vision][decode]") {
  const RgbImage img = Gradient(37, 21);
  auto png = DecodeImageBytes(Png(img), "a.png");
  REQUIRE(png.ok());
  CHECK(png->width == 37);
  CHECK(png->height == 21);
  CHECK(png->pixels == img.pixels);
  auto bmp = DecodeImageBytes(Bmp(img), "a.bmp");
  INFO(bmp.status().ToString());
  REQUIRE(bmp.ok());
  CHECK(bmp->pixels == img.pixels);
  auto jpg = DecodeImageBytes(Jpeg(img), "a.jpg");
  REQUIRE(jpg.ok());
  REQUIRE(jpg->pixels.size() == img.pixels.size());
  int worst = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) worst = std::max(worst, std::abs(jpg->pixels[i] - img.pixels[i]));
  CHECK(worst < 40);
  // 1×1 GIF89a, global palette {red, black}, no transparency, one LZW-coded pixel of index 0.
  const unsigned char gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF,
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2C,
                               0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00,
                               0x3B};
  auto g = DecodeImageBytes(std::string(reinterpret_cast<const char*>(gif), sizeof gif), "a.gif");
  INFO(g.status().ToString());
  REQUIRE(g.ok());
  CHECK(g->pixels == std::vector<uint8_t>{255, 0, 0});
}

TEST_CASE("decode: JPEG EXIF orientation is applied", "[vision][decode]") {
  // A 2×1 picture: left white, right black; orientation 6 shows it rotated 90° clockwise (1×2, white on top).
  RgbImage img;
  img.width = 16;
  img.height = 8;
  for (int64_t y = 0; y < 8; ++y) {
    for (int64_t x = 0; x < 16; ++x) {
      for (int c = 0; c < 3; ++c) img.pixels.push_back(x < 8 ? 255 : 0);
    }
  }
  const std::string jpg = Jpeg(img);
  CHECK(JpegExifOrientation(jpg) == 1);
  const std::string rotated = WithExifOrientation(jpg, 6);
  CHECK(JpegExifOrientation(rotated) == 6);
  auto d = DecodeImageBytes(rotated, "r.jpg");
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  CHECK(d->width == 8);
  CHECK(d->height == 16);
  CHECK(d->pixels[0] > 200);                                  // top row: what was the left half (white)
  CHECK(d->pixels[static_cast<size_t>((15 * 8) * 3)] < 60);   // bottom row: the right half (black)
  // Every orientation keeps the pixel count and swaps sides for 5–8.
  for (int o = 1; o <= 8; ++o) {
    const RgbImage t = ApplyExifOrientation(img, o);
    CHECK(t.pixels.size() == img.pixels.size());
    CHECK(t.width == (o >= 5 ? 8 : 16));
  }
  CHECK(ApplyExifOrientation(img, 3).pixels[0] == 0);  // 180°: top-left is the old bottom-right (black)
}

TEST_CASE("decode: 1×1 and 10,000×10 images through preprocessing", "[vision][decode]") {
  PreprocessorConfig c;
  c.max_pixels = 262144;
  auto one = DecodeImageBytes(Png(Gradient(1, 1)), "one.png");
  REQUIRE(one.ok());
  auto p = PreprocessImage(*one, c);
  REQUIRE(p.ok());
  CHECK(p->grid.t == 1);
  CHECK(p->grid.h == 16);  // upscaled to the 256×256 minimum
  CHECK(p->grid.w == 16);
  auto wide = DecodeImageBytes(Png(Gradient(10000, 10)), "wide.png");
  REQUIRE(wide.ok());
  auto q = PreprocessImage(*wide, c);
  REQUIRE(!q.ok());  // aspect ratio 1000: the processor refuses it, and so do we, saying why
  CHECK(q.status().message().find("aspect ratio") != std::string::npos);
  // A large picture is downscaled within max_pixels.
  auto big = PreprocessImage(Gradient(3000, 2000), c);
  REQUIRE(big.ok());
  CHECK(big->resized_width * big->resized_height <= 262144);
  CHECK(big->grid.h * 16 == big->resized_height);
}

TEST_CASE("decode: corrupt, empty, unsupported and oversized images fail naming the file", "[vision][decode]") {
  auto empty = DecodeImageBytes("", "empty.png");
  REQUIRE(!empty.ok());
  CHECK(empty.status().message().find("empty.png") != std::string::npos);
  auto text = DecodeImageBytes("hello, this is not an image", "notes.txt");
  REQUIRE(!text.ok());
  CHECK(text.status().message().find("notes.txt") != std::string::npos);
  std::string png = Png(Gradient(64, 64));
  auto truncated = DecodeImageBytes(png.substr(0, png.size() / 2), "cut.png");
  REQUIRE(!truncated.ok());
  CHECK(truncated.status().message().find("cut.png") != std::string::npos);
  std::string flipped = png;
  for (size_t i = 60; i < flipped.size(); i += 7) flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
  CHECK(!DecodeImageBytes(flipped, "bad.png").ok());
  DecodeLimits tiny;
  tiny.max_pixels = 100;
  auto over = DecodeImageBytes(png, "big.png", tiny);
  REQUIRE(!over.ok());
  CHECK(over.status().message().find("decode limit") != std::string::npos);
  auto missing = DecodeImageFile("/nonexistent/x.png");
  CHECK(!missing.ok());
}

TEST_CASE("decode: a video is sampled at the processor fps with timestamps", "[vision][decode][video]") {
  TempDir tmp;
  const auto path = tmp.path() / "clip.y4m";
  WriteY4m(path, 64, 48, 10, 4);  // 2.5 s at 4 fps
  VideoPreprocessorConfig c;      // fps 2 → ⌊10 / 4 · 2⌋ = 5 frames
  auto v = DecodeVideoFile(path, c);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  CHECK(v->total_frames == 10);
  CHECK(v->fps == Approx(4.0));
  REQUIRE(v->frames.size() == 5);
  CHECK(v->indices == std::vector<int64_t>{0, 2, 4, 7, 9});  // round(linspace(0, 9, 5)), ties to even
  CHECK(v->times[3] == Approx(7.0 / 4.0));
  CHECK(v->frames[3].pixels[0] > v->frames[1].pixels[0]);  // later frames are brighter
  auto p = PreprocessVideo(v->frames, v->times, c);
  REQUIRE(p.ok());
  CHECK(p->grid.t == 3);  // 5 frames padded to 6 with the last one
  REQUIRE(p->timestamps.size() == 3);
  CHECK(p->timestamps[2] == Approx(9.0 / 4.0));  // the padded group: both frames are frame 9
  CHECK(p->grid.patches() * 1536 == static_cast<int64_t>(p->pixel_values.size()));
}

TEST_CASE("decode: corrupt, empty and frameless videos fail naming the file", "[vision][decode][video]") {
  TempDir tmp;
  VideoPreprocessorConfig c;
  const auto empty = tmp.path() / "empty.mp4";
  WriteFile(empty, "");
  auto e = DecodeVideoFile(empty, c);
  REQUIRE(!e.ok());
  CHECK(e.status().message().find("empty.mp4") != std::string::npos);
  const auto junk = tmp.path() / "junk.mp4";
  WriteFile(junk, std::string(4096, 'x'));
  auto j = DecodeVideoFile(junk, c);
  REQUIRE(!j.ok());
  CHECK(j.status().message().find("junk.mp4") != std::string::npos);
  const auto header_only = tmp.path() / "noframes.y4m";
  WriteFile(header_only, "YUV4MPEG2 W64 H48 F4:1 Ip A1:1 C420jpeg\n");
  auto h = DecodeVideoFile(header_only, c);
  REQUIRE(!h.ok());
  CHECK(h.status().message().find("noframes.y4m") != std::string::npos);
  const auto image = tmp.path() / "still.png";
  WriteFile(image, Png(Gradient(8, 8)));  // a still image is not refused by FFmpeg: it is a one-frame video
  auto s = DecodeVideoFile(image, c);
  if (s.ok()) CHECK(s->frames.size() == 1);
}
