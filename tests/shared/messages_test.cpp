#include "shared/messages.h"

#include <gtest/gtest.h>

#include "shared/workflow.h"

namespace ocop::msg {
namespace {

const FieldDef& Field(const std::string& form, const std::string& key) {
  return *FormCatalog::Default().Find(form)->Field(key);
}

TEST(MessagesTest, TheCatalogueIsConsistent) {
  std::string problem;
  EXPECT_TRUE(CatalogueIsConsistent(&problem)) << problem;
}

TEST(MessagesTest, EveryStatusAndDecisionHasItsNameInBothLanguages) {
  for (const auto& form : FormCatalog::Default().Names())
    for (const auto& status : FormCatalog::Default().Find(form)->statuses) {
      const Label& l = StatusName(status);
      EXPECT_FALSE(l.vi.empty() || l.en.empty()) << form << " " << status;
    }
  for (const auto& d : workflow::Decisions()) {
    Label l = TextLabel(std::string("decision.") + d.name);
    EXPECT_NE(l.vi, std::string("decision.") + d.name) << d.name;
    Label role = TextLabel(std::string("role_long.") + d.role);
    EXPECT_NE(role.vi, std::string("role_long.") + d.role) << d.role;
  }
  EXPECT_EQ(StatusName("feasible", "vi"), "Khả thi");
  EXPECT_EQ(StatusName("feasible", "en"), "Feasible");
  EXPECT_EQ(StatusName("no_such_status", "vi"), "no_such_status");
}

TEST(MessagesTest, ValidationMessagesReadInTheUsersLanguage) {
  json::Var out;
  Status s = CheckValue(Field("idea", "phone"), std::string("12"), &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(Localise(s, "vi"), "«Số điện thoại»: '12' không phải số điện thoại (8 đến 12 chữ số)");
  EXPECT_EQ(Localise(s, "en"), "«Phone»: '12' is not a phone number of 8 to 12 digits");
  // A message inside another (the server's "record X: ...") is translated whole.
  Status nested = Status::Invalid("record 0190a4f2-0000-7000-8000-000000000001: " + s.message());
  EXPECT_EQ(Localise(nested, "vi"),
            "phiếu 0190a4f2-0000-7000-8000-000000000001: «Số điện thoại»: '12' không phải số điện thoại (8 đến 12 chữ số)");
  // Required fields and cross-field rules.
  json::Object empty;
  s = ValidateRecord(*FormCatalog::Default().Find("plan"), &empty, Completeness::kComplete, false);
  EXPECT_EQ(Localise(s, "vi"), "«Mã phiếu ý tưởng (đã được chọn)»: bắt buộc phải điền");
  // Workflow refusals name the role and the decision in Vietnamese.
  s = workflow::CheckTransition("plan", "submitted", "feasible", "officer", json::Object(), "2026-11-30");
  EXPECT_EQ(Localise(s, "vi"), "chỉ cán bộ điều phối được thực hiện bước này (đánh giá khả thi: submitted → feasible)");
  // A part named twice in a template must be the same text both times.
  s = workflow::CheckTransition("idea", "draft", "selected", "coordinator", json::Object(), "2026-11-30");
  EXPECT_EQ(Localise(s, "vi"), "phiếu không chuyển được từ 'draft' sang 'selected'; từ 'draft' chỉ có thể: submit (→ submitted)")
      << s.message();
  EXPECT_EQ(Localise("the idea form cannot go from 'a' to 'b'; from 'c' it may: x", "vi"),
            "the idea form cannot go from 'a' to 'b'; from 'c' it may: x");
  // A message the catalogue does not know is shown as written.
  EXPECT_EQ(Localise("something new happened", "vi"), "something new happened");
}

TEST(MessagesTest, HostileMessagesAreBoundedAndShownAsWritten) {
  // Quoted client input inside a message: nested separators the templates split on.
  std::string quoted(kMaxLocalisedBytes - 40, ':');
  for (size_t i = 0; i < quoted.size(); i += 3) quoted[i] = ' ';
  std::string m = "unknown form '" + quoted + "' (choose idea)";
  std::string vi = Localise(m, "vi");
  EXPECT_EQ(vi.rfind("không có loại phiếu '", 0), 0u) << vi.substr(0, 80);
  std::string huge = "record x: " + std::string(1 << 20, ':') + " is required";
  EXPECT_EQ(Localise(huge, "vi"), huge);  // too long to translate: as written, and no crash
}

TEST(MessagesTest, TextsFillTheirParts) {
  EXPECT_EQ(Text("ranked_this_year", "vi", {"2026"}), "Sản phẩm được xếp hạng năm 2026");
  EXPECT_EQ(Text("ranked_this_year", "en", {"2026"}), "Products ranked in 2026");
}

}  // namespace
}  // namespace ocop::msg
