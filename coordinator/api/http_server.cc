#include "coordinator/api/http_server.h"

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "coordinator/api/board/routes.h"
#include "coordinator/api/cross_site.h"
#include "coordinator/constants.h"
#include "coordinator/api/http_util.h"
#include "coordinator/api/metrics.h"
#include "coordinator/serving_certificates.h"

namespace gauntlet::api {
namespace {

constexpr int64_t kLogChunkBytes = 256 * 1024;
constexpr auto kEventPoll = std::chrono::milliseconds(250);
constexpr int kKeepAliveTicks = 60;  // A comment every 15 s keeps proxies from closing idle streams.

// Path parameter 1 as an id, or a 400.
std::optional<int64_t> PathId(const httplib::Request& req, httplib::Response& res, const char* what) {
  auto id = ParseId(req.matches[1]);
  if (!id || *id == 0) {
    SendError(res, Status::InvalidArgument(std::string(what) + " id '" + std::string(req.matches[1]) +
                                           "' must be a positive integer"));
    return std::nullopt;
  }
  return id;
}

// {"<key>": [...]} of messages, each in the protobuf JSON mapping, serialised
// once; or the error that kept the list from being read.
template <typename Message>
void SendJsonList(httplib::Response& res, const char* key, const StatusOr<std::vector<Message>>& messages) {
  if (!messages) return SendError(res, messages.error());
  std::string out = std::string("{\"") + key + "\":[";
  for (size_t i = 0; i < messages->size(); ++i) out += (i ? "," : "") + ToJson((*messages)[i]);
  res.set_content(out + "]}", "application/json");
}

}  // namespace

namespace {

std::unique_ptr<httplib::Server> NewServer(ServingCertificates* certificates) {
  if (!certificates) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(
      [certificates](SSL_CTX& context) { return certificates->SetUpHttps(context); });
}

}  // namespace

HttpServer::HttpServer(JobManager& jobs, store::ArtifactStore& artifacts, const Clock& clock, HttpOptions options)
    : jobs_(jobs),
      artifacts_(artifacts),
      gate_(jobs, options.board_public, /*https=*/options.certificates != nullptr),
      server_(NewServer(options.certificates)) {
  server_->set_payload_max_length(constants::kMaxHttpBodyBytes);
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const std::string_view problem =
        CrossSiteProblem(req.method, req.get_header_value("Origin"), req.get_header_value("Host"),
                         req.get_header_value("Sec-Fetch-Site"));
    if (!problem.empty()) {
      spdlog::warn("refused {} {} from origin '{}': {}", req.method, req.path, req.get_header_value("Origin"), problem);
      SendError(res, Status::PermissionDenied(std::string(problem)));
      return httplib::Server::HandlerResponse::Handled;
    }
    return gate_.Refused(req, res) ? httplib::Server::HandlerResponse::Handled
                                   : httplib::Server::HandlerResponse::Unhandled;
  });
  ApiRoutes();
  board::RegisterRoutes(*server_, jobs_, gate_, clock);
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::ApiRoutes() {
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });

  // Prometheus text format: jobs by state and device kind, the scheduler,
  // heartbeats, lease expiries by cause, lag, threads.
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    auto text = RenderMetrics(jobs_);
    if (!text) return SendError(res, text.error());
    res.set_content(std::move(*text), "text/plain; version=0.0.4; charset=utf-8");
  });

  // Lists are paged as over gRPC: ?limit=&page_token=, and the reply's
  // nextPageToken asks for the rest.
  server_->Get("/api/v1/sweeps", [this](const httplib::Request& req, httplib::Response& res) {
    auto limit = IdParam(req, "limit", 100);
    if (!limit || *limit == 0) return SendError(res, Status::InvalidArgument("limit must be a positive integer"));
    v1::ListSweepsRequest request;
    request.set_limit(static_cast<int>(std::min<int64_t>(*limit, INT32_MAX)));
    request.set_page_token(req.get_param_value("page_token"));
    auto reply = jobs_.ListSweeps(request);
    if (!reply) return SendError(res, reply.error());
    res.set_content(ToJson(*reply), "application/json");
  });

  server_->Get(R"(/api/v1/sweeps/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = PathId(req, res, "sweep");
    if (!id) return;
    auto sweep = jobs_.GetSweep(*id);
    if (!sweep) return SendError(res, sweep.error());
    res.set_content(ToJson(*sweep), "application/json");
  });

  server_->Get(R"(/api/v1/sweeps/([^/]+)/jobs)", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = PathId(req, res, "sweep");
    if (!id) return;
    if (auto sweep = jobs_.GetSweep(*id); !sweep) return SendError(res, sweep.error());
    auto limit = IdParam(req, "limit", 0);
    if (!limit) return SendError(res, limit.error());
    v1::ListJobsRequest request;
    request.set_sweep_id(*id);
    request.set_limit(static_cast<int>(std::min<int64_t>(*limit, INT32_MAX)));
    request.set_page_token(req.get_param_value("page_token"));
    auto reply = jobs_.ListJobs(request);
    if (!reply) return SendError(res, reply.error());
    res.set_content(ToJson(*reply), "application/json");
  });

  server_->Get(R"(/api/v1/jobs/([^/]+)/why)", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = PathId(req, res, "job");
    if (!id) return;
    auto why = jobs_.Why(*id);
    if (!why) return SendError(res, why.error());
    res.set_content(ToJson(*why), "application/json");
  });

  server_->Get(R"(/api/v1/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = PathId(req, res, "job");
    if (!id) return;
    auto job = jobs_.GetJob(*id);
    if (!job) return SendError(res, job.error());
    res.set_content(ToJson(*job), "application/json");
  });

  // The log of a job's attempt from a byte offset, as plain text. The
  // X-Log-Offset header gives the offset to ask for next.
  server_->Get(R"(/api/v1/jobs/([^/]+)/log)", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = PathId(req, res, "job");
    if (!id) return;
    auto offset = IdParam(req, "offset", 0);
    auto attempt = IdParam(req, "attempt", 0);
    if (!offset) return SendError(res, offset.error());
    if (!attempt) return SendError(res, attempt.error());
    auto resolved = jobs_.LogAttempt(*id, *attempt);
    if (!resolved) return SendError(res, resolved.error());
    // Read "finished" before the data so the last bytes are never missed.
    auto finished = *resolved == 0 ? StatusOr<bool>(true) : jobs_.AttemptFinished(*resolved);
    if (!finished) return SendError(res, finished.error());
    auto data = *resolved ? jobs_.ReadLog(*resolved, *offset, kLogChunkBytes) : StatusOr<std::string>("");
    if (!data) return SendError(res, data.error());
    res.set_header("X-Log-Offset", std::to_string(*offset + static_cast<int64_t>(data->size())));
    res.set_header("X-Log-Attempt", std::to_string(*resolved));
    res.set_header("X-Log-Finished", *finished ? "1" : "0");
    res.set_content(std::move(*data), "text/plain; charset=utf-8");
  });

  server_->Get(R"(/api/v1/artifacts/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string path = artifacts_.PathFor(req.matches[1]);
    std::ifstream in(path, std::ios::binary);
    if (!in) return SendError(res, Status::NotFound("no artifact " + std::string(req.matches[1])));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string name = req.has_param("name") ? req.get_param_value("name") : std::string(req.matches[1]);
    for (char& c : name) {
      if (c == '"' || c == '\\' || c == '\n' || c == '\r') c = '_';
    }
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
    res.set_content(std::move(content), "application/octet-stream");
  });

  server_->Get("/api/v1/agents", [this](const httplib::Request&, httplib::Response& res) {
    auto agents = jobs_.ListAgents();
    if (!agents) return SendError(res, agents.error());
    v1::ListAgentsResponse reply;
    for (auto& agent : *agents) *reply.add_agents() = std::move(agent);
    res.set_content(ToJson(reply), "application/json");
  });

  server_->Post(R"(/api/v1/agents/([^/]+)/(drain|undrain))", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
    v1::DrainAgentRequest request;
    request.set_name(req.matches[1]);
    request.set_undrain(req.matches[2] == "undrain");
    auto by = gate_.Caller(req);
    if (!by) return SendError(res, by.error());
    auto agent = jobs_.DrainAgent(request);
    gate_.Record(req, *by, request.undrain() ? "UndrainAgent" : "DrainAgent", "agent " + request.name(),
                 agent ? Status::Ok() : agent.error());
    if (!agent) return SendError(res, agent.error());
    res.set_content(ToJson(*agent), "application/json");
  });

  server_->Get("/api/v1/matrix", [this](const httplib::Request& req, httplib::Response& res) {
    auto sweep = IdParam(req, "sweep", 0);
    if (!sweep) return SendError(res, sweep.error());
    store::MatrixFilter filter;
    filter.sweep_id = *sweep;
    filter.tag = req.get_param_value("tag");
    SendJsonList(res, "cells", jobs_.Matrix(filter));
  });

  server_->Get("/api/v1/schedules", [this](const httplib::Request&, httplib::Response& res) {
    SendJsonList(res, "schedules", jobs_.ListSchedules());
  });

  server_->Get(R"(/api/v1/schedules/([^/]+)/history)", [this](const httplib::Request& req, httplib::Response& res) {
    auto limit = IdParam(req, "limit", 50);
    if (!limit) return SendError(res, limit.error());
    SendJsonList(res, "firings", jobs_.ScheduleHistory(req.matches[1], static_cast<int>(*limit)));
  });

  // One job across the schedule's nights: ?job=NAME[&limit=N].
  server_->Get(R"(/api/v1/schedules/([^/]+)/tests)", [this](const httplib::Request& req, httplib::Response& res) {
    auto limit = IdParam(req, "limit", 0);
    if (!limit) return SendError(res, limit.error());
    v1::TestHistoryRequest request;
    request.set_schedule(req.matches[1]);
    request.set_job(req.get_param_value("job"));
    request.set_limit(static_cast<int>(std::min<int64_t>(*limit, 1 << 20)));
    auto reply = jobs_.TestHistory(request);
    if (!reply) return SendError(res, reply.error());
    res.set_content(ToJson(*reply), "application/json");
  });

  // ?schedule=NAME[&sweep=ID], or ?base=ID&sweep=ID, as `gauntlet compare`.
  server_->Get("/api/v1/compare", [this](const httplib::Request& req, httplib::Response& res) {
    auto base = IdParam(req, "base", 0);
    if (!base) return SendError(res, base.error());
    auto sweep = IdParam(req, "sweep", 0);
    if (!sweep) return SendError(res, sweep.error());
    v1::CompareRequest request;
    request.set_schedule(req.get_param_value("schedule"));
    request.set_base_sweep_id(*base);
    request.set_sweep_id(*sweep);
    auto reply = jobs_.Compare(request);
    if (!reply) return SendError(res, reply.error());
    res.set_content(ToJson(*reply), "application/json");
  });

  server_->Get("/api/v1/benchmarks", [this](const httplib::Request&, httplib::Response& res) {
    SendJsonList(res, "points", jobs_.Benchmarks(0));
  });

  server_->Get("/api/v1/annotations", [this](const httplib::Request& req, httplib::Response& res) {
    SendJsonList(res, "annotations", jobs_.Annotations(req.get_param_value("scope"), req.get_param_value("target")));
  });

  // Server-Sent Events: every event after ?after=ID (or Last-Event-ID), then
  // new ones as they happen. Each is a protobuf-JSON Event.
  server_->Get("/api/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
    auto after = IdParam(req, "after", -1);
    if (!after) return SendError(res, after.error());
    int64_t last = *after;
    if (req.has_header("Last-Event-ID")) last = ParseId(req.get_header_value("Last-Event-ID")).value_or(last);
    if (last < 0) {
      auto latest = jobs_.LatestEventId();
      if (!latest) return SendError(res, latest.error());
      last = *latest;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, last, idle = 0](size_t, httplib::DataSink& sink) mutable {
      if (stopping_) {
        sink.done();
        return false;
      }
      std::string chunk;
      // A read that fails (the database busy) is tried again on the next tick.
      auto events = jobs_.Events(last, 0, 500);
      for (const auto& event : events.value_or(std::vector<v1::Event>{})) {
        chunk += "id: " + std::to_string(event.id()) + "\nevent: " + event.kind() + "\ndata: " + ToJson(event) + "\n\n";
        last = event.id();
      }
      if (chunk.empty() && ++idle >= kKeepAliveTicks) {
        chunk = ": keep-alive\n\n";
        idle = 0;
      }
      if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
      if (chunk.empty()) std::this_thread::sleep_for(kEventPoll);
      return true;
    });
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
  stopping_ = true;
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace gauntlet::api
