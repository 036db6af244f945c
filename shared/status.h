// Status: errors as values. Every failure in the core is one of a few codes whose
// meaning tells the caller what to do; the edges map them to exit codes and HTTP
// statuses (see StatusHttpCode / StatusExitCode).
#pragma once
#include <string>
#include <utility>

namespace ocop {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // the input is wrong; do not retry, tell the user what
  kNotFound,           // the named thing does not exist
  kAlreadyExists,      // the thing to create is there already
  kUnauthenticated,    // no or bad credentials: log in again
  kPermissionDenied,   // authenticated, but out of scope or role
  kFailedPrecondition, // state forbids it (workflow rule); do not retry as is
  kPayloadTooLarge,    // body over the limit
  kResourceExhausted,  // too many attempts: wait (Retry-After) and try again
  kUnavailable,        // transient: network down, server busy; retry with backoff
  kInsufficientStorage,// the server's disk is (nearly) full: keep everything, try again much later
  kRequestTimeout,     // the request's body stopped or trickled: send it again (resumable: continue)
  kInternal,           // a bug or a broken store
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Denied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unauth(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Precondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Exhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Full(std::string m) { return {Code::kInsufficientStorage, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Stable lower-case names used on the wire ("invalid_argument", ...).
const char* CodeName(Code code);
bool CodeFromName(const std::string& name, Code* out);
int StatusHttpCode(Code code);
// 0 ok, 2 usage, 3 invalid input, 4 not found, 5 network, 6 refused, 1 other.
int StatusExitCode(Code code);

}  // namespace ocop
