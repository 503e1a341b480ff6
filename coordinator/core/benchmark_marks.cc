#include "coordinator/core/benchmark_marks.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "coordinator/nightly/change_point.h"

namespace gauntlet::core {
namespace {

using Day = std::vector<v1::BenchmarkPoint*>;

std::string TestText(const nightly::Change& change) {
  char buffer[160];
  std::snprintf(buffer, sizeof(buffer), "%s, t = %.1f, p = %.2g, noise %.1f%%", change.test.c_str(), change.t,
                change.p_value, 100 * change.noise_cv);
  return buffer;
}

// One metric of one series, its days oldest first.
void MarkMetric(const std::vector<Day>& days, double (v1::BenchmarkPoint::*value)() const,
                v1::SeriesMark* (v1::BenchmarkPoint::*mark)()) {
  std::vector<nightly::NightSeries> series;
  std::vector<size_t> day_of;  // Night index -> days index; days without the metric are left out.
  for (size_t d = 0; d < days.size(); ++d) {
    const double latest = (days[d].back()->*value)();
    if (latest <= 0) continue;
    series.push_back({days[d].back()->day(), {{latest}}});
    day_of.push_back(d);
  }
  for (const auto& level : nightly::Levels(series, nightly::Better::kLower)) {
    for (size_t n = level.first_night; n < level.end_night; ++n) {
      for (v1::BenchmarkPoint* point : days[day_of[n]]) {
        v1::SeriesMark* out = (point->*mark)();
        out->set_band_low(level.mean - 2 * level.sd);
        out->set_band_high(level.mean + 2 * level.sd);
        if (n != level.first_night || !level.starts_with) continue;
        out->set_change(true);
        out->set_effect(level.starts_with->effect);
        out->set_regression(level.starts_with->regression);
        out->set_test(TestText(*level.starts_with));
      }
    }
  }
}

}  // namespace

void MarkBenchmarkSeries(std::vector<v1::BenchmarkPoint>* points) {
  // (model, series) -> day -> its points, the latest job last.
  std::map<std::pair<std::string, std::string>, std::map<std::string, Day>> by_series;
  for (auto& point : *points) by_series[{point.model(), point.series()}][point.day()].push_back(&point);
  for (auto& [key, by_day] : by_series) {
    std::vector<Day> days;
    for (auto& [day, list] : by_day) {
      std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->job_id() < b->job_id(); });
      days.push_back(list);
    }
    MarkMetric(days, &v1::BenchmarkPoint::ttft_ms, &v1::BenchmarkPoint::mutable_ttft);
    MarkMetric(days, &v1::BenchmarkPoint::itl_ms, &v1::BenchmarkPoint::mutable_itl);
  }
}

}  // namespace gauntlet::core
