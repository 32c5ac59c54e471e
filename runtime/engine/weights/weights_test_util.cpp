#include "runtime/engine/weights/weights_test_util.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/engine/weights/safetensors.h"
#include "tests/support/test_support.h"

namespace warden::engine::testing {

std::string RawSafetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string BuildSafetensors(const std::vector<StTensor>& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  std::string data;
  for (const auto& t : tensors) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  std::string header = h.dump();
  while (header.size() % 8 != 0) header += ' ';
  return RawSafetensors(header, data);
}

void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  REQUIRE(f.good());
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void CopyFolder(const std::filesystem::path& src, const std::filesystem::path& dst) {
  std::filesystem::create_directories(dst);
  for (const auto& e : std::filesystem::directory_iterator(src)) {
    if (!e.is_regular_file()) continue;
    auto to = dst / e.path().filename();
    std::filesystem::copy_file(e.path(), to, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(to, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  }
}

std::vector<StTensor> ReadAllTensors(const std::filesystem::path& path) {
  auto f = SafetensorsFile::Open(path);
  REQUIRE(f.ok());
  std::vector<StTensor> out;
  for (const auto& t : f->tensors()) {
    out.push_back({t.name, std::string(DTypeName(t.dtype)), t.shape,
                   std::string(reinterpret_cast<const char*>(t.data), t.size_bytes)});
  }
  return out;
}

void RewriteModelSafetensors(const std::filesystem::path& dir, const std::function<bool(StTensor&)>& edit,
                             const std::vector<StTensor>& extra) {
  auto tensors = ReadAllTensors(dir / "model.safetensors");
  std::vector<StTensor> kept;
  for (auto& t : tensors)
    if (edit(t)) kept.push_back(std::move(t));
  for (const auto& t : extra) kept.push_back(t);
  WriteBytes(dir / "model.safetensors", BuildSafetensors(kept, {{"format", "pt"}}));
}

void ShardModel(const std::filesystem::path& dir, int shards) {
  auto tensors = ReadAllTensors(dir / "model.safetensors");
  std::filesystem::remove(dir / "model.safetensors");
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  const size_t per = (tensors.size() + static_cast<size_t>(shards) - 1) / static_cast<size_t>(shards);
  for (int s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shards);
    std::vector<StTensor> part;
    for (size_t i = static_cast<size_t>(s) * per; i < tensors.size() && i < static_cast<size_t>(s + 1) * per; ++i) {
      part.push_back(tensors[i]);
      index["weight_map"][tensors[i].name] = name;
    }
    WriteBytes(dir / name, BuildSafetensors(part));
  }
  WriteBytes(dir / "model.safetensors.index.json", index.dump(2));
}

std::filesystem::path Fixture(const std::string& relative) {
  return warden::testing::SharedPath("fixtures/" + relative);
}

std::string F32Bytes(const std::vector<float>& values) {
  std::string s(values.size() * 4, '\0');
  if (!values.empty()) std::memcpy(s.data(), values.data(), s.size());
  return s;
}

}  // namespace warden::engine::testing
