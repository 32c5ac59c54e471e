// libFuzzer target: arbitrary bytes as a safetensors file through the parser/validator. It must never crash or
// read outside the buffer; every tensor it accepts is read end to end (ASan flags any byte outside the buffer).
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/engine/weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = warden::engine::SafetensorsFile::FromBytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!file.ok()) return 0;
  volatile double sink = 0;
  for (const auto& t : file->tensors()) {
    if (file->Find(t.name) != &t) __builtin_trap();
    uint8_t x = 0;
    for (size_t i = 0; i < t.size_bytes; ++i) x ^= static_cast<uint8_t>(t.data[i]);
    sink = sink + x;
    if (t.num_elements() <= 4096) {
      for (float f : warden::engine::ToFloat(t)) sink = sink + f;
    }
  }
  (void)sink;
  return 0;
}
