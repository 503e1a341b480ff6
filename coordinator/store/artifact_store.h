// Content-addressed files on the coordinator's disk: <root>/<ab>/<abcdef...>.
// A write goes to a temporary file and is renamed into place only once its
// digest matches, so a reader never sees a partial artifact, and a full disk
// fails the upload (the agent keeps the file and retries) instead of storing
// a truncated one.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "common/sha256.h"
#include "common/status.h"

namespace gauntlet::store {

class ArtifactStore {
 public:
  // `max_bytes` > 0 caps the folder (--max-artifact-bytes): an upload past it
  // fails as a full disk would, and the job says so while the agent retries.
  explicit ArtifactStore(std::string root, int64_t max_bytes = 0);

  class Writer {
   public:
    ~Writer();
    Status Append(std::string_view data);
    // Checks the digest, then publishes the file. Returns its size.
    StatusOr<int64_t> Commit();

   private:
    friend class ArtifactStore;
    Writer(ArtifactStore& store, std::string expected_sha256, std::string temp_path, std::string final_path,
           std::FILE* file);
    ArtifactStore& store_;
    std::string expected_sha256_;
    std::string temp_path_;
    std::string final_path_;
    std::FILE* file_;
    Sha256 hasher_;
    int64_t size_ = 0;
  };

  // Starts storing content that must hash to `sha256`.
  StatusOr<std::unique_ptr<Writer>> Begin(const std::string& sha256);
  std::string PathFor(const std::string& sha256) const;
  // Removes temporary files a killed coordinator left mid-write. Call at
  // start-up, before serving: one coordinator owns the folder. Returns how many.
  int RemoveStaleTemporaries();
  bool Exists(const std::string& sha256) const;

 private:
  // Reserves `bytes` against the cap, or says the store is full.
  Status Reserve(int64_t bytes);
  void Release(int64_t bytes) {
    if (max_bytes_ > 0) used_bytes_ -= bytes;
  }

  std::string root_;
  int64_t max_bytes_ = 0;
  std::atomic<int64_t> used_bytes_{0};  // Counted only under a cap; includes uploads in progress.
};

// True when `text` is 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);

}  // namespace gauntlet::store
