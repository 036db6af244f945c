#include "shared/status.h"

namespace ocop {

namespace {
struct CodeInfo {
  Code code;
  const char* name;
  int http;
  int exit;
};
constexpr CodeInfo kCodes[] = {
    {Code::kOk, "ok", 200, 0},
    {Code::kInvalidArgument, "invalid_argument", 400, 3},
    {Code::kNotFound, "not_found", 404, 4},
    {Code::kAlreadyExists, "already_exists", 409, 3},
    {Code::kUnauthenticated, "unauthenticated", 401, 6},
    {Code::kPermissionDenied, "permission_denied", 403, 6},
    {Code::kFailedPrecondition, "failed_precondition", 409, 3},
    {Code::kPayloadTooLarge, "payload_too_large", 413, 3},
    {Code::kResourceExhausted, "resource_exhausted", 429, 5},
    {Code::kUnavailable, "unavailable", 503, 5},
    {Code::kInsufficientStorage, "insufficient_storage", 507, 5},
    {Code::kRequestTimeout, "request_timeout", 408, 5},
    {Code::kInternal, "internal", 500, 1},
};
const CodeInfo& Info(Code c) {
  for (const auto& i : kCodes)
    if (i.code == c) return i;
  return kCodes[sizeof(kCodes) / sizeof(kCodes[0]) - 1];
}
}  // namespace

const char* CodeName(Code code) { return Info(code).name; }
int StatusHttpCode(Code code) { return Info(code).http; }
int StatusExitCode(Code code) { return Info(code).exit; }
bool CodeFromName(const std::string& name, Code* out) {
  for (const auto& i : kCodes)
    if (name == i.name) {
      *out = i.code;
      return true;
    }
  return false;
}

}  // namespace ocop
