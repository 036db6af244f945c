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
      "21,5\n105.4\n\n");         // latitude, longitude, accuracy
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
      "\n\n\n\n");    // confirmed_by, position, confirmed_on, document_no
  std::ostringstream out;
  FormPrompter p(in, out, "vi");
  Status s = p.Fill(conf, &fields);
  ASSERT_TRUE(s.ok()) << s.message() << out.str();
  auto materials = fields.getArray("materials");
  ASSERT_EQ(materials->size(), 1u);
  EXPECT_EQ(materials->getObject(0)->getValue<std::string>("origin"), "commune");
  EXPECT_EQ(materials->getObject(0)->getValue<Poco::Int64>("local_value_vnd"), 4000000);
}

}  // namespace
}  // namespace ocop::client
