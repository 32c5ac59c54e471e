// warden::Status — the one error type of every Warden library (see ../shared/docs/style.md, "Status and errors").
//
// A Status is cheap to return and to test: success holds no message. Errors are built by named factories and
// carry a message that says what failed, where (file:line, field, value) and what to do. Thread-compatible:
// a Status is a plain value.
#pragma once

#include <string>
#include <string_view>

namespace warden {

class Status {
 public:
  // Never renumber: codes are printed in --json output and mapped to exit codes by the CLI.
  enum class Code {
    kOk = 0,
    kInvalidArgument = 1,    // bad input: a flag, a file, a field
    kNotFound = 2,           // a named thing does not exist
    kCorruption = 3,         // stored data failed a check (audit chain, safetensors header, index)
    kIoError = 4,            // the operating system refused (message carries the errno text)
    kUnavailable = 5,        // missing GPU, kernel feature or model
    kResourceExhausted = 6,  // KV pool, budget or limit reached
    kInternal = 7,           // a bug in Warden
  };

  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  // Appends strerror(errno_value) to the message.
  static Status IoError(std::string msg, int errno_value = 0);
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) { return Status(Code::kResourceExhausted, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: <message>", or "ok".
  std::string ToString() const;
  // A stable lower_snake name for the code ("invalid_argument"), used in --json output.
  static std::string_view CodeName(Code code);

  // Returns a copy whose message is prefixed with `context: ` (e.g. the file being read).
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace warden

// Returns from the calling function when `expr` (a Status) is not OK.
#define WARDEN_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::warden::Status warden_status_ = (expr);     \
    if (!warden_status_.ok()) return warden_status_; \
  } while (0)
