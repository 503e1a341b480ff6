#include "coordinator/api/http_server.h"

#include <httplib.h>

#include <cassert>
#include <charconv>

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include "coordinator/api/status_mapping.h"
#include "coordinator/sched/job_state.h"

namespace gauntlet::api {
namespace {

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  assert(status.ok());
  return out;
}

void SendError(httplib::Response& res, const Status& status) {
  res.status = ToHttpCode(status);
  nlohmann::json body = {{"error", status.message()}, {"code", res.status}};
  res.set_content(body.dump(), "application/json");
}

// Parses a positive id from a path segment; sends 400 and returns 0 if bad.
int64_t PathId(const httplib::Request& req, httplib::Response& res, const char* what) {
  const std::string& text = req.matches[1];
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    SendError(res, Status::InvalidArgument(std::string(what) + " id '" + text + "' must be a positive integer"));
    return 0;
  }
  return id;
}

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Page(const std::string& title, const std::string& body) {
  return "<!doctype html><html><head><meta charset=utf-8><title>" + Escape(title) +
         " · Gauntlet</title><style>body{font:14px system-ui,sans-serif;margin:1.5em}"
         "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}"
         ".succeeded{color:#186a1e}.failed{color:#b00020}.skipped,.cancelled{color:#777}</style></head><body><h1>" +
         Escape(title) + "</h1>" + body + "</body></html>";
}

}  // namespace

HttpServer::HttpServer(JobManager& jobs) : jobs_(jobs), server_(std::make_unique<httplib::Server>()) { Routes(); }

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Routes() {
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });

  server_->Get("/api/v1/sweeps", [this](const httplib::Request& req, httplib::Response& res) {
    int limit = 100;
    if (req.has_param("limit")) {
      const std::string text = req.get_param_value("limit");
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc() || end != text.data() + text.size() || limit <= 0) {
        return SendError(res, Status::InvalidArgument("limit '" + text + "' must be a positive integer"));
      }
    }
    v1::ListSweepsResponse reply;
    for (auto& sweep : jobs_.ListSweeps(limit)) *reply.add_sweeps() = std::move(sweep);
    res.set_content(ToJson(reply), "application/json");
  });

  server_->Get(R"(/api/v1/sweeps/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = PathId(req, res, "sweep");
    if (id == 0) return;
    auto sweep = jobs_.GetSweep(id);
    if (!sweep) return SendError(res, sweep.error());
    res.set_content(ToJson(*sweep), "application/json");
  });

  server_->Get(R"(/api/v1/sweeps/([^/]+)/jobs)", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = PathId(req, res, "sweep");
    if (id == 0) return;
    if (auto sweep = jobs_.GetSweep(id); !sweep) return SendError(res, sweep.error());
    v1::ListJobsRequest request;
    request.set_sweep_id(id);
    v1::ListJobsResponse reply;
    for (auto& job : jobs_.ListJobs(request)) *reply.add_jobs() = std::move(job);
    res.set_content(ToJson(reply), "application/json");
  });

  server_->Get(R"(/api/v1/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = PathId(req, res, "job");
    if (id == 0) return;
    auto job = jobs_.GetJob(id);
    if (!job) return SendError(res, job.error());
    res.set_content(ToJson(*job), "application/json");
  });

  server_->Get("/api/v1/agents", [this](const httplib::Request&, httplib::Response& res) {
    v1::ListAgentsResponse reply;
    for (auto& agent : jobs_.ListAgents()) *reply.add_agents() = std::move(agent);
    res.set_content(ToJson(reply), "application/json");
  });

  server_->Get("/", [this](const httplib::Request&, httplib::Response& res) {
    std::string body = "<table><tr><th>sweep</th><th>name</th><th>jobs</th><th>state counts</th><th>status</th></tr>";
    for (const auto& sweep : jobs_.ListSweeps(200)) {
      std::string counts;
      for (const auto& [state, count] : sweep.jobs_by_state()) {
        counts += sched::JobStateName(static_cast<v1::JobState>(v1::JobState_descriptor()->FindValueByName(state)->number())) +
                  "=" + std::to_string(count) + " ";
      }
      std::string status = !sweep.finished() ? "running" : sweep.succeeded() ? "succeeded" : "failed";
      body += "<tr><td><a href=\"/sweeps/" + std::to_string(sweep.id()) + "\">" + std::to_string(sweep.id()) +
              "</a></td><td>" + Escape(sweep.name()) + "</td><td>" + std::to_string(sweep.total_jobs()) + "</td><td>" +
              Escape(counts) + "</td><td class=" + status + ">" + status + "</td></tr>";
    }
    res.set_content(Page("Sweeps", body + "</table>"), "text/html; charset=utf-8");
  });

  server_->Get(R"(/sweeps/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = PathId(req, res, "sweep");
    if (id == 0) return;
    auto sweep = jobs_.GetSweep(id);
    if (!sweep) {
      res.status = 404;
      return res.set_content(Page("Not found", "<p>" + Escape(sweep.error().message()) + "</p>"), "text/html");
    }
    v1::ListJobsRequest request;
    request.set_sweep_id(id);
    std::string body = "<table><tr><th>job</th><th>name</th><th>state</th><th>agent</th><th>devices</th><th>reason</th></tr>";
    for (const auto& job : jobs_.ListJobs(request)) {
      std::string devices;
      for (int index : job.device_indices()) devices += (devices.empty() ? "" : ",") + std::to_string(index);
      std::string state = sched::JobStateName(job.state());
      body += "<tr><td><a href=\"/api/v1/jobs/" + std::to_string(job.id()) + "\">" + std::to_string(job.id()) +
              "</a></td><td>" + Escape(job.name()) + "</td><td class=" + state + ">" + state + "</td><td>" +
              Escape(job.agent()) + "</td><td>" + devices + "</td><td>" + Escape(job.reason()) + "</td></tr>";
    }
    res.set_content(Page("Sweep " + std::to_string(id) + " · " + sweep->name(), body + "</table>"),
                    "text/html; charset=utf-8");
  });
}

StatusOr<int> HttpServer::Start(const std::string& host, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Err(Status::Unavailable("cannot listen for HTTP on " + host + ":" + std::to_string(port) +
                                   "; is another coordinator running? pick another --http address"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace gauntlet::api
