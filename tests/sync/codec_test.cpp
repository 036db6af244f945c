#include "sync/codec.h"

#include <gtest/gtest.h>

#include "shared/ids.h"

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
