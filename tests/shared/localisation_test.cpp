#include "shared/localisation.h"

#include <gtest/gtest.h>

namespace ocop {
namespace {

json::Object Confirmation(int total, int local, std::vector<std::tuple<int64_t, int64_t, std::string>> materials) {
  json::Object o;
  o.set("workers_total", Poco::Int64(total));
  o.set("workers_local", Poco::Int64(local));
  json::Array::Ptr arr = new json::Array;
  for (auto& [value, local_value, origin] : materials) {
    json::Object::Ptr m = new json::Object;
    m->set("name", "x");
    m->set("value_vnd", Poco::Int64(value));
    m->set("local_value_vnd", Poco::Int64(local_value));
    m->set("origin", origin);
    arr->add(m);
  }
  o.set("materials", arr);
  return o;
}

const LocalisationTable& Table() { return LocalisationTable::Default(); }

TEST(LocalisationTest, SharesAreComputed) {
  auto s = ScoreLocalisation(Confirmation(10, 8, {{600, 300, "province"}, {400, 400, "commune"}}), Table());
  ASSERT_TRUE(s.labour_ratio);
  EXPECT_DOUBLE_EQ(*s.labour_ratio, 0.8);
  ASSERT_TRUE(s.material_ratio);
  EXPECT_DOUBLE_EQ(*s.material_ratio, 0.7);
}

TEST(LocalisationTest, MaterialBandsAtTheirEdges) {
  auto points = [](int64_t local) {
    return ScoreLocalisation(Confirmation(1, 1, {{10000, local, "province"}}), Table()).material_points;
  };
  EXPECT_EQ(points(0), 1);
  EXPECT_EQ(points(4999), 1);
  EXPECT_EQ(points(5000), 2);
  EXPECT_EQ(points(7499), 2);
  EXPECT_EQ(points(7500), 3);
  EXPECT_EQ(points(10000), 3);
}

TEST(LocalisationTest, LabourPointAtHalf) {
  EXPECT_EQ(ScoreLocalisation(Confirmation(10, 4, {}), Table()).labour_points, 0);
  EXPECT_EQ(ScoreLocalisation(Confirmation(10, 5, {}), Table()).labour_points, 1);
  // Or income at the commune standard.
  auto o = Confirmation(10, 4, {});
  o.set("income_per_worker_vnd", Poco::Int64(5000000));
  o.set("commune_income_standard_vnd", Poco::Int64(5000000));
  EXPECT_EQ(ScoreLocalisation(o, Table()).labour_points, 1);
}

TEST(LocalisationTest, AllImportedCannotBeRanked) {
  auto s = ScoreLocalisation(Confirmation(10, 10, {{100, 0, "imported"}, {100, 0, "unknown"}}), Table());
  EXPECT_FALSE(s.rankable);
  EXPECT_EQ(s.material_points, 0);
  auto mixed = ScoreLocalisation(Confirmation(10, 10, {{100, 0, "imported"}, {100, 100, "commune"}}), Table());
  EXPECT_TRUE(mixed.rankable);
}

TEST(LocalisationTest, NoWorkersOrNoValueGiveNoRatio) {
  auto s = ScoreLocalisation(Confirmation(0, 0, {{0, 0, "commune"}}), Table());
  EXPECT_FALSE(s.labour_ratio);
  EXPECT_FALSE(s.material_ratio);
}

TEST(LocalisationTest, ComputedFieldsAreSetOnConfirmationsOnly) {
  auto o = Confirmation(3, 1, {{3, 1, "commune"}});
  ApplyComputedFields("confirmation", &o);
  EXPECT_DOUBLE_EQ(o.getValue<double>("local_labour_ratio"), 0.3333);
  json::Object idea;
  ApplyComputedFields("idea", &idea);
  EXPECT_FALSE(idea.has("local_labour_ratio"));
}

TEST(LocalisationTest, TableIsReplaceable) {
  LocalisationTable t;
  ASSERT_TRUE(LocalisationTable::Parse(R"({"version":2,"material_bands":[{"min_ratio":0,"max_ratio":2,"points":5}],
      "labour_min_ratio":0.9,"labour_points":2,"unrankable_origins":[]})", &t).ok());
  auto s = ScoreLocalisation(Confirmation(10, 8, {{10, 1, "imported"}}), t);
  EXPECT_EQ(s.material_points, 5);
  EXPECT_EQ(s.labour_points, 0);
  EXPECT_TRUE(s.rankable);
}

}  // namespace
}  // namespace ocop
