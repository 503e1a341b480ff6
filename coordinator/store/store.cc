#include "coordinator/store/store.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <sstream>

#include "lib/contract/stages.h"
#include "lib/jobs/job_state.h"

#include <nlohmann/json.hpp>

#include "coordinator/store/migrations.h"

namespace gauntlet::store {
namespace {

// Active attempts (leased, running) written as literals, not bound: SQLite
// uses the partial indexes on `state IN (1, 2)` only when the query says so.
static_assert(v1::ATTEMPT_STATE_LEASED == 1 && v1::ATTEMPT_STATE_RUNNING == 2);
#define GAUNTLET_ACTIVE_ATTEMPT "state IN (1, 2)"
// The same for the jobs' partial indexes (migration 0008).
static_assert(v1::JOB_STATE_READY == 2 && v1::JOB_STATE_SUCCEEDED == 5);
#define GAUNTLET_READY_JOB "state = 2"
#define GAUNTLET_SUCCEEDED_JOB "state = 5"

// Columns RowToJob reads, in order. The agent and devices are those of the
// job's latest attempt.
constexpr const char* kJobColumns =
    "j.id, j.sweep_id, j.name, j.kind, j.state, j.spec_json, j.devices, j.device_kind, j.priority, "
    "j.max_attempts, j.attempt_count, j.timeout_s, j.labels_json, j.content_key, j.reason, j.verdict, "
    "j.result_json, j.created_at_ms, j.started_at_ms, j.finished_at_ms, "
    "(SELECT a.agent FROM attempts a WHERE a.job_id = j.id ORDER BY a.number DESC LIMIT 1), "
    "j.stage, j.cacheable, j.cached_from, j.tags, "
    "(SELECT a.device_indices FROM attempts a WHERE a.job_id = j.id ORDER BY a.number DESC LIMIT 1), "
    "(SELECT a.failure_class FROM attempts a WHERE a.job_id = j.id ORDER BY a.number DESC LIMIT 1)";

const std::string& LabelOr(const std::map<std::string, std::string>& labels, const std::string& key,
                           const std::string& fallback) {
  auto found = labels.find(key);
  return found == labels.end() ? fallback : found->second;
}

// A matrix cell's coordinates from a row's first five columns (model,
// dtype, tp, context, stage); free-form jobs' empty stage shows as "job".
v1::MatrixCell CellAt(const Statement& row) {
  v1::MatrixCell cell;
  cell.set_model(row.Text(0));
  cell.set_dtype(row.Text(1));
  cell.set_tp(row.Text(2));
  cell.set_context(row.Text(3));
  std::string stage = row.Text(4);
  cell.set_stage(stage.empty() ? "job" : stage);
  cell.set_attention(row.Text(5));
  return cell;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& tag : tags) out += (out.empty() ? "" : ",") + tag;
  return out;
}

std::vector<std::string> SplitTags(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string JoinIndices(const std::vector<int>& indices) {
  std::string out;
  for (size_t i = 0; i < indices.size(); ++i) out += (i ? "," : "") + std::to_string(indices[i]);
  return out;
}

std::vector<int> SplitIndices(const std::string& text) {
  std::vector<int> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) out.push_back(std::stoi(item));
  }
  return out;
}

v1::Attempt RowToAttempt(Statement& row) {
  v1::Attempt attempt;
  attempt.set_id(row.Int(0));
  attempt.set_job_id(row.Int(1));
  attempt.set_number(static_cast<int>(row.Int(2)));
  attempt.set_state(static_cast<v1::AttemptState>(row.Int(3)));
  attempt.set_agent(row.Text(4));
  for (int index : SplitIndices(row.Text(5))) attempt.add_device_indices(index);
  attempt.set_leased_at_ms(row.Int(6));
  attempt.set_started_at_ms(row.Int(7));
  attempt.set_finished_at_ms(row.Int(8));
  attempt.set_exit_code(static_cast<int>(row.Int(9)));
  attempt.set_reason(row.Text(10));
  attempt.set_failure_class(static_cast<v1::FailureClass>(row.Int(11)));
  return attempt;
}

}  // namespace

StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, int busy_timeout_ms) {
  auto db = Database::Open(path, busy_timeout_ms);
  if (!db) return Err(db.error());
  auto applied = ApplyMigrations(**db, BuiltInMigrations());
  if (!applied) return Err(applied.error());
  return std::unique_ptr<Store>(new Store(std::move(*db)));
}

v1::Job Store::RowToJob(Statement& row) {
  v1::Job job;
  job.set_id(row.Int(0));
  job.set_sweep_id(row.Int(1));
  job.set_name(row.Text(2));
  job.set_kind(static_cast<v1::JobKind>(row.Int(3)));
  job.set_state(static_cast<v1::JobState>(row.Int(4)));
  auto spec = nlohmann::json::parse(row.Text(5), nullptr, /*allow_exceptions=*/false);
  if (job.kind() == v1::JOB_KIND_WORKER) {
    auto* worker = job.mutable_worker();
    worker->set_suite(spec.value("suite", ""));
    worker->set_params_json(spec.value("params", nlohmann::json::object()).dump());
    worker->set_backend(spec.value("backend", ""));
  } else {
    auto* exec = job.mutable_exec();
    for (const auto& arg : spec.value("argv", nlohmann::json::array())) exec->add_argv(arg.get<std::string>());
    const nlohmann::json env = spec.value("env", nlohmann::json::object());
    for (const auto& [key, value] : env.items()) (*exec->mutable_env())[key] = value.get<std::string>();
    exec->set_workdir(spec.value("workdir", ""));
  }
  if (job.kind() == v1::JOB_KIND_WORKER) {
    const nlohmann::json env = spec.value("env", nlohmann::json::object());
    for (const auto& [key, value] : env.items()) (*job.mutable_worker()->mutable_env())[key] = value.get<std::string>();
  }
  if (spec.contains("targets")) job.set_targets_json(spec["targets"].dump());
  if (spec.contains("results")) job.set_results_json(spec["results"].dump());
  job.set_devices(static_cast<int>(row.Int(6)));
  job.set_device_kind(row.Text(7));
  job.set_priority(static_cast<int>(row.Int(8)));
  job.set_max_attempts(static_cast<int>(row.Int(9)));
  job.set_attempt_count(static_cast<int>(row.Int(10)));
  job.set_timeout_s(row.Double(11));
  auto labels = nlohmann::json::parse(row.Text(12), nullptr, false);
  if (labels.is_object()) {
    for (const auto& [key, value] : labels.items()) (*job.mutable_labels())[key] = value.get<std::string>();
  }
  job.set_content_key(row.Text(13));
  job.set_reason(row.Text(14));
  job.set_verdict(row.Text(15));
  job.set_result_json(row.Text(16));
  job.set_created_at_ms(row.Int(17));
  job.set_started_at_ms(row.Int(18));
  job.set_finished_at_ms(row.Int(19));
  if (!row.IsNull(20)) {
    job.set_agent(row.Text(20));
    for (int index : SplitIndices(row.Text(25))) job.add_device_indices(index);
  }
  job.set_stage(row.Text(21));
  job.set_cacheable(row.Int(22) != 0);
  job.set_cached_from(row.Int(23));
  for (auto& tag : SplitTags(row.Text(24))) job.add_tags(std::move(tag));
  job.set_failure_class(static_cast<v1::FailureClass>(row.Int(26)));
  return job;
}

StatusOr<InsertedSweep> Store::InsertSweep(const expand::SweepPlan& plan, const std::string& spec_text,
                                     const std::string& source, int64_t now_ms,
                                     const std::vector<InitialJobState>& initial) {
  assert(initial.size() == plan.jobs.size() && "one initial state per planned job");
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("INSERT INTO sweeps(name, source, spec_text, priority, created_at_ms, "
                                        "health_check) VALUES (?, ?, ?, ?, ?, ?)")
                               .Bind(1, plan.name).Bind(2, source).Bind(3, spec_text)
                               .Bind(4, plan.priority).Bind(5, now_ms).Bind(6, plan.health_check_yaml).Run());
  int64_t sweep_id = db_->LastInsertId();
  Statement insert_job = db_->Prepare(
      "INSERT INTO jobs(sweep_id, name, kind, state, spec_json, devices, device_kind, priority, max_attempts, "
      "timeout_s, labels_json, content_key, created_at_ms, stage, cacheable, tags, model, dtype, tp, context, "
      "cached_from, reason, finished_at_ms, retry_json, pin_agent, pin_devices, attention) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Statement insert_dep = db_->Prepare("INSERT INTO job_deps(job_id, depends_on) VALUES (?, ?)");
  std::vector<int64_t> ids;
  ids.reserve(plan.jobs.size());
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto& job = plan.jobs[i];
    nlohmann::json labels(job.labels);
    insert_job.Bind(1, sweep_id)
        .Bind(2, job.name)
        .Bind(3, job.kind == spec::JobKind::kWorker ? v1::JOB_KIND_WORKER : v1::JOB_KIND_EXEC)
        .Bind(4, initial[i].state)
        .Bind(5, job.spec_json)
        .Bind(6, job.devices)
        .Bind(7, job.device_kind)
        .Bind(8, job.priority)
        .Bind(9, job.max_attempts)
        .Bind(10, job.timeout_s)
        .Bind(11, labels.dump())
        .Bind(12, job.content_key)
        .Bind(13, now_ms)
        .Bind(14, job.stage)
        .Bind(15, job.cacheable ? 1 : 0)
        .Bind(16, JoinTags(job.tags))
        .Bind(17, LabelOr(job.labels, "model", job.template_name))
        .Bind(18, LabelOr(job.labels, "dtype", ""))
        .Bind(19, LabelOr(job.labels, "tp", ""))
        .Bind(20, LabelOr(job.labels, "context", ""))
        .Bind(21, initial[i].cached_from)
        .Bind(22, initial[i].reason)
        .Bind(23, jobs::IsTerminal(initial[i].state) ? now_ms : 0)
        .Bind(24, contract::EncodeRetryRules(job.retry))
        .Bind(25, job.pin_node)
        .Bind(26, JoinIndices(job.pin_devices))
        .Bind(27, job.stage.empty() ? std::string() : LabelOr(job.labels, "attention", ""));
    GAUNTLET_RETURN_IF_ERROR(insert_job.Run());
    ids.push_back(db_->LastInsertId());
    for (size_t dep : job.depends_on) {
      assert(dep < ids.size() && "the plan lists upstream jobs first");
      GAUNTLET_RETURN_IF_ERROR(insert_dep.Bind(1, ids.back()).Bind(2, ids[dep]).Run());
    }
  }
  return InsertedSweep{sweep_id, std::move(ids)};
}

StatusOr<std::map<std::string, int64_t>> Store::SucceededJobsByKey(const std::vector<std::string>& keys) {
  Statement select = db_->Prepare("SELECT max(id) FROM jobs WHERE content_key = ? AND " GAUNTLET_SUCCEEDED_JOB);
  std::map<std::string, int64_t> found;
  for (const auto& key : keys) {
    if (found.contains(key)) continue;
    select.Bind(1, key);
    if (select.Step() && !select.IsNull(0)) found[key] = select.Int(0);
    GAUNTLET_RETURN_IF_ERROR(select.status());
    select.Reset();
  }
  return found;
}

StatusOr<std::vector<v1::StageCounts>> Store::StageCounts(int64_t sweep_id) {
  Statement select = db_->Prepare("SELECT stage, state, count(*) FROM jobs WHERE sweep_id = ? GROUP BY stage, state");
  select.Bind(1, sweep_id);
  std::map<std::string, v1::StageCounts> by_stage;
  while (select.Step()) {
    v1::StageCounts& counts = by_stage[select.Text(0)];
    counts.set_stage(select.Text(0));
    (*counts.mutable_jobs_by_state())[v1::JobState_Name(static_cast<v1::JobState>(select.Int(1)))] =
        static_cast<int>(select.Int(2));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  std::vector<v1::StageCounts> stages;
  for (auto& [_, counts] : by_stage) stages.push_back(std::move(counts));
  std::stable_sort(stages.begin(), stages.end(), [](const auto& a, const auto& b) {
    return contract::StageRank(a.stage()) < contract::StageRank(b.stage());
  });
  return stages;
}

StatusOr<std::optional<v1::Sweep>> Store::GetSweep(int64_t id, bool with_spec) {
  Statement select = db_->Prepare(
      "SELECT s.id, s.name, s.created_at_ms, s.priority, s.spec_text, s.source, coalesce(sc.name, ''), "
      "s.nominal_date, s.submitted_by FROM sweeps s LEFT JOIN schedules sc ON sc.id = s.schedule_id WHERE s.id = ?");
  select.Bind(1, id);
  if (!select.Step()) {
    GAUNTLET_RETURN_IF_ERROR(select.status());
    return std::optional<v1::Sweep>();
  }
  v1::Sweep sweep;
  sweep.set_id(select.Int(0));
  sweep.set_name(select.Text(1));
  sweep.set_created_at_ms(select.Int(2));
  sweep.set_priority(static_cast<int>(select.Int(3)));
  if (with_spec) sweep.set_spec_text(select.Text(4));
  sweep.set_source(select.Text(5));
  sweep.set_schedule(select.Text(6));
  sweep.set_nominal_date(select.Text(7));
  sweep.set_submitted_by(select.Text(8));

  Statement counts = db_->Prepare("SELECT state, count(*) FROM jobs WHERE sweep_id = ? GROUP BY state");
  counts.Bind(1, id);
  int total = 0, unfinished = 0, succeeded = 0;
  while (counts.Step()) {
    auto state = static_cast<v1::JobState>(counts.Int(0));
    int count = static_cast<int>(counts.Int(1));
    (*sweep.mutable_jobs_by_state())[v1::JobState_Name(state)] = count;
    total += count;
    if (state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_CACHED) succeeded += count;
    if (jobs::IsUnfinished(state)) unfinished += count;
  }
  GAUNTLET_RETURN_IF_ERROR(counts.status());
  sweep.set_total_jobs(total);
  sweep.set_finished(unfinished == 0);
  sweep.set_succeeded(unfinished == 0 && succeeded == total);
  return std::optional<v1::Sweep>(std::move(sweep));
}

StatusOr<std::vector<v1::Sweep>> Store::ListSweeps(int limit, int64_t before_id) {
  Statement select = db_->Prepare("SELECT id FROM sweeps WHERE (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?1");
  select.Bind(1, limit > 0 ? limit : -1).Bind(2, before_id);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  std::vector<v1::Sweep> sweeps;
  for (int64_t id : ids) {
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, GetSweep(id, /*with_spec=*/false));
    if (sweep) sweeps.push_back(std::move(*sweep));
  }
  return sweeps;
}

StatusOr<std::vector<v1::Job>> Store::ListJobs(int64_t sweep_id, v1::JobState state, int limit, int64_t after_id) {
  std::string sql = std::string("SELECT ") + kJobColumns +
                    " FROM jobs j WHERE (?1 = 0 OR j.sweep_id = ?1) AND (?2 = 0 OR j.state = ?2) AND j.id > ?4"
                    " ORDER BY j.id LIMIT ?3";
  Statement select = db_->Prepare(sql);
  select.Bind(1, sweep_id).Bind(2, static_cast<int>(state)).Bind(3, limit > 0 ? limit : -1).Bind(4, after_id);
  std::vector<v1::Job> jobs;
  while (select.Step()) jobs.push_back(RowToJob(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return jobs;
}

Status Store::AddMetrics(std::vector<v1::Job>* jobs) {
  if (jobs->empty()) return Status::Ok();
  // A cached job shows the metrics of the job it reuses.
  std::map<int64_t, std::vector<v1::Job*>> by_result_job;
  for (v1::Job& job : *jobs) by_result_job[job.cached_from() != 0 ? job.cached_from() : job.id()].push_back(&job);
  std::string ids;
  for (const auto& [result_job, _] : by_result_job) ids += (ids.empty() ? "" : ",") + std::to_string(result_job);
  // The ids are our own integers, so they go into the statement as text.
  Statement select = db_->Prepare(
      "SELECT m.job_id, m.name, m.value FROM metrics m WHERE m.job_id IN (" + ids +
      ") AND m.attempt_id = (SELECT max(attempt_id) FROM metrics WHERE job_id = m.job_id)");
  while (select.Step()) {
    for (v1::Job* job : by_result_job[select.Int(0)]) (*job->mutable_metrics())[select.Text(1)] = select.Double(2);
  }
  return select.status();
}

Status Store::AddRunningTimes(std::vector<v1::Job>* jobs, int64_t now_ms) {
  if (jobs->empty()) return Status::Ok();
  std::map<int64_t, v1::Job*> by_id;
  std::string ids;
  for (v1::Job& job : *jobs) {
    by_id[job.id()] = &job;
    ids += (ids.empty() ? "" : ",") + std::to_string(job.id());
  }
  // The ids are our own integers, so they go into the statement as text.
  Statement select = db_->Prepare(
      "SELECT job_id, sum(CASE WHEN finished_at_ms > 0 THEN finished_at_ms ELSE ?1 END - started_at_ms) "
      "FROM attempts WHERE job_id IN (" + ids + ") AND started_at_ms > 0 GROUP BY job_id");
  select.Bind(1, now_ms);
  while (select.Step()) by_id[select.Int(0)]->set_running_ms(select.Int(1));
  return select.status();
}

StatusOr<std::optional<v1::Job>> Store::SelectJob(int64_t id) {
  Statement select = db_->Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs j WHERE j.id = ?");
  select.Bind(1, id);
  if (!select.Step()) {
    GAUNTLET_RETURN_IF_ERROR(select.status());
    return std::optional<v1::Job>();
  }
  return std::optional<v1::Job>(RowToJob(select));
}

StatusOr<std::optional<v1::Job>> Store::GetJob(int64_t id) {
  GAUNTLET_ASSIGN_OR_RETURN(std::optional<v1::Job> found, SelectJob(id));
  if (!found) return found;
  v1::Job& job = *found;
  GAUNTLET_ASSIGN_OR_RETURN(auto upstream_ids, UpstreamJobs(id));
  for (int64_t upstream : upstream_ids) job.add_depends_on(upstream);

  Statement attempts = db_->Prepare(
      "SELECT id, job_id, number, state, agent, device_indices, leased_at_ms, started_at_ms, finished_at_ms, "
      "exit_code, reason, failure_class FROM attempts WHERE job_id = ? ORDER BY number");
  attempts.Bind(1, id);
  while (attempts.Step()) *job.add_attempts() = RowToAttempt(attempts);
  GAUNTLET_RETURN_IF_ERROR(attempts.status());

  // Metrics and artifacts of the attempt that produced the job's result; a
  // cached job shows those of the job it reuses.
  const int64_t result_job = job.cached_from() != 0 ? job.cached_from() : id;
  GAUNTLET_ASSIGN_OR_RETURN(auto test_cases, TestCases(result_job));
  for (auto& test : test_cases) *job.add_test_cases() = std::move(test);
  Statement metrics = db_->Prepare(
      "SELECT name, value FROM metrics WHERE job_id = ?1 AND attempt_id = "
      "(SELECT max(attempt_id) FROM metrics WHERE job_id = ?1)");
  metrics.Bind(1, result_job);
  while (metrics.Step()) (*job.mutable_metrics())[metrics.Text(0)] = metrics.Double(1);
  GAUNTLET_RETURN_IF_ERROR(metrics.status());
  Statement artifacts = db_->Prepare(
      "SELECT ja.name, ja.sha256, a.size FROM job_artifacts ja JOIN artifacts a USING (sha256) "
      "WHERE ja.job_id = ?1 AND ja.attempt_id = (SELECT max(attempt_id) FROM job_artifacts WHERE job_id = ?1) "
      "ORDER BY ja.name");
  artifacts.Bind(1, result_job);
  while (artifacts.Step()) {
    auto* ref = job.add_artifacts();
    ref->set_name(artifacts.Text(0));
    ref->set_sha256(artifacts.Text(1));
    ref->set_size(artifacts.Int(2));
  }
  GAUNTLET_RETURN_IF_ERROR(artifacts.status());
  return found;
}

StatusOr<std::vector<int64_t>> Store::UnfinishedJobs(int64_t sweep_id, int64_t job_id) {
  Statement select = db_->Prepare(
      "SELECT id FROM jobs WHERE (sweep_id = ?1 OR id = ?2) AND state IN (?3, ?4, ?5, ?6) ORDER BY id");
  select.Bind(1, sweep_id).Bind(2, job_id)
      .Bind(3, v1::JOB_STATE_PENDING).Bind(4, v1::JOB_STATE_READY)
      .Bind(5, v1::JOB_STATE_LEASED).Bind(6, v1::JOB_STATE_RUNNING);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return ids;
}

StatusOr<std::vector<int64_t>> Store::UpstreamJobs(int64_t job_id) {
  Statement select = db_->Prepare("SELECT depends_on FROM job_deps WHERE job_id = ? ORDER BY depends_on");
  select.Bind(1, job_id);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return ids;
}

StatusOr<std::vector<std::pair<int64_t, v1::JobState>>> Store::Dependents(int64_t job_id) {
  Statement select = db_->Prepare(
      "SELECT d.job_id, j.state FROM job_deps d JOIN jobs j ON j.id = d.job_id WHERE d.depends_on = ? ORDER BY 1");
  select.Bind(1, job_id);
  std::vector<std::pair<int64_t, v1::JobState>> out;
  while (select.Step()) out.emplace_back(select.Int(0), static_cast<v1::JobState>(select.Int(1)));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::vector<v1::JobState>> Store::UpstreamStates(int64_t job_id) {
  Statement select = db_->Prepare(
      "SELECT u.state FROM job_deps d JOIN jobs u ON u.id = d.depends_on WHERE d.job_id = ?");
  select.Bind(1, job_id);
  std::vector<v1::JobState> out;
  while (select.Step()) out.push_back(static_cast<v1::JobState>(select.Int(0)));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::vector<sched::UpstreamJob>> Store::UnfinishedUpstream(int64_t job_id) {
  Statement select = db_->Prepare(
      "SELECT u.id, u.name, u.state FROM job_deps d JOIN jobs u ON u.id = d.depends_on WHERE d.job_id = ? ORDER BY u.id");
  select.Bind(1, job_id);
  std::vector<sched::UpstreamJob> out;
  while (select.Step()) {
    auto state = static_cast<v1::JobState>(select.Int(2));
    if (!jobs::IsTerminal(state)) out.push_back({select.Int(0), select.Text(1), state});
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<bool> Store::SweepFinished(int64_t id) {
  Statement select = db_->Prepare(
      "SELECT EXISTS (SELECT 1 FROM jobs WHERE sweep_id = ?1 AND state IN (?2, ?3, ?4, ?5))");
  select.Bind(1, id).Bind(2, v1::JOB_STATE_PENDING).Bind(3, v1::JOB_STATE_READY).Bind(4, v1::JOB_STATE_LEASED)
      .Bind(5, v1::JOB_STATE_RUNNING);
  if (select.Step()) return select.Int(0) == 0;
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return true;
}

StatusOr<int64_t> Store::JobIdByName(int64_t sweep_id, const std::string& name) {
  Statement select = db_->Prepare("SELECT id FROM jobs WHERE sweep_id = ? AND name = ?");
  select.Bind(1, sweep_id).Bind(2, name);
  if (select.Step()) return select.Int(0);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return int64_t{0};
}

StatusOr<std::optional<v1::JobState>> Store::JobStateOf(int64_t job_id) {
  Statement select = db_->Prepare("SELECT state FROM jobs WHERE id = ?");
  select.Bind(1, job_id);
  if (select.Step()) return std::optional<v1::JobState>(static_cast<v1::JobState>(select.Int(0)));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return std::optional<v1::JobState>();
}

Status Store::SetJobState(int64_t job_id, v1::JobState state, const std::string& reason, int64_t now_ms,
                          const JobOutcome* outcome) {
  // One write per state change: every index holding `state` is rewritten by it.
  Statement update = db_->Prepare(
      outcome ? "UPDATE jobs SET state = ?2, reason = ?3, "
                "started_at_ms = CASE WHEN ?2 = ?5 AND started_at_ms = 0 THEN ?4 ELSE started_at_ms END, "
                "finished_at_ms = CASE WHEN ?6 THEN ?4 ELSE 0 END, verdict = ?7, result_json = ?8 WHERE id = ?1"
              : "UPDATE jobs SET state = ?2, reason = ?3, "
                "started_at_ms = CASE WHEN ?2 = ?5 AND started_at_ms = 0 THEN ?4 ELSE started_at_ms END, "
                "finished_at_ms = CASE WHEN ?6 THEN ?4 ELSE 0 END WHERE id = ?1");
  update.Bind(1, job_id).Bind(2, static_cast<int>(state)).Bind(3, reason).Bind(4, now_ms)
      .Bind(5, v1::JOB_STATE_RUNNING).Bind(6, jobs::IsTerminal(state) ? 1 : 0);
  if (outcome) update.Bind(7, outcome->verdict).Bind(8, outcome->result_json);
  return update.Run();
}

Status Store::SetJobOutcome(int64_t job_id, const JobOutcome& outcome) {
  return db_->Prepare("UPDATE jobs SET verdict = ?, result_json = ? WHERE id = ?")
      .Bind(1, outcome.verdict).Bind(2, outcome.result_json).Bind(3, job_id).Run();
}

Status Store::SetUnfinishedJobReason(int64_t job_id, const std::string& reason) {
  return db_->Prepare("UPDATE jobs SET reason = ?2 WHERE id = ?1 AND state IN (?3, ?4)")
      .Bind(1, job_id).Bind(2, reason).Bind(3, v1::JOB_STATE_LEASED).Bind(4, v1::JOB_STATE_RUNNING)
      .Run();
}

Status Store::ResetForRetry(int64_t job_id, v1::JobState state) {
  return db_->Prepare(
                "UPDATE jobs SET retry_base = attempt_count, reason = '', verdict = '', finished_at_ms = 0, state = ?2 "
                "WHERE id = ?1")
      .Bind(1, job_id).Bind(2, static_cast<int>(state))
      .Run();
}

Status Store::StoreResult(int64_t job_id, int64_t attempt_id,
                          const google::protobuf::Map<std::string, double>& metrics,
                          const google::protobuf::RepeatedPtrField<v1::ArtifactRef>& artifacts, int64_t now_ms) {
  Statement insert_metric = db_->Prepare(
      "INSERT OR REPLACE INTO metrics(attempt_id, job_id, name, value) VALUES (?, ?, ?, ?)");
  for (const auto& [name, value] : metrics) {
    GAUNTLET_RETURN_IF_ERROR(insert_metric.Bind(1, attempt_id).Bind(2, job_id).Bind(3, name).Bind(4, value).Run());
  }
  Statement insert_artifact = db_->Prepare(
      "INSERT OR REPLACE INTO job_artifacts(attempt_id, job_id, name, sha256) VALUES (?, ?, ?, ?)");
  for (const auto& ref : artifacts) {
    GAUNTLET_RETURN_IF_ERROR(RecordArtifact(ref.sha256(), ref.size(), now_ms));
    GAUNTLET_RETURN_IF_ERROR(
        insert_artifact.Bind(1, attempt_id).Bind(2, job_id).Bind(3, ref.name()).Bind(4, ref.sha256()).Run());
  }
  return Status::Ok();
}

namespace {

constexpr const char* kReadyJobColumns = "SELECT id, devices, device_kind, priority, tags, pin_agent, pin_devices FROM jobs ";

sched::ReadyJob ReadReadyJob(const Statement& row) {
  sched::ReadyJob job{row.Int(0), static_cast<int>(row.Int(1)), row.Text(2),
                      static_cast<int>(row.Int(3)), row.Int(0), SplitTags(row.Text(4))};
  job.pin_node = row.Text(5);
  job.pin_devices = SplitIndices(row.Text(6));
  return job;
}

}  // namespace

StatusOr<sched::ReadyJob> Store::ReadyJobOf(int64_t job_id) {
  Statement select = db_->Prepare(std::string(kReadyJobColumns) + "WHERE id = ?");
  select.Bind(1, job_id);
  if (!select.Step()) {
    GAUNTLET_RETURN_IF_ERROR(select.status());
    return Err(Status::NotFound("no job " + std::to_string(job_id)));
  }
  return ReadReadyJob(select);
}

StatusOr<std::vector<ActiveAttempt>> Store::ActiveAttempts() {
  Statement select = db_->Prepare("SELECT id, agent, device_indices FROM attempts WHERE " GAUNTLET_ACTIVE_ATTEMPT);
  std::vector<ActiveAttempt> out;
  while (select.Step()) out.push_back({select.Int(0), select.Text(1), SplitIndices(select.Text(2))});
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::vector<sched::ReadyJob>> Store::ReadyJobs() {
  Statement select = db_->Prepare(std::string(kReadyJobColumns) + "WHERE " GAUNTLET_READY_JOB " ORDER BY priority DESC, id");
  std::vector<sched::ReadyJob> jobs;
  while (select.Step()) jobs.push_back(ReadReadyJob(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return jobs;
}

StatusOr<std::vector<sched::Node>> Store::SchedulingNodes(int64_t alive_after_ms) {
  Statement select = db_->Prepare(
      "SELECT a.name, a.drained, a.last_heartbeat_ms, d.idx, d.kind, a.tags, coalesce(h.state, 0) FROM agents a "
      "JOIN devices d ON d.agent = a.name LEFT JOIN device_health h ON h.agent = d.agent AND h.idx = d.idx "
      "ORDER BY a.name, d.idx");
  std::vector<sched::Node> nodes;
  std::map<std::string, size_t> by_name;
  while (select.Step()) {
    std::string name = select.Text(0);
    if (nodes.empty() || nodes.back().name != name) {
      sched::Node node;
      node.name = name;
      node.schedulable = select.Int(1) == 0 && select.Int(2) > alive_after_ms;
      node.tags = SplitTags(select.Text(5));
      by_name[name] = nodes.size();
      nodes.push_back(std::move(node));
    }
    nodes.back().devices.push_back({static_cast<int>(select.Int(3)), select.Text(4), true, select.Int(6) == 0});
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  Statement held = db_->Prepare("SELECT agent, device_indices FROM attempts WHERE " GAUNTLET_ACTIVE_ATTEMPT);
  while (held.Step()) {
    auto node = by_name.find(held.Text(0));
    if (node == by_name.end()) continue;
    for (int index : SplitIndices(held.Text(1))) {
      for (auto& device : nodes[node->second].devices) {
        if (device.index == index) device.free = false;
      }
    }
  }
  GAUNTLET_RETURN_IF_ERROR(held.status());
  return nodes;
}

StatusOr<std::vector<expand::NodeCapacity>> Store::NodeCapacities() {
  Statement select = db_->Prepare(
      "SELECT d.agent, d.kind, count(*), a.tags FROM devices d JOIN agents a ON a.name = d.agent GROUP BY d.agent, d.kind");
  std::vector<expand::NodeCapacity> out;
  while (select.Step()) {
    out.push_back({select.Text(0), select.Text(1), static_cast<int>(select.Int(2)), SplitTags(select.Text(3))});
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<int64_t> Store::CreateAttempt(const sched::Placement& placement, int64_t now_ms, int64_t lease_expires_ms) {
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("UPDATE jobs SET attempt_count = attempt_count + 1, state = ? WHERE id = ?")
                               .Bind(1, v1::JOB_STATE_LEASED).Bind(2, placement.job_id).Run());
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO attempts(job_id, number, state, agent, device_indices, leased_at_ms, lease_expires_ms) "
                   "SELECT id, attempt_count, ?, ?, ?, ?, ? FROM jobs WHERE id = ?")
          .Bind(1, v1::ATTEMPT_STATE_LEASED).Bind(2, placement.node).Bind(3, JoinIndices(placement.device_indices))
          .Bind(4, now_ms).Bind(5, lease_expires_ms).Bind(6, placement.job_id)
          .Run());
  return db_->LastInsertId();
}

namespace {
constexpr const char* kAttemptRowColumns =
    "SELECT a.id, a.job_id, j.sweep_id, a.state, a.agent, j.state, j.attempt_count - j.retry_base, j.max_attempts, "
    "j.retry_json, j.pin_agent != '', a.device_indices FROM attempts a JOIN jobs j ON j.id = a.job_id ";

AttemptRow ReadAttemptRow(const Statement& select) {
  return AttemptRow{select.Int(0),
                    select.Int(1),
                    select.Int(2),
                    static_cast<v1::AttemptState>(select.Int(3)),
                    select.Text(4),
                    static_cast<v1::JobState>(select.Int(5)),
                    static_cast<int>(select.Int(6)),
                    static_cast<int>(select.Int(7)),
                    select.Text(8),
                    select.Int(9) != 0,
                    SplitIndices(select.Text(10))};
}
}  // namespace

StatusOr<std::optional<AttemptRow>> Store::GetAttempt(int64_t attempt_id) {
  Statement select = db_->Prepare(std::string(kAttemptRowColumns) + "WHERE a.id = ?");
  select.Bind(1, attempt_id);
  if (select.Step()) return std::optional<AttemptRow>(ReadAttemptRow(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return std::optional<AttemptRow>();
}

StatusOr<std::vector<AttemptRow>> Store::ActiveAttemptsOfJob(int64_t job_id) {
  Statement select = db_->Prepare(std::string(kAttemptRowColumns) + "WHERE a.job_id = ? AND a." GAUNTLET_ACTIVE_ATTEMPT);
  select.Bind(1, job_id);
  std::vector<AttemptRow> out;
  while (select.Step()) out.push_back(ReadAttemptRow(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::vector<std::pair<int64_t, v1::Job>>> Store::LeasedAttempts(const std::string& agent) {
  Statement select = db_->Prepare("SELECT id, job_id FROM attempts WHERE agent = ? AND " GAUNTLET_ACTIVE_ATTEMPT " AND state = 1 ORDER BY id");
  select.Bind(1, agent);
  std::vector<std::pair<int64_t, int64_t>> ids;
  while (select.Step()) ids.emplace_back(select.Int(0), select.Int(1));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  std::vector<std::pair<int64_t, v1::Job>> out;
  for (const auto& [attempt_id, job_id] : ids) {
    GAUNTLET_ASSIGN_OR_RETURN(auto job, SelectJob(job_id));
    if (job) out.emplace_back(attempt_id, std::move(*job));
  }
  return out;
}

StatusOr<std::vector<int64_t>> Store::ActiveAttemptIds(const std::string& agent) {
  Statement select = db_->Prepare("SELECT id FROM attempts WHERE agent = ? AND " GAUNTLET_ACTIVE_ATTEMPT);
  select.Bind(1, agent);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return ids;
}

Status Store::MarkAttemptRunning(int64_t attempt_id, int64_t now_ms) {
  return db_->Prepare("UPDATE attempts SET state = ?, started_at_ms = ? WHERE id = ? AND state = ?")
      .Bind(1, v1::ATTEMPT_STATE_RUNNING).Bind(2, now_ms).Bind(3, attempt_id).Bind(4, v1::ATTEMPT_STATE_LEASED)
      .Run();
}

Status Store::EndAttempt(int64_t attempt_id, const AttemptEnd& end) {
  return db_->Prepare("UPDATE attempts SET state = ?1, exit_code = ?2, reason = ?3, finished_at_ms = ?4, "
                      "failure_class = ?5, "
                      "started_at_ms = CASE WHEN ?7 AND started_at_ms = 0 THEN ?4 ELSE started_at_ms END WHERE id = ?6")
      .Bind(1, static_cast<int>(end.state)).Bind(2, end.exit_code).Bind(3, end.reason).Bind(4, end.finished_at_ms)
      .Bind(5, static_cast<int>(end.failure_class)).Bind(6, attempt_id).Bind(7, end.started ? 1 : 0)
      .Run();
}

Status Store::UpsertAgent(const std::string& name, const std::string& version, const std::vector<std::string>& tags,
                          const std::vector<v1::Device>& devices, int64_t now_ms,
                          const std::vector<std::string>& suites, const v1::Inventory& inventory) {
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO agents(name, version, registered_at_ms, last_heartbeat_ms, tags, suites, inventory) "
                   "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET version = ?2, "
                   "last_heartbeat_ms = ?3, tags = ?4, suites = ?5, inventory = ?6")
          .Bind(1, name).Bind(2, version).Bind(3, now_ms).Bind(4, JoinTags(tags)).Bind(5, JoinTags(suites))
          .BindBlob(6, inventory.SerializeAsString()).Run());
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("DELETE FROM devices WHERE agent = ?").Bind(1, name).Run());
  Statement insert = db_->Prepare("INSERT INTO devices(agent, idx, kind, model) VALUES (?, ?, ?, ?)");
  for (const auto& device : devices) {
    GAUNTLET_RETURN_IF_ERROR(
        insert.Bind(1, name).Bind(2, device.index()).Bind(3, device.kind()).Bind(4, device.model()).Run());
  }
  return Status::Ok();
}

StatusOr<std::set<std::string>> Store::KnownSuites() {
  Statement select = db_->Prepare("SELECT DISTINCT suites FROM agents");
  std::set<std::string> suites;
  while (select.Step()) {
    for (auto& suite : SplitTags(select.Text(0))) suites.insert(std::move(suite));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return suites;
}

StatusOr<bool> Store::TouchAgent(const std::string& name, int64_t now_ms) {
  Status status = db_->Prepare("UPDATE agents SET last_heartbeat_ms = ? WHERE name = ?").Bind(1, now_ms).Bind(2, name).Run();
  if (!status.ok()) return Err(status);
  return db_->Changes() > 0;
}

StatusOr<std::vector<v1::Agent>> Store::ListAgents(int64_t alive_after_ms) {
  std::vector<v1::Agent> agents;
  std::map<std::string, size_t> by_name;
  Statement select = db_->Prepare(
      "SELECT name, version, last_heartbeat_ms, drained, tags, revoked_at_ms, admitted_by, inventory FROM agents "
      "ORDER BY name");
  while (select.Step()) {
    v1::Agent agent;
    agent.set_name(select.Text(0));
    agent.set_version(select.Text(1));
    agent.set_last_heartbeat_ms(select.Int(2));
    agent.set_alive(select.Int(2) > alive_after_ms);
    agent.set_drained(select.Int(3) != 0);
    for (auto& tag : SplitTags(select.Text(4))) agent.add_tags(std::move(tag));
    agent.set_revoked_at_ms(select.Int(5));
    agent.set_admitted_by(select.Text(6));
    // A row from before inventories (or an unreadable one) reports nothing.
    if (!agent.mutable_inventory()->ParseFromString(select.Text(7))) agent.clear_inventory();
    by_name[agent.name()] = agents.size();
    agents.push_back(std::move(agent));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  Statement held = db_->Prepare("SELECT id, agent, device_indices FROM attempts WHERE " GAUNTLET_ACTIVE_ATTEMPT);
  std::map<std::pair<std::string, int>, int64_t> holder;
  while (held.Step()) {
    for (int index : SplitIndices(held.Text(2))) holder[{held.Text(1), index}] = held.Int(0);
  }
  GAUNTLET_RETURN_IF_ERROR(held.status());
  Statement devices = db_->Prepare("SELECT agent, idx, kind, model FROM devices ORDER BY agent, idx");
  while (devices.Step()) {
    auto owner = by_name.find(devices.Text(0));
    if (owner == by_name.end()) continue;
    v1::Agent& agent = agents[owner->second];
    auto* device = agent.add_devices();
    device->set_index(static_cast<int>(devices.Int(1)));
    device->set_kind(devices.Text(2));
    device->set_model(devices.Text(3));
    auto found = holder.find({agent.name(), device->index()});
    if (found != holder.end()) device->set_held_by_attempt(found->second);
  }
  GAUNTLET_RETURN_IF_ERROR(devices.status());
  return agents;
}

StatusOr<bool> Store::SetDrained(const std::string& name, bool drained) {
  Status status = db_->Prepare("UPDATE agents SET drained = ? WHERE name = ?").Bind(1, drained ? 1 : 0).Bind(2, name).Run();
  if (!status.ok()) return Err(status);
  return db_->Changes() > 0;
}

Status Store::SetAgentSession(const std::string& name, const std::string& session_hash,
                              const std::string& admitted_by) {
  return db_->Prepare("UPDATE agents SET session_hash = ?2, admitted_by = ?3 WHERE name = ?1")
      .Bind(1, name).Bind(2, session_hash).Bind(3, admitted_by).Run();
}

StatusOr<bool> Store::SetAgentRevoked(const std::string& name, int64_t revoked_at_ms) {
  // Revoking also forgets the session: the holder's credential is dead at once.
  Status status = db_->Prepare(revoked_at_ms ? "UPDATE agents SET revoked_at_ms = ?2, session_hash = '' WHERE name = ?1"
                                             : "UPDATE agents SET revoked_at_ms = ?2 WHERE name = ?1")
                      .Bind(1, name).Bind(2, revoked_at_ms).Run();
  if (!status.ok()) return Err(status);
  return db_->Changes() > 0;
}

StatusOr<std::vector<Store::AgentSessionRow>> Store::AgentSessions() {
  Statement select = db_->Prepare("SELECT name, session_hash, revoked_at_ms FROM agents");
  std::vector<AgentSessionRow> rows;
  while (select.Step()) rows.push_back({select.Text(0), select.Text(1), select.Int(2)});
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return rows;
}

StatusOr<int64_t> Store::AppendLog(int64_t attempt_id, int64_t offset, std::string_view data, int64_t max_bytes) {
  Statement length = db_->Prepare("SELECT coalesce(sum(length(data)), 0) FROM log_chunks WHERE attempt_id = ?");
  length.Bind(1, attempt_id);
  length.Step();
  GAUNTLET_RETURN_IF_ERROR(length.status());
  int64_t stored = length.Int(0);
  const int64_t sent_end = offset + static_cast<int64_t>(data.size());
  // Past the cap (the marker puts the stored length over it) every chunk is
  // taken and dropped, so the agent moves on instead of resending forever.
  if (stored >= max_bytes) return std::max(sent_end, stored);
  if (offset != stored || data.empty()) return stored;
  std::string_view kept = data;
  std::string cut;  // Only a chunk crossing the cap is copied, to append the marker.
  if (sent_end > max_bytes) {
    cut = std::string(data.substr(0, static_cast<size_t>(max_bytes - stored))) + "\n[gauntlet: log cut at " +
          std::to_string(max_bytes) + " bytes; the rest was dropped (raise gauntlet-coordinator --max-log-bytes)]\n";
    kept = cut;
  }
  Status status = db_->Prepare("INSERT INTO log_chunks(attempt_id, offset, data) VALUES (?, ?, ?)")
                      .Bind(1, attempt_id).Bind(2, offset).BindBlob(3, kept).Run();
  if (!status.ok()) return Err(status);
  return std::max(sent_end, stored + static_cast<int64_t>(kept.size()));
}

StatusOr<std::string> Store::ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes) {
  Statement select = db_->Prepare(
      "SELECT offset, data FROM log_chunks WHERE attempt_id = ? AND offset + length(data) > ? ORDER BY offset");
  select.Bind(1, attempt_id).Bind(2, offset);
  std::string out;
  while (static_cast<int64_t>(out.size()) < max_bytes && select.Step()) {
    int64_t chunk_offset = select.Int(0);
    std::string data = select.Text(1);
    size_t skip = offset > chunk_offset ? static_cast<size_t>(offset - chunk_offset) : 0;
    out.append(data, skip, std::string::npos);
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  if (static_cast<int64_t>(out.size()) > max_bytes) out.resize(static_cast<size_t>(max_bytes));
  return out;
}

StatusOr<int64_t> Store::LatestAttemptId(int64_t job_id) {
  Statement select = db_->Prepare("SELECT coalesce(max(id), 0) FROM attempts WHERE job_id = ?");
  select.Bind(1, job_id);
  select.Step();
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return select.Int(0);
}

Status Store::RecordArtifact(const std::string& sha256, int64_t size, int64_t now_ms) {
  return db_->Prepare("INSERT OR IGNORE INTO artifacts(sha256, size, created_at_ms) VALUES (?, ?, ?)")
      .Bind(1, sha256).Bind(2, size).Bind(3, now_ms).Run();
}

StatusOr<std::map<std::string, double>> Store::MeanSecondsByStage() {
  Statement select = db_->Prepare(
      "SELECT CASE WHEN stage = '' THEN 'kind' || kind ELSE stage END, avg(finished_at_ms - started_at_ms) / 1000.0 "
      "FROM jobs WHERE state = ? AND started_at_ms > 0 GROUP BY 1");
  select.Bind(1, v1::JOB_STATE_SUCCEEDED);
  std::map<std::string, double> out;
  while (select.Step()) out[select.Text(0)] = select.Double(1);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::map<std::string, double>> Store::MeanSecondsByKey(const std::set<std::string>& keys) {
  // The succeeded-by-key index answers each key with a short range scan.
  Statement select = db_->Prepare(
      "SELECT avg(finished_at_ms - started_at_ms) / 1000.0 FROM jobs WHERE content_key = ? AND state = ? "
      "AND started_at_ms > 0");
  std::map<std::string, double> out;
  for (const auto& key : keys) {
    select.Reset();
    select.Bind(1, key).Bind(2, v1::JOB_STATE_SUCCEEDED);
    if (select.Step() && !select.IsNull(0)) out[key] = select.Double(0);
    GAUNTLET_RETURN_IF_ERROR(select.status());
  }
  return out;
}

StatusOr<std::map<std::pair<std::string, std::string>, double>> Store::MeanSecondsByStageAndModel() {
  Statement select = db_->Prepare(
      "SELECT stage, model, avg(finished_at_ms - started_at_ms) / 1000.0 FROM jobs "
      "WHERE state = ? AND started_at_ms > 0 AND stage != '' GROUP BY stage, model");
  select.Bind(1, v1::JOB_STATE_SUCCEEDED);
  std::map<std::pair<std::string, std::string>, double> out;
  while (select.Step()) out[{select.Text(0), select.Text(1)}] = select.Double(2);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<bool> Store::HasArtifact(const std::string& sha256) {
  Statement select = db_->Prepare("SELECT 1 FROM artifacts WHERE sha256 = ?");
  select.Bind(1, sha256);
  if (select.Step()) return true;
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return false;
}

StatusOr<std::vector<v1::MatrixCell>> Store::Matrix(const MatrixFilter& filter) {
  // One sweep: the (sweep_id, ...) index narrows to its rows. Every sweep: the
  // covering index is already in GROUP BY order. Free-form jobs' empty stage
  // shows as "job"; mapped here so the grouping stays on the bare column.
  const std::string where = filter.sweep_id ? "sweep_id = ?1" : "?1 = 0";
  Statement select = db_->Prepare(
      "SELECT model, dtype, tp, context, stage, attention, state, count(*), min(id), "
      // A failure of setup (its last attempt's class: configuration) is not a verdict.
      "       state = ?4 AND (SELECT a.failure_class FROM attempts a WHERE a.job_id = jobs.id "
      "                       ORDER BY a.number DESC LIMIT 1) = ?5 AS setup "
      "FROM jobs WHERE " + where +
      " AND (?2 = '' OR instr(',' || tags || ',', ',' || ?2 || ',') > 0) AND (?3 = 0 OR created_at_ms >= ?3) "
      "GROUP BY model, dtype, tp, attention, context, stage, state, setup");
  select.Bind(1, filter.sweep_id).Bind(2, filter.tag).Bind(3, filter.since_ms)
      .Bind(4, static_cast<int>(v1::JOB_STATE_FAILED)).Bind(5, static_cast<int>(v1::FAILURE_CLASS_CONFIGURATION));
  std::vector<v1::MatrixCell> cells;
  while (select.Step()) {
    v1::MatrixCell cell = CellAt(select);
    cell.set_state(static_cast<v1::JobState>(select.Int(6)));
    cell.set_count(static_cast<int>(select.Int(7)));
    cell.set_example_job(select.Int(8));
    cell.set_setup_error(select.Int(9) != 0);
    cells.push_back(std::move(cell));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return cells;
}

StatusOr<std::vector<v1::Job>> Store::MatrixJobs(const MatrixFilter& filter, const v1::MatrixCell& where, int limit) {
  Statement select = db_->Prepare(
      std::string("SELECT ") + kJobColumns +
      " FROM jobs j WHERE (?1 = 0 OR j.sweep_id = ?1) AND j.model = ?2 AND j.dtype = ?3 AND j.tp = ?4 "
      "AND j.context = ?5 AND (CASE j.stage WHEN '' THEN 'job' ELSE j.stage END) = ?6 "
      "AND (?7 = 0 OR j.state = ?7) AND j.attention = ?9 ORDER BY j.id LIMIT ?8");
  select.Bind(1, filter.sweep_id).Bind(2, where.model()).Bind(3, where.dtype()).Bind(4, where.tp())
      .Bind(5, where.context()).Bind(6, where.stage()).Bind(7, static_cast<int>(where.state())).Bind(8, limit)
      .Bind(9, where.attention());
  std::vector<v1::Job> jobs;
  while (select.Step()) jobs.push_back(RowToJob(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return jobs;
}

StatusOr<std::map<int64_t, v1::MatrixCell>> Store::CellsOfJobs(const std::vector<int64_t>& job_ids) {
  Statement select = db_->Prepare(
      "SELECT model, dtype, tp, context, stage, attention FROM jobs WHERE id = ?");
  std::map<int64_t, v1::MatrixCell> cells;
  for (int64_t id : job_ids) {
    select.Reset();
    select.Bind(1, id);
    if (!select.Step()) {
      GAUNTLET_RETURN_IF_ERROR(select.status());
      continue;
    }
    v1::MatrixCell& cell = cells[id] = CellAt(select);
    cell.set_example_job(id);
  }
  return cells;
}

StatusOr<std::vector<v1::BenchmarkPoint>> Store::Benchmarks(int64_t since_ms) {
  Statement select = db_->Prepare(
      "SELECT j.model, trim(j.dtype || ' tp' || j.tp || ' ' || j.attention || ' ' || j.context || ' ' || "
      "       coalesce(json_extract(j.labels_json, '$.program'), '') || ' ' || coalesce(json_extract(j.labels_json, '$.shape'), '')), "
      "       date(j.created_at_ms / 1000, 'unixepoch'), "
      "       max(CASE m.name WHEN 'ttft_ms' THEN m.value END), max(CASE m.name WHEN 'itl_ms' THEN m.value END), j.id, "
      "       coalesce(json_extract(j.spec_json, '$.params.ttft_ms_target'), "
      "                json_extract(j.spec_json, '$.targets.ttft_ms.max'), 0), "
      "       coalesce(json_extract(j.spec_json, '$.params.itl_ms_target'), "
      "                json_extract(j.spec_json, '$.targets.itl_ms.max'), 0), "
      "       j.dtype, j.tp, j.context, j.attention, "
      "       trim(coalesce(json_extract(j.labels_json, '$.program'), '') || ' ' || "
      "            coalesce(json_extract(j.labels_json, '$.shape'), '')) "
      // Only the attempt that succeeded: a failed attempt's figures are not the job's.
      "FROM metrics m JOIN jobs j ON j.id = m.job_id JOIN attempts a ON a.id = m.attempt_id AND a.state = ?3 "
      // The run stage times itself too; the benchmark is the stage that is judged.
      "WHERE m.name IN ('ttft_ms', 'itl_ms') AND j.state = ?1 AND j.created_at_ms >= ?2 "
      "  AND j.stage NOT IN ('reference', 'compile', 'run', 'validate') "
      "GROUP BY j.id ORDER BY 1, 2, 3");
  select.Bind(1, v1::JOB_STATE_SUCCEEDED).Bind(2, since_ms).Bind(3, static_cast<int>(v1::ATTEMPT_STATE_SUCCEEDED));
  std::vector<v1::BenchmarkPoint> points;
  while (select.Step()) {
    v1::BenchmarkPoint point;
    point.set_model(select.Text(0));
    point.set_series(select.Text(1));
    point.set_day(select.Text(2));
    point.set_ttft_ms(select.Double(3));
    point.set_itl_ms(select.Double(4));
    point.set_job_id(select.Int(5));
    point.set_ttft_target_ms(select.Double(6));
    point.set_itl_target_ms(select.Double(7));
    point.set_dtype(select.Text(8));
    point.set_tp(select.Text(9));
    point.set_context(select.Text(10));
    point.set_attention(select.Text(11));
    point.set_program(select.Text(12));
    points.push_back(std::move(point));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return points;
}

StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> Store::JobCounts() {
  Statement select = db_->Prepare("SELECT state, device_kind, count(*) FROM jobs GROUP BY state, device_kind");
  std::map<std::pair<v1::JobState, std::string>, int64_t> out;
  while (select.Step()) out[{static_cast<v1::JobState>(select.Int(0)), select.Text(1)}] = select.Int(2);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<v1::Annotation> Store::AddAnnotation(const v1::Annotation& annotation, int64_t now_ms) {
  Status status = db_->Prepare("INSERT INTO annotations(scope, target, url, title, created_at_ms) VALUES (?,?,?,?,?)")
                      .Bind(1, annotation.scope()).Bind(2, annotation.target()).Bind(3, annotation.url())
                      .Bind(4, annotation.title()).Bind(5, now_ms).Run();
  if (!status.ok()) return Err(status);
  v1::Annotation stored = annotation;
  stored.set_id(db_->LastInsertId());
  stored.set_created_at_ms(now_ms);
  return stored;
}

StatusOr<std::vector<v1::Annotation>> Store::Annotations(const std::string& scope, const std::string& target) {
  Statement select = db_->Prepare(
      "SELECT id, scope, target, url, title, created_at_ms FROM annotations "
      "WHERE (?1 = '' OR scope = ?1) AND (?2 = '' OR target = ?2) ORDER BY id");
  select.Bind(1, scope).Bind(2, target);
  std::vector<v1::Annotation> out;
  while (select.Step()) {
    v1::Annotation annotation;
    annotation.set_id(select.Int(0));
    annotation.set_scope(select.Text(1));
    annotation.set_target(select.Text(2));
    annotation.set_url(select.Text(3));
    annotation.set_title(select.Text(4));
    annotation.set_created_at_ms(select.Int(5));
    out.push_back(std::move(annotation));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::vector<v1::Event>> Store::Events(int64_t after_id, int64_t job_id, int limit) {
  Statement select = db_->Prepare(
      "SELECT id, at_ms, coalesce(sweep_id, 0), coalesce(job_id, 0), coalesce(attempt_id, 0), kind, message "
      "FROM events WHERE id > ?1 AND (?2 = 0 OR job_id = ?2) ORDER BY id LIMIT ?3");
  select.Bind(1, after_id).Bind(2, job_id).Bind(3, limit);
  std::vector<v1::Event> out;
  while (select.Step()) {
    v1::Event event;
    event.set_id(select.Int(0));
    event.set_at_ms(select.Int(1));
    event.set_sweep_id(select.Int(2));
    event.set_job_id(select.Int(3));
    event.set_attempt_id(select.Int(4));
    event.set_kind(select.Text(5));
    event.set_message(select.Text(6));
    out.push_back(std::move(event));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<int64_t> Store::LatestEventId() {
  Statement select = db_->Prepare("SELECT coalesce(max(id), 0) FROM events");
  select.Step();
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return select.Int(0);
}

Status Store::AddEvent(int64_t now_ms, int64_t sweep_id, int64_t job_id, int64_t attempt_id, const std::string& kind,
                       const std::string& message) {
  return db_->Prepare("INSERT INTO events(at_ms, sweep_id, job_id, attempt_id, kind, message) VALUES (?,?,?,?,?,?)")
      .Bind(1, now_ms).Bind(2, sweep_id).Bind(3, job_id).Bind(4, attempt_id).Bind(5, kind).Bind(6, message)
      .Run();
}

}  // namespace gauntlet::store
