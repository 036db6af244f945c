#include "client/cli/form_prompt.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ocop::client {
namespace {

TEST(FormPromptTest, WalksTheFormReasksAndSkipsOptionalFields) {
  const FormSchema& visit = *FormCatalog::Default().Find("visit");
  // visited_on: a bad date first, then a good one; optional fields left empty;
  // purpose by number; findings required: empty first, then text.
  std::istringstream in(
      "31/02/2026\n24/11/2026\n"  // visited_on
      "\n"                        // visited_at
      "\n"                        // officers
      "\n"                        // idea_id
      "\n"                        // subject_name
      "9\n2\n"                    // purpose: out of range, then inspection
      "\nVườn ổi sạch\n"          // findings: required
      "\n\n"                      // recommendations, follow_up_on
      "21,5\n105.4\n\n"           // latitude, longitude, accuracy
      "\n");                      // the review: Enter saves
  std::ostringstream out;
  FormPrompter p(in, out, "vi");
  json::Object fields;
  Status s = p.Fill(visit, &fields);
  ASSERT_TRUE(s.ok()) << s.message() << "\n" << out.str();
  EXPECT_EQ(fields.getValue<std::string>("visited_on"), "2026-11-24");
  EXPECT_EQ(fields.getValue<std::string>("purpose"), "inspection");
  EXPECT_EQ(fields.getValue<std::string>("findings"), "Vườn ổi sạch");
  EXPECT_DOUBLE_EQ(fields.getValue<double>("latitude"), 21.5);
  EXPECT_FALSE(fields.has("officers"));
  std::string shown = out.str();
  EXPECT_NE(shown.find("Ngày thăm"), std::string::npos);            // Vietnamese labels
  EXPECT_NE(shown.find("is not a date"), std::string::npos);        // the reason for re-asking
  EXPECT_NE(shown.find("mục này bắt buộc"), std::string::npos);     // required field left empty
}

TEST(FormPromptTest, EnglishLabelsOnRequest) {
  const FormSchema& visit = *FormCatalog::Default().Find("visit");
  std::istringstream in("");
  std::ostringstream out;
  FormPrompter p(in, out, "en");
  json::Object fields;
  EXPECT_FALSE(p.Fill(visit, &fields).ok());  // input ended
  EXPECT_NE(out.str().find("Date of visit"), std::string::npos);
}

TEST(FormPromptTest, ListItemsAreAsked) {
  const FormSchema& conf = *FormCatalog::Default().Find("confirmation");
  json::Object fields;
  fields.set("idea_id", "01a20b70-f8e5-74cb-b587-824a74cea41e");
  std::istringstream in(
      "\n\n"          // product_name, subject_name
      "2026\n10\n8\n" // year, total, local
      "\n\n\n\n"      // women, ethnic, income, standard
      "có\nỔi\nkg\n1000\n5000000\n4000000\n1\n"  // one material
      "không\n"       // no more
      "\n\n\n\n"      // confirmed_by, position, confirmed_on, document_no
      "c\n");         // the review: save
  std::ostringstream out;
  FormPrompter p(in, out, "vi");
  Status s = p.Fill(conf, &fields);
  ASSERT_TRUE(s.ok()) << s.message() << out.str();
  auto materials = fields.getArray("materials");
  ASSERT_EQ(materials->size(), 1u);
  EXPECT_EQ(materials->getObject(0)->getValue<std::string>("origin"), "commune");
  EXPECT_EQ(materials->getObject(0)->getValue<Poco::Int64>("local_value_vnd"), 4000000);
}

// "<" goes back a field; the review shows what was typed, a number edits that
// field, "h" cancels (nothing saved), Enter saves.
TEST(FormPromptTest, BackReviewEditAndCancel) {
  const FormSchema& visit = *FormCatalog::Default().Find("visit");
  auto fill = [&](const std::string& typed, json::Object* fields, std::string* shown) {
    std::istringstream in(typed);
    std::ostringstream out;
    FormPrompter p(in, out, "vi");
    Status s = p.Fill(visit, fields);
    *shown = out.str();
    return s;
  };
  const std::string fields_in_order =
      "24/11/2026\n"  // visited_on
      "09:30\n"       // visited_at
      "<\n"           // back to visited_at...
      "<\n"           // ...and to visited_on
      "25/11/2026\n"  // visited_on again
      "10:00\n\n\n\n2\nSạch\n\n\n\n\n\n";
  json::Object fields;
  std::string shown;
  Status s = fill(fields_in_order + "3\nAn, Bình\n\n", &fields, &shown);  // review: edit field 3 (officers), then save
  ASSERT_TRUE(s.ok()) << s.message() << shown;
  EXPECT_EQ(fields.getValue<std::string>("visited_on"), "2026-11-25");
  EXPECT_EQ(fields.getValue<std::string>("officers"), "An, Bình");
  EXPECT_NE(shown.find("Kiểm tra trước khi lưu"), std::string::npos) << shown;
  EXPECT_NE(shown.find("1. Ngày thăm: 25/11/2026"), std::string::npos) << shown;
  EXPECT_NE(shown.find("Kiểm tra cơ sở sản xuất"), std::string::npos) << "choices by label: " << shown;
  json::Object cancelled;
  s = fill(fields_in_order + "h\n", &cancelled, &shown);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.message();
  // Input that ends midway leaves what was typed, for the caller to keep as a draft.
  json::Object partial;
  s = fill("24/11/2026\n09:30\n", &partial, &shown);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(partial.getValue<std::string>("visited_on"), "2026-11-24");
  EXPECT_EQ(partial.getValue<std::string>("visited_at"), "09:30");
}

}  // namespace
}  // namespace ocop::client
