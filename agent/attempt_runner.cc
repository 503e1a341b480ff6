#include "agent/attempt_runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "agent/constants.h"
#include "agent/job_results.h"
#include "common/sha256.h"
#include "lib/contract/targets.h"
#include "lib/contract/worker_contract.h"
#include "lib/results/results.h"
#include "lib/rpc/credentials.h"

namespace gauntlet::agent {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

using constants::kArtifactChunkBytes;
using constants::kLogChunkBytes;
using constants::kLogInterval;
using constants::kRpcTimeout;

namespace {

std::unique_ptr<grpc::ClientContext> Context(const AgentConfig& config) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_wait_for_ready(true);
  context->set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
  if (config.credential) config.credential->Attach(context.get());
  return context;
}

// An upload's context: the session, and the attempt's own job token.
std::unique_ptr<grpc::ClientContext> UploadContext(const AgentConfig& config, const v1::Assignment& assignment) {
  auto context = Context(config);
  context->AddMetadata(rpc::kJobTokenKey, assignment.job_token());
  return context;
}

// The last few lines of a log, joined with " | ", for a failure's reason.
std::string LastLines(const std::string& path) {
  constexpr std::streamoff kTailBytes = 2048;
  constexpr size_t kLines = 4, kMaxChars = 400;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  in.seekg(std::max<std::streamoff>(0, size - kTailBytes));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    // The agent's own lines say what the reason already says.
    if (!line.empty() && !line.starts_with("gauntlet-agent:")) lines.push_back(std::move(line));
    start = end + 1;
  }
  if (size > kTailBytes && !lines.empty()) lines.erase(lines.begin());  // Cut mid-line.
  std::string tail;
  for (size_t i = lines.size() > kLines ? lines.size() - kLines : 0; i < lines.size(); ++i) {
    tail += (tail.empty() ? "" : " | ") + lines[i];
  }
  if (tail.size() > kMaxChars) tail = "..." + tail.substr(tail.size() - kMaxChars);
  return tail;
}

std::string DeviceList(const v1::Assignment& assignment) {
  std::string out;
  for (int index : assignment.device_indices()) out += (out.empty() ? "" : ",") + std::to_string(index);
  return out;
}
}  // namespace

AttemptRunner::AttemptRunner(const AgentConfig& config, v1::AgentService::StubInterface& stub,
                             v1::Assignment assignment,
                             const std::atomic<bool>& stopping)
    : config_(config), stub_(stub), assignment_(std::move(assignment)), stopping_(stopping) {
  dir_ = config_.workdir + "/attempts/" + std::to_string(assignment_.attempt_id());
  out_dir_ = dir_ + "/out";
  log_path_ = dir_ + "/log.txt";
  report_.set_attempt_id(assignment_.attempt_id());
}

Status AttemptRunner::DownloadInputs() {
  for (const auto& input : assignment_.inputs()) {
    for (const auto& artifact : input.artifacts()) {
      fs::path path = fs::path(dir_) / "in" / input.folder() / artifact.name();
      // Names come from another job's output folder; never let one escape ours.
      if (path.lexically_normal().string().find("..") != std::string::npos) continue;
      std::error_code ec;
      fs::create_directories(path.parent_path(), ec);
      v1::DownloadArtifactRequest request;
      request.set_sha256(artifact.sha256());
      auto context = Context(config_);
      auto reader = stub_.DownloadArtifact(context.get(), request);
      std::ofstream out(path, std::ios::binary);
      Sha256 hasher;
      v1::ArtifactChunk chunk;
      while (reader->Read(&chunk)) {
        out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
        hasher.Update(chunk.data());
      }
      grpc::Status status = reader->Finish();
      if (!status.ok()) return Status::Unavailable("download of " + artifact.name() + ": " + status.error_message());
      if (hasher.FinishHex() != artifact.sha256()) return Status::Unavailable("download of " + artifact.name() + " is corrupt");
    }
  }
  return Status::Ok();
}

StatusOr<LaunchSpec> AttemptRunner::Prepare() {
  std::error_code ec;
  fs::create_directories(out_dir_, ec);
  if (ec) return Err(Status::Unavailable("cannot create " + out_dir_ + ": " + ec.message()));
  GAUNTLET_RETURN_IF_ERROR(DownloadInputs());
  const v1::Job& job = assignment_.job();
  LaunchSpec spec;
  spec.log_path = log_path_;
  std::string devices = DeviceList(assignment_);
  spec.env["GAUNTLET_DEVICES"] = devices;
  spec.env["GAUNTLET_OUT"] = fs::absolute(out_dir_).string();
  spec.env["GAUNTLET_INPUTS"] = fs::absolute(dir_ + "/in").string();
  const std::string cache = config_.cache_dir.empty() ? config_.workdir + "/cache" : config_.cache_dir;
  if (!fs::exists(cache)) {
    fs::create_directories(cache, ec);
    if (ec) return Err(Status::Unavailable("cannot create the cache folder " + cache + ": " + ec.message()));
    if (config_.run_as && lchown(cache.c_str(), config_.run_as->uid, config_.run_as->gid) != 0) {
      return Err(Status::Unavailable("cannot give " + cache + " to " + config_.run_as->name + ": " + std::strerror(errno)));
    }
  }
  spec.env["GAUNTLET_CACHE"] = fs::absolute(cache).string();
  spec.env["GAUNTLET_JOB_ID"] = std::to_string(job.id());
  spec.env["GAUNTLET_ATTEMPT_ID"] = std::to_string(assignment_.attempt_id());
  // A worker rank holds one device, an exec job all of its own. The job's
  // env, applied below, may still set it.
  if (config_.threads_per_device > 0) {
    const int devices_per_process = job.has_worker() ? 1 : std::max(1, assignment_.device_indices_size());
    spec.env["OMP_NUM_THREADS"] = std::to_string(config_.threads_per_device * devices_per_process);
  }
  if (job.device_kind() == "gpu" || (job.device_kind().empty() && !config_.devices.empty() &&
                                     config_.devices.front().kind() == "gpu")) {
    spec.env["CUDA_VISIBLE_DEVICES"] = devices;
    spec.env["HIP_VISIBLE_DEVICES"] = devices;
  }
  if (job.has_worker()) {
    std::string job_path = fs::absolute(dir_ + "/job.json").string();
    contract::WorkerJob worker_job;
    worker_job.job_id = job.id();
    worker_job.attempt_id = assignment_.attempt_id();
    worker_job.suite = job.worker().suite();
    worker_job.params = nlohmann::json::parse(job.worker().params_json(), nullptr, false);
    if (!worker_job.params.is_object()) worker_job.params = nlohmann::json::object();
    worker_job.backend = job.worker().backend().empty() ? "cpu" : job.worker().backend();
    worker_job.devices.assign(assignment_.device_indices().begin(), assignment_.device_indices().end());
    worker_job.inputs = fs::absolute(dir_ + "/in").string();
    std::ofstream job_file(job_path);
    job_file << contract::ToJson(worker_job).dump(2) << "\n";
    job_file.close();
    if (!job_file) return Err(Status::Unavailable("cannot write " + job_path + " (disk full?)"));
    // The launcher's environment reaches every local rank without -x.
    for (const auto& [key, value] : job.worker().env()) spec.env[key] = value;
    spec.env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
    spec.env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
    spec.argv = {config_.mpirun_path, "-np", std::to_string(assignment_.device_indices_size()),
                 "--oversubscribe", "--bind-to", "none", config_.worker_path,
                 "--job", job_path, "--out", fs::absolute(out_dir_).string()};
    spec.workdir = dir_;
  } else {
    for (const auto& arg : job.exec().argv()) spec.argv.push_back(arg);
    for (const auto& [key, value] : job.exec().env()) spec.env[key] = value;
    const std::string& workdir = job.exec().workdir();
    spec.workdir = workdir.empty() ? dir_ : (fs::path(workdir).is_absolute() ? workdir : dir_ + "/" + workdir);
  }
  if (config_.run_as) {
    spec.user = config_.run_as;
    GAUNTLET_RETURN_IF_ERROR(GiveFolderTo(dir_, *config_.run_as));
  }
  return spec;
}

void AttemptRunner::Execute(const LaunchSpec& spec) {
  auto process = Process::Start(spec);
  if (!process) {
    end_.launch_failed = true;
    end_.exit_code = 127;
    end_.stop_reason = process.error().message();
    std::ofstream(log_path_, std::ios::app) << "gauntlet-agent: " << process.error().message() << "\n";
    return;
  }
  const double timeout_s = assignment_.job().timeout_s();
  const auto started = SteadyClock::now();
  auto last_log = started;
  v1::AttemptReport running;
  running.set_attempt_id(assignment_.attempt_id());
  running.set_state(v1::ATTEMPT_STATE_RUNNING);
  running_reported_ = SendReport(running);
  std::optional<SteadyClock::time_point> kill_at;
  std::string& stop_reason = end_.stop_reason;
  while (true) {
    if (auto exit = process->Poll()) {
      end_.exit_code = exit->signal ? 128 + exit->signal : exit->exit_code;
      // A process the agent stopped ends by the agent's signal: that is the
      // stop's doing, not a crash.
      end_.signal = stop_reason.empty() ? exit->signal : 0;
      end_.description = exit->Describe();
      return;
    }
    auto now = SteadyClock::now();
    if (stop_reason.empty()) {
      if (cancel_requested_ || stopping_) {
        stop_reason = stopping_ ? "agent stopped" : "cancelled";
        end_.cancelled = true;
      } else if (timeout_s > 0 && now - started > std::chrono::duration<double>(timeout_s)) {
        stop_reason = "timed out after " + std::to_string(static_cast<int>(timeout_s)) + "s";
        end_.timed_out = true;
        std::ofstream(log_path_, std::ios::app) << "gauntlet-agent: " << stop_reason << ", stopping\n";
      }
      if (!stop_reason.empty()) {
        process->Signal(SIGTERM);
        kill_at = now + std::chrono::milliseconds(config_.kill_grace_ms);
      }
    } else if (kill_at && now >= *kill_at) {
      process->Signal(SIGKILL);
      kill_at.reset();
    }
    if (now - last_log >= kLogInterval) {
      if (!running_reported_) running_reported_ = SendReport(running);
      PumpLog();
      last_log = now;
    }
    std::this_thread::sleep_for(constants::kProcessPollInterval);
  }
}

namespace {
v1::FailureClass ToProto(contract::FailureClass failure) {
  switch (failure) {
    case contract::FailureClass::kVerdict: return v1::FAILURE_CLASS_VERDICT;
    case contract::FailureClass::kConfiguration: return v1::FAILURE_CLASS_CONFIGURATION;
    case contract::FailureClass::kInfrastructure: return v1::FAILURE_CLASS_INFRASTRUCTURE;
    case contract::FailureClass::kCommand: return v1::FAILURE_CLASS_COMMAND;
    case contract::FailureClass::kNone:
    case contract::FailureClass::kCancelled: return v1::FAILURE_CLASS_UNSPECIFIED;
  }
  return v1::FAILURE_CLASS_UNSPECIFIED;
}
}  // namespace

void AttemptRunner::CollectResult() {
  std::optional<contract::WorkerResult> result;
  std::string malformed;
  std::ifstream in(out_dir_ + "/result.json");
  if (in) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = contract::WorkerResultFromJson(nlohmann::json::parse(text, nullptr, false));
    if (parsed) {
      result = std::move(*parsed);
      report_.set_result_json(text);
      report_.set_verdict(result->verdict == contract::Verdict::kPass ? "pass" : "fail");
      for (const auto& [name, value] : result->metrics) (*report_.mutable_metrics())[name] = value;
    } else {
      malformed = parsed.error().message();
    }
  }
  end_.output_tail = LastLines(log_path_);
  std::map<std::string, double> result_metrics = result ? result->metrics : std::map<std::string, double>{};
  contract::Outcome outcome = contract::DecideOutcome(end_, result, assignment_.job().has_worker());
  if (outcome.succeeded && !malformed.empty()) {
    outcome = {false, contract::FailureClass::kCommand, malformed};
  }
  if (!assignment_.job().results_json().empty()) {
    results::ParsedResults parsed;
    const std::string problem = ReadDeclaredResults(assignment_.job().results_json(), out_dir_, &parsed);
    // A failed process may not have written its reports; its own reason stands.
    if (!problem.empty() && outcome.succeeded) outcome = {false, contract::FailureClass::kVerdict, problem};
    AddToReport(parsed, &report_);
    for (const auto& [name, value] : parsed.metrics) result_metrics.try_emplace(name, value);
    if (std::string failed = results::FailureSummary(parsed.cases); !failed.empty()) {
      // The failed tests say more than "exit code 1"; the class stays the
      // process's, so a command's failure is retried as before.
      outcome = outcome.succeeded ? contract::Outcome{false, contract::FailureClass::kVerdict, failed}
                                  : contract::Outcome{false, outcome.failure, failed + " (" + end_.description + ")"};
    }
  }
  if (outcome.succeeded && !assignment_.job().targets_json().empty()) {
    const auto targets = nlohmann::json::parse(assignment_.job().targets_json(), nullptr, false);
    std::string missed = contract::MissedTarget(targets, result_metrics);
    if (!missed.empty()) {
      outcome = {false, contract::FailureClass::kVerdict, "target missed: " + missed};
    }
  }
  if (!outcome.succeeded && outcome.failure == contract::FailureClass::kVerdict) report_.set_verdict("fail");
  report_.set_exit_code(end_.exit_code);
  report_.set_state(outcome.succeeded ? v1::ATTEMPT_STATE_SUCCEEDED
                    : outcome.failure == contract::FailureClass::kCancelled ? v1::ATTEMPT_STATE_CANCELLED
                                                                            : v1::ATTEMPT_STATE_FAILED);
  report_.set_failure_class(ToProto(outcome.failure));
  report_.set_reason(outcome.reason);
}

bool AttemptRunner::PumpLog() {
  std::ifstream in(log_path_, std::ios::binary);
  if (!in) return true;
  in.seekg(log_offset_);
  std::string buffer(kLogChunkBytes, '\0');
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    v1::LogChunk chunk;
    chunk.set_attempt_id(assignment_.attempt_id());
    chunk.set_offset(log_offset_);
    chunk.set_data(buffer.data(), static_cast<size_t>(in.gcount()));
    v1::UploadLogResponse reply;
    grpc::Status status = stub_.UploadLog(UploadContext(config_, assignment_).get(), chunk, &reply);
    if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      // The attempt has ended or is no longer this agent's: no retry can
      // store the rest, and its report will be answered stale.
      spdlog::warn("attempt {}: log upload refused: {}", attempt_id(), status.error_message());
      return true;
    }
    if (!status.ok()) return false;
    // The coordinator's length is the truth: it ignores chunks that do not
    // continue its copy, so re-reading from there never duplicates bytes.
    if (reply.stored_length() != log_offset_ + in.gcount()) {
      log_offset_ = reply.stored_length();
      in.clear();
      in.seekg(log_offset_);
      continue;
    }
    log_offset_ = reply.stored_length();
  }
  return true;
}

bool AttemptRunner::UploadArtifacts() {
  report_.clear_artifacts();
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(out_dir_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    auto sha = Sha256File(path.string());
    if (!sha) continue;
    v1::ArtifactRef reply;
    auto context = UploadContext(config_, assignment_);
    auto writer = stub_.UploadArtifact(context.get(), &reply);
    std::ifstream in(path, std::ios::binary);
    std::string buffer(kArtifactChunkBytes, '\0');
    v1::ArtifactChunk chunk;
    chunk.set_sha256(*sha);
    chunk.set_attempt_id(attempt_id());
    bool first = true;
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0 || first) {
      chunk.set_data(buffer.data(), static_cast<size_t>(in.gcount()));
      if (!writer->Write(chunk)) break;
      chunk.clear_sha256();
      chunk.clear_attempt_id();
      first = false;
      if (in.eof()) break;
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (!status.ok()) {
      spdlog::warn("attempt {}: upload of {} failed: {}", attempt_id(), path.string(), status.error_message());
      return false;
    }
    auto* ref = report_.add_artifacts();
    ref->set_name(fs::relative(path, out_dir_).string());
    ref->set_sha256(*sha);
    ref->set_size(reply.size());
  }
  return true;
}

bool AttemptRunner::SendReport(const v1::AttemptReport& report) {
  v1::ReportAttemptResponse reply;
  grpc::Status status = stub_.ReportAttempt(Context(config_).get(), report, &reply);
  if (!status.ok()) {
    spdlog::warn("attempt {}: report failed ({}), will retry", attempt_id(), status.error_message());
    return false;
  }
  if (reply.stale()) {
    spdlog::info("attempt {}: coordinator no longer wants it; stopping", attempt_id());
    cancel_requested_ = true;
  }
  return true;
}

void AttemptRunner::Backoff(int* delay_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(*delay_ms));
  *delay_ms = std::min(*delay_ms * 2, constants::kMaxBackoffMs);
}

void AttemptRunner::Run() {
  const v1::Job& job = assignment_.job();
  spdlog::info("attempt {}: job {} '{}' on devices [{}]", attempt_id(), job.id(), job.name(), DeviceList(assignment_));
  auto spec = Prepare();
  if (spec) {
    Execute(*spec);
  } else {
    end_.launch_failed = true;
    end_.stop_reason = spec.error().message();
  }
  if (stopping_) return;  // The lease expires and the job runs elsewhere.
  CollectResult();
  spdlog::info("attempt {}: {}{}{}", attempt_id(), v1::AttemptState_Name(report_.state()),
               report_.failure_class() ? " [" + v1::FailureClass_Name(report_.failure_class()) + "]" : "",
               report_.reason().empty() ? "" : " (" + report_.reason() + ")");
  int delay_ms = constants::kReportInitialBackoffMs;
  bool uploaded = false;
  while (!stopping_) {
    if (!uploaded) uploaded = UploadArtifacts();
    if (uploaded && PumpLog() && SendReport(report_)) break;
    Backoff(&delay_ms);
  }
  done_ = true;
}

}  // namespace gauntlet::agent
