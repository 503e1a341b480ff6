// What the board, the CLI and the JSON API read: sweeps, jobs, why a job
// waits, the status matrix, benchmarks and events. Nothing here writes.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/core/farm.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class BoardQueries {
 public:
  explicit BoardQueries(Farm& farm) : farm_(farm) {}

  StatusOr<v1::Sweep> GetSweep(int64_t id);
  // Pages of at most `limit` sweeps (newest first) and of jobs (by id); see
  // ListJobsRequest for the paging rules.
  StatusOr<v1::ListSweepsResponse> ListSweeps(const v1::ListSweepsRequest& request);
  StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  StatusOr<v1::Job> GetJob(int64_t id);
  // Drain and liveness as of now, not of the last scheduling pass.
  StatusOr<v1::WhyResponse> Why(int64_t id);
  StatusOr<std::vector<v1::MatrixCell>> Matrix(const store::MatrixFilter& filter);
  StatusOr<std::vector<v1::Job>> MatrixJobs(const store::MatrixFilter& filter, const v1::MatrixCell& where,
                                            int limit);
  StatusOr<std::vector<v1::BenchmarkPoint>> Benchmarks(int64_t since_ms);
  StatusOr<std::map<int64_t, v1::MatrixCell>> CellsOfJobs(const std::vector<int64_t>& job_ids);
  StatusOr<std::vector<v1::Event>> Events(int64_t after_id, int64_t job_id, int limit);
  StatusOr<int64_t> LatestEventId();
  StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> JobCounts();

 private:
  Farm& farm_;
};

}  // namespace gauntlet::core
