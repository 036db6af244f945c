#include "sync/columns.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>

#include "shared/clock.h"

namespace ocop::sync {

namespace {

constexpr char kChangeSetMagic[] = "OCC1";
constexpr char kPullPageMagic[] = "OCP1";
constexpr char kPushResultMagic[] = "OCR1";
// A key is written once and named by number: without limits a few bytes could
// ask for a long key millions of times. Keys are form field names.
constexpr size_t kMaxKeyBytes = 256;

// Bytes a message may expand to when its keys are put back: far above what
// real messages reach (keys are short and named once per field).
size_t ExpansionBudget(size_t input) { return 64 * input + 64 * 1024; }


class Writer {
 public:
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Signed(int64_t v) { Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Raw(std::string_view s) { out_.append(s); }
  void Str(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  // Field values: "null" (every old value of a new record) costs one byte.
  void Value(std::string_view v) {
    if (v == "null") return Varint(0);
    Varint(v.size() + 1);
    out_.append(v);
  }
  void Bytes8(uint64_t v) {
    for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Ids and clock readings make up most of what a compressor cannot shrink.
// A column of UUIDs (lowercase, as devices make them) is written as 16 bytes
// each, the first 8 (the time they were made) as the difference from the
// previous id's; hybrid-clock readings ("001795453200000-00001") as the
// difference in milliseconds and the counter. Anything else is written as
// the text it is, so every value comes back byte for byte.
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool ParseUuid(std::string_view s, uint64_t* hi, uint64_t* lo) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  uint64_t v[2] = {0, 0};
  int nibble = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    int d = HexDigit(s[i]);
    if (d < 0) return false;
    v[nibble / 16] = (v[nibble / 16] << 4) | static_cast<uint64_t>(d);
    ++nibble;
  }
  *hi = v[0];
  *lo = v[1];
  return true;
}

std::string FormatUuid(uint64_t hi, uint64_t lo) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    uint64_t word = i < 16 ? hi : lo;
    s.push_back(kHex[(word >> (4 * (15 - i % 16))) & 15]);
  }
  return s;
}

// HybridClock::Decode accepts exactly the 21-character form Encode writes, so
// what it reads comes back byte for byte.
bool ParseHlc(std::string_view s, int64_t* ms, int64_t* counter) {
  int32_t c = 0;
  if (!HybridClock::Decode(std::string(s), ms, &c)) return false;
  *counter = c;
  return true;
}

std::string FormatHlc(int64_t ms, int64_t counter) { return HybridClock::Encode(ms, static_cast<int32_t>(counter)); }

class IdWriter {
 public:
  explicit IdWriter(Writer* w) : w_(w) {}
  void Put(std::string_view id) {
    uint64_t hi, lo;
    if (!ParseUuid(id, &hi, &lo)) {
      w_->Varint(0);
      w_->Str(id);
      return;
    }
    w_->Varint(1);
    w_->Signed(static_cast<int64_t>(hi - prev_));
    w_->Bytes8(lo);
    prev_ = hi;
  }

 private:
  Writer* w_;
  uint64_t prev_ = 0;
};

class HlcWriter {
 public:
  explicit HlcWriter(Writer* w) : w_(w) {}
  void Put(std::string_view hlc) {
    int64_t ms, counter;
    if (!ParseHlc(hlc, &ms, &counter)) {
      w_->Varint(0);
      w_->Str(hlc);
      return;
    }
    w_->Varint(1);
    w_->Signed(ms - prev_);
    w_->Varint(static_cast<uint64_t>(counter));
    prev_ = ms;
  }

 private:
  Writer* w_;
  int64_t prev_ = 0;
};

class Reader {
 public:
  explicit Reader(const std::string& bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  void Magic(const char* magic) {
    if (remaining() < 4 || std::memcmp(p_, magic, 4) != 0) throw std::runtime_error("not a column-encoded message");
    p_ += 4;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) throw std::runtime_error("message is truncated");
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("a number is longer than 64 bits");
  }
  int64_t Signed() {
    uint64_t v = Varint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  uint8_t Byte() {
    if (p_ == end_) throw std::runtime_error("message is truncated");
    return static_cast<uint8_t>(*p_++);
  }
  // A count of items that take at least `min_bytes_each` bytes each: never
  // more than the bytes left can hold, so nothing is allocated on its word.
  size_t Count(size_t min_bytes_each) {
    uint64_t n = Varint();
    if (n > remaining() / min_bytes_each)
      throw std::runtime_error("a count says " + std::to_string(n) + " but only " + std::to_string(remaining()) +
                               " bytes remain");
    return static_cast<size_t>(n);
  }
  std::string Bytes(uint64_t n) {
    if (n > remaining())
      throw std::runtime_error("a length says " + std::to_string(n) + " but only " + std::to_string(remaining()) +
                               " bytes remain");
    std::string s(p_, static_cast<size_t>(n));
    p_ += n;
    return s;
  }
  std::string Str() { return Bytes(Varint()); }
  std::string Value() {
    uint64_t n = Varint();
    return n == 0 ? std::string("null") : Bytes(n - 1);
  }
  uint64_t Bytes8() {
    if (remaining() < 8) throw std::runtime_error("message is truncated");
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(*p_++);
    return v;
  }
  // Counterparts of IdWriter and HlcWriter.
  std::string Id(uint64_t* prev) {
    uint64_t kind = Varint();
    if (kind == 0) return Str();
    if (kind != 1) throw std::runtime_error("unknown id kind");
    uint64_t hi = *prev + static_cast<uint64_t>(Signed());
    *prev = hi;
    return FormatUuid(hi, Bytes8());
  }
  std::string Hlc(int64_t* prev) {
    uint64_t kind = Varint();
    if (kind == 0) return Str();
    if (kind != 1) throw std::runtime_error("unknown clock reading kind");
    int64_t ms = static_cast<int64_t>(static_cast<uint64_t>(*prev) + static_cast<uint64_t>(Signed()));
    uint64_t counter = Varint();
    if (ms < 0 || ms > 999999999999999LL || counter > 99999) throw std::runtime_error("clock reading out of range");
    *prev = ms;
    return FormatHlc(ms, static_cast<int64_t>(counter));
  }

 private:
  const char* p_;
  const char* end_;
};

// Keys numbered in the order they first appear in a message.
class KeyTable {
 public:
  uint64_t Number(std::string_view key) {
    auto [it, added] = index_.try_emplace(std::string(key), keys_.size());
    if (added) keys_.emplace_back(key);
    return it->second;
  }
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  std::map<std::string, uint64_t, std::less<>> index_;
  std::vector<std::string> keys_;
};

void ReadKeys(Reader& r, std::vector<std::string>* keys) {
  keys->resize(r.Count(1));
  for (auto& k : *keys) {
    k = r.Str();
    if (k.size() > kMaxKeyBytes) throw std::runtime_error("a key is longer than " + std::to_string(kMaxKeyBytes) + " bytes");
  }
}

// Counts the bytes a decoder puts back, against ExpansionBudget.
class Budget {
 public:
  explicit Budget(size_t input) : left_(ExpansionBudget(input)) {}
  void Spend(size_t n) {
    if (n > left_) throw std::runtime_error("the message expands beyond " + std::to_string(ExpansionBudget(0)) + " bytes plus 64 per byte");
    left_ -= n;
  }

 private:
  size_t left_;
};

template <class F>
Status Decode(const std::string& bytes, F&& body) {
  try {
    Reader r(bytes);
    body(r);
    if (r.remaining() != 0)
      return Status::Invalid("malformed column message: " + std::to_string(r.remaining()) + " bytes after its end");
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("malformed column message: ") + e.what());
  }
}

// Skips one JSON value's text from `i`; returns the index after it, or npos.
size_t SkipValue(std::string_view t, size_t i) {
  if (i >= t.size()) return std::string_view::npos;
  if (t[i] == '"') {
    for (++i; i < t.size(); ++i) {
      if (t[i] == '\\') ++i;
      else if (t[i] == '"') return i + 1;
    }
    return std::string_view::npos;
  }
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    for (; i < t.size(); ++i) {
      char c = t[i];
      if (c == '"') {
        i = SkipValue(t, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t start = i;
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i > start ? i : std::string_view::npos;
}

}  // namespace

bool SplitObjectText(std::string_view t, std::vector<std::pair<std::string_view, std::string_view>>* members) {
  members->clear();
  if (t.size() < 2 || t.front() != '{' || t.back() != '}') return false;
  if (t.size() == 2) return true;
  size_t i = 1;
  while (true) {
    if (i >= t.size() || t[i] != '"') return false;
    size_t key_end = SkipValue(t, i);
    if (key_end == std::string_view::npos || key_end >= t.size() || t[key_end] != ':') return false;
    size_t value_start = key_end + 1;
    size_t value_end = SkipValue(t, value_start);
    if (value_end == std::string_view::npos || value_end >= t.size()) return false;
    members->emplace_back(t.substr(i, key_end - i), t.substr(value_start, value_end - value_start));
    if (t[value_end] == '}') return value_end == t.size() - 1;
    if (t[value_end] != ',') return false;
    i = value_end + 1;
  }
}

bool LooksLikeColumns(const std::string& bytes) {
  return bytes.size() >= 4 && (bytes.compare(0, 4, kChangeSetMagic) == 0 || bytes.compare(0, 4, kPullPageMagic) == 0);
}

// ---- change sets ----

std::string EncodeColumns(const ChangeSet& cs) {
  Writer w;
  w.Raw(kChangeSetMagic);
  w.Str(cs.id);
  w.Str(cs.device);
  w.Varint(cs.changes.size());
  IdWriter change_ids(&w), record_ids(&w), devices(&w);
  HlcWriter clocks(&w);
  for (const auto& c : cs.changes) change_ids.Put(c.change_id);
  for (const auto& c : cs.changes) record_ids.Put(c.record_id);
  for (const auto& c : cs.changes) w.Str(c.form);
  for (const auto& c : cs.changes) w.Str(c.unit);
  for (const auto& c : cs.changes) w.Str(c.op);
  for (const auto& c : cs.changes) w.Signed(c.base_version);
  for (const auto& c : cs.changes) w.Str(c.author);
  for (const auto& c : cs.changes) devices.Put(c.device);
  for (const auto& c : cs.changes) clocks.Put(c.hlc);
  KeyTable keys;
  std::vector<std::vector<const FieldChange*>> by_key;
  std::vector<uint64_t> numbers;
  for (const auto& c : cs.changes)
    for (const auto& f : c.fields) {
      uint64_t k = keys.Number(f.key);
      if (k == by_key.size()) by_key.emplace_back();
      by_key[k].push_back(&f);
      numbers.push_back(k);
    }
  w.Varint(keys.keys().size());
  for (const auto& k : keys.keys()) w.Str(k);
  size_t next = 0;
  for (const auto& c : cs.changes) {
    w.Varint(c.fields.size());
    for (size_t j = 0; j < c.fields.size(); ++j) w.Varint(numbers[next++]);
  }
  for (const auto& fields : by_key) {
    for (const FieldChange* f : fields) w.Value(f->old_value);
    for (const FieldChange* f : fields) w.Value(f->new_value);
  }
  return w.Take();
}

Status DecodeColumns(const std::string& bytes, ChangeSet* out) {
  ChangeSet cs;
  Status s = Decode(bytes, [&](Reader& r) {
    r.Magic(kChangeSetMagic);
    cs.id = r.Str();
    cs.device = r.Str();
    // Nine columns of at least one byte each per change.
    cs.changes.resize(r.Count(9));
    uint64_t prev_change = 0, prev_record = 0, prev_device = 0;
    int64_t prev_clock = 0;
    for (auto& c : cs.changes) c.change_id = r.Id(&prev_change);
    for (auto& c : cs.changes) c.record_id = r.Id(&prev_record);
    for (auto& c : cs.changes) c.form = r.Str();
    for (auto& c : cs.changes) c.unit = r.Str();
    for (auto& c : cs.changes) c.op = r.Str();
    for (auto& c : cs.changes) c.base_version = r.Signed();
    for (auto& c : cs.changes) c.author = r.Str();
    for (auto& c : cs.changes) c.device = r.Id(&prev_device);
    for (auto& c : cs.changes) c.hlc = r.Hlc(&prev_clock);
    std::vector<std::string> keys;
    ReadKeys(r, &keys);
    Budget budget(bytes.size());
    std::vector<std::vector<FieldChange*>> by_key(keys.size());
    for (auto& c : cs.changes) {
      c.fields.resize(r.Count(1));  // a key number per field
      for (auto& f : c.fields) {
        uint64_t k = r.Varint();
        if (k >= keys.size()) throw std::runtime_error("a field names key " + std::to_string(k) + " of " + std::to_string(keys.size()));
        budget.Spend(keys[k].size());
        f.key = keys[k];
        by_key[k].push_back(&f);
      }
    }
    for (auto& fields : by_key) {
      for (FieldChange* f : fields) f->old_value = r.Value();
      for (FieldChange* f : fields) f->new_value = r.Value();
    }
  });
  if (s.ok()) *out = std::move(cs);
  return s;
}

// ---- pull pages ----

std::string EncodeColumns(const PullPage& page) {
  Writer w;
  w.Raw(kPullPageMagic);
  w.Varint(page.records.size());
  IdWriter ids(&w);
  HlcWriter clocks(&w);
  for (const auto& r : page.records) ids.Put(r.id);
  for (const auto& r : page.records) w.Str(r.form);
  for (const auto& r : page.records) w.Str(r.unit);
  for (const auto& r : page.records) w.Signed(r.version);
  for (const auto& r : page.records) w.Byte(static_cast<uint8_t>((r.deleted ? 1 : 0) | (r.conflict ? 2 : 0)));
  for (const auto& r : page.records) clocks.Put(r.updated_hlc);
  for (const auto& r : page.records) w.Str(r.updated_by);
  // Each record's fields split into members; the values grouped by key.
  KeyTable keys;
  std::vector<std::vector<std::string_view>> values;
  std::vector<std::vector<uint64_t>> numbers(page.records.size());
  std::vector<const std::string*> raw;
  std::vector<std::pair<std::string_view, std::string_view>> members;
  for (size_t i = 0; i < page.records.size(); ++i) {
    if (!SplitObjectText(page.records[i].fields, &members)) {
      raw.push_back(&page.records[i].fields);
      continue;
    }
    for (const auto& [k, v] : members) {
      uint64_t n = keys.Number(k);
      if (n == values.size()) values.emplace_back();
      values[n].push_back(v);
      numbers[i].push_back(n);
    }
  }
  w.Varint(keys.keys().size());
  for (const auto& k : keys.keys()) w.Str(k);
  size_t next_raw = 0;
  for (size_t i = 0; i < page.records.size(); ++i) {
    bool is_raw = next_raw < raw.size() && raw[next_raw] == &page.records[i].fields;
    if (is_raw) {
      ++next_raw;
      w.Varint(0);  // travels as written
      continue;
    }
    w.Varint(numbers[i].size() + 1);
    for (uint64_t n : numbers[i]) w.Varint(n);
  }
  for (const auto& column : values)
    for (std::string_view v : column) w.Str(v);
  for (const std::string* text : raw) w.Str(*text);
  w.Signed(page.cursor);
  w.Byte(page.more ? 1 : 0);
  w.Str(page.server_hlc);
  w.Signed(page.receipt_year);
  w.Signed(page.receipt_first);
  w.Signed(page.receipt_last);
  w.Varint(page.patch_bases.size());
  for (int64_t b : page.patch_bases) w.Signed(b);
  return w.Take();
}

Status DecodeColumns(const std::string& bytes, PullPage* out) {
  PullPage page;
  Status s = Decode(bytes, [&](Reader& r) {
    r.Magic(kPullPageMagic);
    page.records.resize(r.Count(7));  // seven columns of at least one byte each
    uint64_t prev_id = 0;
    int64_t prev_clock = 0;
    for (auto& rec : page.records) rec.id = r.Id(&prev_id);
    for (auto& rec : page.records) rec.form = r.Str();
    for (auto& rec : page.records) rec.unit = r.Str();
    for (auto& rec : page.records) rec.version = r.Signed();
    for (auto& rec : page.records) {
      uint8_t flags = r.Byte();
      if (flags > 3) throw std::runtime_error("unknown record flags");
      rec.deleted = flags & 1;
      rec.conflict = flags & 2;
    }
    for (auto& rec : page.records) rec.updated_hlc = r.Hlc(&prev_clock);
    for (auto& rec : page.records) rec.updated_by = r.Str();
    std::vector<std::string> keys;
    ReadKeys(r, &keys);
    Budget budget(bytes.size());
    // Per record: 0 (its text follows in the raw column) or 1 + its member count.
    std::vector<std::vector<uint64_t>> numbers(page.records.size());
    std::vector<bool> is_raw(page.records.size());
    std::vector<size_t> per_key(keys.size());
    for (size_t i = 0; i < page.records.size(); ++i) {
      uint64_t m = r.Varint();
      if (m == 0) {
        is_raw[i] = true;
        continue;
      }
      if (m - 1 > r.remaining()) throw std::runtime_error("a record says it has " + std::to_string(m - 1) + " fields");
      numbers[i].resize(static_cast<size_t>(m - 1));
      for (auto& n : numbers[i]) {
        n = r.Varint();
        if (n >= keys.size()) throw std::runtime_error("a field names key " + std::to_string(n) + " of " + std::to_string(keys.size()));
        ++per_key[n];
      }
    }
    std::vector<std::vector<std::string>> values(keys.size());
    for (size_t k = 0; k < keys.size(); ++k) {
      if (per_key[k] > r.remaining()) throw std::runtime_error("message is truncated");
      values[k].reserve(per_key[k]);
      for (size_t j = 0; j < per_key[k]; ++j) values[k].push_back(r.Str());
    }
    std::vector<size_t> taken(keys.size());
    for (size_t i = 0; i < page.records.size(); ++i) {
      std::string& text = page.records[i].fields;
      if (is_raw[i]) {
        text = r.Str();
        continue;
      }
      text = "{";
      for (size_t j = 0; j < numbers[i].size(); ++j) {
        uint64_t n = numbers[i][j];
        budget.Spend(keys[n].size() + 2);
        if (j) text += ',';
        text += keys[n];
        text += ':';
        text += values[n][taken[n]++];
      }
      text += '}';
    }
    page.cursor = r.Signed();
    uint8_t more = r.Byte();
    if (more > 1) throw std::runtime_error("'more' is neither 0 nor 1");
    page.more = more == 1;
    page.server_hlc = r.Str();
    int64_t year = r.Signed();
    if (year < 0 || year > 9999) throw std::runtime_error("receipt year out of range");
    page.receipt_year = static_cast<int>(year);
    page.receipt_first = r.Signed();
    page.receipt_last = r.Signed();
    size_t bases = r.Count(1);
    if (bases != 0 && bases != page.records.size()) throw std::runtime_error("patch bases do not match the records");
    page.patch_bases.resize(bases);
    for (auto& b : page.patch_bases) {
      b = r.Signed();
      if (b < 0) throw std::runtime_error("a patch base is negative");
    }
  });
  if (s.ok()) *out = std::move(page);
  return s;
}

// ---- push answers ----

namespace {
const char* const kResults[] = {outcome::kApplied, outcome::kMerged, outcome::kConflict};
}  // namespace

std::string EncodeColumns(const PushResult& result) {
  Writer w;
  w.Raw(kPushResultMagic);
  w.Str(result.changeset_id);
  w.Str(result.server_hlc);
  w.Varint(result.outcomes.size());
  for (const auto& o : result.outcomes) {
    uint64_t code = 3;  // any other word follows as text
    for (uint64_t i = 0; i < 3; ++i)
      if (o.result == kResults[i]) code = i;
    w.Varint(code);
    if (code == 3) w.Str(o.result);
  }
  int64_t previous = 0;
  for (const auto& o : result.outcomes) {
    w.Signed(o.version - previous);
    previous = o.version;
  }
  for (const auto& o : result.outcomes) {
    w.Varint(o.conflict_fields.size());
    for (const auto& f : o.conflict_fields) w.Str(f);
  }
  return w.Take();
}

Status DecodeColumns(const std::string& bytes, const ChangeSet& sent, PushResult* out) {
  PushResult result;
  Status s = Decode(bytes, [&](Reader& r) {
    r.Magic(kPushResultMagic);
    result.changeset_id = r.Str();
    if (result.changeset_id != sent.id) throw std::runtime_error("the answer is for another change set");
    result.server_hlc = r.Str();
    size_t n = r.Count(3);  // result, version and conflict count: a byte each at least
    if (n != sent.changes.size())
      throw std::runtime_error(std::to_string(n) + " outcomes for " + std::to_string(sent.changes.size()) + " changes");
    result.outcomes.resize(n);
    for (size_t i = 0; i < n; ++i) {
      auto& o = result.outcomes[i];
      o.change_id = sent.changes[i].change_id;
      o.record_id = sent.changes[i].record_id;
      uint64_t code = r.Varint();
      if (code > 3) throw std::runtime_error("unknown outcome");
      o.result = code < 3 ? kResults[code] : r.Str();
    }
    int64_t previous = 0;
    for (auto& o : result.outcomes) {
      o.version = static_cast<int64_t>(static_cast<uint64_t>(previous) + static_cast<uint64_t>(r.Signed()));
      previous = o.version;
    }
    for (auto& o : result.outcomes) {
      o.conflict_fields.resize(r.Count(1));
      for (auto& f : o.conflict_fields) f = r.Str();
    }
  });
  if (s.ok()) *out = std::move(result);
  return s;
}

}  // namespace ocop::sync
