// Expands a sweep of 1,000,000 jobs and persists it through Store::InsertSweep,
// then inserts the very same rows with a bare prepared-statement loop into an
// identical schema, in the same run. Reports wall times, peak memory and the
// persist rate as a ratio to the raw loop.
//
//   build/bin/gauntlet_bench_expand_persist [--builds 1000] [--runs-per-build 999] [--dir /tmp]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <sqlite3.h>

#include "common/logging.h"
#include "coordinator/expand/expand.h"
#include "coordinator/spec/parser.h"
#include "coordinator/store/store.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point since) { return std::chrono::duration<double>(SteadyClock::now() - since).count(); }

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

std::string Values(int count) {
  std::string out = "[";
  for (int i = 0; i < count; ++i) out += (i ? "," : "") + std::to_string(i);
  return out + "]";
}

void Check(int code, sqlite3* db, const char* what) {
  if (code != SQLITE_OK && code != SQLITE_DONE && code != SQLITE_ROW) {
    std::cerr << what << ": " << sqlite3_errmsg(db) << "\n";
    std::exit(1);
  }
}

// The baseline: the same rows, the same schema, one prepared INSERT per row
// inside one transaction. No expansion, no JSON, no cache pass.
double RawInsert(const std::string& path, const gauntlet::expand::SweepPlan& plan) {
  {
    auto store = gauntlet::store::Store::Open(path);  // Same schema and indexes.
    if (!store) std::exit(1);
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
  // Serialise what the rows hold before the clock starts: the baseline is the insert loop alone.
  std::vector<std::string> labels;
  labels.reserve(plan.jobs.size());
  for (const auto& job : plan.jobs) labels.push_back(nlohmann::json(job.labels).dump());
  auto start = SteadyClock::now();
  Check(sqlite3_exec(db, "BEGIN; INSERT INTO sweeps(name, spec_text, created_at_ms) VALUES ('raw', '', 0);", nullptr,
                     nullptr, nullptr),
        db, "begin");
  sqlite3_stmt* insert_job = nullptr;
  sqlite3_stmt* insert_dep = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO jobs(sweep_id, name, kind, state, spec_json, devices, device_kind, priority, "
                     "max_attempts, timeout_s, labels_json, content_key, created_at_ms, stage, cacheable, tags, "
                     "model, dtype, tp, context) VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     -1, &insert_job, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO job_deps(job_id, depends_on) VALUES (?, ?)", -1, &insert_dep, nullptr);
  std::vector<int64_t> ids;
  ids.reserve(plan.jobs.size());
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto& job = plan.jobs[i];
    sqlite3_bind_text(insert_job, 1, job.name.data(), static_cast<int>(job.name.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert_job, 2, 2);
    sqlite3_bind_int(insert_job, 3, 1);
    sqlite3_bind_text(insert_job, 4, job.spec_json.data(), static_cast<int>(job.spec_json.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert_job, 5, job.devices);
    sqlite3_bind_text(insert_job, 6, job.device_kind.data(), static_cast<int>(job.device_kind.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert_job, 7, job.priority);
    sqlite3_bind_int(insert_job, 8, job.max_attempts);
    sqlite3_bind_double(insert_job, 9, job.timeout_s);
    sqlite3_bind_text(insert_job, 10, labels[i].data(), static_cast<int>(labels[i].size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_job, 11, job.content_key.data(), static_cast<int>(job.content_key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert_job, 12, 0);
    sqlite3_bind_text(insert_job, 13, job.stage.data(), static_cast<int>(job.stage.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert_job, 14, job.cacheable);
    sqlite3_bind_text(insert_job, 15, "", 0, SQLITE_STATIC);
    sqlite3_bind_text(insert_job, 16, job.template_name.data(), static_cast<int>(job.template_name.size()),
                      SQLITE_STATIC);
    for (int column = 17; column <= 19; ++column) sqlite3_bind_text(insert_job, column, "", 0, SQLITE_STATIC);
    Check(sqlite3_step(insert_job), db, "insert job");
    sqlite3_reset(insert_job);
    ids.push_back(sqlite3_last_insert_rowid(db));
    for (size_t dep : job.depends_on) {
      sqlite3_bind_int64(insert_dep, 1, ids.back());
      sqlite3_bind_int64(insert_dep, 2, ids[dep]);
      Check(sqlite3_step(insert_dep), db, "insert dep");
      sqlite3_reset(insert_dep);
    }
  }
  Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  double seconds = Seconds(start);
  sqlite3_finalize(insert_job);
  sqlite3_finalize(insert_dep);
  sqlite3_close(db);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Expand and persist a 1M-job sweep against a raw SQLite insert loop"};
  int builds = 1000, runs_per_build = 999;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--builds", builds, "Jobs of the first stage");
  app.add_option("--runs-per-build", runs_per_build, "Jobs of the second stage per first-stage job");
  app.add_option("--dir", dir, "Folder for the two database files");
  bool expand_only = false;
  app.add_flag("--expand-only", expand_only, "Stop after expansion (for profiling it)");
  CLI11_PARSE(app, argc, argv);
  gauntlet::SetupLogging("bench", "warn");

  std::string spec_text = "name: million\njobs:\n"
                          "  - {name: build, kind: exec, command: 'make ${a}', matrix: {a: " + Values(builds) + "}}\n"
                          "  - {name: run, kind: exec, command: 'run ${a} ${b}', depends_on: build, matrix: {a: " +
                          Values(builds) + ", b: " + Values(runs_per_build) + "}}\n";
  auto parsed = gauntlet::spec::ParseSweepSpec(spec_text, "million.yaml");
  if (!parsed) {
    std::cerr << parsed.error().ToString() << "\n";
    return 1;
  }
  // A million jobs is past the default --max-jobs-per-sweep (250k): an
  // operator raises it for a sweep this size, as this run does.
  gauntlet::spec::Limits limits;
  limits.max_jobs_per_sweep = static_cast<int64_t>(builds) * (runs_per_build + 1);
  auto start = SteadyClock::now();
  auto plan = gauntlet::expand::Expand(*parsed, limits);
  double expand_s = Seconds(start);
  if (!plan) {
    std::cerr << plan.error().ToString() << "\n";
    return 1;
  }
  double rss_after_expand = PeakRssMiB();
  if (expand_only) {
    std::printf("expand %.3f s for %zu jobs, peak RSS %.0f MiB\n", expand_s, plan->jobs.size(), rss_after_expand);
    return 0;
  }
  size_t deps = 0;
  for (const auto& job : plan->jobs) deps += job.depends_on.size();

  std::string gauntlet_db = dir + "/bench-gauntlet.db", raw_db = dir + "/bench-raw.db";
  for (const auto& path : {gauntlet_db, raw_db}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  auto store = gauntlet::store::Store::Open(gauntlet_db);
  start = SteadyClock::now();
  gauntlet::Status status = (*store)->Transaction([&]() -> gauntlet::Status {
    // As JobManager does: the cache lookup and the initial states are part of persisting.
    auto known = (*store)->SucceededJobsByKey(gauntlet::sched::CacheableKeys(*plan, {}));
    if (!known) return known.error();
    auto id = (*store)->InsertSweep(*plan, spec_text, "million.yaml", 0,
                                    gauntlet::sched::InitialStates(*plan, {}, *known));
    return id ? gauntlet::Status::Ok() : id.error();  // The ids are not needed here.
  });
  double persist_s = Seconds(start);
  if (!status.ok()) {
    std::cerr << status.ToString() << "\n";
    return 1;
  }
  double raw_s = RawInsert(raw_db, *plan);

  std::printf("jobs                  %zu (%zu dependency edges)\n", plan->jobs.size(), deps);
  std::printf("expand                %.3f s  (%.0f jobs/s)\n", expand_s, plan->jobs.size() / expand_s);
  std::printf("persist (InsertSweep) %.3f s  (%.0f jobs/s)\n", persist_s, plan->jobs.size() / persist_s);
  std::printf("raw insert loop       %.3f s  (%.0f jobs/s)\n", raw_s, plan->jobs.size() / raw_s);
  std::printf("persist / raw rate    %.2f\n", raw_s / persist_s);
  std::printf("peak RSS              %.0f MiB after expand, %.0f MiB at the end\n", rss_after_expand, PeakRssMiB());
  for (const auto& path : {gauntlet_db, raw_db}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  return 0;
}
