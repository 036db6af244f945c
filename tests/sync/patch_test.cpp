#include "sync/patch.h"

#include <gtest/gtest.h>

#include "sync/codec.h"

namespace ocop::sync {
namespace {

json::Object Parse(const std::string& text) {
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(text, &o).ok()) << text;
  return o ? *o : json::Object();
}

TEST(PatchTest, ChangedKeysNamesAddedRemovedAndChangedFields) {
  json::Object before = Parse(R"({"a":1,"b":"x","c":[1,2],"d":true})");
  json::Object after = Parse(R"({"a":1,"b":"y","c":[1,2],"e":null,"f":2.5})");
  EXPECT_EQ(ChangedKeys(before, after), (std::vector<std::string>{"b", "d", "e", "f"}));
  EXPECT_TRUE(ChangedKeys(after, after).empty());
}

TEST(PatchTest, FieldVersionsKeepTheLastChangeOfEachField) {
  std::string fv;
  ASSERT_TRUE(StampFieldVersions(&fv, {"phone", "address"}, 2, 40));
  ASSERT_TRUE(StampFieldVersions(&fv, {"phone"}, 3, 55));
  EXPECT_EQ(fv, "address 2 40\nphone 3 55\n");
  // A key that the text format cannot hold is refused, and the text is kept.
  EXPECT_FALSE(StampFieldVersions(&fv, {"bad key"}, 4, 60));
  EXPECT_FALSE(StampFieldVersions(&fv, {"line\nbreak"}, 4, 60));
  EXPECT_EQ(fv, "address 2 40\nphone 3 55\n");
}

TEST(PatchTest, APatchCarriesTheFieldsChangedAfterTheCompleteCursor) {
  // Created at seq 10 (version 1); address changed at version 2 (seq 40),
  // phone at version 3 (seq 55).
  std::string fv = "address 2 40\nphone 3 55\n";
  // Nothing held for sure, or created after the device's complete pull: whole.
  EXPECT_TRUE(PlanPatch(10, 1, fv, 0).whole);
  EXPECT_TRUE(PlanPatch(10, 1, fv, 9).whole);
  EXPECT_TRUE(PlanPatch(0, 0, "", 100).whole);  // stored before field versions were kept
  // Complete at 10: the device has version 1; address and phone changed since.
  PatchPlan p = PlanPatch(10, 1, fv, 10);
  EXPECT_FALSE(p.whole);
  EXPECT_EQ(p.base, 1);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"address", "phone"}));
  // Complete at 50: the device has at least version 2; only phone changed since.
  p = PlanPatch(10, 1, fv, 50);
  EXPECT_EQ(p.base, 2);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"phone"}));
  // Complete after every change: nothing to send but the record's own state.
  p = PlanPatch(10, 1, fv, 60);
  EXPECT_EQ(p.base, 3);
  EXPECT_TRUE(p.keys.empty());
}

TEST(PatchTest, PatchTextAndApplyPatchRoundTrip) {
  json::Object record = Parse(R"({"a":1,"b":"mới","c":[1]})");
  std::string patch = PatchText(record, {"b", "gone"});
  EXPECT_EQ(patch, R"({"b":"mới","gone":null})");
  std::string out;
  ASSERT_TRUE(ApplyPatch(R"({"a":1,"b":"cũ","gone":"x"})", patch, &out).ok());
  EXPECT_EQ(Parse(out).size(), 2u);
  EXPECT_EQ(Parse(out).getValue<std::string>("b"), "mới");
  EXPECT_FALSE(Parse(out).has("gone"));
  EXPECT_EQ(ApplyPatch("not json", patch, &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(ApplyPatch("{}", "[1]", &out).code(), Code::kInvalidArgument);
}

PullPage PageWithPatches() {
  PullPage p;
  RecordState whole, patch;
  whole.id = "r1";
  whole.fields = R"({"a":1})";
  patch.id = "r2";
  patch.fields = R"({"b":null})";
  p.records = {whole, patch};
  p.patch_bases = {0, 7};
  p.cursor = 12;
  return p;
}

TEST(PatchTest, PatchBasesTravelInBothEncodingsOnlyWhenPresent) {
  PullPage p = PageWithPatches();
  PullPage back;
  ASSERT_TRUE(DecodeBinary(EncodeBinary(p), &back).ok());
  EXPECT_EQ(back.patch_bases, p.patch_bases);
  EXPECT_EQ(back.records, p.records);
  ASSERT_TRUE(DecodeJson(EncodeJson(p), &back).ok());
  EXPECT_EQ(back.patch_bases, p.patch_bases);
  EXPECT_NE(EncodeJson(p).find("\"patch_bases\""), std::string::npos);
  // A page without patches is encoded exactly as before they existed.
  PullPage plain = p;
  plain.patch_bases.clear();
  EXPECT_EQ(EncodeJson(plain).find("patch_bases"), std::string::npos);
  EXPECT_EQ(EncodeBinary(plain).size() + 8 + 2 * 8, EncodeBinary(p).size());  // uint64 count + two int64
  ASSERT_TRUE(DecodeBinary(EncodeBinary(plain), &back).ok());
  EXPECT_TRUE(back.patch_bases.empty());
}

TEST(PatchTest, MalformedPatchBasesAreRefused) {
  PullPage p = PageWithPatches();
  p.patch_bases = {0};  // one base for two records
  PullPage back;
  EXPECT_EQ(DecodeBinary(EncodeBinary(p), &back).code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodeJson(EncodeJson(p), &back).code(), Code::kInvalidArgument);
  p.patch_bases = {0, -3};
  EXPECT_EQ(DecodeBinary(EncodeBinary(p), &back).code(), Code::kInvalidArgument);
  // Bytes after the bases are still refused.
  std::string bytes = EncodeBinary(PageWithPatches()) + "x";
  EXPECT_EQ(DecodeBinary(bytes, &back).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ocop::sync
