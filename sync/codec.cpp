#include "sync/codec.h"

#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "shared/json.h"

namespace ocop::sync {

namespace {
Status CheckPatchBases(const PullPage& p) {
  if (p.patch_bases.empty()) return Status::Ok();
  if (p.patch_bases.size() != p.records.size())
    return Status::Invalid("malformed pull page: " + std::to_string(p.patch_bases.size()) + " patch bases for " +
                           std::to_string(p.records.size()) + " records");
  for (int64_t b : p.patch_bases)
    if (b < 0) return Status::Invalid("malformed pull page: a patch base is negative");
  return Status::Ok();
}
}  // namespace

namespace internal {
// Members some messages carry only when they are not empty (PullPage's
// patch_bases): written after the others, read if present.
template <class Archive, class T>
void SaveOptional(Archive&, const T&) {}
template <class Archive, class T>
void LoadOptional(Archive&, T&) {}
template <class Archive>
void SaveOptional(Archive& ar, const PullPage& p) {
  if (!p.patch_bases.empty()) ar(cereal::make_nvp("patch_bases", p.patch_bases));
}
template <class Archive>
void LoadOptional(Archive& ar, PullPage& p) {
  if (ar.getNodeName() != nullptr && std::string(ar.getNodeName()) == "patch_bases")
    ar(cereal::make_nvp("patch_bases", p.patch_bases));
}

template <class T>
std::string ToJson(const T& value) {
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os, cereal::JSONOutputArchive::Options::NoIndent());
    // Serialise the members at the top level, so the message is the object itself.
    const_cast<T&>(value).serialize(ar);
    SaveOptional(ar, value);
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
    LoadOptional(ar, value);
    *out = std::move(value);
    return Status::Ok();
  } catch (const std::exception&) {
    // cereal's and RapidJSON's own words ("rapidjson internal assertion
    // failure: IsObject()") mean nothing to the sender: say what is wrong.
    return Status::Invalid("malformed message: valid JSON, but not of the expected shape (a member is missing or of the wrong type; see docs/protocol.md)");
  }
}
}  // namespace internal
using internal::FromJson;
using internal::LoadOptional;
using internal::SaveOptional;
using internal::ToJson;

std::string EncodeJson(const ChangeSet& cs) { return ToJson(cs); }
std::string EncodeJson(const PushResult& r) { return ToJson(r); }
std::string EncodeJson(const PullPage& p) { return ToJson(p); }
Status DecodeJson(const std::string& t, ChangeSet* out) { return FromJson(t, out); }
Status DecodeJson(const std::string& t, PushResult* out) { return FromJson(t, out); }

Status DecodeJson(const std::string& t, PullPage* out) {
  PullPage p;
  Status s = FromJson(t, &p);
  if (s.ok()) s = CheckPatchBases(p);
  if (s.ok()) *out = std::move(p);
  return s;
}

namespace {
template <class T>
std::string ToBinary(const T& value) {
  std::ostringstream os;
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(value);
    SaveOptional(ar, value);
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
    if constexpr (std::is_same_v<T, PullPage>) {
      if (reader.remaining() != 0) reader(value.patch_bases);
      Status s = CheckPatchBases(value);
      if (!s.ok()) return s;
    }
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

namespace {
// How much room to add for the next piece of a body being inflated: into the
// result itself (no stack buffer: a 64 KB one stayed resident in each of the
// server's request threads), growing with it so a large body is not copied
// piece by piece.
size_t GrowthFor(size_t had) { return std::clamp<size_t>(had, 16 * 1024, 1024 * 1024); }
}  // namespace

Status Gunzip(const std::string& in, size_t max_out, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status::Internal("zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string result;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t had = result.size(), room = GrowthFor(had);
    result.resize(had + room);
    zs.next_out = reinterpret_cast<Bytef*>(result.data() + had);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::Invalid("body is not valid gzip data");
    }
    result.resize(had + room - zs.avail_out);
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

namespace ocop::sync {

namespace {
// Compression contexts, kept and shared. One for a page of 2,000 records at
// level 6 holds about 3.5 MB; made afresh by every request thread at once
// (32 on the server) they were most of its peak memory. At most as many
// compress at a time as there are cores (they are busy for that long anyway);
// the others wait their turn.
class CompressorPool {
 public:
  explicit CompressorPool(size_t max) : max_(max) {}
  ZSTD_CCtx* Take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || made_ < max_; });
    if (!idle_.empty()) {
      ZSTD_CCtx* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    ++made_;
    return ZSTD_createCCtx();
  }
  void Give(ZSTD_CCtx* c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(c);
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ZSTD_CCtx*> idle_;
  size_t made_ = 0;
  const size_t max_;
};

CompressorPool& Compressors() {
  static CompressorPool* pool = new CompressorPool(std::max(2u, std::thread::hardware_concurrency()));  // lives for the process
  return *pool;
}
}  // namespace

std::string Zstd(const std::string& plain, int level) {
  std::string out;
  out.resize(ZSTD_compressBound(plain.size()));
  ZSTD_CCtx* c = Compressors().Take();
  size_t n = c ? ZSTD_compressCCtx(c, out.data(), out.size(), plain.data(), plain.size(), level)
               : ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), level);
  if (c) Compressors().Give(c);
  if (ZSTD_isError(n)) return std::string();  // only on a bad level: callers pass constants
  out.resize(n);
  out.shrink_to_fit();  // the bound is the input's size; what is kept is a quarter of it
  return out;
}

Status Decompress(const std::string& in, size_t max_out, std::string* out) {
  if (in.size() >= 4 && in.compare(0, 4, "\x28\xb5\x2f\xfd") == 0) return Unzstd(in, max_out, out);
  if (in.size() >= 2 && in.compare(0, 2, "\x1f\x8b") == 0) return Gunzip(in, max_out, out);
  return Status::Invalid("body is neither gzip nor zstd data");
}

Status Unzstd(const std::string& in, size_t max_out, std::string* out) {
  // Streaming, so the frame's declared size (which a hostile body may set to
  // anything, or leave out) never decides how much is allocated.
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!ds) return Status::Internal("zstd init failed");
  // At most an 8 MB window: a frame asking for more is refused, not obeyed.
  ZSTD_DCtx_setParameter(ds.get(), ZSTD_d_windowLogMax, 23);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::string result;
  size_t rc = 1;
  while (input.pos < input.size || rc != 0) {
    const size_t had = result.size(), room = GrowthFor(had);
    result.resize(had + room);
    ZSTD_outBuffer output{result.data() + had, room, 0};
    rc = ZSTD_decompressStream(ds.get(), &output, &input);
    if (ZSTD_isError(rc)) return Status::Invalid(std::string("body is not valid zstd data: ") + ZSTD_getErrorName(rc));
    result.resize(had + output.pos);
    if (result.size() > max_out)
      return Status(Code::kPayloadTooLarge, "body decompresses to more than " + std::to_string(max_out) + " bytes");
    if (input.pos == input.size && output.pos < room && rc != 0) return Status::Invalid("zstd data is truncated");
  }
  *out = std::move(result);
  return Status::Ok();
}

}  // namespace ocop::sync
