#include "coordinator/api/board/routes.h"

#include <chrono>
#include <ctime>
#include <regex>

#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"
#include "coordinator/api/http_util.h"
#include "coordinator/constants.h"
#include "lib/jobs/job_state.h"
#include "lib/rpc/paging.h"

namespace gauntlet::web_embedded {
const std::vector<std::pair<std::string_view, std::string_view>>& Files();
}

namespace gauntlet::board {
namespace {

using api::IdParam;
using api::SendErrorPage;

// Moves a read's value into *out, or answers with its error page and
// returns false: a busy database shows as "unavailable", never as an empty page.
template <typename T>
bool Take(StatusOr<T> value, T* out, httplib::Response& res) {
  if (!value) {
    SendErrorPage(res, value.error());
    return false;
  }
  *out = std::move(*value);
  return true;
}

// One page of a job list (?page_token= picks it), and the link to the next
// one, keeping the view's sweep and state: a 100k-job sweep renders 1,000 rows
// at a time instead of one page that grows with the sweep.
bool TakeJobPage(JobManager& jobs, v1::ListJobsRequest request, const httplib::Request& req,
                 std::vector<v1::Job>* out, std::string* more, httplib::Response& res) {
  request.set_page_token(req.get_param_value("page_token"));
  v1::ListJobsResponse page;
  if (!Take(jobs.ListJobs(request), &page, res)) return false;
  out->assign(std::make_move_iterator(page.mutable_jobs()->begin()), std::make_move_iterator(page.mutable_jobs()->end()));
  more->clear();
  if (page.next_page_token().empty()) return true;
  std::string query;
  if (request.sweep_id() && req.path.rfind("/sweeps/", 0) != 0) query += "sweep=" + std::to_string(request.sweep_id()) + "&";
  if (req.has_param("state")) query += "state=" + httplib::detail::encode_query_param(req.get_param_value("state")) + "&";
  *more = "<p class=\"more\"><a id=\"next-page\" href=\"" + req.path + "?" + query + "page_token=" +
          page.next_page_token() + "\">next " + std::to_string(out->size()) + " jobs &rarr;</a></p>";
  return true;
}

void SendPage(const httplib::Request& req, httplib::Response& res, JobManager& jobs, std::string_view title,
              std::string_view active, const std::string& page_body) {
  std::string body = page_body;
  // On every page, so an operator sees a full disk wherever they look.
  if (auto trouble = jobs.RecentStorageTrouble()) {
    body = "<p class=alert id=storage-alert>Storage is failing: " + Escape(trouble->message) + "</p>" + body;
  }
  if (req.get_param_value("fragment") == "1") {
    res.set_content(body, "text/html; charset=utf-8");
    return;
  }
  int64_t latest_event = 0;
  if (!Take(jobs.LatestEventId(), &latest_event, res)) return;
  res.set_content(Layout(title, active, body, latest_event), "text/html; charset=utf-8");
}

// "2026-11-23" → ms since the epoch (UTC midnight).
StatusOr<int64_t> ParseDay(const std::string& text) {
  static const std::regex pattern("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch match;
  if (!std::regex_match(text, match, pattern)) {
    return Err(Status::InvalidArgument("since '" + text + "' must be a date like 2026-11-23"));
  }
  std::tm day{};
  day.tm_year = std::stoi(match[1]) - 1900;
  day.tm_mon = std::stoi(match[2]) - 1;
  day.tm_mday = std::stoi(match[3]);
  if (day.tm_mon < 0 || day.tm_mon > 11 || day.tm_mday < 1 || day.tm_mday > 31) {
    return Err(Status::InvalidArgument("since '" + text + "' is not a calendar date"));
  }
  return static_cast<int64_t>(timegm(&day)) * 1000;
}

// A scheduled night on the matrix: its comparison with the baseline, each
// finding placed on its job's cell. A night still running, or a schedule's
// first, says why it has no marks instead.
bool MarkAgainstBaseline(JobManager& jobs, MatrixView* view, httplib::Response& res) {
  if (view->sweep_id == 0) return true;
  auto sweep = jobs.GetSweep(view->sweep_id);
  if (!sweep) {
    SendErrorPage(res, sweep.error());
    return false;
  }
  if (sweep->schedule().empty()) return true;
  view->schedule = sweep->schedule();
  if (!sweep->finished()) {
    view->compare_note = "This night is still running; it is compared with its baseline once it finishes.";
    return true;
  }
  v1::CompareRequest request;
  request.set_schedule(sweep->schedule());
  request.set_sweep_id(sweep->id());
  auto compare = jobs.Compare(request);
  if (!compare) {
    if (compare.error().code() != Status::Code::kFailedPrecondition) {
      SendErrorPage(res, compare.error());
      return false;
    }
    view->compare_note = compare.error().message();
    return true;
  }
  std::vector<int64_t> ids;
  for (const auto& finding : compare->findings()) {
    if (finding.job_id() != 0 && finding.kind() != "unchanged") ids.push_back(finding.job_id());
  }
  std::map<int64_t, v1::MatrixCell> cells;
  if (!Take(jobs.CellsOfJobs(ids), &cells, res)) return false;
  for (const auto& finding : compare->findings()) {
    auto cell = cells.find(finding.job_id());
    if (cell != cells.end()) view->marks.push_back({cell->second, finding});
  }
  view->compare = std::move(*compare);
  return true;
}

// Where sign-in returns to: a path on this board only, so a crafted link
// cannot send a signed-in browser elsewhere.
std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || next.starts_with("//") || next.find('\\') != std::string::npos) return "/";
  return next;
}

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

void RegisterRoutes(httplib::Server& server, JobManager& jobs, api::HttpGate& gate, const Clock& clock) {
  auto NowMs = [&clock] { return clock.NowMs(); };
  server.Get("/", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    MatrixView view;
    std::vector<v1::Schedule> schedules;
    if (!Take(jobs.ListSchedules(), &schedules, res)) return;
    for (const auto& schedule : schedules) view.schedules.push_back(schedule.name());
    view.schedule = req.get_param_value("schedule");
    if (view.schedule.empty()) {
      if (!Take(jobs.ListSweeps(50), &view.sweeps, res)) return;
    } else {
      // A schedule's nights are the choices, the newest first.
      std::vector<v1::Firing> firings;
      if (!Take(jobs.ScheduleHistory(view.schedule, 50), &firings, res)) return;
      for (auto& firing : firings) {
        if (firing.sweep_id() != 0) view.sweeps.push_back(std::move(*firing.mutable_sweep()));
      }
    }
    // Without a filter the matrix shows the newest sweep, like the tracker's latest column.
    auto sweep = IdParam(req, "sweep", view.sweeps.empty() ? 0 : view.sweeps.front().id());
    if (!sweep) return SendErrorPage(res, sweep.error());
    store::MatrixFilter filter;
    filter.sweep_id = *sweep;
    filter.tag = req.get_param_value("tag");
    view.since = req.get_param_value("since");
    if (!view.since.empty()) {
      auto since = ParseDay(view.since);
      if (!since) return SendErrorPage(res, since.error());
      filter.since_ms = *since;
    }
    view.sweep_id = filter.sweep_id;
    view.tag = filter.tag;
    if (!Take(jobs.Matrix(filter), &view.cells, res)) return;
    if (!Take(jobs.Annotations("model", ""), &view.annotations, res)) return;
    if (!MarkAgainstBaseline(jobs, &view, res)) return;
    SendPage(req, res, jobs, "Matrix", "Matrix", RenderMatrix(view));
  });

  server.Get("/jobs", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    auto sweep = IdParam(req, "sweep", 0);
    if (!sweep) return SendErrorPage(res, sweep.error());
    v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
    if (req.has_param("state")) {
      state = jobs::ParseJobState(req.get_param_value("state"));
      if (state == v1::JOB_STATE_UNSPECIFIED) {
        return SendErrorPage(res, Status::InvalidArgument("state '" + req.get_param_value("state") +
                                                          "' is not a job state"));
      }
    }
    std::vector<v1::Job> list;
    std::string heading, more;
    if (req.has_param("model")) {
      store::MatrixFilter filter;
      filter.sweep_id = *sweep;
      v1::MatrixCell where;
      where.set_model(req.get_param_value("model"));
      where.set_dtype(req.get_param_value("dtype"));
      where.set_tp(req.get_param_value("tp"));
      where.set_context(req.get_param_value("context"));
      where.set_stage(req.get_param_value("stage"));
      where.set_attention(req.get_param_value("attention"));
      where.set_state(state);
      if (!Take(jobs.MatrixJobs(filter, where, 1000), &list, res)) return;
      heading = where.model() + " " + where.dtype() + " tp" + where.tp() +
                (where.attention().empty() ? "" : " " + where.attention()) + " ctx " + where.context() + " · " +
                where.stage();
    } else {
      v1::ListJobsRequest request;
      request.set_sweep_id(*sweep);
      request.set_state(state);
      if (!TakeJobPage(jobs, request, req, &list, &more, res)) return;
      heading = *sweep ? "Jobs of sweep " + std::to_string(*sweep) : "Jobs";
    }
    SendPage(req, res, jobs, "Jobs", "", RenderJobList(heading, list, NowMs()) + more);
  });

  server.Get("/sweeps", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    auto limit = IdParam(req, "limit", 200);
    if (!limit || *limit == 0) return SendErrorPage(res, Status::InvalidArgument("limit must be a positive integer"));
    std::vector<v1::Sweep> sweeps;
    if (!Take(jobs.ListSweeps(static_cast<int>(*limit)), &sweeps, res)) return;
    SendPage(req, res, jobs, "Sweeps", "Sweeps", RenderSweeps(sweeps));
  });

  server.Get(R"(/sweeps/([^/]+))", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    auto id = api::ParseId(req.matches[1]);
    if (!id) return SendErrorPage(res, Status::NotFound("no sweep '" + std::string(req.matches[1]) + "'"));
    auto sweep = jobs.GetSweep(*id);
    if (!sweep) return SendErrorPage(res, sweep.error());
    v1::ListJobsRequest request;
    request.set_sweep_id(*id);
    std::vector<v1::Job> list;
    std::vector<v1::Annotation> annotations;
    std::string more;
    if (!TakeJobPage(jobs, request, req, &list, &more, res)) return;
    if (!Take(jobs.Annotations("sweep", std::to_string(*id)), &annotations, res)) return;
    SendPage(req, res, jobs, "Sweep " + std::to_string(*id), "Sweeps",
             RenderSweep(*sweep, list, annotations, NowMs()) + more);
  });

  server.Get(R"(/jobs/([^/]+))", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    auto id = api::ParseId(req.matches[1]);
    if (!id) return SendErrorPage(res, Status::NotFound("no job '" + std::string(req.matches[1]) + "'"));
    auto job = jobs.GetJob(*id);
    if (!job) return SendErrorPage(res, job.error());
    JobView view;
    view.job = *job;
    if (!Take(jobs.Events(0, *id, 200), &view.events, res)) return;
    if (!Take(jobs.Annotations("job", std::to_string(*id)), &view.annotations, res)) return;
    v1::WhyResponse why;
    if (!Take(jobs.Why(*id), &why, res)) return;
    view.why.assign(why.reasons().begin(), why.reasons().end());
    if (!Take(jobs.LogAttempt(*id, 0), &view.log_attempt, res)) return;
    if (view.log_attempt && !Take(jobs.ReadLog(view.log_attempt, 0, 1 << 20), &view.log, res)) return;
    view.now_ms = NowMs();
    SendPage(req, res, jobs, "Job " + std::to_string(*id), "", RenderJob(view));
  });

  server.Get("/nightly", [&jobs](const httplib::Request& req, httplib::Response& res) {
    std::vector<v1::Schedule> schedules;
    if (!Take(jobs.ListSchedules(), &schedules, res)) return;
    std::vector<ScheduleView> views;
    for (auto& schedule : schedules) {
      ScheduleView view;
      if (!Take(jobs.ScheduleHistory(schedule.name(), 14), &view.firings, res)) return;
      view.schedule = std::move(schedule);
      views.push_back(std::move(view));
    }
    SendPage(req, res, jobs, "Nightly", "Nightly", RenderNightly(views));
  });

  server.Get(R"(/nightly/([^/]+))", [&jobs](const httplib::Request& req, httplib::Response& res) {
    ScheduleView view;
    const std::string name = req.matches[1];
    if (!Take(jobs.GetSchedule(name), &view.schedule, res)) return;
    if (!Take(jobs.ScheduleHistory(name, 60), &view.firings, res)) return;
    v1::CompareRequest compare;
    compare.set_schedule(name);
    if (auto reply = jobs.Compare(compare)) {
      view.compare = std::move(*reply);
    } else if (reply.error().code() == Status::Code::kFailedPrecondition) {
      view.compare_note = reply.error().message();
    } else {
      return SendErrorPage(res, reply.error());
    }
    SendPage(req, res, jobs, "Nightly " + name, "Nightly", RenderSchedule(view));
  });

  server.Get(R"(/nightly/([^/]+)/tests)", [&jobs](const httplib::Request& req, httplib::Response& res) {
    v1::TestHistoryRequest request;
    request.set_schedule(req.matches[1]);
    request.set_job(req.get_param_value("job"));
    request.set_limit(60);
    v1::TestHistoryResponse history;
    if (!Take(jobs.TestHistory(request), &history, res)) return;
    SendPage(req, res, jobs, "History " + request.job(), "Nightly", RenderTestHistory(history));
  });

  server.Get("/agents", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    std::vector<v1::Agent> agents;
    if (!Take(jobs.ListAgents(), &agents, res)) return;
    std::map<int64_t, v1::Job> holders;
    v1::ListJobsRequest active;
    for (auto state : {v1::JOB_STATE_LEASED, v1::JOB_STATE_RUNNING}) {
      active.set_state(state);
      active.set_limit(paging::kMaxJobPage);  // Jobs holding devices: bounded by the farm's devices.
      v1::ListJobsResponse list;
      if (!Take(jobs.ListJobs(active), &list, res)) return;
      for (const auto& job : list.jobs()) {
        auto full = jobs.GetJob(job.id());
        if (full && full->attempts_size() > 0) holders[full->attempts(full->attempts_size() - 1).id()] = *full;
      }
    }
    SendPage(req, res, jobs, "Agents", "Agents", RenderAgents(agents, holders, NowMs()));
  });

  server.Post(R"(/agents/([^/]+)/(drain|undrain))", [&jobs, &gate](const httplib::Request& req, httplib::Response& res) {
    v1::DrainAgentRequest request;
    request.set_name(req.matches[1]);
    request.set_undrain(req.matches[2] == "undrain");
    auto by = gate.Caller(req);
    if (!by) return SendErrorPage(res, by.error());
    auto agent = jobs.DrainAgent(request);
    gate.Record(req, *by, request.undrain() ? "UndrainAgent" : "DrainAgent", "agent " + request.name(),
                agent ? Status::Ok() : agent.error());
    if (!agent) return SendErrorPage(res, agent.error());
    res.set_redirect("/agents", 303);
  });

  server.Post(R"(/agents/([^/]+)/devices/(\d{1,6})/(heal|check))", [&jobs, &gate](const httplib::Request& req,
                                                                             httplib::Response& res) {
    v1::SetDeviceHealthRequest request;
    request.set_agent(req.matches[1]);
    request.set_device_index(std::stoi(req.matches[2]));
    const bool heal = req.matches[3] == "heal";
    request.set_action(heal ? v1::SetDeviceHealthRequest::ACTION_HEAL : v1::SetDeviceHealthRequest::ACTION_CHECK);
    auto by = gate.Caller(req);
    if (!by) return SendErrorPage(res, by.error());
    auto agent = jobs.SetDeviceHealth(request);
    gate.Record(req, *by, heal ? "HealDevice" : "CheckDevice",
                "agent " + request.agent() + " device " + std::to_string(request.device_index()),
                agent ? Status::Ok() : agent.error());
    if (!agent) return SendErrorPage(res, agent.error());
    res.set_redirect("/agents", 303);
  });

  server.Get("/benchmarks", [&jobs, NowMs](const httplib::Request& req, httplib::Response& res) {
    std::vector<v1::BenchmarkPoint> points;
    if (!Take(jobs.Benchmarks(0), &points, res)) return;
    SendPage(req, res, jobs, "Benchmarks", "Benchmarks", RenderBenchmarks(points));
  });

  server.Get("/audit", [&jobs](const httplib::Request& req, httplib::Response& res) {
    v1::ListAuditEventsRequest request;
    request.set_actor(req.get_param_value("actor"));
    request.set_limit(500);
    std::vector<v1::AuditEvent> events;
    if (!Take(jobs.AuditEvents(request), &events, res)) return;
    SendPage(req, res, jobs, "Audit", "Audit", RenderAudit(events, request.actor()));
  });

  server.Get("/login", [&jobs](const httplib::Request& req, httplib::Response& res) {
    SendPage(req, res, jobs, "Sign in", "", RenderLogin(SafeNext(req.get_param_value("next")), ""));
  });

  // The token arrives in the form body; a good one becomes the cookie.
  server.Post("/login", [&jobs, &gate](const httplib::Request& req, httplib::Response& res) {
    const std::string token = req.get_param_value("token");
    const std::string next = SafeNext(req.get_param_value("next"));
    auto principal = jobs.Authenticate(token, req.remote_addr);
    if (!principal || principal->anonymous) {
      res.status = 401;
      return SendPage(req, res, jobs, "Sign in", "",
                      RenderLogin(next, principal ? "Paste a token to sign in." : principal.error().message()));
    }
    gate.Record(req, *principal, "SignIn", "board", Status::Ok());
    res.set_header("Set-Cookie", std::string(api::kTokenCookie) + "=" + token +
                                     "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                     std::to_string(constants::kBoardSessionSeconds) + (gate.https() ? "; Secure" : ""));
    res.set_redirect(next, 303);
  });

  server.Post("/logout", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Set-Cookie", std::string(api::kTokenCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    res.set_redirect("/login", 303);
  });

  server.Get(R"(/static/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    for (const auto& [name, content] : web_embedded::Files()) {
      if (name != req.matches[1].str()) continue;
      res.set_header("Cache-Control", "max-age=300");
      res.set_content(std::string(content), std::string(ContentType(name)));
      return;
    }
    SendErrorPage(res, Status::NotFound("no file " + std::string(req.matches[1])));
  });

  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status != 404 || !res.body.empty()) return;
    if (req.path.starts_with("/api/")) {
      api::SendError(res, Status::NotFound("no API route " + req.path + "; see docs/api.md"));
    } else {
      SendErrorPage(res, Status::NotFound("no page " + req.path));
    }
  });
}

}  // namespace gauntlet::board
