// The carried-file format alone (its HMAC is tested in tests/shared/hash_test.cpp): a round
// trip, and files that are cut, padded, re-signed by another key or whose
// header disagrees with their contents.
#include "sync/carried.h"

#include <gtest/gtest.h>

#include "shared/ids.h"
#include "sync/codec.h"

namespace ocop::sync::carried {
namespace {

CarriedFile Sample() {
  CarriedFile f;
  f.kind = "changes";
  f.device = ids::NewUuid();
  f.user = "lan";
  f.unit = "08800";
  f.created_at = "2026-11-30T01:00:00.000Z";
  ChangeSet cs;
  cs.id = ids::NewUuid();
  cs.device = f.device;
  Change c;
  c.change_id = ids::NewUuid();
  c.record_id = ids::NewUuid();
  c.form = "idea";
  c.unit = "08800";
  c.op = op::kCreate;
  c.fields = {{"product_name", "null", "\"Ổi Đôn Nhân\""}};
  c.author = "lan";
  c.device = f.device;
  c.hlc = "001795453200000-00000";
  cs.changes.push_back(c);
  f.change_sets.push_back(cs);
  f.photos.push_back({"", c.record_id, "\xFF\xD8 photo bytes"});
  return f;
}

TEST(CarriedTest, AFileReadsBackAndOnlyItsOwnKeyVerifiesIt) {
  CarriedFile f = Sample();
  f.photos.clear();
  std::string key = NewDeviceKey(), other = NewDeviceKey();
  ASSERT_EQ(key.size(), 64u);
  std::string bytes = Write(f, key);
  EXPECT_EQ(bytes.rfind(kMagic, 0), 0u);
  CarriedFile back;
  ASSERT_TRUE(Read(bytes, &back).ok());
  EXPECT_EQ(back.device, f.device);
  ASSERT_EQ(back.change_sets.size(), 1u);
  EXPECT_EQ(back.change_sets[0], f.change_sets[0]);
  EXPECT_TRUE(CheckSignature(bytes, key).ok());
  EXPECT_EQ(CheckSignature(bytes, other).code(), Code::kPermissionDenied);
  // Re-signed by another device's key: structurally fine, refused by the key check.
  std::string resigned = Write(f, other);
  EXPECT_TRUE(Read(resigned, &back).ok());
  EXPECT_EQ(CheckSignature(resigned, key).code(), Code::kPermissionDenied);
}

TEST(CarriedTest, DamagedFilesAreRefusedWithTheirReason) {
  CarriedFile f = Sample();
  f.photos.clear();
  std::string bytes = Write(f, NewDeviceKey());
  CarriedFile out;
  auto refused = [&](const std::string& b, const std::string& words) {
    Status s = Read(b, &out);
    EXPECT_FALSE(s.ok()) << words;
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  refused(bytes.substr(0, bytes.size() - 1), "length");
  refused(bytes + "x", "length");
  refused(bytes.substr(0, 10), "not a carried file");
  refused("", "not a carried file");
  std::string flipped = bytes;
  flipped[bytes.find('\n', 20) + 30] ^= 0x40;
  refused(flipped, "checksum");
  std::string header = bytes;
  size_t at = header.find("\"format\":1");
  ASSERT_NE(at, std::string::npos);
  header.replace(at, 10, "\"format\":2");
  refused(header, "format");
  // A change set of another device inside a file naming this one.
  CarriedFile mixed = Sample();
  mixed.photos.clear();
  mixed.change_sets[0].device = ids::NewUuid();
  refused(Write(mixed, NewDeviceKey()), "another device");
  // A photo whose bytes are not its SHA-256.
  CarriedFile photo = Sample();
  photo.photos[0].sha256 = std::string(64, 'a');
  refused(Write(photo, NewDeviceKey()), "photo");
  // A return file may not carry change sets.
  CarriedFile ret = Sample();
  ret.photos.clear();
  ret.kind = "return";
  refused(Write(ret, NewDeviceKey()), "return file");
  EXPECT_FALSE(CheckSignature("short", NewDeviceKey()).ok());
}

}  // namespace
}  // namespace ocop::sync::carried
