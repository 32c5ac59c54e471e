#include "runtime/engine/weights/safetensors_writer.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/base/file_util.h"

namespace warden::engine {

Result<std::string> EncodeSafetensors(const std::vector<TensorToWrite>& tensors,
                                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  size_t offset = 0;
  for (const auto& t : tensors) {
    if (!names.insert(t.name).second) return Status::InvalidArgument("tensor name repeats: " + t.name);
    int64_t elements = 1;
    for (int64_t d : t.shape) elements *= d;
    const size_t expect = static_cast<size_t>(elements) * DTypeSize(t.dtype);
    if (t.bytes.size() != expect) {
      return Status::InvalidArgument("tensor " + t.name + " " + ShapeToString(t.shape) + " " +
                                     std::string(DTypeName(t.dtype)) + " needs " + std::to_string(expect) +
                                     " bytes, got " + std::to_string(t.bytes.size()));
    }
    header[t.name] = {{"dtype", std::string(DTypeName(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += json;
  out.reserve(out.size() + offset);
  for (const auto& t : tensors) out += t.bytes;
  return out;
}

Status WriteSafetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  WARDEN_ASSIGN_OR_RETURN(std::string bytes, EncodeSafetensors(tensors, metadata));
  return WriteFileAtomic(path, bytes);
}

std::string BytesOf(const std::vector<float>& v) {
  std::string s(v.size() * sizeof(float), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string BytesOf(const std::vector<int32_t>& v) {
  std::string s(v.size() * sizeof(int32_t), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

}  // namespace warden::engine
