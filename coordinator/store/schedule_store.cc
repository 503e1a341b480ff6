// The schedules' SQL: schedules, their firings, and the sweeps they tag.
#include "coordinator/store/store.h"

#include <nlohmann/json.hpp>

namespace gauntlet::store {
namespace {

constexpr const char* kScheduleColumns =
    "id, name, cron, timezone, catch_up, max_catch_up, concurrency, webhook, request, paused, cursor_ms, "
    "baseline_sweep_id, created_at_ms, detection_json";

std::string DetectionJson(const v1::SchedulePolicy& policy) {
  nlohmann::json detection = nlohmann::json::object();
  for (const auto& [metric, effect] : policy.min_effect()) detection["min_effect"][metric] = effect;
  for (const auto& metric : policy.higher_is_better()) detection["higher_is_better"].push_back(metric);
  return detection.dump();
}

void ReadDetection(const std::string& text, v1::SchedulePolicy* policy) {
  auto detection = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!detection.is_object()) return;
  if (detection.contains("min_effect") && detection["min_effect"].is_object()) {
    for (const auto& [metric, effect] : detection["min_effect"].items()) {
      if (effect.is_number()) (*policy->mutable_min_effect())[metric] = effect.get<double>();
    }
  }
  if (detection.contains("higher_is_better") && detection["higher_is_better"].is_array()) {
    for (const auto& metric : detection["higher_is_better"]) {
      if (metric.is_string()) policy->add_higher_is_better(metric.get<std::string>());
    }
  }
}

ScheduleRow RowToSchedule(Statement& row) {
  ScheduleRow schedule;
  schedule.id = row.Int(0);
  schedule.name = row.Text(1);
  schedule.policy.set_cron(row.Text(2));
  schedule.policy.set_timezone(row.Text(3));
  schedule.policy.set_catch_up(row.Text(4));
  schedule.policy.set_max_catch_up(static_cast<int>(row.Int(5)));
  schedule.policy.set_concurrency(row.Text(6));
  schedule.policy.set_webhook(row.Text(7));
  schedule.request = row.Text(8);
  schedule.paused = row.Int(9) != 0;
  schedule.cursor_ms = row.Int(10);
  schedule.baseline_sweep_id = row.Int(11);
  schedule.created_at_ms = row.Int(12);
  ReadDetection(row.Text(13), &schedule.policy);
  return schedule;
}

v1::Firing RowToFiring(Statement& row) {
  v1::Firing firing;
  firing.set_slot_ms(row.Int(0));
  firing.set_kind(row.Text(1));
  firing.set_sweep_id(row.Int(2));
  firing.set_detail(row.Text(3));
  firing.set_at_ms(row.Int(4));
  return firing;
}

}  // namespace

StatusOr<int64_t> Store::PutSchedule(const ScheduleRow& row, bool replace) {
  GAUNTLET_ASSIGN_OR_RETURN(auto existing, ScheduleByName(row.name));
  const v1::SchedulePolicy& policy = row.policy;
  if (existing) {
    if (!replace) {
      return Err(Status::AlreadyExists("schedule '" + row.name +
                                       "' exists: pass --replace to change it, or pick another name"));
    }
    GAUNTLET_RETURN_IF_ERROR(
        db_->Prepare("UPDATE schedules SET cron = ?2, timezone = ?3, catch_up = ?4, max_catch_up = ?5, "
                     "concurrency = ?6, webhook = ?7, request = ?8, detection_json = ?9 WHERE id = ?1")
            .Bind(1, existing->id).Bind(2, policy.cron()).Bind(3, policy.timezone()).Bind(4, policy.catch_up())
            .Bind(5, policy.max_catch_up()).Bind(6, policy.concurrency()).Bind(7, policy.webhook())
            .BindBlob(8, row.request).Bind(9, DetectionJson(policy)).Run());
    return existing->id;
  }
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO schedules(name, cron, timezone, catch_up, max_catch_up, concurrency, webhook, "
                   "request, paused, cursor_ms, created_at_ms, detection_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
          .Bind(1, row.name).Bind(2, policy.cron()).Bind(3, policy.timezone()).Bind(4, policy.catch_up())
          .Bind(5, policy.max_catch_up()).Bind(6, policy.concurrency()).Bind(7, policy.webhook())
          .BindBlob(8, row.request).Bind(9, row.paused ? 1 : 0).Bind(10, row.cursor_ms)
          .Bind(11, row.created_at_ms).Bind(12, DetectionJson(policy)).Run());
  return db_->LastInsertId();
}

StatusOr<std::vector<ScheduleRow>> Store::Schedules() {
  Statement select = db_->Prepare(std::string("SELECT ") + kScheduleColumns + " FROM schedules ORDER BY name");
  std::vector<ScheduleRow> out;
  while (select.Step()) out.push_back(RowToSchedule(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::optional<ScheduleRow>> Store::ScheduleByName(const std::string& name) {
  Statement select = db_->Prepare(std::string("SELECT ") + kScheduleColumns + " FROM schedules WHERE name = ?");
  select.Bind(1, name);
  std::optional<ScheduleRow> out;
  if (select.Step()) out = RowToSchedule(select);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

Status Store::SetSchedulePaused(int64_t id, bool paused, int64_t cursor_ms) {
  return db_->Prepare("UPDATE schedules SET paused = ?2, cursor_ms = max(cursor_ms, ?3) WHERE id = ?1")
      .Bind(1, id).Bind(2, paused ? 1 : 0).Bind(3, cursor_ms).Run();
}

Status Store::SetScheduleCursor(int64_t id, int64_t cursor_ms) {
  return db_->Prepare("UPDATE schedules SET cursor_ms = max(cursor_ms, ?2) WHERE id = ?1")
      .Bind(1, id).Bind(2, cursor_ms).Run();
}

Status Store::SetScheduleBaseline(int64_t id, int64_t sweep_id) {
  return db_->Prepare("UPDATE schedules SET baseline_sweep_id = ?2 WHERE id = ?1").Bind(1, id).Bind(2, sweep_id).Run();
}

Status Store::DeleteSchedule(int64_t id) {
  GAUNTLET_RETURN_IF_ERROR(db_->Prepare("DELETE FROM schedule_firings WHERE schedule_id = ?").Bind(1, id).Run());
  return db_->Prepare("DELETE FROM schedules WHERE id = ?").Bind(1, id).Run();
}

StatusOr<bool> Store::RecordFiring(int64_t schedule_id, const v1::Firing& firing) {
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO schedule_firings(schedule_id, slot_ms, kind, sweep_id, detail, at_ms) "
                   "VALUES (?,?,?,?,?,?) ON CONFLICT(schedule_id, slot_ms) DO NOTHING")
          .Bind(1, schedule_id).Bind(2, firing.slot_ms()).Bind(3, firing.kind()).Bind(4, firing.sweep_id())
          .Bind(5, firing.detail()).Bind(6, firing.at_ms()).Run());
  return db_->Changes() == 1;
}

StatusOr<std::vector<v1::Firing>> Store::Firings(int64_t schedule_id, int limit) {
  Statement select = db_->Prepare(
      "SELECT slot_ms, kind, sweep_id, detail, at_ms FROM schedule_firings WHERE schedule_id = ? "
      "ORDER BY slot_ms DESC LIMIT ?");
  select.Bind(1, schedule_id).Bind(2, limit > 0 ? limit : -1);
  std::vector<v1::Firing> out;
  while (select.Step()) out.push_back(RowToFiring(select));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

StatusOr<std::optional<v1::Firing>> Store::LastFired(int64_t schedule_id) {
  Statement select = db_->Prepare(
      "SELECT slot_ms, kind, sweep_id, detail, at_ms FROM schedule_firings WHERE schedule_id = ? AND sweep_id != 0 "
      "ORDER BY slot_ms DESC LIMIT 1");
  select.Bind(1, schedule_id);
  std::optional<v1::Firing> out;
  if (select.Step()) out = RowToFiring(select);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

Status Store::TagSweep(int64_t sweep_id, int64_t schedule_id, const std::string& nominal_date) {
  return db_->Prepare("UPDATE sweeps SET schedule_id = ?2, nominal_date = ?3 WHERE id = ?1")
      .Bind(1, sweep_id).Bind(2, schedule_id).Bind(3, nominal_date).Run();
}

StatusOr<std::vector<std::pair<int64_t, int64_t>>> Store::FiringsToJudge() {
  Statement select = db_->Prepare(
      "SELECT schedule_id, sweep_id FROM schedule_firings WHERE judged = 0 AND sweep_id != 0 ORDER BY sweep_id");
  std::vector<std::pair<int64_t, int64_t>> out;
  while (select.Step()) out.emplace_back(select.Int(0), select.Int(1));
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

Status Store::MarkJudged(int64_t sweep_id) {
  return db_->Prepare("UPDATE schedule_firings SET judged = 1 WHERE sweep_id = ? AND judged = 0")
      .Bind(1, sweep_id).Run();
}

StatusOr<int64_t> Store::AddRerun(int64_t job_id, const std::string& name, int64_t now_ms) {
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO jobs(sweep_id, name, kind, state, spec_json, devices, device_kind, priority, "
                   "max_attempts, timeout_s, labels_json, content_key, created_at_ms, stage, cacheable, tags, model, "
                   "dtype, tp, context, retry_json) "
                   "SELECT sweep_id, ?2, kind, ?3, spec_json, devices, device_kind, priority, max_attempts, timeout_s, "
                   "json_set(labels_json, '$.rerun_of', name), content_key || '+rerun', ?4, stage, 0, tags, model, "
                   "dtype, tp, context, retry_json FROM jobs WHERE id = ?1")
          .Bind(1, job_id).Bind(2, name).Bind(3, static_cast<int64_t>(v1::JOB_STATE_READY)).Bind(4, now_ms).Run());
  if (db_->Changes() != 1) return Err(Status::NotFound("no job " + std::to_string(job_id) + " to re-run"));
  const int64_t rerun = db_->LastInsertId();
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT INTO job_deps(job_id, depends_on) SELECT ?1, depends_on FROM job_deps WHERE job_id = ?2")
          .Bind(1, rerun).Bind(2, job_id).Run());
  return rerun;
}

Status Store::QueueNotification(int64_t sweep_id, int64_t schedule_id, const std::string& url, int64_t now_ms) {
  return db_->Prepare("INSERT INTO notifications(sweep_id, schedule_id, url, created_at_ms) VALUES (?,?,?,?)")
      .Bind(1, sweep_id).Bind(2, schedule_id).Bind(3, url).Bind(4, now_ms).Run();
}

StatusOr<std::vector<Notification>> Store::OpenNotifications(int64_t now_ms) {
  Statement select = db_->Prepare(
      "SELECT n.sweep_id, n.schedule_id, coalesce(s.name, ''), n.url, n.state, n.attempts FROM notifications n "
      "LEFT JOIN schedules s ON s.id = n.schedule_id "
      "WHERE n.state IN ('waiting', 'retrying') AND n.next_attempt_ms <= ? "
      // Judged first: a night whose benchmark is being re-run is not told yet.
      "AND NOT EXISTS (SELECT 1 FROM schedule_firings f WHERE f.sweep_id = n.sweep_id AND f.judged = 0) "
      "ORDER BY n.next_attempt_ms");
  select.Bind(1, now_ms);
  std::vector<Notification> out;
  while (select.Step()) {
    out.push_back({select.Int(0), select.Int(1), select.Text(2), select.Text(3), select.Text(4),
                   static_cast<int>(select.Int(5))});
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

Status Store::UpdateNotification(int64_t sweep_id, const std::string& state, int attempts, int64_t next_attempt_ms) {
  return db_->Prepare("UPDATE notifications SET state = ?2, attempts = ?3, next_attempt_ms = ?4 WHERE sweep_id = ?1")
      .Bind(1, sweep_id).Bind(2, state).Bind(3, attempts).Bind(4, next_attempt_ms).Run();
}

Status Store::AddDelivery(const Notification& notification, int attempt, int64_t at_ms, int http_status,
                          const std::string& error, int regressions) {
  return db_->Prepare("INSERT INTO webhook_deliveries(sweep_id, schedule_id, attempt, at_ms, http_status, error, "
                      "regressions) VALUES (?,?,?,?,?,?,?)")
      .Bind(1, notification.sweep_id).Bind(2, notification.schedule_id).Bind(3, attempt).Bind(4, at_ms)
      .Bind(5, http_status).Bind(6, error).Bind(7, regressions).Run();
}

StatusOr<std::vector<v1::Delivery>> Store::Deliveries(int64_t schedule_id, int limit) {
  Statement select = db_->Prepare(
      "SELECT sweep_id, attempt, at_ms, http_status, error, regressions FROM webhook_deliveries WHERE schedule_id = ? "
      "ORDER BY id DESC LIMIT ?");
  select.Bind(1, schedule_id).Bind(2, limit > 0 ? limit : -1);
  std::vector<v1::Delivery> out;
  while (select.Step()) {
    v1::Delivery delivery;
    delivery.set_sweep_id(select.Int(0));
    delivery.set_attempt(static_cast<int>(select.Int(1)));
    delivery.set_at_ms(select.Int(2));
    delivery.set_http_status(static_cast<int>(select.Int(3)));
    delivery.set_error(select.Text(4));
    delivery.set_regressions(static_cast<int>(select.Int(5)));
    out.push_back(std::move(delivery));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return out;
}

}  // namespace gauntlet::store
