#pragma once

// Status and Result<T>: errors as values across module boundaries.
//
// Thread-safety: both are plain values; const methods may be called concurrently.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace hearth {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad input from a user or a peer (parse errors, bad flags)
  kNotFound,
  kAlreadyExists,
  kCorruption,        // stored bytes fail a check
  kIOError,
  kUnavailable,       // try again later; the service is not ready
  kCancelled,
  kDeadlineExceeded,  // a timeout
  kResourceExhausted, // a limit was hit (max samples, body size, queue capacity)
  kInternal,
  kUnimplemented,
  kExecution,         // a query failed while evaluating (PromQL runtime errors)
  // Append outcomes that Prometheus counts by reason; the sample is skipped, the batch goes on.
  kOutOfOrderSample,
  kOutOfBounds,
  kDuplicateSampleForTimestamp,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // The message alone, worded for the user (Prometheus' wording where clients compare it).
  const std::string& message() const { return message_; }
  // "<code name>: <message>", for logs.
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>".
  Status WithPrefix(std::string_view prefix) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename... Args>
Status Errorf(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
}

// Result<T> holds a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error, or an ok Status when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hearth

// Propagates a non-ok Status out of the current function.
#define HEARTH_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::hearth::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)

#define HEARTH_CONCAT_INNER(a, b) a##b
#define HEARTH_CONCAT(a, b) HEARTH_CONCAT_INNER(a, b)
// HEARTH_ASSIGN_OR_RETURN(auto x, Foo()): assigns the value or returns the error.
#define HEARTH_ASSIGN_OR_RETURN(lhs, expr) \
  HEARTH_ASSIGN_OR_RETURN_IMPL(HEARTH_CONCAT(_res_, __LINE__), lhs, expr)
#define HEARTH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
