// The benchmark chart's reading of a series: a step is marked on its first
// day with the change's direction and size, every day carries its level's
// noise band, and the latest job of a day is that day's value.
#include <gtest/gtest.h>

#include <random>

#include "coordinator/core/benchmark_marks.h"

namespace gauntlet::core {
namespace {

v1::BenchmarkPoint Point(int day, double itl_ms, int64_t job_id, const std::string& series = "bf16 tp1") {
  v1::BenchmarkPoint point;
  point.set_model("m");
  point.set_series(series);
  char text[16];
  std::snprintf(text, sizeof(text), "2026-%02d-%02d", 10 + day / 28, 1 + day % 28);
  point.set_day(text);
  point.set_itl_ms(itl_ms);
  point.set_job_id(job_id);
  return point;
}

TEST(BenchmarkMarks, AStepIsMarkedOnItsFirstDayWithItsLevelsBand) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.1);
  std::vector<v1::BenchmarkPoint> points;
  for (int day = 0; day < 30; ++day) points.push_back(Point(day, (day < 20 ? 10 : 12) + noise(rng), day + 1));
  points.push_back(Point(29, 100, 0));  // An earlier job of the last day: not the day's value.
  MarkBenchmarkSeries(&points);
  for (int day = 0; day < 30; ++day) {
    const auto& mark = points[day].itl();
    EXPECT_EQ(mark.change(), day == 20) << "day " << day;
    const double level = day < 20 ? 10 : 12;
    EXPECT_LT(mark.band_low(), level) << "day " << day;
    EXPECT_GT(mark.band_high(), level) << "day " << day;
    EXPECT_LT(mark.band_high() - mark.band_low(), 1.0) << "the band is the noise (sd 0.1), not the step";
  }
  EXPECT_TRUE(points[20].itl().regression()) << "a slower ITL is worse";
  EXPECT_NEAR(points[20].itl().effect(), 0.2, 0.03);
  EXPECT_NE(points[20].itl().test().find("t = "), std::string::npos) << points[20].itl().test();
  EXPECT_EQ(points[30].itl().band_high(), points[29].itl().band_high()) << "a day's points share its band";
  EXPECT_FALSE(points[0].has_ttft() && points[0].ttft().change()) << "no TTFT values, no TTFT change";
}

TEST(BenchmarkMarks, SeriesAreReadApart) {
  std::vector<v1::BenchmarkPoint> points;
  for (int day = 0; day < 12; ++day) {
    points.push_back(Point(day, 10 + 0.01 * (day % 3), 2 * day + 1, "a"));
    points.push_back(Point(day, day < 6 ? 10 : 20, 2 * day + 2, "b"));
  }
  MarkBenchmarkSeries(&points);
  int changes_a = 0, changes_b = 0;
  for (const auto& point : points) (point.series() == "a" ? changes_a : changes_b) += point.itl().change() ? 1 : 0;
  EXPECT_EQ(changes_a, 0);
  EXPECT_EQ(changes_b, 1);
}

}  // namespace
}  // namespace gauntlet::core
