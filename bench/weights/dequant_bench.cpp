// Weight decoding throughput: DequantizeRows on a 4096 × 4096 Linear in each storage format, decoded one row at a
// time as the CPU forward pass does. Peer: memcpy of the same float output (the memory-bandwidth bound for
// producing it), measured in the same run. Also safetensors open + validation of a many-tensor header.
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/engine/weights/dequant.h"
#include "runtime/engine/weights/safetensors.h"

using namespace warden::engine;

namespace {

template <typename F>
double BestSeconds(F&& f, int reps = 5) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct Row {
  std::string workload;
  double ours_ms, peer_ms;
};

}  // namespace

int main() {
  constexpr int64_t kOut = 4096, kIn = 4096;
  std::mt19937 rng(1);
  std::vector<uint8_t> packed(kOut * kIn / 2), scales(kOut * kIn / 16), fp8(kOut * kIn);
  std::vector<uint16_t> bf16(kOut * kIn);
  for (auto& b : packed) b = static_cast<uint8_t>(rng());
  for (auto& b : scales) b = static_cast<uint8_t>(0x20 + rng() % 0x40);
  for (auto& b : fp8) b = static_cast<uint8_t>(rng() % 0x7E);
  for (auto& b : bf16) b = static_cast<uint16_t>(0x3C00 + rng() % 0x400);
  float s2 = 1e-3f, sw = 2e-3f;

  auto view = [](const char* name, DType dt, std::vector<int64_t> shape, const void* p, size_t n) {
    TensorView t;
    t.name = name;
    t.dtype = dt;
    t.shape = std::move(shape);
    t.data = static_cast<const std::byte*>(p);
    t.size_bytes = n;
    return t;
  };
  TensorView w4 = view("w", DType::kU8, {kOut, kIn / 2}, packed.data(), packed.size());
  TensorView ws4 = view("ws", DType::kF8E4M3, {kOut, kIn / 16}, scales.data(), scales.size());
  TensorView ws2 = view("ws2", DType::kF32, {}, &s2, 4);
  TensorView w8 = view("w8", DType::kF8E4M3, {kOut, kIn}, fp8.data(), fp8.size());
  TensorView ws8 = view("ws8", DType::kF32, {}, &sw, 4);
  TensorView wb = view("wb", DType::kBF16, {kOut, kIn}, bf16.data(), bf16.size() * 2);

  ResolvedLinear nv, f8, b16;
  for (ResolvedLinear* l : {&nv, &f8, &b16}) l->spec = {"bench", kOut, kIn, false, ModelPart::kText};
  nv.format = LinearFormat::kW4A16NVFP4;
  nv.weight = &w4;
  nv.weight_scale = &ws4;
  nv.weight_scale_2 = &ws2;
  f8.format = LinearFormat::kFP8;
  f8.weight = &w8;
  f8.weight_scale = &ws8;
  b16.format = LinearFormat::kBF16;
  b16.weight = &wb;

  std::vector<float> row, src(kIn, 1.0f), dst(kIn);
  volatile float sink = 0;
  auto peer = BestSeconds([&] {
    for (int64_t r = 0; r < kOut; ++r) {
      std::memcpy(dst.data(), src.data(), kIn * 4);
      sink = sink + dst[static_cast<size_t>(r % kIn)];
    }
  });
  std::vector<Row> rows;
  for (auto [name, linear] : {std::pair{"NVFP4 4096x4096 by row", &nv}, {"FP8 4096x4096 by row", &f8},
                              {"BF16 4096x4096 by row", &b16}}) {
    const ResolvedLinear* lin = linear;  // clang 14 cannot capture structured bindings
    double t = BestSeconds([&] {
      for (int64_t r = 0; r < kOut; ++r) {
        (void)DequantizeRows(*lin, r, r + 1, &row);
        sink = sink + row[0];
      }
    });
    rows.push_back({name, t * 1e3, peer * 1e3});
  }

  // Safetensors: a header with 4096 tensors (a 64-layer checkpoint has ~1,100 per shard set).
  std::string header = "{";
  size_t off = 0;
  for (int i = 0; i < 4096; ++i) {
    header += (i ? "," : "") + std::string("\"model.layers.") + std::to_string(i) +
              ".w\":{\"dtype\":\"BF16\",\"shape\":[8,8],\"data_offsets\":[" + std::to_string(off) + "," +
              std::to_string(off + 128) + "]}";
    off += 128;
  }
  header += "}";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  file += header + std::string(off, '\0');
  double open_t = BestSeconds([&] {
    auto f = SafetensorsFile::FromBytes(file, "bench");
    sink = sink + static_cast<float>(f.ok());
  });
  double copy_t = BestSeconds([&] {
    std::string copy = file;
    sink = sink + static_cast<float>(copy.size());
  });
  rows.push_back({"safetensors parse+validate, 4096 tensors", open_t * 1e3, copy_t * 1e3});

  utsname u{};
  uname(&u);
  std::printf("%-42s %10s %10s %8s  machine\n", "workload", "ours ms", "peer ms", "ratio");
  for (const auto& r : rows) {
    std::printf("%-42s %10.2f %10.2f %8.2f  %s %s\n", r.workload.c_str(), r.ours_ms, r.peer_ms, r.ours_ms / r.peer_ms,
                u.machine, u.release);
  }
  std::printf("peer: memcpy of the same float rows (dequant), copying the file bytes (safetensors)\n");
  return 0;
}
