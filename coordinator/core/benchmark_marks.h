// The benchmark chart's reading of each series: the change detector run
// over its days (the latest job of a day is that day's value), each day
// marked with its level's noise band and, on the first day of a new
// level, the change. Pure: points in, points out.
#pragma once

#include <vector>

#include "gauntlet/v1/types.pb.h"

namespace gauntlet::core {

// Fills ttft and itl of every point; `points` in any order.
void MarkBenchmarkSeries(std::vector<v1::BenchmarkPoint>* points);

}  // namespace gauntlet::core
