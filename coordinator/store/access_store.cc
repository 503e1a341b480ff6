// The SQL of access: API tokens (their hashes) and the audit trail.
#include "coordinator/store/store.h"

namespace gauntlet::store {

Status Store::InsertApiToken(const v1::ApiToken& token, const std::string& token_sha256) {
  Statement taken = db_->Prepare("SELECT 1 FROM api_tokens WHERE name = ?");
  taken.Bind(1, token.name());
  if (taken.Step()) {
    return Status::AlreadyExists("token name '" + token.name() +
                                 "' is taken (revoked tokens keep their names for the audit trail); pick another");
  }
  GAUNTLET_RETURN_IF_ERROR(taken.status());
  return db_->Prepare("INSERT INTO api_tokens(name, role, token_sha256, created_at_ms, created_by, expires_at_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?)")
      .Bind(1, token.name()).Bind(2, token.role()).Bind(3, token_sha256).Bind(4, token.created_at_ms())
      .Bind(5, token.created_by()).Bind(6, token.expires_at_ms()).Run();
}

StatusOr<std::vector<Store::ApiTokenRow>> Store::ApiTokens() {
  Statement select = db_->Prepare(
      "SELECT name, role, token_sha256, created_at_ms, created_by, expires_at_ms, revoked_at_ms FROM api_tokens "
      "ORDER BY created_at_ms, name");
  std::vector<ApiTokenRow> rows;
  while (select.Step()) {
    ApiTokenRow row;
    row.token.set_name(select.Text(0));
    row.token.set_role(select.Text(1));
    row.token_sha256 = select.Text(2);
    row.token.set_created_at_ms(select.Int(3));
    row.token.set_created_by(select.Text(4));
    row.token.set_expires_at_ms(select.Int(5));
    row.token.set_revoked_at_ms(select.Int(6));
    rows.push_back(std::move(row));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return rows;
}

StatusOr<bool> Store::RevokeApiToken(const std::string& name, int64_t now_ms) {
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("UPDATE api_tokens SET revoked_at_ms = ?2 WHERE name = ?1 AND revoked_at_ms = 0")
          .Bind(1, name).Bind(2, now_ms).Run());
  return db_->Changes() > 0;
}

StatusOr<std::string> Store::SigningKey(const std::string& name, const std::string& fresh_key_hex, int64_t now_ms) {
  GAUNTLET_RETURN_IF_ERROR(
      db_->Prepare("INSERT OR IGNORE INTO signing_keys(name, key_hex, created_at_ms) VALUES (?, ?, ?)")
          .Bind(1, name).Bind(2, fresh_key_hex).Bind(3, now_ms).Run());
  Statement select = db_->Prepare("SELECT key_hex FROM signing_keys WHERE name = ?");
  select.Bind(1, name);
  if (select.Step()) return select.Text(0);
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return Err(Status::Internal("signing key '" + name + "' vanished after its insert"));
}

Status Store::AddAuditEvent(const v1::AuditEvent& event) {
  return db_->Prepare("INSERT INTO audit_events(at_ms, actor, role, action, target, outcome, peer) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, event.at_ms()).Bind(2, event.actor()).Bind(3, event.role()).Bind(4, event.action())
      .Bind(5, event.target()).Bind(6, event.outcome()).Bind(7, event.peer()).Run();
}

StatusOr<std::vector<v1::AuditEvent>> Store::AuditEvents(const std::string& actor, int64_t before_id, int limit) {
  Statement select = db_->Prepare(
      "SELECT id, at_ms, actor, role, action, target, outcome, peer FROM audit_events "
      "WHERE (?1 = '' OR actor = ?1) AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3");
  select.Bind(1, actor).Bind(2, before_id).Bind(3, limit);
  std::vector<v1::AuditEvent> events;
  while (select.Step()) {
    v1::AuditEvent& event = events.emplace_back();
    event.set_id(select.Int(0));
    event.set_at_ms(select.Int(1));
    event.set_actor(select.Text(2));
    event.set_role(select.Text(3));
    event.set_action(select.Text(4));
    event.set_target(select.Text(5));
    event.set_outcome(select.Text(6));
    event.set_peer(select.Text(7));
  }
  GAUNTLET_RETURN_IF_ERROR(select.status());
  return events;
}

Status Store::SetSweepSubmitter(int64_t sweep_id, const std::string& submitted_by) {
  return db_->Prepare("UPDATE sweeps SET submitted_by = ? WHERE id = ?").Bind(1, submitted_by).Bind(2, sweep_id).Run();
}

}  // namespace gauntlet::store
