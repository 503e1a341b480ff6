#include "coordinator/api/metrics.h"

#include <filesystem>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "lib/jobs/job_state.h"

namespace gauntlet::api {
namespace {

int ThreadCount() {
  std::error_code ec;
  int threads = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++threads;
  }
  return threads;
}

}  // namespace

StatusOr<std::string> RenderMetrics(JobManager& jobs) {
  GAUNTLET_ASSIGN_OR_RETURN(auto counts, jobs.JobCounts());
  const JobManagerStats stats = jobs.Stats();
  prometheus::Registry registry;
  auto& by_state = prometheus::BuildGauge().Name("gauntlet_jobs").Help("Jobs by state and device kind").Register(registry);
  for (const auto& [key, count] : counts) {
    by_state.Add({{"state", jobs::JobStateName(key.first)}, {"device_kind", key.second.empty() ? "any" : key.second}})
        .Set(static_cast<double>(count));
  }
  auto gauge = [&](const char* name, const char* help, double value) {
    prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({}).Set(value);
  };
  auto counter = [&](const char* name, const char* help, double value) {
    prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({}).Increment(value);
  };
  gauge("gauntlet_ready_queue_depth", "Ready jobs seen by the last scheduling pass", static_cast<double>(stats.ready_jobs));
  gauge("gauntlet_scheduling_pass_seconds", "Duration of the last scheduling pass that placed jobs",
        stats.last_pass_ms / 1000.0);
  counter("gauntlet_scheduling_passes_total", "Scheduling passes run", static_cast<double>(stats.scheduling_passes));
  counter("gauntlet_jobs_placed_total", "Attempts created by the scheduler", static_cast<double>(stats.jobs_placed));
  counter("gauntlet_heartbeats_total", "Agent heartbeats served", static_cast<double>(stats.heartbeats));
  counter("gauntlet_reports_total", "Attempt reports received", static_cast<double>(stats.reports));
  auto& expired =
      prometheus::BuildCounter().Name("gauntlet_leases_expired_total").Help("Attempts lost, by cause").Register(registry);
  for (const char* cause : {"agent_silent", "agent_restarted"}) {
    auto found = stats.leases_expired_by_cause.find(cause);
    expired.Add({{"cause", cause}}).Increment(found == stats.leases_expired_by_cause.end() ? 0.0
                                                                                           : static_cast<double>(found->second));
  }
  counter("gauntlet_storage_errors_total", "Artifact or log writes that failed (full or failing disk)",
          static_cast<double>(stats.storage_errors));
  counter("gauntlet_lease_extensions_for_lag_total", "Times the coordinator fell behind and extended every lease",
          static_cast<double>(stats.lease_extensions_for_lag));
  gauge("gauntlet_coordinator_max_lag_seconds", "Largest delay of the scheduler loop seen",
        static_cast<double>(stats.max_lag_ms) / 1000.0);
  gauge("gauntlet_coordinator_threads", "Threads of the coordinator process", ThreadCount());
  auto histogram = [&](const char* name, const char* help, const LatencyHistogram& values) {
    prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add({}, values.Bounds())
        .ObserveMultiple(values.Counts(), values.sum());
  };
  histogram("gauntlet_free_to_assigned_seconds",
            "From a device freed by a report to its next assignment leaving in a heartbeat answer",
            stats.free_to_assigned);
  histogram("gauntlet_inbox_wait_seconds", "Agents' calls waiting for the scheduler loop (its lag)",
            stats.inbox_wait);
  histogram("gauntlet_commit_seconds", "Batch commits (decisions of one window in one transaction)", stats.commit);
  counter("gauntlet_reports_committed_total", "Reports made durable by batch commits",
          static_cast<double>(stats.reports_committed));
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace gauntlet::api
