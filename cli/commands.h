// The CLI's commands that live in files of their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/client.h"
#include "lib/programs/criteria.h"

namespace gauntlet::cli {

struct SubmitOptions {
  std::string path;
  bool wait = false;
  bool dry_run = false;
  bool collect_only = false;  // A dry run that lists the suite tests the markers select.
  bool no_preflight = false;  // Store it even if agents lack its model folders, datasets or suites.
  bool force_given = false;
  std::vector<std::string> force;  // Empty with force_given: every stage.
};
int Submit(const Globals& globals, const SubmitOptions& options);
// Reads a spec and the files it names into a submission; false (said on
// stderr) when the spec cannot be read.
bool ReadSpecRequest(const std::string& path, v1::SubmitSweepRequest* request);

// `gauntlet schedules ACTION`.
struct SchedulesOptions {
  std::string action;  // add | list | show | pause | resume | run-now | delete | history
  std::string name;
  v1::SchedulePolicy policy;
  std::string spec_path;
  bool replace = false;
  int limit = 50;
  std::string job;  // history --job: one job night by night.
};
int Schedules(const Globals& globals, const SchedulesOptions& options);

// `gauntlet compare BASE SWEEP` or `--schedule NAME [--last N]`: exits
// kExitRegressed when the night has regressions, so CI can gate on it.
struct CompareOptions {
  int64_t base_sweep = 0;
  int64_t sweep = 0;
  std::string schedule;
  int last = 0;
  int64_t night = 0;  // With schedule: the night judged; 0 the newest.
};
int Compare(const Globals& globals, const CompareOptions& options);
// `gauntlet baseline pin SCHEDULE SWEEP` (sweep_id != 0) or `unpin SCHEDULE`.
int Baseline(const Globals& globals, const std::string& schedule, int64_t sweep_id);

struct ProgramsOptions {
  std::string criteria;
  std::vector<std::string> select;
  int context = 4096;
  int max_batch = 4;
  int64_t batch_tkv_limit = 524288;
  int max_new_tokens = 8;
  bool prioritize_large_batch_sizes = false;
  bool homogeneous = false;
  std::string dataset;
  std::string dataset_type = "sharegpt";
  int64_t max_search = programs::kDefaultMaxProgramSearch;
};
// Local: shows which programs, shapes and prompts the selectors pick.
int Programs(const Globals& globals, const ProgramsOptions& options);

// How much of a job list to show, and whether with the results' metrics.
struct ListOptions {
  int limit = 50;     // Jobs shown unless `all`.
  bool all = false;
  bool with_metrics = false;  // `results`: CE, KL, failure rate, TTFT and ITL columns.
};
void PrintResults(const std::vector<v1::Job>& jobs, bool with_metrics = false);
// `gauntlet why JOB`: the state, since when, and each reason it waits.
int Why(const Globals& globals, int64_t job_id);
// `gauntlet up`: a coordinator and local agents on one box until Ctrl-C.
struct UpOptions {
  std::string data = "gauntlet-data";
  std::string devices = "cpu:4";  // Each agent's --devices.
  int agents = 2;
  std::string grpc = "127.0.0.1:7070";
  std::string http = "127.0.0.1:8080";
  std::string ready_file;  // Written once the farm is up: the gRPC address, then the board's.
};
int Up(const UpOptions& options);

// `gauntlet artifacts JOB [NAME] [--out PATH]`: list, or download one.
struct ArtifactsOptions {
  int64_t job_id = 0;
  std::string name;
  std::string out;  // Default: the name's file name, here.
};
int Artifacts(const Globals& globals, const ArtifactsOptions& options);

// `gauntlet agents`, `agents revoke NAME [--undo]`, and an admin's
// `agents heal|check NAME [--device N]` (device_index -1: all of them).
int ListAgents(const Globals& globals);
int RevokeAgent(const Globals& globals, const std::string& name, bool undo);
int SetDeviceHealth(const Globals& globals, const std::string& agent, int device_index, bool heal);

// `gauntlet matrix [SWEEP]`: the status matrix of a sweep (0: the newest).
int Matrix(const Globals& globals, int64_t sweep_id);
int ListJobsOf(const Globals& globals, v1::ControlService::Stub& stub, int64_t sweep_id, v1::JobState state,
               const ListOptions& options);
// Follows next_page_token until the last page, appending every job to *all.
grpc::Status ListAllJobs(v1::ControlService::Stub& stub, v1::ListJobsRequest request, v1::ListJobsResponse* all);

}  // namespace gauntlet::cli
