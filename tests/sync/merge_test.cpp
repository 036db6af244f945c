#include "sync/merge.h"

#include <gtest/gtest.h>

namespace ocop::sync {
namespace {

using Kind = MergeResult::Kind;

CurrentRecord Current(const std::string& fields_json, int64_t version = 3, bool deleted = false) {
  CurrentRecord c;
  c.exists = true;
  c.version = version;
  c.deleted = deleted;
  json::Object::Ptr o;
  EXPECT_TRUE(json::ParseObject(fields_json, &o).ok());
  c.fields = *o;
  return c;
}

Change Update(std::vector<FieldChange> fields, int64_t base = 3) {
  Change c;
  c.change_id = "c";
  c.record_id = "r";
  c.op = op::kUpdate;
  c.base_version = base;
  c.fields = std::move(fields);
  return c;
}

TEST(MergeTest, CreateOnNewRecordApplies) {
  Change c = Update({{"a", "null", "1"}}, 0);
  c.op = op::kCreate;
  CurrentRecord none;
  auto r = Merge(none, c);
  EXPECT_EQ(r.kind, Kind::kApplied);
  EXPECT_EQ(json::ToText(r.fields), "{\"a\":1}");
}

// MergeNew is Merge for a record the server never had, with the values parsed
// once: the same answer in every case, including the ones it hands back to Merge.
TEST(MergeTest, MergeOfANewRecordGivesMergesAnswer) {
  auto parsed = [](const Change& c) {
    json::Object o;
    for (const auto& f : c.fields) {
      json::Var v;
      EXPECT_TRUE(json::Parse(f.new_value, &v).ok());
      if (!v.isEmpty()) o.set(f.key, v);
    }
    return o;
  };
  Change plain = Update({{"a", "null", "1"}, {"b", "null", "\"Xã Đông\""}, {"c", "null", "null"}}, 0);
  plain.op = op::kCreate;
  Change with_base = plain;  // a base value that was never there: a conflict, as Merge says
  with_base.fields[0].old_value = "2";
  Change twice = plain;  // the same key twice
  twice.fields.push_back({"a", "null", "3"});
  Change all_null = Update({{"a", "null", "null"}}, 0);
  all_null.op = op::kCreate;
  for (const Change& c : {plain, with_base, twice, all_null}) {
    const CurrentRecord none;
    auto expected = Merge(none, c);
    auto got = MergeNew(parsed(c), c);
    EXPECT_EQ(got.kind, expected.kind);
    EXPECT_EQ(json::ToText(got.fields), json::ToText(expected.fields));
    EXPECT_EQ(got.applied, expected.applied);
    EXPECT_EQ(got.conflicts.size(), expected.conflicts.size());
  }
  EXPECT_EQ(MergeNew(parsed(plain), plain).kind, Kind::kApplied);
  EXPECT_EQ(MergeNew(parsed(with_base), with_base).kind, Kind::kConflict);
}

TEST(MergeTest, FieldChangedOnOneSideTakesTheChange) {
  auto r = Merge(Current(R"({"phone":"1","name":"A"})"), Update({{"phone", "\"1\"", "\"2\""}}));
  EXPECT_EQ(r.kind, Kind::kApplied);
  EXPECT_EQ(json::ToText(r.fields), R"({"name":"A","phone":"2"})");
  ASSERT_EQ(r.applied.size(), 1u);
  EXPECT_EQ(r.applied[0].old_value, "\"1\"");
}

TEST(MergeTest, DifferentFieldsMerge) {
  // The server already took another device's edit of "name" (version 4);
  // this device edited "phone" from version 3.
  auto r = Merge(Current(R"({"phone":"1","name":"B"})", 4), Update({{"phone", "\"1\"", "\"2\""}}, 3));
  EXPECT_EQ(r.kind, Kind::kMerged);
  EXPECT_EQ(json::ToText(r.fields), R"({"name":"B","phone":"2"})");
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(MergeTest, SameFieldSameValueIsNoConflict) {
  auto r = Merge(Current(R"({"name":"B"})", 4), Update({{"name", "\"A\"", "\"B\""}}));
  EXPECT_NE(r.kind, Kind::kConflict);
  EXPECT_EQ(json::ToText(r.fields), R"({"name":"B"})");
}

TEST(MergeTest, SameFieldDifferentValuesConflict) {
  auto r = Merge(Current(R"({"name":"B"})", 4), Update({{"name", "\"A\"", "\"C\""}}));
  EXPECT_EQ(r.kind, Kind::kConflict);
  EXPECT_EQ(json::ToText(r.fields), R"({"name":"B"})");  // keeps current
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].base, "\"A\"");
  EXPECT_EQ(r.conflicts[0].current, "\"B\"");
  EXPECT_EQ(r.conflicts[0].incoming, "\"C\"");
}

TEST(MergeTest, PartialConflictStillAppliesTheOtherFields) {
  auto r = Merge(Current(R"({"name":"B","phone":"1"})", 4),
                 Update({{"name", "\"A\"", "\"C\""}, {"phone", "\"1\"", "\"2\""}}));
  EXPECT_EQ(r.kind, Kind::kConflict);
  EXPECT_EQ(json::ToText(r.fields), R"({"name":"B","phone":"2"})");
}

TEST(MergeTest, NumbersCompareByValue) {
  auto r = Merge(Current(R"({"n":2})"), Update({{"n", "2.0", "3"}}));
  EXPECT_EQ(r.kind, Kind::kApplied);
}

TEST(MergeTest, ClearingAFieldIsAnEdit) {
  auto r = Merge(Current(R"({"phone":"1"})"), Update({{"phone", "\"1\"", "null"}}));
  EXPECT_EQ(json::ToText(r.fields), "{}");
}

TEST(MergeTest, EditAgainstDeleteConflicts) {
  auto r = Merge(Current(R"({"name":"A"})", 4, /*deleted=*/true), Update({{"name", "\"A\"", "\"B\""}}));
  EXPECT_EQ(r.kind, Kind::kConflict);
  EXPECT_TRUE(r.deleted);
  ASSERT_GE(r.conflicts.size(), 2u);
  EXPECT_EQ(r.conflicts[0].key, "_deleted");
  EXPECT_EQ(r.conflicts[1].incoming, "\"B\"");  // the edit is kept, not lost
}

TEST(MergeTest, DeleteAgainstEditConflicts) {
  Change del = Update({}, 3);
  del.op = op::kDelete;
  auto r = Merge(Current(R"({"name":"B"})", 4), del);
  EXPECT_EQ(r.kind, Kind::kConflict);
  EXPECT_FALSE(r.deleted);
}

TEST(MergeTest, DeleteOfUnchangedRecordApplies) {
  Change del = Update({}, 3);
  del.op = op::kDelete;
  auto r = Merge(Current(R"({"name":"B"})", 3), del);
  EXPECT_EQ(r.kind, Kind::kApplied);
  EXPECT_TRUE(r.deleted);
  // Deleting again is a no-op, not an error.
  EXPECT_EQ(Merge(Current(R"({})", 4, true), del).kind, Kind::kNoop);
}

TEST(MergeTest, ReplayedChangeIsANoop) {
  CurrentRecord cur = Current(R"({"name":"A"})");
  Change c = Update({{"name", "\"A\"", "\"B\""}});
  auto first = Merge(cur, c);
  cur.fields = first.fields;
  cur.version = 4;
  auto again = Merge(cur, c);
  EXPECT_NE(again.kind, Kind::kConflict);
  EXPECT_EQ(json::ToText(again.fields), json::ToText(first.fields));
}

const char* kBase = R"([{"item_id":"1","name":"Ổi","value_vnd":10},{"item_id":"2","name":"Đường","value_vnd":5}])";

TEST(MergeTest, ListItemsMergeByIdentity) {
  // Current: item 1's value changed. Incoming: item 3 added, item 2 removed.
  auto cur = Current(std::string(R"({"materials":[{"item_id":"1","name":"Ổi","value_vnd":20},{"item_id":"2","name":"Đường","value_vnd":5}]})"), 4);
  std::string incoming = R"([{"item_id":"1","name":"Ổi","value_vnd":10},{"item_id":"3","name":"Muối","value_vnd":1}])";
  auto r = Merge(cur, Update({{"materials", kBase, incoming}}));
  EXPECT_NE(r.kind, Kind::kConflict);
  EXPECT_EQ(json::ToText(r.fields.get("materials")),
            R"([{"item_id":"1","name":"Ổi","value_vnd":20},{"item_id":"3","name":"Muối","value_vnd":1}])");
}

TEST(MergeTest, SameListItemChangedTwiceConflicts) {
  auto cur = Current(std::string(R"({"materials":[{"item_id":"1","name":"Ổi","value_vnd":20},{"item_id":"2","name":"Đường","value_vnd":5}]})"), 4);
  std::string incoming = R"([{"item_id":"1","name":"Ổi","value_vnd":30},{"item_id":"2","name":"Đường","value_vnd":5}])";
  auto r = Merge(cur, Update({{"materials", kBase, incoming}}));
  EXPECT_EQ(r.kind, Kind::kConflict);
}

TEST(MergeTest, DeterministicWhateverTheMachine) {
  auto cur = Current(R"({"b":1,"a":2})", 4);
  Change c = Update({{"a", "2", "5"}, {"b", "0", "7"}});
  auto r1 = Merge(cur, c), r2 = Merge(cur, c);
  EXPECT_EQ(json::ToText(r1.fields), json::ToText(r2.fields));
  EXPECT_EQ(r1.conflicts.size(), r2.conflicts.size());
}

TEST(CoalesceTest, CombinesEditsOfARecord) {
  Change a = Update({{"name", "\"A\"", "\"B\""}});
  Change b = Update({{"name", "\"B\"", "\"C\""}, {"phone", "null", "\"1\""}});
  b.change_id = "c2";
  auto out = Coalesce({a, b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].op, op::kUpdate);
  ASSERT_EQ(out[0].fields.size(), 2u);
  EXPECT_EQ(out[0].fields[0].old_value, "\"A\"");
  EXPECT_EQ(out[0].fields[0].new_value, "\"C\"");
  EXPECT_EQ(out[0].change_id, "c2");
}

TEST(CoalesceTest, CreateThenDeleteSendsNothing) {
  Change a = Update({{"name", "null", "\"B\""}});
  a.op = op::kCreate;
  Change d = Update({});
  d.op = op::kDelete;
  EXPECT_TRUE(Coalesce({a, d}).empty());
  EXPECT_EQ(Coalesce({Update({{"x", "1", "2"}}), d})[0].op, op::kDelete);
}

TEST(CoalesceTest, EditsThatCancelOutSendNothing) {
  EXPECT_TRUE(Coalesce({Update({{"x", "1", "2"}}), Update({{"x", "2", "1"}})}).empty());
}

}  // namespace
}  // namespace ocop::sync
