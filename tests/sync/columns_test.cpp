#include "sync/columns.h"

#include <gtest/gtest.h>

#include <random>

#include "shared/clock.h"
#include "shared/ids.h"
#include "sync/codec.h"

namespace ocop::sync {
namespace {

ChangeSet Mixed() {
  ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = ids::NewUuid();
  for (int i = 0; i < 5; ++i) {
    Change c;
    c.change_id = ids::NewUuid();
    c.record_id = i == 2 ? "not-a-uuid" : ids::NewUuid();
    c.form = i % 2 ? "visit" : "idea";
    c.unit = "08800";
    c.op = i == 0 ? op::kCreate : op::kUpdate;
    c.base_version = i == 3 ? -1 : i;  // odd values travel as they are; validation is the server's
    c.fields = {{"product_name", "null", "\"Ổi\""}, {"phone", "\"0912\"", "null"}};
    if (i == 4) c.fields.push_back({"k\\\"ey", "[1,{\"a\":\"}\"}]", "{}"});
    if (i == 1) c.fields.clear();
    c.author = "lan";
    c.device = i == 3 ? "DEVICE-UPPER" : cs.device;
    c.hlc = i == 2 ? "odd clock" : HybridClock::Encode(1795453200000LL + i * 1000 - (i == 4 ? 9000 : 0), i);
    cs.changes.push_back(c);
  }
  return cs;
}

TEST(ColumnsTest, ChangeSetsComeBackByteForByte) {
  ChangeSet cs = Mixed();
  std::string bytes = EncodeColumns(cs);
  EXPECT_TRUE(LooksLikeColumns(bytes));
  ChangeSet back;
  ASSERT_TRUE(DecodeColumns(bytes, &back).ok());
  EXPECT_EQ(back, cs);
  ChangeSet empty;
  ASSERT_TRUE(DecodeColumns(EncodeColumns(empty), &back).ok());
  EXPECT_EQ(back, empty);
  // Upper-case hex is not how devices write UUIDs: it travels as text, unchanged.
  cs.changes[0].change_id = "01A22B3D-C17D-7713-9FA5-20610EFF1740";
  ASSERT_TRUE(DecodeColumns(EncodeColumns(cs), &back).ok());
  EXPECT_EQ(back.changes[0].change_id, cs.changes[0].change_id);
}

PullPage SamplePage() {
  PullPage p;
  const char* texts[] = {R"({"a":1,"b":"x, \"y\"}","c":[1,{"d":"]"}],"e":null})", "{}", "not an object",
                         R"({"a":2,"z":true})", R"({ "spaced" : 1 })", R"({"a":-1.5e3})"};
  for (int i = 0; i < 6; ++i) {
    RecordState r;
    r.id = ids::NewUuid();
    r.form = "idea";
    r.unit = "08800";
    r.version = i + 1;
    r.deleted = i == 1;
    r.conflict = i == 3;
    r.fields = texts[i];
    r.updated_hlc = HybridClock::Encode(1795453200000LL + i, 0);
    r.updated_by = "hoa";
    p.records.push_back(r);
  }
  p.cursor = 77;
  p.more = true;
  p.server_hlc = "001795453299999-00002";
  p.receipt_year = 2026;
  p.receipt_first = 11;
  p.receipt_last = 60;
  p.patch_bases = {0, 0, 0, 3, 0, 0};
  return p;
}

TEST(ColumnsTest, PullPagesComeBackByteForByte) {
  PullPage p = SamplePage();
  PullPage back;
  ASSERT_TRUE(DecodeColumns(EncodeColumns(p), &back).ok());
  EXPECT_EQ(back.records, p.records);
  EXPECT_EQ(back.cursor, 77);
  EXPECT_TRUE(back.more);
  EXPECT_EQ(back.server_hlc, p.server_hlc);
  EXPECT_EQ(back.receipt_year, 2026);
  EXPECT_EQ(back.receipt_first, 11);
  EXPECT_EQ(back.receipt_last, 60);
  EXPECT_EQ(back.patch_bases, p.patch_bases);
  p.patch_bases.clear();
  ASSERT_TRUE(DecodeColumns(EncodeColumns(p), &back).ok());
  EXPECT_TRUE(back.patch_bases.empty());
}

TEST(ColumnsTest, PushAnswersLeaveOutTheIdsTheDeviceHolds) {
  ChangeSet sent = Mixed();
  PushResult r;
  r.changeset_id = sent.id;
  r.server_hlc = "001795453299999-00002";
  const char* results[] = {outcome::kApplied, outcome::kMerged, outcome::kConflict, "later-word", outcome::kApplied};
  for (size_t i = 0; i < sent.changes.size(); ++i)
    r.outcomes.push_back({sent.changes[i].change_id, sent.changes[i].record_id, results[i], static_cast<int64_t>(7 - i),
                          i == 2 ? std::vector<std::string>{"phone", "product_name"} : std::vector<std::string>{}});
  std::string bytes = EncodeColumns(r);
  EXPECT_EQ(bytes.find(sent.changes[0].change_id), std::string::npos);
  EXPECT_EQ(bytes.find(sent.changes[0].record_id), std::string::npos);
  EXPECT_LE(bytes.size(), 110u);  // 64 of magic, set id and clock; 45 for the five outcomes with their words
  PushResult back;
  ASSERT_TRUE(DecodeColumns(bytes, sent, &back).ok());
  EXPECT_EQ(EncodeJson(back), EncodeJson(r));
  // Another change set, or one of another length, is refused.
  ChangeSet other = sent;
  other.id = ids::NewUuid();
  EXPECT_NE(DecodeColumns(bytes, other, &back).message().find("another change set"), std::string::npos);
  other = sent;
  other.changes.pop_back();
  EXPECT_NE(DecodeColumns(bytes, other, &back).message().find("5 outcomes for 4 changes"), std::string::npos);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(DecodeColumns(bytes.substr(0, n), sent, &back).ok()) << n;
}

TEST(ColumnsTest, ObjectTextSplitsIntoItsMembersOrNotAtAll) {
  std::vector<std::pair<std::string_view, std::string_view>> m;
  ASSERT_TRUE(SplitObjectText(R"({"a":1,"b":"x,}y","c":{"d":[1,2]}})", &m));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].first, "\"a\"");
  EXPECT_EQ(m[1].second, "\"x,}y\"");
  EXPECT_EQ(m[2].second, R"({"d":[1,2]})");
  EXPECT_TRUE(SplitObjectText("{}", &m));
  EXPECT_TRUE(m.empty());
  for (const char* bad : {"", "{", "}", "[]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} ", " {\"a\":1}",
                          "{\"a\":\"open}", "{\"a\":{\"b\":1}", "{a:1}"})
    EXPECT_FALSE(SplitObjectText(bad, &m)) << bad;
}

TEST(HostileColumnsTest, EveryTruncationIsRefusedCleanly) {
  std::string cs = EncodeColumns(Mixed());
  std::string page = EncodeColumns(SamplePage());
  ChangeSet c;
  PullPage p;
  for (size_t n = 0; n < cs.size(); ++n) EXPECT_FALSE(DecodeColumns(cs.substr(0, n), &c).ok()) << n;
  for (size_t n = 0; n < page.size(); ++n) EXPECT_FALSE(DecodeColumns(page.substr(0, n), &p).ok()) << n;
  EXPECT_EQ(DecodeColumns(cs + "x", &c).code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodeColumns(page, &c).code(), Code::kInvalidArgument);  // a page is not a change set
}

TEST(HostileColumnsTest, RandomBytesNeverCrashOrBalloon) {
  std::mt19937 rng(5);
  std::string good = EncodeColumns(Mixed());
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = good;
    for (int k = 0; k < 1 + i % 4; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    ChangeSet c;
    Status s = DecodeColumns(bytes, &c);
    if (s.ok()) {
      EXPECT_LE(EncodeColumns(c).size(), 4 * bytes.size() + 1024);
    }
  }
}

TEST(HostileColumnsTest, CountsAndKeyNumbersAreChecked) {
  // "OCC1", ids "", "", then a change count of 2^40.
  std::string huge = std::string("OCC1") + '\0' + '\0' + "\x80\x80\x80\x80\x80\x20";
  ChangeSet c;
  Status s = DecodeColumns(huge, &c);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("count"), std::string::npos) << s.message();
  // One change naming key 5 of a table of one.
  ChangeSet one;
  Change ch;
  ch.fields = {{"a", "null", "1"}};
  one.changes = {ch};
  std::string bytes = EncodeColumns(one);
  size_t at = bytes.find(std::string("\x01\x01\x61\x01\x00", 5));  // keys: 1 × "a"; fields: 1 × key 0
  ASSERT_NE(at, std::string::npos);
  bytes[at + 4] = 5;
  s = DecodeColumns(bytes, &c);
  EXPECT_NE(s.message().find("key 5 of 1"), std::string::npos) << s.message();
}

TEST(HostileColumnsTest, AKeyNamedMillionsOfTimesIsRefused) {
  // A 256-byte key and a page of 100,000 records each naming it 20 times:
  // ~2 MB of input that would put back ~500 MB of keys.
  PullPage p;
  std::string key(254, 'k');
  std::string text = "{";
  for (int i = 0; i < 20; ++i) text += std::string(i ? "," : "") + "\"" + key + "\":" + std::to_string(i % 10);
  text += "}";
  RecordState r;
  r.fields = text;
  for (int i = 0; i < 100000; ++i) p.records.push_back(r);
  std::string bytes = EncodeColumns(p);
  PullPage back;
  Status s = DecodeColumns(bytes, &back);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("expands"), std::string::npos) << s.message();
}

TEST(CodecTest, ZstdRoundTripLimitsAndSniffing) {
  std::string plain(200000, 'a');
  std::string z = Zstd(plain);
  EXPECT_LT(z.size(), 1000u);
  std::string out;
  ASSERT_TRUE(Unzstd(z, 1 << 20, &out).ok());
  EXPECT_EQ(out, plain);
  EXPECT_EQ(Unzstd(z, 1000, &out).code(), Code::kPayloadTooLarge);
  EXPECT_EQ(Unzstd(z.substr(0, z.size() / 2), 1 << 20, &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(Unzstd("", 1 << 20, &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(Unzstd("not zstd at all", 1 << 20, &out).code(), Code::kInvalidArgument);
  ASSERT_TRUE(Decompress(z, 1 << 20, &out).ok());
  ASSERT_TRUE(Decompress(Gzip(plain), 1 << 20, &out).ok());
  EXPECT_EQ(out, plain);
  EXPECT_EQ(Decompress(plain, 1 << 20, &out).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ocop::sync
