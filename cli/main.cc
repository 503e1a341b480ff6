// gauntlet: the command line for submitting sweeps and reading results.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "cli/access_command.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "common/logging.h"
#include "lib/jobs/job_state.h"
#include "gauntlet/v1/control.grpc.pb.h"

namespace {

using namespace gauntlet::cli;
namespace v1 = gauntlet::v1;

int Status(const Globals& globals, int64_t sweep_id) {
  auto stub = Connect(globals);
  if (sweep_id != 0) {
    v1::GetSweepRequest request;
    request.set_id(sweep_id);
    v1::Sweep sweep;
    grpc::Status status = stub->GetSweep(Context().get(), request, &sweep);
    if (auto done = FailedOrPrintedJson(globals, status, sweep)) return *done;
    std::cout << "sweep " << sweep.id() << " " << sweep.name() << ": " << SweepStatus(sweep) << ", "
              << sweep.total_jobs() << " jobs: " << Counts(sweep) << "\n"
              << "submitted " << FormatUtc(sweep.created_at_ms()) << " from " << sweep.source()
              << (sweep.submitted_by().empty() ? "" : " by " + sweep.submitted_by()) << "\n";
    Table stages({"STAGE", "JOBS", "STATES"});
    for (const auto& stage : sweep.stages()) {
      v1::Sweep counts;  // Counts() reads a sweep's jobs_by_state.
      int jobs = 0;
      for (const auto& [state, count] : stage.jobs_by_state()) {
        (*counts.mutable_jobs_by_state())[state] = count;
        jobs += count;
      }
      stages.Add({stage.stage().empty() ? "(free-form)" : stage.stage(), std::to_string(jobs), Counts(counts)});
    }
    if (sweep.stages_size() > 0) stages.Print(std::cout);
    return 0;
  }
  v1::ListSweepsRequest request;
  request.set_limit(50);
  v1::ListSweepsResponse reply;
  grpc::Status status = stub->ListSweeps(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  Table table({"SWEEP", "NAME", "SUBMITTED", "BY", "STATUS", "JOBS", "STATES"});
  for (const auto& sweep : reply.sweeps()) {
    table.Add({std::to_string(sweep.id()), sweep.name(), FormatUtc(sweep.created_at_ms()),
               sweep.submitted_by().empty() ? "-" : sweep.submitted_by(), SweepStatus(sweep),
               std::to_string(sweep.total_jobs()), Counts(sweep)});
  }
  table.Print(std::cout);
  return 0;
}

int Logs(const Globals& globals, int64_t job_id, int64_t attempt_number, bool follow) {
  auto stub = Connect(globals);
  v1::TailLogsRequest request;
  request.set_job_id(job_id);
  if (attempt_number > 0) {
    // Users count a job's attempts (the board's "#" column); the log store keys them by attempt id.
    v1::GetJobRequest get;
    get.set_id(job_id);
    v1::Job job;
    grpc::Status status = stub->GetJob(Context().get(), get, &job);
    if (!status.ok()) return Fail(globals, status);
    for (const auto& attempt : job.attempts()) {
      if (attempt.number() == attempt_number) request.set_attempt_id(attempt.id());
    }
    if (request.attempt_id() == 0) {
      std::cerr << "error: --attempt " << attempt_number << ": job " << job_id << " has "
                << job.attempts_size() << " attempt(s); give 1 to " << job.attempts_size() << "\n";
      return kExitUsage;
    }
  }
  request.set_follow(follow);
  auto context = Context(/*seconds=*/0);  // Following has no deadline.
  auto reader = stub->TailLogs(context.get(), request);
  v1::LogChunk chunk;
  while (reader->Read(&chunk)) std::cout << chunk.data() << std::flush;
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(globals, status);
}

}  // namespace

int main(int argc, char** argv) {
  gauntlet::SetupLogging("cli", "warn");
  CLI::App app{"gauntlet: submit sweeps to a Gauntlet farm and read their results"};
  app.require_subcommand(1);
  // The global options work anywhere on the line: `gauntlet jobs --json` as `gauntlet --json jobs`.
  app.fallthrough();
  Globals globals;
  app.add_option("--coordinator", globals.coordinator, "Coordinator gRPC address host:port")
      ->envname("GAUNTLET_COORDINATOR");
  app.add_flag("--json", globals.json, "Print JSON (protobuf JSON mapping) instead of tables");
  app.add_option("--tls-ca", globals.tls.ca, "CA file that verifies the coordinator's TLS certificate")
      ->envname("GAUNTLET_TLS_CA");
  app.add_option("--tls-cert", globals.tls.cert, "Client certificate to present (mutual TLS; optional)")
      ->envname("GAUNTLET_TLS_CERT");
  app.add_option("--tls-key", globals.tls.key, "Key of --tls-cert")->envname("GAUNTLET_TLS_KEY");
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "API token file (mode 0600); default GAUNTLET_TOKEN, else ~/.config/gauntlet/token");
  AccessCommands access;
  AddAccessCommands(app, &access);

  SubmitOptions submit_options;
  auto* submit = app.add_subcommand("submit", "Validate, expand and submit a sweep spec");
  submit->add_option("file", submit_options.path, "Sweep spec (YAML or JSON)")->required();
  submit->add_flag("--wait", submit_options.wait, "Wait for the sweep to finish and print its results; exit 1 if it failed");
  submit->add_flag("--no-preflight", submit_options.no_preflight,
                   "Skip the checks against the farm (model folders, datasets, suites, device kinds on agents)");
  submit->add_flag("--dry-run", submit_options.dry_run,
                   "Show the expansion (counts per stage and model, cache hits, device-hours) without storing anything");
  submit->add_flag("--collect-only", submit_options.collect_only,
                   "List the tests a suite: block selects (pytest's --collect-only), without running anything");
  auto* force = submit->add_option("--force", submit_options.force,
                                   "Run stages even when an identical result exists: --force for all, "
                                   "--force=reference,compile for some")
                    ->expected(0, 1)
                    ->delimiter(',');

  ProgramsOptions programs_options;
  auto* programs = app.add_subcommand("programs", "Show which programs and prompts selectors pick (runs locally)");
  programs->add_option("--criteria", programs_options.criteria, "Program criteria JSON file")->required();
  programs->add_option("--select", programs_options.select, "Selector <id>:<batch>,<seq_len>; repeatable");
  programs->add_option("--context", programs_options.context, "Max context length (VLLM_DT_MAX_CONTEXT_LEN)");
  programs->add_option("--max-batch", programs_options.max_batch, "Max batch size (VLLM_DT_MAX_BATCH_SIZE)");
  programs->add_option("--batch-tkv-limit", programs_options.batch_tkv_limit, "VLLM_DT_MAX_BATCH_TKV_LIMIT");
  programs->add_option("--max-new-tokens", programs_options.max_new_tokens, "Tokens decoded per prompt");
  programs->add_option("--max-search", programs_options.max_search,
                       "Most shape checks the search may make (refused above it, not run for minutes)");
  programs->add_flag("--prioritize-large-batch-sizes", programs_options.prioritize_large_batch_sizes,
                     "Prefer the largest batch for each program");
  programs->add_flag("--homogeneous", programs_options.homogeneous,
                     "Every prompt of a batch hits the same prefill program");
  programs->add_option("--dataset", programs_options.dataset, "Dataset file: count the prompts that fit each size");
  programs->add_option("--dataset-type", programs_options.dataset_type, "sharegpt or rag_factoid")
      ->check(CLI::IsMember({"sharegpt", "rag_factoid"}));

  int64_t sweep_id = 0;
  auto* status = app.add_subcommand("status", "List sweeps, or show one");
  status->add_option("sweep", sweep_id, "Sweep id");

  std::string state_name;
  ListOptions list_options;
  auto* jobs = app.add_subcommand("jobs", "List jobs");
  jobs->add_option("--sweep", sweep_id, "Only this sweep's jobs");
  jobs->add_option("--state", state_name, "Only jobs in this state (pending, ready, running, failed, ...)");
  auto* limit = jobs->add_option("--limit", list_options.limit, "Show at most this many (default 50)")
                    ->check(CLI::Range(1, 1000000));
  jobs->add_flag("--all", list_options.all, "Show every job, page after page")->excludes(limit);

  auto* results = app.add_subcommand("results", "A sweep's results table");
  results->add_option("sweep", sweep_id, "Sweep id")->required();

  UpOptions up_options;
  auto* up = app.add_subcommand("up", "Run a whole farm on this box: a coordinator on a SQLite file and local agents");
  up->add_option("--data", up_options.data, "Folder for the database, artifacts, agents' folders and logs");
  up->add_option("--devices", up_options.devices, "Each agent's devices: cpu:N, sim:N, gpu:N or auto");
  up->add_option("--agents", up_options.agents, "How many agents")->check(CLI::Range(1, 64));
  up->add_option("--grpc", up_options.grpc,
                 "Coordinator gRPC address, port 0 for any free one (loopback unless secured; docs/security.md)");
  up->add_option("--http", up_options.http, "Board address, port 0 for any free one");
  up->add_option("--ready-file", up_options.ready_file, "Written once the farm is up: its gRPC address, then the board's");

  ArtifactsOptions artifacts_options;
  auto* artifacts = app.add_subcommand("artifacts", "List a job's artifacts, or download one by name");
  artifacts->add_option("job", artifacts_options.job_id, "Job id")->required();
  artifacts->add_option("name", artifacts_options.name, "Artifact to download (as listed)");
  artifacts->add_option("-o,--out", artifacts_options.out, "Where to write it (default: its file name, here)");

  int64_t matrix_sweep = 0;
  auto* matrix = app.add_subcommand(
      "matrix", "A sweep's status matrix: model x dtype x TP x attention rows, stage@context columns");
  matrix->add_option("sweep", matrix_sweep, "Sweep id (default: the newest)");

  int64_t job_id = 0, attempt_id = 0;
  bool follow = false;
  auto* logs = app.add_subcommand("logs", "Print a job's log");
  logs->add_option("job", job_id, "Job id")->required();
  logs->add_option("--attempt", attempt_id, "Attempt number within the job, 1 for its first (default: the latest)")
      ->check(CLI::PositiveNumber);
  logs->add_flag("-f,--follow", follow, "Keep printing until the attempt ends");

  bool cancel_sweep = false;
  int64_t cancel_id = 0;
  auto* cancel = app.add_subcommand("cancel", "Cancel a job, or with --sweep a whole sweep");
  cancel->add_option("id", cancel_id, "Job id (sweep id with --sweep)")->required();
  cancel->add_flag("--sweep", cancel_sweep, "The id is a sweep's");

  auto* retry = app.add_subcommand("retry", "Run a failed, cancelled or skipped job again, or a sweep's failed jobs");
  int64_t retry_sweep = 0;
  bool retry_failed = false;
  auto* retry_job = retry->add_option("job", job_id, "Job id");
  auto* retry_sweep_option = retry->add_option("--sweep", retry_sweep, "Retry this sweep's jobs (with --failed)");
  auto* retry_failed_flag = retry->add_flag("--failed", retry_failed, "Every failed job of --sweep; the jobs skipped "
                                            "behind them wait again");
  retry_job->excludes(retry_sweep_option);
  retry_sweep_option->needs(retry_failed_flag);
  retry_failed_flag->needs(retry_sweep_option);

  auto* why = app.add_subcommand("why", "Say why a job is not running");
  why->add_option("job", job_id, "Job id")->required();

  auto* agents = app.add_subcommand("agents", "List agents, their devices and their health; revoke one, heal or check its devices");
  std::string revoke_name;
  bool revoke_undo = false;
  auto* revoke = agents->add_subcommand("revoke", "End an agent's session now: its running jobs re-run elsewhere "
                                                  "and its name may not register again until --undo");
  revoke->add_option("agent", revoke_name, "Agent name")->required();
  revoke->add_flag("--undo", revoke_undo, "Let the name register again");
  std::string health_agent;
  int health_device = -1;
  auto* heal = agents->add_subcommand("heal", "Return an agent's devices to service now (admin)");
  auto* check = agents->add_subcommand("check", "Take an agent's devices out of service until a fresh health check "
                                                "passes (admin)");
  for (auto* command : {heal, check}) {
    command->add_option("agent", health_agent, "Agent name")->required();
    command->add_option("--device", health_device, "Device index (default: every device)")->check(CLI::NonNegativeNumber);
  }

  std::string agent_name;
  bool undrain = false;
  auto* drain = app.add_subcommand("drain", "Stop giving an agent new jobs");
  drain->add_option("agent", agent_name, "Agent name")->required();
  drain->add_flag("--undo", undrain, "Take jobs again");

  std::string annotate_sweep, annotate_model, annotate_job, annotate_url, annotate_title;
  auto* annotate = app.add_subcommand("annotate", "Link a bug report to a sweep, model row or job (the issues column)");
  auto* by_sweep = annotate->add_option("--sweep", annotate_sweep, "Sweep id");
  auto* by_model = annotate->add_option("--model", annotate_model, "Model, as the matrix shows it");
  auto* by_job = annotate->add_option("--job", annotate_job, "Job id");
  by_sweep->excludes(by_model, by_job);
  by_model->excludes(by_job);
  annotate->add_option("url", annotate_url, "Link to the report (http or https)")->required();
  annotate->add_option("--title", annotate_title, "Short text shown instead of the URL");

  SchedulesOptions schedules_options;
  auto* schedules = app.add_subcommand("schedules", "Nightly schedules: add, list, show, pause, resume, run-now, "
                                                    "delete, history");
  schedules->require_subcommand(1);
  auto named = [&](const std::string& action, const std::string& help) {
    auto* command = schedules->add_subcommand(action, help);
    command->add_option("name", schedules_options.name, "Schedule name")->required();
    return command;
  };
  auto* schedules_add = named("add", "Fire a sweep spec on a cron schedule");
  schedules_add->add_option_function<std::string>(
      "--cron", [&](const std::string& v) { schedules_options.policy.set_cron(v); },
      "Five fields or a macro, e.g. \"0 2 * * *\" or @daily")->required();
  schedules_add->add_option_function<std::string>(
      "--timezone", [&](const std::string& v) { schedules_options.policy.set_timezone(v); },
      "IANA time zone the cron reads in (default UTC)");
  schedules_add->add_option_function<std::string>(
      "--catch-up", [&](const std::string& v) { schedules_options.policy.set_catch_up(v); },
      "After downtime: latest (default), none or all");
  schedules_add->add_option_function<int>(
      "--max-catch-up", [&](int v) { schedules_options.policy.set_max_catch_up(v); },
      "With --catch-up all: the most missed slots fired (default 10)");
  schedules_add->add_option_function<std::string>(
      "--concurrency", [&](const std::string& v) { schedules_options.policy.set_concurrency(v); },
      "While the previous firing runs: allow (default), forbid or replace");
  schedules_add->add_option_function<std::string>(
      "--webhook", [&](const std::string& v) { schedules_options.policy.set_webhook(v); },
      "http(s) URL told of each night's regressions");
  schedules_add->add_option("--spec", schedules_options.spec_path, "The sweep spec each firing submits")->required();
  schedules_add->add_flag("--replace", schedules_options.replace, "Replace a schedule of the same name");
  schedules->add_subcommand("list", "List schedules with their next and last firing");
  named("show", "Show a schedule");
  named("pause", "Stop firing; the slots passed while paused are never caught up");
  named("resume", "Fire again from the next slot");
  named("run-now", "Fire now, outside the cron slots");
  named("delete", "Delete a schedule and its history; its sweeps stay");
  auto* schedules_history = named("history", "Each slot: fired (with its sweep's state), skipped and why, or "
                                             "failed; with --job, one job night by night");
  schedules_history->add_option("--limit", schedules_options.limit, "Newest slots (or nights) shown (default 50)");
  schedules_history->add_option("--job", schedules_options.job,
                                "One job's outcome, metrics and verdict each night, as compare judged it");

  CompareOptions compare_options;
  auto* compare = app.add_subcommand("compare", "A night against its baseline: regressions, fixes, flaky jobs and "
                                                "benchmark changes; exits 3 on regressions");
  compare->add_option("base", compare_options.base_sweep, "Base sweep id");
  compare->add_option("sweep", compare_options.sweep, "Sweep id judged against it");
  compare->add_option("--schedule", compare_options.schedule,
                      "The schedule's newest finished night against its baseline, with its history");
  compare->add_option("--last", compare_options.last,
                      "With --schedule: compare the newest night with the Nth newest (2: the night before)");
  compare->add_option("--night", compare_options.night,
                      "With --schedule: judge this night (a sweep id) instead of the newest");

  std::string baseline_schedule;
  int64_t baseline_sweep = 0;
  auto* baseline = app.add_subcommand("baseline", "Pin or unpin the night a schedule's firings are compared with");
  baseline->require_subcommand(1);
  auto* pin = baseline->add_subcommand("pin", "Compare each night with this sweep");
  pin->add_option("schedule", baseline_schedule, "Schedule name")->required();
  pin->add_option("sweep", baseline_sweep, "Sweep id (a finished night)")->required();
  auto* unpin = baseline->add_subcommand("unpin", "Compare each night with the night before it");
  unpin->add_option("schedule", baseline_schedule, "Schedule name")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every usage error exits 2, whichever of CLI11's codes it carries.
    return app.exit(error) == 0 ? 0 : kExitUsage;
  }
  if (up->parsed()) return Up(up_options);
  if (!LoadToken(token_file, &globals.token)) return kExitUsage;
  if (!LoadCredentials(&globals)) return kExitUsage;
  if (auto done = RunAccessCommands(globals, access)) return *done;

  if (submit->parsed()) {
    submit_options.force_given = force->count() > 0;
    return Submit(globals, submit_options);
  }
  if (programs->parsed()) return Programs(globals, programs_options);
  if (compare->parsed()) {
    const bool two = compare_options.base_sweep != 0 && compare_options.sweep != 0;
    if (two == !compare_options.schedule.empty()) {
      std::cerr << "error: compare: give two sweeps (BASE SWEEP), or --schedule NAME\n";
      return kExitUsage;
    }
    return Compare(globals, compare_options);
  }
  if (baseline->parsed()) return Baseline(globals, baseline_schedule, pin->parsed() ? baseline_sweep : 0);
  if (schedules->parsed()) {
    schedules_options.action = schedules->get_subcommands().front()->get_name();
    return Schedules(globals, schedules_options);
  }
  if (status->parsed()) return Status(globals, sweep_id);
  if (jobs->parsed() || results->parsed()) {
    v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
    if (!state_name.empty()) {
      state = gauntlet::jobs::ParseJobState(state_name);
      if (state == v1::JOB_STATE_UNSPECIFIED) {
        std::cerr << "error: --state '" << state_name
                  << "' is not a job state; use pending, ready, leased, running, succeeded, failed, cancelled or skipped\n";
        return kExitUsage;
      }
    }
    auto stub = Connect(globals);
    if (results->parsed()) {
      list_options.all = true;
      list_options.with_metrics = true;
    }
    return ListJobsOf(globals, *stub, sweep_id, state, list_options);
  }
  if (logs->parsed()) return Logs(globals, job_id, attempt_id, follow);
  if (matrix->parsed()) return Matrix(globals, matrix_sweep);
  if (artifacts->parsed()) return Artifacts(globals, artifacts_options);
  if (cancel->parsed()) {
    auto stub = Connect(globals);
    v1::CancelRequest request;
    if (cancel_sweep) {
      request.set_sweep_id(cancel_id);
    } else {
      request.set_job_id(cancel_id);
    }
    v1::CancelResponse reply;
    grpc::Status rpc = stub->Cancel(Context().get(), request, &reply);
    if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
    // Not an error: the job or sweep exists, it had simply finished already.
    if (reply.cancelled() == 0) {
      std::cout << (cancel_sweep ? "sweep " : "job ") << cancel_id
                << (cancel_sweep ? " has no unfinished jobs" : " had already finished") << "; nothing to cancel\n";
      return 0;
    }
    std::cout << "cancelled " << reply.cancelled() << " jobs\n";
    return 0;
  }
  if (retry->parsed() && retry_sweep_option->count() > 0) {
    auto stub = Connect(globals);
    v1::RetrySweepRequest request;
    request.set_sweep_id(retry_sweep);
    v1::RetrySweepResponse reply;
    grpc::Status rpc = stub->RetrySweep(Context().get(), request, &reply);
    if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
    for (const auto& why : reply.not_retried()) std::cerr << "not retried: " << why << "\n";
    if (reply.retried_size() == 0) {
      std::cout << "sweep " << retry_sweep << " has no failed job that can run again; nothing to retry\n";
      return reply.not_retried_size() == 0 ? 0 : kExitFailed;
    }
    std::string ids;
    for (int64_t id : reply.retried()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    std::cout << "retried " << reply.retried_size() << " failed jobs of sweep " << retry_sweep << ": " << ids << "\n";
    return 0;
  }
  if (retry->parsed()) {
    if (retry_job->count() == 0) {
      std::cerr << "error: retry: give a job id, or --sweep N --failed\n";
      return kExitUsage;
    }
    auto stub = Connect(globals);
    v1::RetryRequest request;
    request.set_job_id(job_id);
    v1::Job reply;
    grpc::Status rpc = stub->Retry(Context().get(), request, &reply);
    if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
    std::cout << "job " << reply.id() << " is " << gauntlet::jobs::JobStateName(reply.state()) << " again\n";
    return 0;
  }
  if (why->parsed()) return Why(globals, job_id);
  if (revoke->parsed()) return RevokeAgent(globals, revoke_name, revoke_undo);
  if (heal->parsed() || check->parsed()) return SetDeviceHealth(globals, health_agent, health_device, heal->parsed());
  if (agents->parsed()) return ListAgents(globals);
  if (annotate->parsed()) {
    v1::Annotation request;
    if (!annotate_sweep.empty()) request.set_scope("sweep"), request.set_target(annotate_sweep);
    if (!annotate_model.empty()) request.set_scope("model"), request.set_target(annotate_model);
    if (!annotate_job.empty()) request.set_scope("job"), request.set_target(annotate_job);
    if (request.scope().empty()) {
      std::cerr << "error: annotate: name what the link is for with --sweep, --model or --job\n";
      return kExitUsage;
    }
    request.set_url(annotate_url);
    request.set_title(annotate_title);
    auto stub = Connect(globals);
    v1::Annotation reply;
    grpc::Status rpc = stub->Annotate(Context().get(), request, &reply);
    if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
    std::cout << "linked " << reply.url() << " to " << reply.scope() << " " << reply.target() << "\n";
    return 0;
  }
  if (drain->parsed()) {
    auto stub = Connect(globals);
    v1::DrainAgentRequest request;
    request.set_name(agent_name);
    request.set_undrain(undrain);
    v1::Agent reply;
    grpc::Status rpc = stub->DrainAgent(Context().get(), request, &reply);
    if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
    std::cout << "agent " << reply.name() << (reply.drained() ? " drained" : " takes jobs") << "\n";
    return 0;
  }
  return kExitUsage;
}
