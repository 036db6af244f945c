#include "shared/forms.h"
#include "shared/clock.h"
#include "shared/dates.h"

#include <gtest/gtest.h>

#include "shared/messages.h"

namespace ocop {
namespace {

using json::Var;

const FormSchema& Idea() { return *FormCatalog::Default().Find("idea"); }
const FormSchema& Confirmation() { return *FormCatalog::Default().Find("confirmation"); }
const FormSchema& Visit() { return *FormCatalog::Default().Find("visit"); }

Status Typed(const FormSchema& s, const std::string& key, const std::string& typed, Var* out) {
  return ParseInput(*s.Field(key), typed, out);
}
bool Accepts(const FormSchema& s, const std::string& key, const std::string& typed) {
  Var v;
  return Typed(s, key, typed, &v).ok();
}

json::Object ValidIdea() {
  json::Object o;
  o.set("subject_name", "HTX Ổi Đôn Nhân");
  o.set("subject_kind", "cooperative");
  o.set("product_name", "Ổi Đôn Nhân");
  o.set("product_group", Poco::Int64(1));
  o.set("description", "Ổi giòn ngọt");
  return o;
}

TEST(FormsTest, DecimalsAreReadAsVietnameseWritesThem) {
  auto read = [](const std::string& typed) {
    Var v;
    Status s = Typed(Idea(), "expected_output", typed, &v);
    return s.ok() ? v.convert<double>() : -1.0;
  };
  EXPECT_DOUBLE_EQ(read("2.000"), 2000);        // a thousands dot, as on paper
  EXPECT_DOUBLE_EQ(read("1.500.000"), 1500000);
  EXPECT_DOUBLE_EQ(read("1.500,5"), 1500.5);
  EXPECT_DOUBLE_EQ(read("2,5"), 2.5);
  EXPECT_DOUBLE_EQ(read("1,500.5"), 1500.5);    // the other convention, when both marks appear
  EXPECT_DOUBLE_EQ(read("12.5"), 12.5);         // not three digits after it: a decimal point
  EXPECT_DOUBLE_EQ(read("0.125"), 0.125);
  EXPECT_DOUBLE_EQ(read("2 000"), 2000);
  EXPECT_DOUBLE_EQ(read("nhiều"), -1.0);
  EXPECT_DOUBLE_EQ(read("1.5.0,0,0"), -1.0);
  Var v;
  ASSERT_TRUE(Typed(Visit(), "latitude", "21.4512", &v).ok());
  EXPECT_DOUBLE_EQ(v.convert<double>(), 21.4512);
}

TEST(FormsTest, CatalogHasTheThreeFormsWithContractKeys) {
  for (const char* k : {"subject_name", "subject_kind", "product_name", "product_group", "description"})
    EXPECT_NE(Idea().Field(k), nullptr) << k;
  for (const char* k : {"idea_id", "year", "workers_total", "workers_local", "materials", "local_labour_ratio",
                        "local_material_ratio"})
    EXPECT_NE(Confirmation().Field(k), nullptr) << k;
  for (const char* k : {"visited_on", "purpose", "findings", "latitude", "longitude"})
    EXPECT_NE(Visit().Field(k), nullptr) << k;
  EXPECT_EQ(Idea().statuses, (std::vector<std::string>{"draft", "submitted", "returned", "accepted", "selected", "not_selected"}));
  auto materials = Confirmation().Field("materials");
  for (const char* k : {"name", "value_vnd", "local_value_vnd", "origin"}) {
    bool found = false;
    for (const auto& f : materials->item_fields) found |= f.key == k;
    EXPECT_TRUE(found) << k;
  }
}

// Dates within plausible bounds: no year before 1990 or from 2100, and a
// visit (something that happened) not later than tomorrow; a follow-up may be
// planned ahead.
TEST(FormsTest, DatesArePlausibleAndPastEventsAreNotInTheFuture) {
  const FieldDef& visited = *Visit().Field("visited_on");
  const FieldDef& follow_up = *Visit().Field("follow_up_on");
  json::Var out;
  std::string today = dates::IsoDateFromMillis(SystemClock::Get().NowMillis());
  EXPECT_TRUE(CheckValue(visited, today, &out).ok());
  EXPECT_TRUE(CheckValue(visited, dates::AddDays(today, 1), &out).ok()) << "a day's grace for clocks";
  Status s = CheckValue(visited, dates::AddDays(today, 3), &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("is in the future"), std::string::npos) << s.message();
  EXPECT_EQ(CheckValue(visited, "01/12/2099", &out).code(), Code::kInvalidArgument);
  EXPECT_TRUE(CheckValue(follow_up, dates::AddDays(today, 90), &out).ok());
  s = CheckValue(follow_up, "2109-01-01", &out);
  EXPECT_NE(s.message().find("not a plausible date"), std::string::npos) << s.message();
  EXPECT_EQ(CheckValue(visited, "12/05/1969", &out).code(), Code::kInvalidArgument);
}

TEST(FormsTest, NumbersAndListsReadAsAPersonWritesThem) {
  EXPECT_EQ(NumberText(1500000, "vi"), "1.500.000");
  EXPECT_EQ(NumberText(1500000, "en"), "1,500,000");
  EXPECT_EQ(NumberText(21.4512, "vi"), "21,4512");
  EXPECT_EQ(NumberText(-1234.5, "vi"), "-1.234,5");
  EXPECT_EQ(NumberText(2026, "vi", false), "2026");
  EXPECT_EQ(DisplayJson(Confirmation().Field("year"), "2026", "vi"), "2026") << "years are not grouped";
  EXPECT_EQ(DisplayJson(Confirmation().Field("materials"), R"([{"name":"Ổi"},{"name":"Đường"},{"name":"Muối"}])", "vi"),
            "3 nguyên liệu");
  EXPECT_EQ(DisplayJson(Idea().Field("status"), "\"submitted\"", "vi"), "Đã tiếp nhận");
  EXPECT_EQ(DisplayJson(Idea().Field("status"), "null", "en"), "(empty)");
  EXPECT_EQ(DisplayJson(Visit().Field("visited_on"), "\"2026-11-24\"", "vi"), "24/11/2026");
}

TEST(FormsTest, IntegerRangeBothSides) {
  EXPECT_FALSE(Accepts(Idea(), "product_group", "0"));
  EXPECT_TRUE(Accepts(Idea(), "product_group", "1"));
  EXPECT_TRUE(Accepts(Idea(), "product_group", "6"));
  EXPECT_FALSE(Accepts(Idea(), "product_group", "7"));
  EXPECT_FALSE(Accepts(Idea(), "product_group", "1.5"));
  EXPECT_FALSE(Accepts(Idea(), "product_group", "một"));
  Var v;
  EXPECT_TRUE(Typed(Idea(), "retail_price_vnd", "1.500.000", &v).ok());
  EXPECT_EQ(v.convert<Poco::Int64>(), 1500000);
}

TEST(FormsTest, NumberRangeBothSides) {
  EXPECT_TRUE(Accepts(Visit(), "latitude", "-90"));
  EXPECT_FALSE(Accepts(Visit(), "latitude", "-90.0001"));
  EXPECT_TRUE(Accepts(Visit(), "latitude", "90"));
  EXPECT_FALSE(Accepts(Visit(), "latitude", "90.5"));
  EXPECT_TRUE(Accepts(Visit(), "longitude", "105,42"));  // decimal comma
  EXPECT_FALSE(Accepts(Visit(), "longitude", "180.1"));
}

TEST(FormsTest, TextLengthBothSides) {
  const FieldDef& f = *Idea().Field("subject_name");
  ASSERT_EQ(f.max_length, 200u);
  std::string exactly(200, 'a');
  Var v;
  EXPECT_TRUE(CheckValue(f, Var(exactly), &v).ok());
  EXPECT_FALSE(CheckValue(f, Var(exactly + "a"), &v).ok());
  // Length counts characters, not bytes: 200 Vietnamese letters fit.
  std::string viet;
  for (int i = 0; i < 200; ++i) viet += "ộ";
  EXPECT_TRUE(CheckValue(f, Var(viet), &v).ok());
}

TEST(FormsTest, TextIsStoredAsNfc) {
  Var v;
  ASSERT_TRUE(CheckValue(*Idea().Field("subject_name"), Var(std::string("\xC4\x90o\xCC\x82n Nha\xCC\x82n")), &v).ok());
  EXPECT_EQ(v.convert<std::string>(), "Đôn Nhân");
}

TEST(FormsTest, ControlCharactersAreRefusedLineBreaksOnlyInMultiLineFields) {
  Var v;
  // One-line fields: no NUL, no line break, no escape, no DEL, no C1 control.
  for (const std::string& bad : {std::string("HTX\0Ổi", 7), std::string("HTX\nỔi"), std::string("HTX\x1b[31m"),
                                std::string("HTX\x7f"), std::string("HTX\xc2\x85")}) {
    Status s = Typed(Idea(), "product_name", bad, &v);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("U+"), std::string::npos) << s.message();
  }
  // Through the stored-value check too (what the server runs on a pushed change).
  Status stored = CheckValue(*Idea().Field("product_name"), Var(std::string("a\0b", 3)), &v);
  EXPECT_EQ(stored.code(), Code::kInvalidArgument);
  EXPECT_NE(msg::Localise(stored, "vi").find("ký tự điều khiển"), std::string::npos) << msg::Localise(stored, "vi");
  // A multi-line field keeps line breaks and tabs; CR LF becomes LF; NUL is still refused.
  ASSERT_TRUE(Typed(Idea(), "description", "Dòng một\r\nDòng hai\tcột", &v).ok());
  EXPECT_EQ(v.convert<std::string>(), "Dòng một\nDòng hai\tcột");
  EXPECT_FALSE(Accepts(Idea(), "description", std::string("a\0b", 3)));
  EXPECT_FALSE(Accepts(Idea(), "description", "a\rb"));
  // Vietnamese letters (and their combining marks before NFC) are not controls.
  EXPECT_TRUE(Accepts(Idea(), "product_name", "Chè Shan tuyết Tây Côn Lĩnh"));
  EXPECT_TRUE(Accepts(Idea(), "product_name", "Che\xcc\x80"));
}

TEST(FormsTest, InvalidUtf8IsRefused) {
  Var v;
  Status s = CheckValue(*Idea().Field("subject_name"), Var(std::string("\xC3(")), &v);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("UTF-8"), std::string::npos);
}

TEST(FormsTest, ChoicesByValueNumberOrLabel) {
  Var v;
  ASSERT_TRUE(Typed(Idea(), "subject_kind", "household", &v).ok());
  EXPECT_EQ(v.convert<std::string>(), "household");
  ASSERT_TRUE(Typed(Idea(), "subject_kind", "2", &v).ok());
  EXPECT_EQ(v.convert<std::string>(), "cooperative");
  ASSERT_TRUE(Typed(Idea(), "subject_kind", "hop tac xa", &v).ok());
  EXPECT_EQ(v.convert<std::string>(), "cooperative");
  Status s = Typed(Idea(), "subject_kind", "company", &v);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("enterprise"), std::string::npos);  // lists the choices
  EXPECT_FALSE(Accepts(Idea(), "subject_kind", "5"));
}

TEST(FormsTest, MultiChoiceAndBool) {
  Var v;
  ASSERT_TRUE(Typed(Idea(), "support_needed", "training, 4", &v).ok());
  EXPECT_EQ(json::ToText(v), "[\"training\",\"trademark\"]");
  EXPECT_FALSE(Accepts(Idea(), "support_needed", "training,magic"));
  ASSERT_TRUE(Typed(Idea(), "is_new_idea", "có", &v).ok());
  EXPECT_TRUE(v.extract<bool>());
  ASSERT_TRUE(Typed(Idea(), "is_new_idea", "không", &v).ok());
  EXPECT_FALSE(v.extract<bool>());
  EXPECT_FALSE(Accepts(Idea(), "is_new_idea", "maybe"));
}

TEST(FormsTest, PatternsAndDates) {
  EXPECT_TRUE(Accepts(Idea(), "phone", "0912 345 678"));
  EXPECT_TRUE(Accepts(Idea(), "phone", "+84912345678"));
  EXPECT_FALSE(Accepts(Idea(), "phone", "1234567"));
  EXPECT_FALSE(Accepts(Idea(), "phone", "09123abc78"));
  EXPECT_TRUE(Accepts(Visit(), "visited_at", "23:59"));
  EXPECT_FALSE(Accepts(Visit(), "visited_at", "24:00"));
  Var v;
  ASSERT_TRUE(Typed(Visit(), "visited_on", "05/03/2026", &v).ok());
  EXPECT_EQ(v.convert<std::string>(), "2026-03-05");
  EXPECT_FALSE(Accepts(Visit(), "visited_on", "31/02/2026"));
  // A typed reference is left for the device's store to resolve (a prefix, a
  // receipt number); the stored value must be a record id.
  EXPECT_TRUE(Accepts(Confirmation(), "idea_id", "01a232cf"));
  EXPECT_FALSE(CheckValue(*Confirmation().Field("idea_id"), Var("not-an-id"), &v).ok());
}

TEST(FormsTest, WrongJsonTypesAreRefused) {
  Var v;
  EXPECT_FALSE(CheckValue(*Idea().Field("product_group"), Var(std::string("1")), &v).ok());
  EXPECT_FALSE(CheckValue(*Idea().Field("product_group"), Var(true), &v).ok());
  EXPECT_FALSE(CheckValue(*Idea().Field("subject_name"), Var(Poco::Int64(3)), &v).ok());
  EXPECT_FALSE(CheckValue(*Idea().Field("is_new_idea"), Var(Poco::Int64(1)), &v).ok());
}

TEST(FormsTest, RecordRequiresFieldsAndRefusesUnknownOnes) {
  json::Object o = ValidIdea();
  EXPECT_TRUE(ValidateRecord(Idea(), &o, Completeness::kComplete, false).ok());
  json::Object missing = ValidIdea();
  missing.remove("product_name");
  Status s = ValidateRecord(Idea(), &missing, Completeness::kComplete, false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("product_name"), std::string::npos);
  EXPECT_TRUE(ValidateRecord(Idea(), &missing, Completeness::kPartial, false).ok());
  json::Object unknown = ValidIdea();
  unknown.set("colour", "red");
  s = ValidateRecord(Idea(), &unknown, Completeness::kComplete, false);
  EXPECT_NE(s.message().find("colour"), std::string::npos);
  json::Object system = ValidIdea();
  system.set("receipt_no", "1/PĐK-26-253-2026");
  EXPECT_FALSE(ValidateRecord(Idea(), &system, Completeness::kComplete, false).ok());
  EXPECT_TRUE(ValidateRecord(Idea(), &system, Completeness::kComplete, true).ok());
}

TEST(FormsTest, CrossFieldRules) {
  json::Object o;
  o.set("idea_id", "01a20b70-f8e5-74cb-b587-824a74cea41e");
  o.set("year", Poco::Int64(2026));
  o.set("workers_total", Poco::Int64(10));
  o.set("workers_local", Poco::Int64(10));
  EXPECT_TRUE(ValidateRecord(Confirmation(), &o, Completeness::kComplete, false).ok());
  o.set("workers_local", Poco::Int64(11));
  EXPECT_FALSE(ValidateRecord(Confirmation(), &o, Completeness::kComplete, false).ok());
}

TEST(FormsTest, MaterialsListItemsAreChecked) {
  const FieldDef& f = *Confirmation().Field("materials");
  Var v;
  ASSERT_TRUE(ParseInput(f, R"([{"name":"Ổi","value_vnd":100,"local_value_vnd":100,"origin":"commune"}])", &v).ok());
  auto item = v.extract<json::Array::Ptr>()->getObject(0);
  EXPECT_TRUE(item->has("item_id"));  // items get an identity so lists merge by item
  Status s = ParseInput(f, R"([{"name":"Ổi","value_vnd":100,"local_value_vnd":101,"origin":"commune"}])", &v);
  EXPECT_NE(s.message().find("local_value_vnd"), std::string::npos);
  s = ParseInput(f, R"([{"name":"Ổi","value_vnd":100,"local_value_vnd":1,"origin":"mars"}])", &v);
  EXPECT_NE(s.message().find("origin"), std::string::npos);
  s = ParseInput(f, R"([{"value_vnd":100,"local_value_vnd":1,"origin":"commune"}])", &v);
  EXPECT_NE(s.message().find("name"), std::string::npos);
  s = ParseInput(f, R"({"name":"x"})", &v);
  EXPECT_FALSE(s.ok());
}

TEST(FormsTest, SchemaFilesAreCheckedWhenLoaded) {
  FormSchema s;
  EXPECT_FALSE(FormCatalog::ParseSchema("{", &s).ok());
  EXPECT_FALSE(FormCatalog::ParseSchema(R"({"form":"x","version":1,"statuses":["a"],"initial_status":"b","fields":[]})", &s).ok());
  EXPECT_FALSE(FormCatalog::ParseSchema(R"({"form":"x","version":1,"statuses":["a"],"initial_status":"a","fields":[{"key":"k","type":"blob"}]})", &s).ok());
  EXPECT_TRUE(FormCatalog::ParseSchema(R"({"form":"x","version":1,"statuses":["a"],"initial_status":"a","fields":[{"key":"k","type":"text"}]})", &s).ok());
}

// The embedded idea form as `version`, with `edit` applied to its text.
std::string IdeaText(int version, const std::string& from = "", const std::string& to = "") {
  std::string text = FormCatalog::Embedded().Find("idea")->source;
  const std::string v1 = "\"version\": 1";
  text.replace(text.find(v1), v1.size(), "\"version\": " + std::to_string(version));
  if (!from.empty()) text.replace(text.find(from), from.size(), to);
  return text;
}

const char* kFieldsStart = "\"fields\": [";

TEST(PublishFormTest, ANewVersionMayAddRemoveAndRelabelFieldsAndSaysWhat) {
  // A field added, one relabelled, one dropped.
  FormSchema v2;
  std::string text = IdeaText(2, kFieldsStart, std::string(kFieldsStart) + R"({"key": "vietgap", "type": "bool", "label": {"vi": "VietGAP"}},)");
  text.replace(text.find("Tên thương hiệu dự kiến"), std::string("Tên thương hiệu dự kiến").size(), "Tên thương hiệu");
  const std::string packaging = R"({"key": "packaging", "type": "text", "max_length": 200,
     "label": {"vi": "Quy cách đóng gói", "en": "Packaging per unit"}},)";
  ASSERT_NE(text.find(packaging), std::string::npos);
  text.erase(text.find(packaging), packaging.size());
  ASSERT_TRUE(FormCatalog::ParseSchema(text, &v2).ok());
  std::vector<FieldDifference> diff;
  ASSERT_TRUE(CheckPublishable(FormCatalog::Embedded(), v2, &diff).ok());
  ASSERT_EQ(diff.size(), 3u);
  EXPECT_EQ(diff[0].kind, FieldDifference::kAdded);
  EXPECT_EQ(diff[0].key, "vietgap");
  EXPECT_EQ(diff[1].kind, FieldDifference::kChanged);
  EXPECT_EQ(diff[1].key, "brand_name");
  EXPECT_EQ(diff[1].what, std::vector<std::string>{"label"});
  EXPECT_EQ(diff[2].kind, FieldDifference::kRemoved);
  EXPECT_EQ(diff[2].key, "packaging");
  // Both versions stay: a record keeps the one it was written with.
  FormCatalog c = FormCatalog::Embedded();
  ASSERT_TRUE(c.Add(v2).ok());
  EXPECT_EQ(c.Find("idea")->version, 2);
  json::Object old_record, new_record;
  new_record.set(kFormVersionKey, 2);
  EXPECT_EQ(c.ForRecord("idea", old_record)->version, 1);
  EXPECT_TRUE(c.ForRecord("idea", old_record)->Field("packaging"));
  EXPECT_EQ(c.ForRecord("idea", new_record)->version, 2);
  EXPECT_FALSE(c.ForRecord("idea", new_record)->Field("packaging"));
  new_record.set(kFormVersionKey, 3);
  EXPECT_EQ(c.ForRecord("idea", new_record), nullptr);  // not on this device yet
  EXPECT_EQ(c.Shown("idea", new_record)->version, 2);   // shown with the newest it has
  EXPECT_EQ(c.Add(v2).code(), Code::kAlreadyExists);
  // An export's columns: every version's fields, the newest's first.
  FormSchema all = c.AllFields("idea");
  EXPECT_TRUE(all.Field("vietgap"));
  EXPECT_TRUE(all.Field("packaging"));
  EXPECT_EQ(all.fields.back().key, "packaging");
  json::Object stamped;
  StampFormVersion(*c.Find("idea"), &stamped);
  EXPECT_EQ(stamped.getValue<int>(kFormVersionKey), 2);
  StampFormVersion(*c.Find("idea", 1), &stamped);
  EXPECT_FALSE(stamped.has(kFormVersionKey));  // version 1 records look as they always did
}

TEST(PublishFormTest, WhatWouldBreakRecordsAlreadyWrittenIsRefusedWithTheReason) {
  std::vector<FieldDifference> diff;
  auto refused = [&](const std::string& text, const std::string& reason, const FormCatalog& over) {
    FormSchema next;
    Status s = FormCatalog::ParseSchema(text, &next);
    if (s.ok()) s = CheckPublishable(over, next, &diff);
    EXPECT_FALSE(s.ok()) << text.substr(0, 80);
    EXPECT_NE(s.message().find(reason), std::string::npos) << s.message();
  };
  const FormCatalog& embedded = FormCatalog::Embedded();
  refused(IdeaText(2, R"("key": "product_group", "type": "integer")", R"("key": "product_group", "type": "text")"),
          "Product group (1–6)) was integer in version 1 and cannot become text", embedded);
  refused(IdeaText(1), "is at version 1 already: publish version 2", embedded);
  refused(IdeaText(2, R"("form": "idea")", R"("form": "rice")"), "unknown form 'rice'", embedded);
  refused(IdeaText(2, R"("initial_status": "draft")", R"("initial_status": "submitted")"), "statuses", embedded);
  refused(IdeaText(2, kFieldsStart, std::string(kFieldsStart) + R"({"key": "form_version", "type": "integer"},)"),
          "system's own fields", embedded);
  // A key removed in version 2 may come back in version 3 only with its old type.
  FormCatalog c = embedded;
  FormSchema v2;
  const std::string phone = R"({"key": "phone", "type": "text", "max_length": 15, "pattern": "phone",
     "label": {"vi": "Số điện thoại", "en": "Phone"}},)";
  std::string without_phone = IdeaText(2);
  ASSERT_NE(without_phone.find(phone), std::string::npos);
  without_phone.erase(without_phone.find(phone), phone.size());
  ASSERT_TRUE(FormCatalog::ParseSchema(without_phone, &v2).ok());
  ASSERT_TRUE(CheckPublishable(c, v2, &diff).ok());
  ASSERT_TRUE(c.Add(v2).ok());
  std::string v3 = without_phone;
  v3.replace(v3.find("\"version\": 2"), 12, "\"version\": 3");
  v3.insert(v3.find(kFieldsStart) + std::string(kFieldsStart).size(), R"({"key": "phone", "type": "integer"},)");
  refused(v3, "Phone) was text in version 1 and cannot become integer", c);
}

TEST(PublishFormTest, InstalledFormsAreInForceAndTheBuiltInOnesStay) {
  std::string v2 = IdeaText(2, kFieldsStart, std::string(kFieldsStart) + R"({"key": "vietgap", "type": "bool", "label": {"vi": "VietGAP"}},)");
  const FormCatalog& before = FormCatalog::Default();
  ASSERT_TRUE(FormCatalog::Install({v2}).ok());
  EXPECT_EQ(FormCatalog::Default().Find("idea")->version, 2);
  EXPECT_TRUE(FormCatalog::Default().Find("idea")->Field("vietgap"));
  EXPECT_EQ(FormCatalog::Embedded().Find("idea")->version, 1);
  EXPECT_EQ(before.Find("idea")->version, 1);  // what a request holds stays valid and unchanged
  // A list that cannot be put in force changes nothing.
  EXPECT_FALSE(FormCatalog::Install({v2, IdeaText(3, R"("type": "integer")", R"("type": "text")")}).ok());
  EXPECT_EQ(FormCatalog::Default().Find("idea")->version, 2);
  ASSERT_TRUE(FormCatalog::Install({}).ok());
  EXPECT_EQ(FormCatalog::Default().Find("idea")->version, 1);
}

}  // namespace
}  // namespace ocop
