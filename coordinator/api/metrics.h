// /metrics: the coordinator's state in the Prometheus text format.
#pragma once

#include <string>

#include "common/status.h"
#include "coordinator/job_manager.h"

namespace gauntlet::api {

// A fresh snapshot on every scrape; fails only when the job counts cannot be read.
StatusOr<std::string> RenderMetrics(JobManager& jobs);

}  // namespace gauntlet::api
