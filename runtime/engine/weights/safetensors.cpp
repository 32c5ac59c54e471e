// Safetensors parsing and validation (see safetensors.h). The format: 8-byte little-endian header length N, N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data section;
// offsets are relative to the data section. We require what the reference implementation requires: ranges that
// tile the data section exactly (no holes, no overlaps, nothing after the last tensor).
#include "runtime/engine/weights/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "runtime/base/file_util.h"

namespace warden::engine {

namespace detail {

// Owns the bytes of one file: either an mmap'ed region or a heap buffer. Never moves its bytes.
class Mapping {
 public:
  static Result<std::unique_ptr<Mapping>> Map(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError("cannot open " + path.string(), errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      ::close(fd);
      return Status::IoError("cannot stat " + path.string(), e);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path.string() + ": not a regular file");
    }
    auto m = std::unique_ptr<Mapping>(new Mapping());
    m->size_ = static_cast<size_t>(st.st_size);
    if (m->size_ > 0) {
      void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        int e = errno;
        ::close(fd);
        return Status::IoError("cannot mmap " + path.string(), e);
      }
      m->mapped_ = p;
      m->data_ = static_cast<const std::byte*>(p);
    }
    ::close(fd);  // the mapping keeps the file referenced
    return m;
  }
  static std::unique_ptr<Mapping> Own(std::string bytes) {
    auto m = std::unique_ptr<Mapping>(new Mapping());
    m->owned_ = std::move(bytes);
    m->size_ = m->owned_.size();
    m->data_ = reinterpret_cast<const std::byte*>(m->owned_.data());
    return m;
  }
  ~Mapping() {
    if (mapped_ != nullptr) ::munmap(mapped_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  Mapping() = default;
  void* mapped_ = nullptr;
  std::string owned_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace detail

namespace {

// The reference implementation refuses headers above 100 MB; a real 27B index header is ~100 KB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kBF16, "BF16", 2}, {DType::kF16, "F16", 2},   {DType::kF32, "F32", 4},   {DType::kF64, "F64", 8},
    {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kU8, "U8", 1}, {DType::kI8, "I8", 1},   {DType::kI16, "I16", 2},
    {DType::kI32, "I32", 4}, {DType::kI64, "I64", 8},   {DType::kBool, "BOOL", 1},
};

std::string JsonPreview(const nlohmann::json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Records the keys of the top-level object and the first repeated one; builds nothing else.
struct TopLevelKeyScan : nlohmann::json_sax<nlohmann::json> {
  int depth = 0;
  std::unordered_set<std::string> seen;
  std::string duplicate;
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth;
    return true;
  }
  bool key(string_t& k) override {
    if (depth == 1 && !seen.insert(k).second && duplicate.empty()) duplicate = k;
    return true;
  }
  bool end_object() override {
    --depth;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth;
    return true;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }
};

Status Bad(const std::string& label, const std::string& msg) {
  return Status::Corruption(label + ": " + msg);
}

Status BadTensor(const std::string& label, const std::string& name, const std::string& msg) {
  return Status::Corruption(label + ": tensor \"" + name + "\": " + msg);
}

// Reads a non-negative integer that fits in uint64; false otherwise.
bool ReadUnsigned(const nlohmann::json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "?";
}

size_t DTypeSize(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 1;
}

bool IsFloatDType(DType dtype) {
  return dtype == DType::kBF16 || dtype == DType::kF16 || dtype == DType::kF32 || dtype == DType::kF64;
}

Result<DType> ParseDType(std::string_view name) {
  for (const auto& d : kDTypes)
    if (d.name == name) return d.dtype;
  return Status::InvalidArgument("unknown dtype \"" + std::string(name) +
                                 "\" (expected BF16, F16, F32, F64, F8_E4M3, U8, I8, I16, I32, I64 or BOOL)");
}

int64_t TensorView::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // INVARIANT: validated at parse time not to overflow
  return n;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  s += "]";
  return s;
}

std::string TensorView::ShapeString() const { return ShapeToString(shape); }

SafetensorsFile::SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

size_t SafetensorsFile::file_size_bytes() const { return mapping_ ? mapping_->size() : 0; }

Result<SafetensorsFile> SafetensorsFile::Open(const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(auto mapping, detail::Mapping::Map(path));
  return Build(std::move(mapping), path.string());
}

Result<SafetensorsFile> SafetensorsFile::FromBytes(std::string bytes, std::string label) {
  return Build(detail::Mapping::Own(std::move(bytes)), std::move(label));
}

Result<SafetensorsFile> SafetensorsFile::Build(std::unique_ptr<detail::Mapping> mapping, std::string label) {
  const size_t file_size = mapping->size();
  const std::byte* base = mapping->data();
  if (file_size < 8) {
    return Bad(label, "file is " + std::to_string(file_size) +
                          " bytes, shorter than the 8-byte header length; the file is truncated or not safetensors");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(base[i]);
  if (header_len > kMaxHeaderBytes) {
    return Bad(label, "header length " + std::to_string(header_len) + " exceeds the " +
                          std::to_string(kMaxHeaderBytes) + "-byte limit; the file is corrupt or not safetensors");
  }
  if (header_len > file_size - 8) {
    return Bad(label, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                          std::to_string(file_size) + " bytes); the file is truncated");
  }
  const size_t data_begin = 8 + static_cast<size_t>(header_len);
  const size_t data_size = file_size - data_begin;
  std::string_view header_text(reinterpret_cast<const char*>(base + 8), static_cast<size_t>(header_len));

  // nlohmann keeps the last of duplicate keys silently, so a SAX pass finds them first. (Its callback parser
  // would too, but costs ~9x a plain parse on a 27B index-sized header; SAX + plain is ~1.3x.)
  TopLevelKeyScan scan;
  nlohmann::json header;
  try {
    if (!nlohmann::json::sax_parse(header_text, &scan)) {
      return Bad(label, "header is not valid JSON: " + scan.error);
    }
    if (!scan.duplicate.empty()) return BadTensor(label, scan.duplicate, "name appears twice in the header");
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    return Bad(label, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) return Bad(label, "header is not a JSON object");

  SafetensorsFile file;
  file.label_ = std::move(label);
  file.header_size_ = static_cast<size_t>(header_len);
  const std::string& lbl = file.label_;

  struct Range {
    uint64_t begin, end;
    size_t tensor;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return Bad(lbl, "__metadata__ is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) return Bad(lbl, "__metadata__ value \"" + m.key() + "\" is not a string");
        file.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (name.empty()) return Bad(lbl, "a tensor has an empty name");
    if (!v.is_object()) return BadTensor(lbl, name, "entry is not an object");
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) return BadTensor(lbl, name, "missing string field \"dtype\"");
    auto dtype = ParseDType(dt->get<std::string>());
    if (!dtype.ok()) return BadTensor(lbl, name, dtype.status().message());
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) return BadTensor(lbl, name, "missing array field \"shape\"");
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2)
      return BadTensor(lbl, name, "field \"data_offsets\" must be an array [begin, end]");
    TensorView t;
    t.name = name;
    t.dtype = *dtype;
    uint64_t elements = 1;
    for (const auto& d : *sh) {
      uint64_t dim = 0;
      if (!ReadUnsigned(d, &dim) || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return BadTensor(lbl, name, "shape entry " + JsonPreview(d) + " is not a non-negative integer");
      if (__builtin_mul_overflow(elements, dim, &elements) ||
          elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return BadTensor(lbl, name, "shape " + JsonPreview(*sh) + " overflows");
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t begin = 0, end = 0;
    if (!ReadUnsigned((*off)[0], &begin) || !ReadUnsigned((*off)[1], &end))
      return BadTensor(lbl, name, "data_offsets " + JsonPreview(*off) + " are not non-negative integers");
    if (end < begin) return BadTensor(lbl, name, "data_offsets " + JsonPreview(*off) + " end before they begin");
    uint64_t expected_bytes = 0;
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(DTypeSize(t.dtype)), &expected_bytes))
      return BadTensor(lbl, name, "shape " + JsonPreview(*sh) + " overflows");
    if (expected_bytes != end - begin) {
      return BadTensor(lbl, name, "shape " + t.ShapeString() + " of " + std::string(DTypeName(t.dtype)) + " needs " +
                                      std::to_string(expected_bytes) + " bytes but data_offsets [" +
                                      std::to_string(begin) + ", " + std::to_string(end) + "] span " +
                                      std::to_string(end - begin));
    }
    if (end > data_size) {
      return BadTensor(lbl, name, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                      "] run past the end of the data section (" + std::to_string(data_size) +
                                      " bytes); the file is truncated or the header is corrupt");
    }
    // INVARIANT: begin <= end <= data_size, so data..data+size_bytes lies inside the mapping.
    t.data = base + data_begin + begin;
    t.size_bytes = static_cast<size_t>(end - begin);
    ranges.push_back({begin, end, file.tensors_.size()});
    file.tensors_.push_back(std::move(t));
  }

  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  std::string prev_name;
  for (const Range& r : ranges) {
    const std::string& name = file.tensors_[r.tensor].name;
    if (r.begin < cursor) {
      return BadTensor(lbl, name, "bytes [" + std::to_string(r.begin) + ", " + std::to_string(r.end) +
                                      ") overlap tensor \"" + prev_name + "\" (which ends at " +
                                      std::to_string(cursor) + ")");
    }
    if (r.begin > cursor) {
      return BadTensor(lbl, name, "starts at byte " + std::to_string(r.begin) + " but the previous tensor" +
                                      (prev_name.empty() ? std::string() : " \"" + prev_name + "\"") +
                                      " ends at " + std::to_string(cursor) + ": the data section has a hole");
    }
    cursor = r.end;
    prev_name = name;
  }
  if (cursor != data_size) {
    return Bad(lbl, "tensors cover " + std::to_string(cursor) + " bytes of the " + std::to_string(data_size) +
                        "-byte data section" +
                        (prev_name.empty() ? std::string() : " (last tensor \"" + prev_name + "\")") +
                        "; trailing bytes mean a corrupt or mismatched header");
  }

  // Lay tensors out in file order so iteration is stable and reflects the file.
  std::vector<TensorView> ordered;
  ordered.reserve(file.tensors_.size());
  for (const Range& r : ranges) ordered.push_back(std::move(file.tensors_[r.tensor]));
  file.tensors_ = std::move(ordered);
  for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
  file.mapping_ = std::move(mapping);
  return file;
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

// ---------------------------------------------------------------------------------------------------------------

Checkpoint::Checkpoint() = default;
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

namespace {

bool IsPlainFileName(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos && s.find('\0') == std::string::npos;
}

}  // namespace

Result<Checkpoint> Checkpoint::Open(const std::filesystem::path& path, ProgressFn on_shard) {
  namespace fs = std::filesystem;
  std::error_code ec;
  Checkpoint ck;
  // weight_map: tensor -> shard file name, when read from an index.
  std::map<std::string, std::string> weight_map;
  fs::path index_path;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    index_path = path / "model.safetensors.index.json";
    if (fs::exists(index_path, ec)) {
      WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path));
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception& e) {
        return Status::Corruption(index_path.string() + ": not valid JSON: " + e.what());
      }
      if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        return Status::Corruption(index_path.string() + ": missing object field \"weight_map\"");
      std::set<std::string> shard_names;
      for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string())
          return Status::Corruption(index_path.string() + ": weight_map entry \"" + it.key() +
                                    "\" is not a file name string");
        std::string shard = it.value().get<std::string>();
        if (!IsPlainFileName(shard))
          return Status::Corruption(index_path.string() + ": weight_map entry \"" + it.key() + "\" names shard \"" +
                                    shard + "\", which is not a plain file name in the checkpoint folder");
        weight_map[it.key()] = shard;
        shard_names.insert(shard);
      }
      if (weight_map.empty()) return Status::Corruption(index_path.string() + ": weight_map is empty");
      for (const auto& s : shard_names) {
        fs::path p = path / s;
        if (!fs::is_regular_file(p, ec))
          return Status::NotFound(index_path.string() + ": shard \"" + s + "\" named by the weight_map (e.g. for \"" +
                                  std::find_if(weight_map.begin(), weight_map.end(),
                                               [&](const auto& kv) { return kv.second == s; })->first +
                                  "\") does not exist at " + p.string() + "; the download is incomplete");
        files.push_back(p);
      }
    } else if (fs::exists(path / "model.safetensors", ec)) {
      files.push_back(path / "model.safetensors");
    } else {
      for (const auto& e : fs::directory_iterator(path, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".safetensors") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty())
        return Status::NotFound(path.string() +
                                ": no model.safetensors.index.json, model.safetensors or *.safetensors file");
    }
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return Status::NotFound(path.string() + ": no such file or folder");
  }

  std::map<std::string, std::pair<uint32_t, const TensorView*>> all;
  ck.shards_.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    if (on_shard) on_shard(i, files.size(), files[i].filename().string());
    WARDEN_ASSIGN_OR_RETURN(auto f, SafetensorsFile::Open(files[i]));
    ck.shards_.push_back(std::move(f));
    ck.shard_paths_.push_back(files[i]);
  }
  for (uint32_t s = 0; s < ck.shards_.size(); ++s) {
    for (const TensorView& t : ck.shards_[s].tensors()) {
      auto [it, inserted] = all.emplace(t.name, std::make_pair(s, &t));
      if (!inserted) {
        return Status::Corruption("tensor \"" + t.name + "\" appears in both " + ck.shard_paths_[it->second.first].string() +
                                  " and " + ck.shard_paths_[s].string());
      }
      if (!weight_map.empty()) {
        auto w = weight_map.find(t.name);
        std::string shard_name = ck.shard_paths_[s].filename().string();
        if (w == weight_map.end())
          return Status::Corruption(ck.shard_paths_[s].string() + ": tensor \"" + t.name + "\" is not listed in " +
                                    index_path.string());
        if (w->second != shard_name)
          return Status::Corruption(index_path.string() + ": tensor \"" + t.name + "\" is mapped to \"" + w->second +
                                    "\" but is stored in " + ck.shard_paths_[s].string());
      }
    }
  }
  for (const auto& [name, shard] : weight_map) {
    if (!all.count(name))
      return Status::Corruption(index_path.string() + ": tensor \"" + name + "\" is mapped to shard \"" + shard +
                                "\" but that shard (" + (path / shard).string() + ") does not contain it");
  }
  ck.tensors_.reserve(all.size());
  for (const auto& [name, where] : all) {
    TensorView t = *where.second;
    t.shard = where.first;
    ck.index_.emplace(name, ck.tensors_.size());
    ck.tensors_.push_back(std::move(t));
  }
  return ck;
}

const TensorView* Checkpoint::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<TensorView> Checkpoint::Get(std::string_view name) const {
  const TensorView* t = Find(name);
  if (t == nullptr) return Status::NotFound("tensor \"" + std::string(name) + "\" is not in the checkpoint");
  return *t;
}

uint64_t Checkpoint::total_tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.size_bytes;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------

double ElementAsDouble(const TensorView& t, int64_t i) {
  assert(i >= 0 && i < t.num_elements());
  const std::byte* p = t.data + static_cast<size_t>(i) * DTypeSize(t.dtype);
  switch (t.dtype) {
    case DType::kBF16: {
      uint16_t b;
      std::memcpy(&b, p, 2);
      return Bf16ToFloat(b);
    }
    case DType::kF16: {
      uint16_t b;
      std::memcpy(&b, p, 2);
      return F16ToFloat(b);
    }
    case DType::kF32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case DType::kF64: {
      double d;
      std::memcpy(&d, p, 8);
      return d;
    }
    case DType::kF8E4M3: return F8E4M3ToFloat(static_cast<uint8_t>(*p));
    case DType::kU8: return static_cast<uint8_t>(*p);
    case DType::kI8: return static_cast<int8_t>(*p);
    case DType::kI16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case DType::kI32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case DType::kI64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case DType::kBool: return *p != std::byte{0} ? 1.0 : 0.0;
  }
  return 0.0;
}

std::vector<float> ToFloat(const TensorView& t) {
  const int64_t n = t.num_elements();
  std::vector<float> out(static_cast<size_t>(n));
  if (t.dtype == DType::kF32) {
    if (n > 0) std::memcpy(out.data(), t.data, static_cast<size_t>(n) * 4);
    return out;
  }
  if (t.dtype == DType::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t b;
      std::memcpy(&b, t.data + 2 * i, 2);
      out[static_cast<size_t>(i)] = Bf16ToFloat(b);
    }
    return out;
  }
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<float>(ElementAsDouble(t, i));
  return out;
}

}  // namespace warden::engine
