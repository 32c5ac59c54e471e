// Binding of call arguments to named parameters for the interpreter's built-in filters, tests, globals and methods
// (Python's positional-or-keyword rules, with Python's TypeError texts).
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "runtime/engine/template/value.h"

namespace warden::engine::detail {

class ArgBinder {
 public:
  // Binds args to `names` in order, then keywords by name. Throws a TypeError for too many or unknown arguments.
  ArgBinder(std::string function, const CallArgs& args, std::initializer_list<const char*> names);

  // The argument bound to parameter i, or nullptr when the caller left it out.
  const Value* Get(size_t i) const { return given_[i] ? &values_[i] : nullptr; }
  bool Has(size_t i) const { return given_[i]; }
  Value Or(size_t i, Value fallback) const { return given_[i] ? values_[i] : fallback; }
  std::string Str(size_t i, const std::string& fallback) const;
  int64_t Int(size_t i, int64_t fallback) const;
  bool Bool(size_t i, bool fallback) const;
  // Fails when parameter i was not given.
  const Value& Required(size_t i) const;

 private:
  std::string function_;
  std::vector<std::string> names_;
  std::vector<Value> values_;
  std::vector<bool> given_;
};

}  // namespace warden::engine::detail
