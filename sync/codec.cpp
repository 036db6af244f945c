#include "sync/codec.h"

#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "shared/json.h"

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
  // cereal's JSON reader (RapidJSON) recurses once per nesting level: a body of
  // 200,000 '[' would overflow the stack. Our messages nest 4 deep. And every
  // number in them is an integer: refusing others keeps RapidJSON's
  // floating-point reader (undefined behaviour on some inputs) away from
  // hostile bodies.
  Status shape = json::CheckNesting(text, 16, /*integers_only=*/true);
  if (!shape.ok()) return Status::Invalid("malformed message: " + shape.message());
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

// Reads cereal's portable binary format (a byte saying the stream's byte order,
// then fixed-width integers, uint64 size prefixes and raw string bytes) without
// trusting it: every size prefix is checked against the bytes that remain
// before anything is allocated, and lists grow one decoded element at a time,
// so a body of N bytes never makes us allocate much more than N. cereal's own
// input archive resizes to whatever the prefix says (a 90-byte body can ask
// for 14 GB), so decoding does not go through it; encoding still does.
class BoundedBinaryReader {
 public:
  explicit BoundedBinaryReader(const std::string& bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {
    uint8_t little = 1;
    Raw(&little, 1);
    if (little > 1) throw std::runtime_error("bad byte-order mark");
    swap_ = (little == 1) != (std::endian::native == std::endian::little);
  }
  template <class... Args>
  void operator()(Args&&... args) {
    (Load(args), ...);
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  template <class T>
  void Load(cereal::NameValuePair<T>& nvp) { Load(nvp.value); }
  template <class T>
  void Load(cereal::NameValuePair<T>&& nvp) { Load(nvp.value); }
  void Load(bool& b) {
    uint8_t v = 0;
    Raw(&v, 1);
    if (v > 1) throw std::runtime_error("a boolean is neither 0 nor 1");
    b = v == 1;
  }
  template <class T>
    requires std::is_arithmetic_v<T>
  void Load(T& v) { Number(&v); }
  void Load(std::string& s) {
    uint64_t n = Size(1);
    s.assign(p_, static_cast<size_t>(n));
    p_ += n;
  }
  template <class T>
  void Load(std::vector<T>& v) {
    // Each element takes at least one byte, so the count cannot exceed what is left.
    uint64_t n = Size(1);
    v.clear();
    for (uint64_t i = 0; i < n; ++i) {
      T item;
      Load(item);
      v.push_back(std::move(item));
    }
  }
  template <class T>
    requires requires(T& t, BoundedBinaryReader& r) { t.serialize(r); }
  void Load(T& value) {
    if (++depth_ > 8) throw std::runtime_error("message nests too deeply");
    value.serialize(*this);
    --depth_;
  }
  uint64_t Size(uint64_t min_bytes_each) {
    uint64_t n = 0;
    Number(&n);
    if (n > remaining() / min_bytes_each)
      throw std::runtime_error("a length prefix says " + std::to_string(n) + " but only " + std::to_string(remaining()) +
                               " bytes remain");
    return n;
  }
  template <class T>
  void Number(T* v) {
    unsigned char buf[sizeof(T)];
    Raw(buf, sizeof(T));
    if (swap_) std::reverse(buf, buf + sizeof(T));
    std::memcpy(v, buf, sizeof(T));
  }
  void Raw(void* out, size_t n) {
    if (remaining() < n) throw std::runtime_error("message is truncated");
    std::memcpy(out, p_, n);
    p_ += n;
  }
  const char* p_;
  const char* end_;
  bool swap_ = false;
  int depth_ = 0;
};

template <class T>
Status FromBinary(const std::string& bytes, T* out) {
  try {
    BoundedBinaryReader reader(bytes);
    T value;
    reader(value);
    if (reader.remaining() != 0) return Status::Invalid("malformed binary message: " + std::to_string(reader.remaining()) + " bytes after its end");
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
