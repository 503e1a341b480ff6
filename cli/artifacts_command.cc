// `gauntlet artifacts JOB` lists a job's artifacts; `gauntlet artifacts JOB
// NAME [--out PATH]` downloads one, checked against its SHA-256 before it
// takes the name, so an interrupted download never looks complete.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "common/sha256.h"

namespace gauntlet::cli {

namespace fs = std::filesystem;

int Artifacts(const Globals& globals, const ArtifactsOptions& options) {
  auto stub = Connect(globals);
  if (options.name.empty()) {
    v1::GetJobRequest request;
    request.set_id(options.job_id);
    v1::Job job;
    if (grpc::Status status = stub->GetJob(Context().get(), request, &job); !status.ok()) return Fail(globals, status);
    if (globals.json) {
      nlohmann::json artifacts = nlohmann::json::array();
      for (const auto& artifact : job.artifacts()) {
        artifacts.push_back(
            {{"name", artifact.name()}, {"sha256", artifact.sha256()}, {"size", std::to_string(artifact.size())}});
      }
      std::cout << nlohmann::json{{"jobId", std::to_string(job.id())}, {"artifacts", artifacts}}.dump(2) << "\n";
      return 0;
    }
    if (job.artifacts().empty()) {
      std::cout << "job " << job.id() << " has no artifacts" << (job.state() == v1::JOB_STATE_SUCCEEDED ? "" : " yet")
                << "\n";
      return 0;
    }
    Table table({"NAME", "SIZE", "SHA256"});
    for (const auto& artifact : job.artifacts()) {
      table.Add({artifact.name(), std::to_string(artifact.size()), artifact.sha256()});
    }
    table.Print(std::cout);
    return 0;
  }
  const fs::path out = options.out.empty() ? fs::path(options.name).filename() : fs::path(options.out);
  const fs::path partial = out.string() + ".partial";
  v1::GetArtifactRequest request;
  request.set_job_id(options.job_id);
  request.set_name(options.name);
  auto context = Context(/*seconds=*/0);
  auto reader = stub->GetArtifact(context.get(), request);
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) {
    std::cerr << "error: cannot write " << partial.string() << "; give --out a path you can write\n";
    return kExitUsage;
  }
  Sha256 hasher;
  std::string expected;
  int64_t bytes = 0;
  v1::ArtifactChunk chunk;
  while (reader->Read(&chunk)) {
    if (!chunk.sha256().empty()) expected = chunk.sha256();
    file.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    hasher.Update(chunk.data());
    bytes += static_cast<int64_t>(chunk.data().size());
  }
  file.close();
  grpc::Status status = reader->Finish();
  std::error_code ec;
  if (!status.ok()) {
    fs::remove(partial, ec);
    return Fail(globals, status);
  }
  if (!file || hasher.FinishHex() != expected) {
    fs::remove(partial, ec);
    std::cerr << "error: the download of " << options.name << " is " << (file ? "corrupt" : "incomplete (disk full?)")
              << "; run the command again\n";
    return kExitFailed;
  }
  fs::rename(partial, out, ec);
  if (ec) {
    std::cerr << "error: cannot move the download to " << out.string() << ": " << ec.message() << "\n";
    return kExitFailed;
  }
  std::cout << out.string() << " (" << bytes << " bytes, sha256 " << expected << ")\n";
  return 0;
}

}  // namespace gauntlet::cli
