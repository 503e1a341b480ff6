// Device health's SQL: the rows sched/device_health.h decides.
#include "coordinator/store/store.h"

namespace gauntlet::store {

StatusOr<std::vector<DeviceHealthRow>> Store::DeviceHealthRows() {
  Statement select = db_->Prepare(
      "SELECT agent, idx, failures_in_row, state, reason, since_ms, source_sweep_id, check_job_id, last_check "
      "FROM device_health ORDER BY agent, idx");
  std::vector<DeviceHealthRow> rows;
  while (select.Step()) {
    DeviceHealthRow row;
    row.agent = select.Text(0);
    row.index = static_cast<int>(select.Int(1));
    row.health.failures_in_row = static_cast<int>(select.Int(2));
    row.health.state = static_cast<sched::HealthState>(select.Int(3));
    row.health.reason = select.Text(4);
    row.health.since_ms = select.Int(5);
    row.health.source_sweep_id = select.Int(6);
    row.health.check_job_id = select.Int(7);
    row.health.last_check = select.Text(8);
    rows.push_back(std::move(row));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return rows;
}

Status Store::PutDeviceHealth(const DeviceHealthRow& row) {
  const sched::DeviceHealth& health = row.health;
  return db_->Prepare(
                "INSERT INTO device_health(agent, idx, failures_in_row, state, reason, since_ms, source_sweep_id, "
                "check_job_id, last_check) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(agent, idx) DO UPDATE "
                "SET failures_in_row = ?3, state = ?4, reason = ?5, since_ms = ?6, source_sweep_id = ?7, "
                "check_job_id = ?8, last_check = ?9")
      .Bind(1, row.agent)
      .Bind(2, row.index)
      .Bind(3, health.failures_in_row)
      .Bind(4, static_cast<int>(health.state))
      .Bind(5, health.reason)
      .Bind(6, health.since_ms)
      .Bind(7, health.source_sweep_id)
      .Bind(8, health.check_job_id)
      .Bind(9, health.last_check)
      .Run();
}

StatusOr<std::string> Store::SweepHealthCheck(int64_t sweep_id) {
  Statement select = db_->Prepare("SELECT health_check FROM sweeps WHERE id = ?");
  select.Bind(1, sweep_id);
  if (select.Step()) return select.Text(0);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return std::string();
}

}  // namespace gauntlet::store
