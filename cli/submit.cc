#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "lib/contract/stages.h"
#include "lib/contract/suite_files.h"
#include "lib/rpc/paging.h"

namespace gauntlet::cli {
namespace {

namespace fs = std::filesystem;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Every *.json under `folder` (relative to the spec's), sent as
// "<prefix><path under folder>"; pytest-iree reads these folders the same way.
void AttachFolder(const fs::path& folder, std::string_view prefix, v1::SubmitSweepRequest* request) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".json") continue;
    std::string content;
    const std::string relative = it->path().lexically_relative(folder).lexically_normal().generic_string();
    if (ReadFile(it->path().string(), &content)) (*request->mutable_files())[std::string(prefix) + relative] = content;
  }
}

// The files a spec names (programs.criteria, a gemm kernel's mnk CSV, a
// suite's definitions), read relative to the spec's folder, so the
// coordinator expands the spec without touching this disk. A file that cannot be read is left out; the
// coordinator's error names it.
void AttachFiles(const std::string& spec_path, const std::string& text, v1::SubmitSweepRequest* request) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return;  // The coordinator reports the syntax error with its position.
  }
  if (!root.IsMap()) return;
  auto beside_spec = [&](const std::string& name) {
    return fs::path(name).is_absolute() ? fs::path(name) : fs::path(spec_path).parent_path() / name;
  };
  const YAML::Node& suite = root["suite"];
  if (suite && suite.IsMap()) {
    for (const auto& [field, prefix] : {std::pair{"tests", contract::kSuiteTestsPrefix},
                                        std::pair{"modules", contract::kSuiteModulesPrefix}}) {
      if (suite[field] && suite[field].IsScalar()) AttachFolder(beside_spec(suite[field].Scalar()), prefix, request);
    }
  }
  auto attach = [&](const YAML::Node& node) {
    if (!node || !node.IsScalar()) return;
    std::string content;
    if (ReadFile(beside_spec(node.Scalar()).string(), &content)) (*request->mutable_files())[node.Scalar()] = content;
  };
  if (root["kernels"] && root["kernels"].IsSequence()) {
    for (const auto& kernel : root["kernels"]) {
      if (kernel.IsMap() && kernel["params"] && kernel["params"].IsMap()) attach(kernel["params"]["mnk"]);
    }
  }
  if (root["programs"] && root["programs"].IsMap()) attach(root["programs"]["criteria"]);
}

// pytest's --collect-only: the tests the markers selected, then the counts.
void PrintCollected(const v1::SubmitSweepResponse& reply) {
  int selected = 0;
  Table table({"TEST", "TYPE", "MARKERS", "TARGET", "JOB"});
  for (const auto& job : reply.jobs()) {
    auto file = job.labels().find("test_file");
    if (file == job.labels().end()) continue;
    ++selected;
    auto label = [&](const char* key) {
      auto found = job.labels().find(key);
      return found == job.labels().end() ? std::string() : found->second;
    };
    table.Add({file->second, job.stage(), label("markers"), label("target"), job.name()});
  }
  table.Print(std::cout);
  std::cout << "\n" << selected << " tests selected\n";
}

void PrintDryRun(const v1::SubmitSweepResponse& reply) {
  const auto& summary = reply.summary();
  std::cout << "sweep " << reply.sweep().name() << ": " << reply.sweep().total_jobs() << " jobs, " << summary.cache_hits()
            << " satisfied from the cache, about " << summary.device_hours() << " device-hours (dry run, nothing stored)\n";
  // How much of the estimate was measured, and how much is a guess.
  const int measured = summary.estimated_from_same_job() + summary.estimated_from_stage_and_model() +
                       summary.estimated_from_stage();
  std::cout << "estimate: " << summary.estimated_from_same_job() << " jobs timed by an earlier run of the same job, "
            << summary.estimated_from_stage_and_model() << " by their stage and model, "
            << summary.estimated_from_stage() << " by their stage, " << summary.estimated_by_guess()
            << " guessed at 60 s" << (measured == 0 && summary.estimated_by_guess() > 0 ? " (all a guess: nothing like "
                                                                                          "them has run yet)"
                                                                                        : "")
            << "\n\n";
  Table stages({"STAGE", "JOBS"});
  // In pipeline order, then by name: a map's own order changes from run to run.
  std::vector<std::pair<std::string, int>> by_stage(summary.jobs_by_stage().begin(), summary.jobs_by_stage().end());
  std::sort(by_stage.begin(), by_stage.end(), [](const auto& a, const auto& b) {
    return std::pair(contract::StageRank(a.first), a.first) < std::pair(contract::StageRank(b.first), b.first);
  });
  for (const auto& [stage, count] : by_stage) stages.Add({stage, std::to_string(count)});
  stages.Print(std::cout);
  std::cout << "\n";
  Table models({"MODEL", "JOBS"});
  const std::map<std::string, int> by_model(summary.jobs_by_model().begin(), summary.jobs_by_model().end());
  for (const auto& [model, count] : by_model) models.Add({model, std::to_string(count)});
  models.Print(std::cout);
  std::cout << "\n";
  constexpr int kMaxRows = 200;
  Table table({"#", "NAME", "STAGE", "DEVICES", "DEPENDS ON", "CONTENT KEY"});
  for (int i = 0; i < reply.jobs_size() && i < kMaxRows; ++i) {
    const auto& job = reply.jobs(i);
    std::string deps;
    for (int64_t dep : job.depends_on()) deps += (deps.empty() ? "" : ",") + std::to_string(dep);
    std::string stage = !job.stage().empty() ? job.stage() : job.kind() == v1::JOB_KIND_WORKER ? "worker" : "exec";
    table.Add({std::to_string(i), job.name(), stage, std::to_string(job.devices()), deps, job.content_key().substr(0, 12)});
  }
  table.Print(std::cout);
  if (reply.sweep().total_jobs() > kMaxRows) {
    std::cout << "... and " << reply.sweep().total_jobs() - kMaxRows << " more (--json lists them all)\n";
  }
}

void PrintSchedule(const v1::Schedule& schedule) {
  std::cout << "schedule " << schedule.name() << " set: " << schedule.policy().cron() << " in "
            << schedule.policy().timezone() << "; next firing " << schedule.next_local() << "\n";
}

}  // namespace

bool ReadSpecRequest(const std::string& path, v1::SubmitSweepRequest* request) {
  std::string text;
  if (!ReadFile(path, &text)) {
    std::cerr << "error: cannot read " << path << "\n";
    return false;
  }
  request->set_spec_text(text);
  request->set_source(path);
  AttachFiles(path, text, request);
  return true;
}

int Submit(const Globals& globals, const SubmitOptions& options) {
  v1::SubmitSweepRequest request;
  if (!ReadSpecRequest(options.path, &request)) return kExitUsage;
  auto stub = Connect(globals);
  request.set_dry_run(options.dry_run || options.collect_only);
  request.set_no_preflight(options.no_preflight);
  if (options.force_given) {
    if (options.force.empty()) request.add_force("*");
    for (const auto& stage : options.force) request.add_force(stage);
  }
  // Each page of a dry run expands the plan again: with --json (or to list a
  // suite's tests), few large pages.
  if ((options.dry_run && globals.json) || options.collect_only) request.set_page_size(paging::kMaxJobPage);
  v1::SubmitSweepResponse reply;
  grpc::Status status = stub->SubmitSweep(Context().get(), request, &reply);
  if (!status.ok()) return Fail(globals, status);
  // With --json they are in the dry run's document; a script reading both streams gets one document.
  if (!globals.json) {
    for (const auto& warning : reply.warnings()) std::cerr << "warning: " << warning << "\n";
  }
  if (options.dry_run || options.collect_only) {
    if (globals.json || options.collect_only) {
      // Every page of the plan, as one reply.
      for (std::string next = reply.next_page_token(); !next.empty();) {
        request.set_page_token(next);
        v1::SubmitSweepResponse page;
        status = stub->SubmitSweep(Context().get(), request, &page);
        if (!status.ok()) return Fail(globals, status);
        for (auto& job : *page.mutable_jobs()) *reply.add_jobs() = std::move(job);
        next = page.next_page_token();
      }
      reply.clear_next_page_token();
    }
    if (globals.json) {
      PrintJson(reply);
    } else if (options.collect_only) {
      PrintCollected(reply);
    } else {
      PrintDryRun(reply);
    }
    return 0;
  }
  if (reply.has_schedule()) {
    // `schedule:` in the spec: its nights come later; nothing to wait for.
    if (globals.json) {
      PrintJson(reply.schedule());
    } else {
      PrintSchedule(reply.schedule());
    }
    return 0;
  }
  int64_t sweep_id = reply.sweep().id();
  if (!options.wait) {
    if (globals.json) {
      PrintJson(reply.sweep());
    } else {
      std::cout << "submitted sweep " << sweep_id << " (" << reply.sweep().name() << ", " << reply.sweep().total_jobs()
                << " jobs: " << Counts(reply.sweep()) << ")\n";
    }
    return 0;
  }
  std::cerr << "submitted sweep " << sweep_id << " (" << reply.sweep().name() << ", " << reply.sweep().total_jobs()
            << " jobs); waiting\n";
  std::string last;
  v1::Sweep sweep;
  while (true) {
    v1::GetSweepRequest get;
    get.set_id(sweep_id);
    if (!stub->GetSweep(Context().get(), get, &sweep).ok()) {
      // The coordinator may be restarting; keep waiting.
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    std::string counts = Counts(sweep);
    if (counts != last) std::cerr << "  " << counts << "\n";
    last = counts;
    if (sweep.finished()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  int rc = ListJobsOf(globals, *stub, sweep_id, v1::JOB_STATE_UNSPECIFIED, {.all = true, .with_metrics = true});
  if (rc != 0) return rc;
  std::cout << "sweep " << sweep_id << " " << SweepStatus(sweep) << ": " << Counts(sweep) << "\n";
  return sweep.succeeded() ? 0 : kExitFailed;
}

}  // namespace gauntlet::cli
