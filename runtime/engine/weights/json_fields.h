// Internal: typed reads of JSON config fields with errors that name the file and the dotted field path.
// Used by model_config.cpp and quant_config.cpp only; nlohmann types never leave the weights .cpp files.
#pragma once

#include <climits>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"

namespace warden::engine::detail {

// A JSON object plus where it came from ("config.json", "text_config.") for error messages.
class JsonFields {
 public:
  JsonFields(const nlohmann::json* obj, std::string file, std::string prefix)
      : obj_(obj), file_(std::move(file)), prefix_(std::move(prefix)) {}

  bool Has(const std::string& key) const { return obj_->contains(key) && !(*obj_)[key].is_null(); }
  const nlohmann::json* Get(const std::string& key) const {
    auto it = obj_->find(key);
    return it == obj_->end() || it->is_null() ? nullptr : &*it;
  }
  std::string Path(const std::string& key) const { return prefix_ + key; }
  const std::string& file() const { return file_; }

  // "<file>: field <path>: <msg>"
  Status Error(const std::string& key, const std::string& msg) const {
    return Status::InvalidArgument(file_ + ": field " + Path(key) + ": " + msg);
  }

  // Integer >= min_value; absent -> `fallback` when given, else an error saying it is required.
  // `max_value` keeps sizes sane so products of a few of them (tensor element counts) cannot overflow int64.
  Result<int64_t> Int(const std::string& key, std::optional<int64_t> fallback, int64_t min_value = 1,
                      int64_t max_value = int64_t{1} << 31) const {
    const nlohmann::json* j = Get(key);
    if (j == nullptr) {
      if (fallback) return *fallback;
      return Error(key, "required but missing");
    }
    int64_t v = 0;
    if (j->is_number_integer()) {
      if (j->is_number_unsigned() && j->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        return Error(key, "value " + j->dump() + " is too large");
      v = j->get<int64_t>();
    } else if (j->is_number_float() && std::abs(j->get<double>()) < 9e15 &&
               j->get<double>() == std::floor(j->get<double>())) {
      v = static_cast<int64_t>(j->get<double>());  // 4096.0 is written by some exporters
    } else {
      return Error(key, "expected an integer, got " + Short(*j));
    }
    if (v < min_value) return Error(key, "expected an integer >= " + std::to_string(min_value) + ", got " + j->dump());
    if (v > max_value)
      return Error(key, "value " + j->dump() + " is implausibly large (limit " + std::to_string(max_value) + ")");
    return v;
  }
  Result<std::optional<int64_t>> OptInt(const std::string& key, int64_t min_value = 0) const {
    if (!Has(key)) return std::optional<int64_t>();
    WARDEN_ASSIGN_OR_RETURN(int64_t v, Int(key, std::nullopt, min_value));
    return std::optional<int64_t>(v);
  }
  Result<double> Double(const std::string& key, std::optional<double> fallback) const {
    const nlohmann::json* j = Get(key);
    if (j == nullptr) {
      if (fallback) return *fallback;
      return Error(key, "required but missing");
    }
    if (!j->is_number()) return Error(key, "expected a number, got " + Short(*j));
    return j->get<double>();
  }
  Result<bool> Bool(const std::string& key, bool fallback) const {
    const nlohmann::json* j = Get(key);
    if (j == nullptr) return fallback;
    if (!j->is_boolean()) return Error(key, "expected true or false, got " + Short(*j));
    return j->get<bool>();
  }
  Result<std::string> String(const std::string& key, std::optional<std::string> fallback) const {
    const nlohmann::json* j = Get(key);
    if (j == nullptr) {
      if (fallback) return *fallback;
      return Error(key, "required but missing");
    }
    if (!j->is_string()) return Error(key, "expected a string, got " + Short(*j));
    return j->get<std::string>();
  }
  // An int or a list of ints (eos_token_id); absent -> empty.
  Result<std::vector<int64_t>> IntOrIntList(const std::string& key) const {
    std::vector<int64_t> out;
    const nlohmann::json* j = Get(key);
    if (j == nullptr) return out;
    auto one = [&](const nlohmann::json& e) -> Status {
      if (!e.is_number_integer() || e.get<int64_t>() < 0)
        return Error(key, "expected a token id (non-negative integer) or a list of them, got " + Short(e));
      out.push_back(e.get<int64_t>());
      return Status::Ok();
    };
    if (j->is_array()) {
      for (const auto& e : *j) WARDEN_RETURN_IF_ERROR(one(e));
    } else {
      WARDEN_RETURN_IF_ERROR(one(*j));
    }
    return out;
  }
  Result<std::vector<double>> DoubleList(const std::string& key) const {
    std::vector<double> out;
    const nlohmann::json* j = Get(key);
    if (j == nullptr) return out;
    if (!j->is_array()) return Error(key, "expected a list of numbers, got " + Short(*j));
    for (const auto& e : *j) {
      if (!e.is_number()) return Error(key, "expected a list of numbers, got element " + Short(e));
      out.push_back(e.get<double>());
    }
    return out;
  }

  static std::string Short(const nlohmann::json& j) {
    std::string s = j.dump();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  }

 private:
  const nlohmann::json* obj_;
  std::string file_;
  std::string prefix_;
};

// Parses `text` (the contents of `file`) as a JSON object; InvalidArgument naming the file on any error.
inline Result<nlohmann::json> ParseJsonObject(const std::string& text, const std::string& file) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(file + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument(file + ": expected a JSON object at the top level");
  return j;
}

}  // namespace warden::engine::detail
