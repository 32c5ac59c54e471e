// warden::Result<T> — a value or an error Status (GCC 12 in C++20 has no std::expected).
//
// Functions that can fail and produce a value return Result<T>. Objects that can fail to construct are made by a
// static Open()/Load() returning Result<T>, so no constructor throws.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "runtime/base/status.h"

namespace warden {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor): implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    // INVARIANT: a Result built from a Status holds an error; an OK status here is a bug in the caller.
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace warden

#define WARDEN_CONCAT_INNER_(a, b) a##b
#define WARDEN_CONCAT_(a, b) WARDEN_CONCAT_INNER_(a, b)
// WARDEN_ASSIGN_OR_RETURN(auto x, MakeX()); — declares/assigns the value or returns the error Status.
#define WARDEN_ASSIGN_OR_RETURN(lhs, expr) \
  WARDEN_ASSIGN_OR_RETURN_IMPL_(WARDEN_CONCAT_(warden_result_, __LINE__), lhs, expr)
#define WARDEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
