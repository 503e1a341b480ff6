#include "coordinator/store/store.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "coordinator/store/migrations.h"

namespace gauntlet::store {
namespace {

// The scheduler looks at this many ready jobs per pass, best first; more
// would only cost time, since the farm has far fewer free devices.
constexpr int kMaxReadyJobsPerPass = 10000;

// Columns RowToJob reads, in order. The agent and devices are those of the
// job's latest attempt.
constexpr const char* kJobColumns =
    "j.id, j.sweep_id, j.name, j.kind, j.state, j.spec_json, j.devices, j.device_kind, j.priority, "
    "j.max_attempts, j.attempt_count, j.timeout_s, j.labels_json, j.content_key, j.reason, j.verdict, "
    "j.result_json, j.created_at_ms, j.started_at_ms, j.finished_at_ms, "
    "(SELECT a.agent || ' ' || a.device_indices FROM attempts a WHERE a.job_id = j.id ORDER BY a.number DESC LIMIT 1), "
    "j.stage, j.cacheable, j.cached_from, j.tags";

const std::string& LabelOr(const std::map<std::string, std::string>& labels, const std::string& key,
                           const std::string& fallback) {
  auto found = labels.find(key);
  return found == labels.end() ? fallback : found->second;
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
  return attempt;
}

}  // namespace

StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  auto db = Database::Open(path);
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
    std::string latest = row.Text(20);
    size_t space = latest.find(' ');
    job.set_agent(latest.substr(0, space));
    for (int index : SplitIndices(latest.substr(space + 1))) job.add_device_indices(index);
  }
  job.set_stage(row.Text(21));
  job.set_cacheable(row.Int(22) != 0);
  job.set_cached_from(row.Int(23));
  for (auto& tag : SplitTags(row.Text(24))) job.add_tags(std::move(tag));
  return job;
}

StatusOr<int64_t> Store::InsertSweep(const expand::SweepPlan& plan, const std::string& spec_text,
                                     const std::string& source, int64_t now_ms, const std::vector<std::string>& force) {
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("INSERT INTO sweeps(name, source, spec_text, priority, created_at_ms) "
                                        "VALUES (?, ?, ?, ?, ?)")
                               .Bind(1, plan.name).Bind(2, source).Bind(3, spec_text)
                               .Bind(4, plan.priority).Bind(5, now_ms).Run());
  int64_t sweep_id = db_->LastInsertId();
  Statement insert_job = db_->Prepare(
      "INSERT INTO jobs(sweep_id, name, kind, state, spec_json, devices, device_kind, priority, max_attempts, "
      "timeout_s, labels_json, content_key, created_at_ms, stage, cacheable, tags, model, dtype, tp, context) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Statement insert_dep = db_->Prepare("INSERT INTO job_deps(job_id, depends_on) VALUES (?, ?)");
  std::vector<int64_t> ids;
  ids.reserve(plan.jobs.size());
  for (const auto& job : plan.jobs) {
    nlohmann::json labels(job.labels);
    insert_job.Bind(1, sweep_id)
        .Bind(2, job.name)
        .Bind(3, job.kind == spec::JobKind::kWorker ? v1::JOB_KIND_WORKER : v1::JOB_KIND_EXEC)
        .Bind(4, v1::JOB_STATE_PENDING)
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
        .Bind(20, LabelOr(job.labels, "context", ""));
    GAUNTLET_RETURN_IF_ERROR(insert_job.Run());
    ids.push_back(db_->LastInsertId());
    for (size_t dep : job.depends_on) {
      assert(dep < ids.size() && "the plan lists upstream jobs first");
      GAUNTLET_RETURN_IF_ERROR(insert_dep.Bind(1, ids.back()).Bind(2, ids[dep]).Run());
    }
  }
  bool force_all = std::find(force.begin(), force.end(), "*") != force.end();
  if (!force_all) {
    // One statement for the whole sweep: a cacheable job whose key has a
    // succeeded job (any sweep) is satisfied by it.
    GAUNTLET_RETURN_IF_ERROR(
        db_->Prepare("UPDATE jobs SET state = ?2, cached_from = ("
                     "  SELECT max(o.id) FROM jobs o WHERE o.content_key = jobs.content_key AND o.state = ?3) "
                     "WHERE sweep_id = ?1 AND cacheable = 1 AND instr(?4, ',' || stage || ',') = 0 "
                     "AND EXISTS (SELECT 1 FROM jobs o WHERE o.content_key = jobs.content_key AND o.state = ?3)")
            .Bind(1, sweep_id).Bind(2, v1::JOB_STATE_CACHED).Bind(3, v1::JOB_STATE_SUCCEEDED)
            .Bind(4, "," + JoinTags(force) + ",")
            .Run());
  }
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("UPDATE jobs SET state = ?2 WHERE sweep_id = ?1 AND state = ?3 AND NOT EXISTS ("
                   "  SELECT 1 FROM job_deps d JOIN jobs u ON u.id = d.depends_on "
                   "  WHERE d.job_id = jobs.id AND u.state NOT IN (?4, ?5))")
          .Bind(1, sweep_id).Bind(2, v1::JOB_STATE_READY).Bind(3, v1::JOB_STATE_PENDING)
          .Bind(4, v1::JOB_STATE_SUCCEEDED).Bind(5, v1::JOB_STATE_CACHED)
          .Run());
  return sweep_id;
}

std::optional<v1::Sweep> Store::GetSweep(int64_t id, bool with_spec) {
  Statement select = db_->Prepare("SELECT id, name, created_at_ms, priority, spec_text, source FROM sweeps WHERE id = ?");
  select.Bind(1, id);
  if (!select.Step()) return std::nullopt;
  v1::Sweep sweep;
  sweep.set_id(select.Int(0));
  sweep.set_name(select.Text(1));
  sweep.set_created_at_ms(select.Int(2));
  sweep.set_priority(static_cast<int>(select.Int(3)));
  if (with_spec) sweep.set_spec_text(select.Text(4));
  sweep.set_source(select.Text(5));

  Statement counts = db_->Prepare("SELECT state, count(*) FROM jobs WHERE sweep_id = ? GROUP BY state");
  counts.Bind(1, id);
  int total = 0, unfinished = 0, succeeded = 0;
  while (counts.Step()) {
    auto state = static_cast<v1::JobState>(counts.Int(0));
    int count = static_cast<int>(counts.Int(1));
    (*sweep.mutable_jobs_by_state())[v1::JobState_Name(state)] = count;
    total += count;
    if (state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_CACHED) succeeded += count;
    if (state == v1::JOB_STATE_PENDING || state == v1::JOB_STATE_READY || state == v1::JOB_STATE_LEASED ||
        state == v1::JOB_STATE_RUNNING) {
      unfinished += count;
    }
  }
  sweep.set_total_jobs(total);
  sweep.set_finished(unfinished == 0);
  sweep.set_succeeded(unfinished == 0 && succeeded == total);
  return sweep;
}

std::vector<v1::Sweep> Store::ListSweeps(int limit) {
  Statement select = db_->Prepare("SELECT id FROM sweeps ORDER BY id DESC LIMIT ?");
  select.Bind(1, limit > 0 ? limit : -1);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  std::vector<v1::Sweep> sweeps;
  for (int64_t id : ids) {
    if (auto sweep = GetSweep(id, /*with_spec=*/false)) sweeps.push_back(std::move(*sweep));
  }
  return sweeps;
}

std::vector<v1::Job> Store::ListJobs(int64_t sweep_id, v1::JobState state, int limit) {
  std::string sql = std::string("SELECT ") + kJobColumns +
                    " FROM jobs j WHERE (?1 = 0 OR j.sweep_id = ?1) AND (?2 = 0 OR j.state = ?2) ORDER BY j.id LIMIT ?3";
  Statement select = db_->Prepare(sql);
  select.Bind(1, sweep_id).Bind(2, static_cast<int>(state)).Bind(3, limit > 0 ? limit : -1);
  std::vector<v1::Job> jobs;
  while (select.Step()) jobs.push_back(RowToJob(select));
  return jobs;
}

std::optional<v1::Job> Store::SelectJob(int64_t id) {
  Statement select = db_->Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs j WHERE j.id = ?");
  select.Bind(1, id);
  if (!select.Step()) return std::nullopt;
  return RowToJob(select);
}

std::optional<v1::Job> Store::GetJob(int64_t id) {
  std::optional<v1::Job> found = SelectJob(id);
  if (!found) return std::nullopt;
  v1::Job& job = *found;
  for (int64_t upstream : UpstreamJobs(id)) job.add_depends_on(upstream);

  Statement attempts = db_->Prepare(
      "SELECT id, job_id, number, state, agent, device_indices, leased_at_ms, started_at_ms, finished_at_ms, "
      "exit_code, reason FROM attempts WHERE job_id = ? ORDER BY number");
  attempts.Bind(1, id);
  while (attempts.Step()) *job.add_attempts() = RowToAttempt(attempts);

  // Metrics and artifacts of the attempt that produced the job's result; a
  // cached job shows those of the job it reuses.
  const int64_t result_job = job.cached_from() != 0 ? job.cached_from() : id;
  Statement metrics = db_->Prepare(
      "SELECT name, value FROM metrics WHERE job_id = ?1 AND attempt_id = "
      "(SELECT max(attempt_id) FROM metrics WHERE job_id = ?1)");
  metrics.Bind(1, result_job);
  while (metrics.Step()) (*job.mutable_metrics())[metrics.Text(0)] = metrics.Double(1);
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
  return found;
}

std::vector<int64_t> Store::UnfinishedJobs(int64_t sweep_id, int64_t job_id) {
  Statement select = db_->Prepare(
      "SELECT id FROM jobs WHERE (sweep_id = ?1 OR id = ?2) AND state IN (?3, ?4, ?5, ?6) ORDER BY id");
  select.Bind(1, sweep_id).Bind(2, job_id)
      .Bind(3, v1::JOB_STATE_PENDING).Bind(4, v1::JOB_STATE_READY)
      .Bind(5, v1::JOB_STATE_LEASED).Bind(6, v1::JOB_STATE_RUNNING);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  return ids;
}

std::vector<int64_t> Store::UpstreamJobs(int64_t job_id) {
  Statement select = db_->Prepare("SELECT depends_on FROM job_deps WHERE job_id = ? ORDER BY depends_on");
  select.Bind(1, job_id);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  return ids;
}

Status Store::SetJobState(int64_t job_id, v1::JobState state, const std::string& reason, int64_t now_ms) {
  bool terminal = state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
                  state == v1::JOB_STATE_CANCELLED || state == v1::JOB_STATE_SKIPPED;
  return db_->Prepare(
                "UPDATE jobs SET state = ?2, reason = ?3, "
                "started_at_ms = CASE WHEN ?2 = ?5 AND started_at_ms = 0 THEN ?4 ELSE started_at_ms END, "
                "finished_at_ms = CASE WHEN ?6 THEN ?4 ELSE 0 END WHERE id = ?1")
      .Bind(1, job_id).Bind(2, static_cast<int>(state)).Bind(3, reason).Bind(4, now_ms)
      .Bind(5, v1::JOB_STATE_RUNNING).Bind(6, terminal ? 1 : 0)
      .Run();
}

Status Store::PromoteDependents(int64_t job_id) {
  return db_->Prepare(
                "UPDATE jobs SET state = ?2 WHERE state = ?3 AND id IN (SELECT job_id FROM job_deps WHERE depends_on = ?1) "
                "AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs u ON u.id = d.depends_on "
                "                WHERE d.job_id = jobs.id AND u.state NOT IN (?4, ?5))")
      .Bind(1, job_id).Bind(2, v1::JOB_STATE_READY).Bind(3, v1::JOB_STATE_PENDING).Bind(4, v1::JOB_STATE_SUCCEEDED)
      .Bind(5, v1::JOB_STATE_CACHED)
      .Run();
}

StatusOr<int> Store::SkipDependents(int64_t job_id, const std::string& reason, int64_t now_ms) {
  Status status = db_->Prepare(
                         "WITH RECURSIVE downstream(id) AS ("
                         "  SELECT job_id FROM job_deps WHERE depends_on = ?1"
                         "  UNION SELECT d.job_id FROM job_deps d JOIN downstream ON d.depends_on = downstream.id) "
                         "UPDATE jobs SET state = ?2, reason = ?3, finished_at_ms = ?4 "
                         "WHERE state = ?5 AND id IN (SELECT id FROM downstream)")
                      .Bind(1, job_id).Bind(2, v1::JOB_STATE_SKIPPED).Bind(3, reason).Bind(4, now_ms)
                      .Bind(5, v1::JOB_STATE_PENDING)
                      .Run();
  if (!status.ok()) return Err(status);
  return db_->Changes();
}

Status Store::UnskipDependents(int64_t job_id) {
  return db_->Prepare(
                "WITH RECURSIVE downstream(id) AS ("
                "  SELECT job_id FROM job_deps WHERE depends_on = ?1"
                "  UNION SELECT d.job_id FROM job_deps d JOIN downstream ON d.depends_on = downstream.id) "
                "UPDATE jobs SET state = ?2, reason = '', finished_at_ms = 0 "
                "WHERE state = ?3 AND id IN (SELECT id FROM downstream)")
      .Bind(1, job_id).Bind(2, v1::JOB_STATE_PENDING).Bind(3, v1::JOB_STATE_SKIPPED)
      .Run();
}

Status Store::ResetForRetry(int64_t job_id) {
  return db_->Prepare(
                "UPDATE jobs SET retry_base = attempt_count, reason = '', verdict = '', finished_at_ms = 0, "
                "state = CASE WHEN EXISTS (SELECT 1 FROM job_deps d JOIN jobs u ON u.id = d.depends_on "
                "                          WHERE d.job_id = ?1 AND u.state NOT IN (?2, ?5)) THEN ?3 ELSE ?4 END "
                "WHERE id = ?1")
      .Bind(1, job_id).Bind(2, v1::JOB_STATE_SUCCEEDED).Bind(3, v1::JOB_STATE_PENDING).Bind(4, v1::JOB_STATE_READY)
      .Bind(5, v1::JOB_STATE_CACHED)
      .Run();
}

Status Store::StoreResult(int64_t job_id, int64_t attempt_id, const std::string& verdict,
                          const std::string& result_json, const google::protobuf::Map<std::string, double>& metrics,
                          const google::protobuf::RepeatedPtrField<v1::ArtifactRef>& artifacts, int64_t now_ms) {
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("UPDATE jobs SET verdict = ?, result_json = ? WHERE id = ?")
                               .Bind(1, verdict).Bind(2, result_json).Bind(3, job_id).Run());
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

std::vector<sched::ReadyJob> Store::ReadyJobs() {
  Statement select = db_->Prepare(
      "SELECT id, devices, device_kind, priority, tags FROM jobs WHERE state = ? ORDER BY priority DESC, id LIMIT ?");
  select.Bind(1, v1::JOB_STATE_READY).Bind(2, kMaxReadyJobsPerPass);
  std::vector<sched::ReadyJob> jobs;
  while (select.Step()) {
    jobs.push_back({select.Int(0), static_cast<int>(select.Int(1)), select.Text(2),
                    static_cast<int>(select.Int(3)), select.Int(0), SplitTags(select.Text(4))});
  }
  return jobs;
}

std::vector<sched::Node> Store::SchedulingNodes(int64_t alive_after_ms) {
  Statement select = db_->Prepare(
      "SELECT a.name, a.drained, a.last_heartbeat_ms, d.idx, d.kind, a.tags FROM agents a "
      "JOIN devices d ON d.agent = a.name ORDER BY a.name, d.idx");
  std::vector<sched::Node> nodes;
  while (select.Step()) {
    std::string name = select.Text(0);
    if (nodes.empty() || nodes.back().name != name) {
      sched::Node node;
      node.name = name;
      node.schedulable = select.Int(1) == 0 && select.Int(2) > alive_after_ms;
      node.tags = SplitTags(select.Text(5));
      nodes.push_back(std::move(node));
    }
    nodes.back().devices.push_back({static_cast<int>(select.Int(3)), select.Text(4), true});
  }
  Statement held = db_->Prepare("SELECT agent, device_indices FROM attempts WHERE state IN (?, ?)");
  held.Bind(1, v1::ATTEMPT_STATE_LEASED).Bind(2, v1::ATTEMPT_STATE_RUNNING);
  while (held.Step()) {
    std::string agent = held.Text(0);
    for (int index : SplitIndices(held.Text(1))) {
      for (auto& node : nodes) {
        if (node.name != agent) continue;
        for (auto& device : node.devices) {
          if (device.index == index) device.free = false;
        }
      }
    }
  }
  return nodes;
}

std::vector<expand::NodeCapacity> Store::NodeCapacities() {
  Statement select = db_->Prepare(
      "SELECT d.agent, d.kind, count(*), a.tags FROM devices d JOIN agents a ON a.name = d.agent GROUP BY d.agent, d.kind");
  std::vector<expand::NodeCapacity> out;
  while (select.Step()) {
    out.push_back({select.Text(0), select.Text(1), static_cast<int>(select.Int(2)), SplitTags(select.Text(3))});
  }
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

std::optional<AttemptRow> Store::GetAttempt(int64_t attempt_id) {
  Statement select = db_->Prepare(
      "SELECT a.id, a.job_id, j.sweep_id, a.state, a.agent, j.state, j.attempt_count - j.retry_base, j.max_attempts "
      "FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE a.id = ?");
  select.Bind(1, attempt_id);
  if (!select.Step()) return std::nullopt;
  return AttemptRow{select.Int(0),
                    select.Int(1),
                    select.Int(2),
                    static_cast<v1::AttemptState>(select.Int(3)),
                    select.Text(4),
                    static_cast<v1::JobState>(select.Int(5)),
                    static_cast<int>(select.Int(6)),
                    static_cast<int>(select.Int(7))};
}

std::vector<std::pair<int64_t, v1::Job>> Store::LeasedAttempts(const std::string& agent) {
  Statement select = db_->Prepare("SELECT id, job_id FROM attempts WHERE agent = ? AND state = ? ORDER BY id");
  select.Bind(1, agent).Bind(2, v1::ATTEMPT_STATE_LEASED);
  std::vector<std::pair<int64_t, int64_t>> ids;
  while (select.Step()) ids.emplace_back(select.Int(0), select.Int(1));
  std::vector<std::pair<int64_t, v1::Job>> out;
  for (const auto& [attempt_id, job_id] : ids) {
    if (auto job = SelectJob(job_id)) out.emplace_back(attempt_id, std::move(*job));
  }
  return out;
}

std::vector<int64_t> Store::ActiveAttemptIds(const std::string& agent) {
  Statement select = db_->Prepare("SELECT id FROM attempts WHERE agent = ? AND state IN (?, ?)");
  select.Bind(1, agent).Bind(2, v1::ATTEMPT_STATE_LEASED).Bind(3, v1::ATTEMPT_STATE_RUNNING);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  return ids;
}

Status Store::RenewLease(int64_t attempt_id, int64_t lease_expires_ms) {
  return db_->Prepare("UPDATE attempts SET lease_expires_ms = max(lease_expires_ms, ?) WHERE id = ?")
      .Bind(1, lease_expires_ms).Bind(2, attempt_id).Run();
}

Status Store::RenewAllLeases(int64_t lease_expires_ms) {
  return db_->Prepare("UPDATE attempts SET lease_expires_ms = max(lease_expires_ms, ?) WHERE state IN (?, ?)")
      .Bind(1, lease_expires_ms).Bind(2, v1::ATTEMPT_STATE_LEASED).Bind(3, v1::ATTEMPT_STATE_RUNNING).Run();
}

std::vector<int64_t> Store::ExpiredAttempts(int64_t now_ms) {
  Statement select = db_->Prepare("SELECT id FROM attempts WHERE state IN (?, ?) AND lease_expires_ms < ?");
  select.Bind(1, v1::ATTEMPT_STATE_LEASED).Bind(2, v1::ATTEMPT_STATE_RUNNING).Bind(3, now_ms);
  std::vector<int64_t> ids;
  while (select.Step()) ids.push_back(select.Int(0));
  return ids;
}

Status Store::MarkAttemptRunning(int64_t attempt_id, int64_t now_ms) {
  return db_->Prepare("UPDATE attempts SET state = ?, started_at_ms = ? WHERE id = ? AND state = ?")
      .Bind(1, v1::ATTEMPT_STATE_RUNNING).Bind(2, now_ms).Bind(3, attempt_id).Bind(4, v1::ATTEMPT_STATE_LEASED)
      .Run();
}

Status Store::EndAttempt(int64_t attempt_id, const AttemptEnd& end) {
  return db_->Prepare("UPDATE attempts SET state = ?, exit_code = ?, reason = ?, finished_at_ms = ? WHERE id = ?")
      .Bind(1, static_cast<int>(end.state)).Bind(2, end.exit_code).Bind(3, end.reason).Bind(4, end.finished_at_ms)
      .Bind(5, attempt_id)
      .Run();
}

Status Store::CancelLeasedAttempts(int64_t job_id, int64_t now_ms) {
  return db_->Prepare("UPDATE attempts SET state = ?, reason = 'cancelled before it started', finished_at_ms = ? "
                      "WHERE job_id = ? AND state = ?")
      .Bind(1, v1::ATTEMPT_STATE_CANCELLED).Bind(2, now_ms).Bind(3, job_id).Bind(4, v1::ATTEMPT_STATE_LEASED)
      .Run();
}

Status Store::UpsertAgent(const std::string& name, const std::string& version, const std::vector<std::string>& tags,
                          const std::vector<v1::Device>& devices, int64_t now_ms) {
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO agents(name, version, registered_at_ms, last_heartbeat_ms, tags) VALUES (?1, ?2, ?3, ?3, ?4) "
                   "ON CONFLICT(name) DO UPDATE SET version = ?2, last_heartbeat_ms = ?3, tags = ?4")
          .Bind(1, name).Bind(2, version).Bind(3, now_ms).Bind(4, JoinTags(tags)).Run());
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("DELETE FROM devices WHERE agent = ?").Bind(1, name).Run());
  Statement insert = db_->Prepare("INSERT INTO devices(agent, idx, kind, model) VALUES (?, ?, ?, ?)");
  for (const auto& device : devices) {
    GAUNTLET_RETURN_IF_ERROR(
        insert.Bind(1, name).Bind(2, device.index()).Bind(3, device.kind()).Bind(4, device.model()).Run());
  }
  return Status::Ok();
}

StatusOr<bool> Store::TouchAgent(const std::string& name, int64_t now_ms) {
  Status status = db_->Prepare("UPDATE agents SET last_heartbeat_ms = ? WHERE name = ?").Bind(1, now_ms).Bind(2, name).Run();
  if (!status.ok()) return Err(status);
  return db_->Changes() > 0;
}

std::vector<v1::Agent> Store::ListAgents(int64_t alive_after_ms) {
  std::vector<v1::Agent> agents;
  Statement select = db_->Prepare("SELECT name, version, last_heartbeat_ms, drained, tags FROM agents ORDER BY name");
  while (select.Step()) {
    v1::Agent agent;
    agent.set_name(select.Text(0));
    agent.set_version(select.Text(1));
    agent.set_last_heartbeat_ms(select.Int(2));
    agent.set_alive(select.Int(2) > alive_after_ms);
    agent.set_drained(select.Int(3) != 0);
    for (auto& tag : SplitTags(select.Text(4))) agent.add_tags(std::move(tag));
    agents.push_back(std::move(agent));
  }
  Statement devices = db_->Prepare("SELECT agent, idx, kind, model FROM devices ORDER BY agent, idx");
  Statement held = db_->Prepare("SELECT id, agent, device_indices FROM attempts WHERE state IN (?, ?)");
  held.Bind(1, v1::ATTEMPT_STATE_LEASED).Bind(2, v1::ATTEMPT_STATE_RUNNING);
  std::map<std::pair<std::string, int>, int64_t> holder;
  while (held.Step()) {
    for (int index : SplitIndices(held.Text(2))) holder[{held.Text(1), index}] = held.Int(0);
  }
  while (devices.Step()) {
    for (auto& agent : agents) {
      if (agent.name() != devices.Text(0)) continue;
      auto* device = agent.add_devices();
      device->set_index(static_cast<int>(devices.Int(1)));
      device->set_kind(devices.Text(2));
      device->set_model(devices.Text(3));
      auto found = holder.find({agent.name(), device->index()});
      if (found != holder.end()) device->set_held_by_attempt(found->second);
    }
  }
  return agents;
}

StatusOr<bool> Store::SetDrained(const std::string& name, bool drained) {
  Status status = db_->Prepare("UPDATE agents SET drained = ? WHERE name = ?").Bind(1, drained ? 1 : 0).Bind(2, name).Run();
  if (!status.ok()) return Err(status);
  return db_->Changes() > 0;
}

StatusOr<int64_t> Store::AppendLog(int64_t attempt_id, int64_t offset, std::string_view data) {
  Statement length = db_->Prepare("SELECT coalesce(sum(length(data)), 0) FROM log_chunks WHERE attempt_id = ?");
  length.Bind(1, attempt_id);
  length.Step();
  int64_t stored = length.Int(0);
  if (offset != stored || data.empty()) return stored;
  Status status = db_->Prepare("INSERT INTO log_chunks(attempt_id, offset, data) VALUES (?, ?, ?)")
                      .Bind(1, attempt_id).Bind(2, offset).BindBlob(3, data).Run();
  if (!status.ok()) return Err(status);
  return stored + static_cast<int64_t>(data.size());
}

std::string Store::ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes) {
  Statement select = db_->Prepare(
      "SELECT offset, data FROM log_chunks WHERE attempt_id = ? AND offset + length(data) > ? ORDER BY offset");
  select.Bind(1, attempt_id).Bind(2, offset);
  std::string out;
  while (select.Step() && static_cast<int64_t>(out.size()) < max_bytes) {
    int64_t chunk_offset = select.Int(0);
    std::string data = select.Text(1);
    size_t skip = offset > chunk_offset ? static_cast<size_t>(offset - chunk_offset) : 0;
    out.append(data, skip, std::string::npos);
  }
  if (static_cast<int64_t>(out.size()) > max_bytes) out.resize(static_cast<size_t>(max_bytes));
  return out;
}

int64_t Store::LatestAttemptId(int64_t job_id) {
  Statement select = db_->Prepare("SELECT coalesce(max(id), 0) FROM attempts WHERE job_id = ?");
  select.Bind(1, job_id);
  select.Step();
  return select.Int(0);
}

Status Store::RecordArtifact(const std::string& sha256, int64_t size, int64_t now_ms) {
  return db_->Prepare("INSERT OR IGNORE INTO artifacts(sha256, size, created_at_ms) VALUES (?, ?, ?)")
      .Bind(1, sha256).Bind(2, size).Bind(3, now_ms).Run();
}

int Store::CountCacheHits(const expand::SweepPlan& plan, const std::vector<std::string>& force) {
  if (std::find(force.begin(), force.end(), "*") != force.end()) return 0;
  Statement select = db_->Prepare("SELECT 1 FROM jobs WHERE content_key = ? AND state = ? LIMIT 1");
  int hits = 0;
  for (const auto& job : plan.jobs) {
    if (!job.cacheable || std::find(force.begin(), force.end(), job.stage) != force.end()) continue;
    select.Bind(1, job.content_key).Bind(2, v1::JOB_STATE_SUCCEEDED);
    if (select.Step()) ++hits;
    select.Reset();
  }
  return hits;
}

std::map<std::string, double> Store::MeanSecondsByStage() {
  Statement select = db_->Prepare(
      "SELECT CASE WHEN stage = '' THEN 'kind' || kind ELSE stage END, avg(finished_at_ms - started_at_ms) / 1000.0 "
      "FROM jobs WHERE state = ? AND started_at_ms > 0 GROUP BY 1");
  select.Bind(1, v1::JOB_STATE_SUCCEEDED);
  std::map<std::string, double> out;
  while (select.Step()) out[select.Text(0)] = select.Double(1);
  return out;
}

bool Store::HasArtifact(const std::string& sha256) {
  Statement select = db_->Prepare("SELECT 1 FROM artifacts WHERE sha256 = ?");
  select.Bind(1, sha256);
  return select.Step();
}

std::vector<v1::MatrixCell> Store::Matrix(const MatrixFilter& filter) {
  // One sweep: the (sweep_id, ...) index narrows to its rows. Every sweep: the
  // covering index is already in GROUP BY order. Free-form jobs' empty stage
  // shows as "job"; mapped here so the grouping stays on the bare column.
  const std::string where = filter.sweep_id ? "sweep_id = ?1" : "?1 = 0";
  Statement select = db_->Prepare(
      "SELECT model, dtype, tp, context, stage, state, count(*), min(id) FROM jobs WHERE " + where +
      " AND (?2 = '' OR instr(',' || tags || ',', ',' || ?2 || ',') > 0) AND (?3 = 0 OR created_at_ms >= ?3) "
      "GROUP BY model, dtype, tp, context, stage, state");
  select.Bind(1, filter.sweep_id).Bind(2, filter.tag).Bind(3, filter.since_ms);
  std::vector<v1::MatrixCell> cells;
  while (select.Step()) {
    v1::MatrixCell cell;
    cell.set_model(select.Text(0));
    cell.set_dtype(select.Text(1));
    cell.set_tp(select.Text(2));
    cell.set_context(select.Text(3));
    std::string stage = select.Text(4);
    cell.set_stage(stage.empty() ? "job" : stage);
    cell.set_state(static_cast<v1::JobState>(select.Int(5)));
    cell.set_count(static_cast<int>(select.Int(6)));
    cell.set_example_job(select.Int(7));
    cells.push_back(std::move(cell));
  }
  return cells;
}

std::vector<v1::Job> Store::MatrixJobs(const MatrixFilter& filter, const v1::MatrixCell& where, int limit) {
  Statement select = db_->Prepare(
      std::string("SELECT ") + kJobColumns +
      " FROM jobs j WHERE (?1 = 0 OR j.sweep_id = ?1) AND j.model = ?2 AND j.dtype = ?3 AND j.tp = ?4 "
      "AND j.context = ?5 AND (CASE j.stage WHEN '' THEN 'job' ELSE j.stage END) = ?6 "
      "AND (?7 = 0 OR j.state = ?7) ORDER BY j.id LIMIT ?8");
  select.Bind(1, filter.sweep_id).Bind(2, where.model()).Bind(3, where.dtype()).Bind(4, where.tp())
      .Bind(5, where.context()).Bind(6, where.stage()).Bind(7, static_cast<int>(where.state())).Bind(8, limit);
  std::vector<v1::Job> jobs;
  while (select.Step()) jobs.push_back(RowToJob(select));
  return jobs;
}

std::vector<v1::BenchmarkPoint> Store::Benchmarks(int64_t since_ms) {
  Statement select = db_->Prepare(
      "SELECT j.model, trim(j.dtype || ' tp' || j.tp || ' ' || j.context || ' ' || "
      "       coalesce(json_extract(j.labels_json, '$.program'), '') || ' ' || coalesce(json_extract(j.labels_json, '$.shape'), '')), "
      "       date(j.created_at_ms / 1000, 'unixepoch'), "
      "       max(CASE m.name WHEN 'ttft_ms' THEN m.value END), max(CASE m.name WHEN 'itl_ms' THEN m.value END), j.id, "
      "       coalesce(json_extract(j.spec_json, '$.params.ttft_ms_target'), 0), "
      "       coalesce(json_extract(j.spec_json, '$.params.itl_ms_target'), 0) "
      "FROM metrics m JOIN jobs j ON j.id = m.job_id "
      "WHERE m.name IN ('ttft_ms', 'itl_ms') AND j.state = ?1 AND j.created_at_ms >= ?2 "
      "GROUP BY j.id ORDER BY 1, 2, 3");
  select.Bind(1, v1::JOB_STATE_SUCCEEDED).Bind(2, since_ms);
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
    points.push_back(std::move(point));
  }
  return points;
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

std::vector<v1::Annotation> Store::Annotations(const std::string& scope, const std::string& target) {
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
  return out;
}

std::vector<v1::Event> Store::Events(int64_t after_id, int64_t job_id, int limit) {
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
  return out;
}

int64_t Store::LatestEventId() {
  Statement select = db_->Prepare("SELECT coalesce(max(id), 0) FROM events");
  select.Step();
  return select.Int(0);
}

Status Store::AddEvent(int64_t now_ms, int64_t sweep_id, int64_t job_id, int64_t attempt_id, const std::string& kind,
                       const std::string& message) {
  return db_->Prepare("INSERT INTO events(at_ms, sweep_id, job_id, attempt_id, kind, message) VALUES (?,?,?,?,?,?)")
      .Bind(1, now_ms).Bind(2, sweep_id).Bind(3, job_id).Bind(4, attempt_id).Bind(5, kind).Bind(6, message)
      .Run();
}

}  // namespace gauntlet::store
