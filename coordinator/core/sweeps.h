// Sweeps: submission (a spec parsed and expanded outside the lock, then
// checked against the farm and stored with its jobs' initial states, the
// content-key cache applied), dry runs, cancellation and retries.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "coordinator/core/attempts.h"
#include "coordinator/core/batch.h"
#include "coordinator/core/farm.h"
#include "coordinator/expand/expand.h"
#include "coordinator/spec/spec.h"
#include "gauntlet/v1/control.pb.h"

namespace gauntlet::core {

class SweepManager {
 public:
  SweepManager(Farm& farm, Batch& batch, AttemptManager& attempts)
      : farm_(farm), batch_(batch), attempts_(attempts) {}

  // A request parsed and expanded, within the spec limits.
  struct Prepared {
    std::string source;
    std::vector<std::string> force;
    int64_t first_planned = 0;  // The dry run's page.
    spec::SweepSpec spec;
    expand::SweepPlan plan;
  };
  // Needs no lock (it reads only the options): a hostile spec costs its
  // submitter, never the farm.
  StatusOr<Prepared> Prepare(const v1::SubmitSweepRequest& request) const;
  // `in_same_transaction` runs with the stored sweep's id before anything is
  // durable; its failure stores nothing (a schedule records its firing so).
  StatusOr<v1::SubmitSweepResponse> Submit(const v1::SubmitSweepRequest& request, const Prepared& prepared,
                                           const std::function<Status(int64_t sweep_id)>& in_same_transaction = {});
  StatusOr<int> Cancel(const v1::CancelRequest& request);
  StatusOr<v1::Job> Retry(int64_t job_id);
  StatusOr<v1::RetrySweepResponse> RetrySweep(int64_t sweep_id);

 private:
  StatusOr<std::vector<store::InitialJobState>> InitialStates(const expand::SweepPlan& plan,
                                                              const std::vector<std::string>& force);
  // Pre-flight (expand/preflight.h) with the device-kind and suite checks:
  // INVALID_ARGUMENT listing every problem, one per line; notes of what
  // could not be checked go to the response's warnings.
  Status CheckPreflight(const spec::SweepSpec& spec, const expand::SweepPlan& plan, const std::string& source,
                        v1::SubmitSweepResponse* response);
  // Fills a dry run's answer: the planned jobs (one page) and the summary.
  Status DescribePlan(const expand::SweepPlan& plan, const std::vector<store::InitialJobState>& initial,
                      size_t first, int page_size, v1::SubmitSweepResponse* response);
  // Whether `job` may run again now; a refusal's reason names the upstream job in the way.
  StatusOr<jobs::Decision> RetryDecision(const v1::Job& job);
  Status ApplyRetry(const v1::Job& job, const jobs::Decision& decision, const std::string& why, int64_t now);

  Farm& farm_;
  Batch& batch_;
  AttemptManager& attempts_;
};

}  // namespace gauntlet::core
