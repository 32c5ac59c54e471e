// Argument binding for built-ins (call_args.h).
#include "runtime/engine/template/call_args.h"

namespace warden::engine::detail {

ArgBinder::ArgBinder(std::string function, const CallArgs& args, std::initializer_list<const char*> names)
    : function_(std::move(function)), names_(names.begin(), names.end()), values_(names.size()),
      given_(names.size(), false) {
  if (args.args.size() > names_.size()) {
    ThrowRuntime(function_ + "() takes at most " + std::to_string(names_.size()) + " argument(s) (" +
                 std::to_string(args.args.size()) + " given)");
  }
  for (size_t i = 0; i < args.args.size(); ++i) {
    values_[i] = args.args[i];
    given_[i] = true;
  }
  for (const auto& [key, value] : args.kwargs) {
    size_t idx = names_.size();
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == key) idx = i;
    }
    if (idx == names_.size()) ThrowRuntime(function_ + "() got an unexpected keyword argument '" + key + "'");
    if (given_[idx]) ThrowRuntime(function_ + "() got multiple values for argument '" + key + "'");
    values_[idx] = value;
    given_[idx] = true;
  }
}

std::string ArgBinder::Str(size_t i, const std::string& fallback) const {
  if (!given_[i] || values_[i].is_none()) return fallback;
  if (!values_[i].is_string()) {
    ThrowRuntime(function_ + "() argument '" + names_[i] + "' must be str, not " + TypeName(values_[i]));
  }
  return values_[i].str();
}

int64_t ArgBinder::Int(size_t i, int64_t fallback) const {
  if (!given_[i] || values_[i].is_none()) return fallback;
  if (!values_[i].is_int() && !values_[i].is_bool()) {
    ThrowRuntime("'" + TypeName(values_[i]) + "' object cannot be interpreted as an integer");
  }
  return values_[i].int_value();
}

bool ArgBinder::Bool(size_t i, bool fallback) const { return given_[i] ? Truthy(values_[i]) : fallback; }

const Value& ArgBinder::Required(size_t i) const {
  if (!given_[i]) ThrowRuntime(function_ + "() missing required argument '" + names_[i] + "'");
  return values_[i];
}

}  // namespace warden::engine::detail
