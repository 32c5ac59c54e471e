// NVFP4 / FP8 / float weight decoding (layouts documented in dequant.h).
#include "runtime/engine/weights/dequant.h"

#include <array>
#include <cstring>

namespace warden::engine {

namespace {
constexpr float kE2M1[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
constexpr float kE2M1Signed[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                   -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

const std::array<float, 256>& E4M3Table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[static_cast<size_t>(i)] = F8E4M3ToFloat(static_cast<uint8_t>(i));
    return t;
  }();
  return table;
}

float ReadF32(const TensorView& t) {
  float v;
  std::memcpy(&v, t.data, 4);
  return v;
}
}  // namespace

float E2M1ToFloat(uint8_t code) {
  const float m = kE2M1[code & 7u];
  return (code & 8u) ? -m : m;
}

Status DequantizeRows(const ResolvedLinear& linear, int64_t row_begin, int64_t row_end, std::vector<float>* out) {
  const int64_t rows = linear.spec.out_features, cols = linear.spec.in_features;
  if (row_begin < 0 || row_end < row_begin || row_end > rows) {
    return Status::InvalidArgument("rows [" + std::to_string(row_begin) + ", " + std::to_string(row_end) +
                                   ") out of range for \"" + linear.spec.module + "\" with " + std::to_string(rows) +
                                   " rows");
  }
  if (linear.weight == nullptr) return Status::Internal("Linear \"" + linear.spec.module + "\" has no weight view");
  const size_t n = static_cast<size_t>((row_end - row_begin) * cols);
  out->resize(n);
  float* dst = out->data();
  // The forward pass calls this per row, so each format gets a tight loop over a 256-entry table.
  const auto& e4m3 = E4M3Table();
  switch (linear.format) {
    case LinearFormat::kBF16: {
      // INVARIANT: ResolveLinears checked the shape [rows, cols]; the byte range stays inside the view.
      const TensorView& w = *linear.weight;
      const std::byte* src = w.data + static_cast<size_t>(row_begin * cols) * DTypeSize(w.dtype);
      if (w.dtype == DType::kF32) {
        std::memcpy(dst, src, n * 4);
      } else if (w.dtype == DType::kBF16) {
        // Byte-wise little-endian assembly: alignment-free and vectorises (per-element memcpy does not).
        const auto* b = reinterpret_cast<const uint8_t*>(src);
        for (size_t i = 0; i < n; ++i) {
          const uint32_t bits = (static_cast<uint32_t>(b[2 * i]) | static_cast<uint32_t>(b[2 * i + 1]) << 8) << 16;
          std::memcpy(dst + i, &bits, 4);
        }
      } else if (w.dtype == DType::kF16) {
        for (size_t i = 0; i < n; ++i) {
          uint16_t b;
          std::memcpy(&b, src + 2 * i, 2);
          dst[i] = F16ToFloat(b);
        }
      } else {
        for (size_t i = 0; i < n; ++i)
          dst[i] = static_cast<float>(ElementAsDouble(w, row_begin * cols + static_cast<int64_t>(i)));
      }
      return Status::Ok();
    }
    case LinearFormat::kFP8: {
      const float scale = ReadF32(*linear.weight_scale);
      const auto* w = reinterpret_cast<const uint8_t*>(linear.weight->data) + row_begin * cols;
      for (size_t i = 0; i < n; ++i) dst[i] = e4m3[w[i]] * scale;
      return Status::Ok();
    }
    case LinearFormat::kNVFP4:
    case LinearFormat::kW4A16NVFP4: {
      const float global = ReadF32(*linear.weight_scale_2);
      const int64_t packed_cols = cols / 2, blocks = cols / 16;
      const auto* w = reinterpret_cast<const uint8_t*>(linear.weight->data);
      const auto* s = reinterpret_cast<const uint8_t*>(linear.weight_scale->data);
      for (int64_t r = row_begin; r < row_end; ++r) {
        float* row = dst + (r - row_begin) * cols;
        const uint8_t* wr = w + r * packed_cols;
        for (int64_t b = 0; b < blocks; ++b) {
          const float block_scale = e4m3[s[r * blocks + b]];
          for (int64_t j = 0; j < 8; ++j) {
            const uint8_t byte = wr[b * 8 + j];
            row[b * 16 + 2 * j] = (kE2M1Signed[byte & 0x0Fu] * block_scale) * global;
            row[b * 16 + 2 * j + 1] = (kE2M1Signed[byte >> 4] * block_scale) * global;
          }
        }
      }
      return Status::Ok();
    }
  }
  return Status::Internal("unknown Linear format");
}

Result<std::vector<float>> DequantizeWeight(const ResolvedLinear& linear) {
  std::vector<float> out;
  WARDEN_RETURN_IF_ERROR(DequantizeRows(linear, 0, linear.spec.out_features, &out));
  return out;
}

}  // namespace warden::engine
