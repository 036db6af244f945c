#include "sync/carried.h"


#include "shared/hash.h"
#include "shared/ids.h"
#include "shared/json.h"
#include "sync/codec.h"

namespace ocop::sync::carried {

namespace {

constexpr const char* kTrailer = "\nSIGNATURE hmac-sha256 ";
constexpr size_t kTrailerBytes = 23 + 64 + 1;  // kTrailer, the hex, "\n"

void Section(char kind, const std::string& bytes, std::string* out) {
  out->push_back(kind);
  uint32_t n = static_cast<uint32_t>(bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((n >> shift) & 0xff));
  out->append(bytes);
}

bool IsHex(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string NewDeviceKey() { return ids::RandomHex(32); }

std::string Write(const CarriedFile& f, const std::string& key_hex) {
  std::string sections;
  for (const auto& cs : f.change_sets) Section('C', EncodeBinary(cs), &sections);
  for (const auto& ph : f.photos) Section('F', ph.sha256 + ph.record_id + ph.bytes, &sections);
  for (const auto& p : f.pages) Section('P', EncodeBinary(p), &sections);
  for (const auto& a : f.answers) Section('A', EncodeBinary(a), &sections);
  std::string payload = Gzip(sections, 6);

  json::Object h;
  h.set("format", 1);
  h.set("kind", f.kind);
  h.set("device", f.device);
  h.set("user", f.user);
  h.set("unit", f.unit);
  h.set("created_at", f.created_at);
  json::Array::Ptr sets = new json::Array;
  size_t changes = 0;
  for (const auto& cs : f.change_sets) {
    sets->add(cs.id);
    changes += cs.changes.size();
  }
  h.set("change_sets", sets);
  h.set("changes", static_cast<int64_t>(changes));
  json::Array::Ptr photos = new json::Array;
  for (const auto& ph : f.photos) photos->add(ph.sha256);
  h.set("photos", photos);
  size_t records = 0;
  for (const auto& p : f.pages) records += p.records.size();
  h.set("pages", static_cast<int64_t>(f.pages.size()));
  h.set("records", static_cast<int64_t>(records));
  h.set("answers", static_cast<int64_t>(f.answers.size()));
  h.set("since", f.since);
  h.set("cursor", f.cursor);
  h.set("payload_bytes", static_cast<int64_t>(payload.size()));
  h.set("payload_sha256", hash::Sha256Hex(payload));

  std::string out = kMagic + json::ToText(h) + "\n" + payload;
  return out + kTrailer + hash::HmacSha256Hex(key_hex, out) + "\n";
}

Status CheckSignature(const std::string& bytes, const std::string& key_hex) {
  if (bytes.size() < kTrailerBytes) return Status::Invalid("not a carried file: it is too short");
  size_t at = bytes.size() - kTrailerBytes;
  if (bytes.compare(at, 23, kTrailer) != 0 || bytes.back() != '\n')
    return Status::Invalid("not a carried file: the signature line is missing (was the file cut short?)");
  std::string want = hash::HmacSha256Hex(key_hex, bytes.substr(0, at));
  std::string got = bytes.substr(at + 23, 64);
  unsigned diff = 0;
  for (size_t i = 0; i < 64; ++i) diff |= static_cast<unsigned char>(want[i] ^ got[i]);
  if (diff != 0)
    return Status::Denied("the file's signature does not match the key of the device it names: it was changed on "
                          "the way, or it was not written by that device");
  return Status::Ok();
}

Status Read(const std::string& bytes, CarriedFile* out) {
  const std::string magic = kMagic;
  if (bytes.size() > kMaxFileBytes) return Status(Code::kPayloadTooLarge, "the carried file is larger than 512 MB");
  if (bytes.compare(0, magic.size(), magic) != 0)
    return Status::Invalid("not a carried file (it does not start with \"OCOP-CARRIED 1\")");
  size_t eol = bytes.find('\n', magic.size());
  if (eol == std::string::npos || eol - magic.size() > 64 * 1024) return Status::Invalid("carried file: no header line");
  json::Object::Ptr h;
  Status s = json::ParseObject(bytes.substr(magic.size(), eol - magic.size()), &h);
  if (!s.ok()) return Status::Invalid("carried file: unreadable header: " + s.message());
  CarriedFile f;
  try {
    if (h->getValue<int>("format") != 1) return Status::Invalid("carried file: format version not understood");
    f.kind = h->getValue<std::string>("kind");
    f.device = h->getValue<std::string>("device");
    f.user = h->getValue<std::string>("user");
    f.unit = h->getValue<std::string>("unit");
    f.created_at = h->getValue<std::string>("created_at");
    f.since = h->getValue<int64_t>("since");
    f.cursor = h->getValue<int64_t>("cursor");
  } catch (const Poco::Exception& e) {
    return Status::Invalid("carried file: header lacks a field or has one of the wrong type (" + e.displayText() + ")");
  }
  if (f.kind != "changes" && f.kind != "return") return Status::Invalid("carried file: unknown kind '" + f.kind + "'");
  if (!ids::IsUuid(f.device)) return Status::Invalid("carried file: the device is not a device id");
  int64_t payload_bytes = h->optValue<int64_t>("payload_bytes", -1);
  size_t start = eol + 1;
  if (payload_bytes < 0 || static_cast<size_t>(payload_bytes) > bytes.size() - start ||
      bytes.size() - start - static_cast<size_t>(payload_bytes) != kTrailerBytes)
    return Status::Invalid("carried file: its length is not what its header says (cut short, or bytes added)");
  std::string payload = bytes.substr(start, static_cast<size_t>(payload_bytes));
  if (hash::Sha256Hex(payload) != h->optValue<std::string>("payload_sha256", ""))
    return Status::Invalid("carried file: the contents do not match their checksum (damaged on the way)");
  std::string sections;
  s = Gunzip(payload, kMaxPayloadBytes, &sections);
  if (!s.ok()) return Status::Invalid("carried file: " + s.message());
  for (size_t pos = 0; pos < sections.size();) {
    if (sections.size() - pos < 5) return Status::Invalid("carried file: a section is cut short");
    char kind = sections[pos];
    size_t n = 0;
    for (int i = 1; i <= 4; ++i) n = (n << 8) | static_cast<unsigned char>(sections[pos + static_cast<size_t>(i)]);
    pos += 5;
    if (n > sections.size() - pos) return Status::Invalid("carried file: a section is longer than the file");
    std::string body = sections.substr(pos, n);
    pos += n;
    if (kind == 'C') {
      ChangeSet cs;
      if (!(s = DecodeBinary(body, &cs)).ok()) return Status::Invalid("carried file: a change set: " + s.message());
      f.change_sets.push_back(std::move(cs));
    } else if (kind == 'F') {
      if (body.size() < 100 || !IsHex(body.substr(0, 64), 64) || !ids::IsUuid(body.substr(64, 36)))
        return Status::Invalid("carried file: a photo without its SHA-256 or record id");
      if (hash::Sha256Hex(body.substr(100)) != body.substr(0, 64))
        return Status::Invalid("carried file: a photo does not match its SHA-256");
      f.photos.push_back({body.substr(0, 64), body.substr(64, 36), body.substr(100)});
    } else if (kind == 'P') {
      PullPage p;
      if (!(s = DecodeBinary(body, &p)).ok()) return Status::Invalid("carried file: a page: " + s.message());
      f.pages.push_back(std::move(p));
    } else if (kind == 'A') {
      PushResult a;
      if (!(s = DecodeBinary(body, &a)).ok()) return Status::Invalid("carried file: an answer: " + s.message());
      f.answers.push_back(std::move(a));
    } else {
      return Status::Invalid("carried file: unknown section kind");
    }
  }
  // The header is what a person reads (and what `ocop status` quotes): it must
  // say what the sections hold.
  auto sets = h->getArray("change_sets");
  if (!sets || sets->size() != f.change_sets.size())
    return Status::Invalid("carried file: the header lists other change sets than the file holds");
  for (size_t i = 0; i < f.change_sets.size(); ++i) {
    if (sets->getElement<std::string>(static_cast<unsigned>(i)) != f.change_sets[i].id)
      return Status::Invalid("carried file: the header lists other change sets than the file holds");
    if (f.change_sets[i].device != f.device)
      return Status::Invalid("carried file: a change set of another device is inside");
  }
  if (f.kind == "changes" && (!f.pages.empty() || !f.answers.empty()))
    return Status::Invalid("carried file: a file of changes holds pages or answers");
  if (f.kind == "return" && (!f.change_sets.empty() || !f.photos.empty()))
    return Status::Invalid("carried file: a return file holds change sets or photos");
  *out = std::move(f);
  return Status::Ok();
}

}  // namespace ocop::sync::carried
