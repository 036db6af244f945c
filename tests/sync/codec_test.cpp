#include "sync/codec.h"

#include <gtest/gtest.h>

#include "shared/ids.h"
#include "shared/json.h"

namespace ocop::sync {
namespace {

ChangeSet Sample(int n) {
  ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = ids::NewUuid();
  for (int i = 0; i < n; ++i) {
    Change c;
    c.change_id = ids::NewUuid();
    c.record_id = ids::NewUuid();
    c.form = "idea";
    c.unit = "08800";
    c.op = op::kUpdate;
    c.base_version = i;
    c.fields = {{"product_name", "\"Ổi\"", "\"Ổi Đôn Nhân\""}, {"product_group", "1", "2"}};
    c.author = "can_bo_xa";
    c.device = cs.device;
    c.hlc = "001795453200000-00001";
    cs.changes.push_back(c);
  }
  return cs;
}

TEST(CodecTest, JsonRoundTrip) {
  ChangeSet cs = Sample(3);
  std::string text = EncodeJson(cs);
  EXPECT_NE(text.find("\"changes\""), std::string::npos);
  ChangeSet back;
  ASSERT_TRUE(DecodeJson(text, &back).ok());
  EXPECT_EQ(back, cs);
  EXPECT_TRUE(ValidateChangeSet(back, 100).ok());
}

TEST(CodecTest, BinaryRoundTrip) {
  ChangeSet cs = Sample(5), back;
  ASSERT_TRUE(DecodeBinary(EncodeBinary(cs), &back).ok());
  EXPECT_EQ(back, cs);
}

TEST(CodecTest, CorruptedJsonGivesACleanError) {
  std::string text = EncodeJson(Sample(2));
  // Flip bytes all along the message: every outcome is a clean Status, never a crash.
  int refused = 0;
  for (size_t i = 0; i < text.size(); i += 7) {
    std::string bad = text;
    bad[i] ^= 0x5A;
    ChangeSet out;
    Status s = DecodeJson(bad, &out);
    if (s.ok()) s = ValidateChangeSet(out, 100);
    if (!s.ok()) ++refused;
  }
  EXPECT_GT(refused, 0);
  ChangeSet out;
  EXPECT_FALSE(DecodeJson("", &out).ok());
  EXPECT_FALSE(DecodeJson("[]", &out).ok());
  EXPECT_FALSE(DecodeJson(R"({"id":1,"device":"d","changes":[]})", &out).ok());
  EXPECT_FALSE(DecodeJson(text.substr(0, text.size() / 2), &out).ok());
}

TEST(CodecTest, CorruptedBinaryGivesACleanError) {
  std::string bytes = EncodeBinary(Sample(2));
  ChangeSet out;
  EXPECT_FALSE(DecodeBinary(bytes.substr(0, bytes.size() / 3), &out).ok());
}

TEST(CodecTest, ValidationNamesTheProblem) {
  ChangeSet cs = Sample(1);
  cs.changes[0].op = "upsert";
  EXPECT_NE(ValidateChangeSet(cs, 10).message().find("upsert"), std::string::npos);
  cs = Sample(1);
  cs.changes[0].record_id = "x";
  EXPECT_NE(ValidateChangeSet(cs, 10).message().find("record_id"), std::string::npos);
  cs = Sample(1);
  cs.changes[0].fields[0].new_value = "";
  EXPECT_NE(ValidateChangeSet(cs, 10).message().find("product_name"), std::string::npos);
  cs = Sample(11);
  EXPECT_NE(ValidateChangeSet(cs, 10).message().find("limit"), std::string::npos);
  cs = Sample(1);
  cs.changes[0].hlc = "yesterday";
  EXPECT_FALSE(ValidateChangeSet(cs, 10).ok());
  cs = Sample(1);
  cs.changes[0].author = "\xFF";
  EXPECT_FALSE(ValidateChangeSet(cs, 10).ok());
}

TEST(CodecTest, GzipRoundTripAndLimits) {
  std::string plain(100000, 'a');
  std::string z = Gzip(plain);
  EXPECT_LT(z.size(), plain.size() / 10);
  std::string back;
  ASSERT_TRUE(Gunzip(z, 1 << 20, &back).ok());
  EXPECT_EQ(back, plain);
  Status s = Gunzip(z, 1000, &back);
  EXPECT_EQ(s.code(), Code::kPayloadTooLarge);
  EXPECT_FALSE(Gunzip("not gzip", 1000, &back).ok());
  EXPECT_FALSE(Gunzip(z.substr(0, z.size() / 2), 1 << 20, &back).ok());
}

}  // namespace
}  // namespace ocop::sync

namespace ocop::sync {
namespace {

std::string LittleU64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

TEST(HostileCodecTest, StringLengthBombIsRefusedWithoutAllocating) {
  // Byte-order mark, then the change set's id claims 6 GB.
  std::string body = std::string(1, '\1') + LittleU64(6ull << 30) + std::string(100, 'x');
  ChangeSet cs;
  Status s = DecodeBinary(body, &cs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("length prefix"), std::string::npos) << s.message();
}

TEST(HostileCodecTest, VectorLengthBombIsRefused) {
  // Empty id and device, then "50 million changes" in a 90-byte body.
  std::string body = std::string(1, '\1') + LittleU64(0) + LittleU64(0) + LittleU64(50'000'000) + std::string(65, '\0');
  ChangeSet cs;
  Status s = DecodeBinary(body, &cs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("50000000"), std::string::npos) << s.message();
}

TEST(HostileCodecTest, EveryTruncationOfAValidMessageIsRefusedCleanly) {
  std::string full = EncodeBinary(Sample(3));
  for (size_t n = 0; n < full.size(); ++n) {
    ChangeSet cs;
    EXPECT_FALSE(DecodeBinary(full.substr(0, n), &cs).ok()) << "prefix of " << n << " bytes";
  }
  std::string padded = full + "x";
  ChangeSet cs;
  EXPECT_FALSE(DecodeBinary(padded, &cs).ok());
  EXPECT_TRUE(DecodeBinary(full, &cs).ok());
  EXPECT_EQ(cs.changes.size(), 3u);
}

TEST(HostileCodecTest, BinaryDecoderReadsWhatCerealWrites) {
  ChangeSet in = Sample(5);
  ChangeSet out;
  ASSERT_TRUE(DecodeBinary(EncodeBinary(in), &out).ok());
  EXPECT_EQ(in, out);
  PullPage page;
  page.records.push_back({"id", "idea", "08800", 3, true, false, "{\"a\":1}", "h", "lan"});
  page.cursor = 42;
  page.more = true;
  page.receipt_year = 2026;
  PullPage page_out;
  ASSERT_TRUE(DecodeBinary(EncodeBinary(page), &page_out).ok());
  EXPECT_EQ(page_out.records, page.records);
  EXPECT_EQ(page_out.cursor, 42);
  EXPECT_TRUE(page_out.more);
  EXPECT_EQ(page_out.receipt_year, 2026);
}

TEST(HostileCodecTest, DeeplyNestedJsonIsRefusedNotACrash) {
  std::string body(200000, '[');
  ChangeSet cs;
  Status s = DecodeJson(body, &cs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nests deeper"), std::string::npos) << s.message();
  std::string in_string = "{\"id\":\"" + std::string(1000, '[') + "\"}";
  EXPECT_TRUE(json::CheckNesting(in_string, 2).ok());
}

}  // namespace
}  // namespace ocop::sync
