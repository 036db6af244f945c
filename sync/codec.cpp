#include "sync/codec.h"

#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <zlib.h>

#include <sstream>

namespace ocop::sync {

namespace internal {
template <class T>
std::string ToJson(const T& value) {
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os, cereal::JSONOutputArchive::Options::NoIndent());
    // Serialise the members at the top level, so the message is the object itself.
    const_cast<T&>(value).serialize(ar);
  }
  return os.str();
}

template <class T>
Status FromJson(const std::string& text, T* out) {
  try {
    std::istringstream is(text);
    cereal::JSONInputArchive ar(is);
    T value;
    value.serialize(ar);
    *out = std::move(value);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("malformed message: ") + e.what());
  }
}
}  // namespace internal
using internal::FromJson;
using internal::ToJson;

std::string EncodeJson(const ChangeSet& cs) { return ToJson(cs); }
std::string EncodeJson(const PushResult& r) { return ToJson(r); }
std::string EncodeJson(const PullPage& p) { return ToJson(p); }
Status DecodeJson(const std::string& t, ChangeSet* out) { return FromJson(t, out); }
Status DecodeJson(const std::string& t, PushResult* out) { return FromJson(t, out); }
Status DecodeJson(const std::string& t, PullPage* out) { return FromJson(t, out); }

namespace {
template <class T>
std::string ToBinary(const T& value) {
  std::ostringstream os;
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(value);
  }
  return os.str();
}

template <class T>
Status FromBinary(const std::string& bytes, T* out) {
  try {
    std::istringstream is(bytes);
    cereal::PortableBinaryInputArchive ar(is);
    T value;
    ar(value);
    *out = std::move(value);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("malformed binary message: ") + e.what());
  }
}
}  // namespace

std::string EncodeBinary(const ChangeSet& cs) { return ToBinary(cs); }
Status DecodeBinary(const std::string& bytes, ChangeSet* out) { return FromBinary(bytes, out); }
std::string EncodeBinary(const PushResult& r) { return ToBinary(r); }
Status DecodeBinary(const std::string& bytes, PushResult* out) { return FromBinary(bytes, out); }
std::string EncodeBinary(const PullPage& p) { return ToBinary(p); }
Status DecodeBinary(const std::string& bytes, PullPage* out) { return FromBinary(bytes, out); }
std::string EncodeBinary(const Change& c) { return ToBinary(c); }
Status DecodeBinary(const std::string& bytes, Change* out) { return FromBinary(bytes, out); }

std::string Gzip(const std::string& plain, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, plain.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Status Gunzip(const std::string& in, size_t max_out, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status::Internal("zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string result;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::Invalid("body is not valid gzip data");
    }
    result.append(buf, sizeof buf - zs.avail_out);
    if (result.size() > max_out) {
      inflateEnd(&zs);
      return Status(Code::kPayloadTooLarge, "body inflates to more than " + std::to_string(max_out) + " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Status::Invalid("gzip data is truncated");
    }
  }
  inflateEnd(&zs);
  *out = std::move(result);
  return Status::Ok();
}

}  // namespace ocop::sync

namespace ocop::sync {
using internal::FromJson;
using internal::ToJson;
}  // namespace ocop::sync
