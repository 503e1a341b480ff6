// Content-addressed files on the coordinator's disk: <root>/<ab>/<abcdef...>.
// A write goes to a temporary file and is renamed into place only once its
// digest matches, so a reader never sees a partial artifact, and a full disk
// fails the upload (the agent keeps the file and retries) instead of storing
// a truncated one.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "common/sha256.h"
#include "common/status.h"

namespace gauntlet::store {

class ArtifactStore {
 public:
  explicit ArtifactStore(std::string root) : root_(std::move(root)) {}

  class Writer {
   public:
    ~Writer();
    Status Append(std::string_view data);
    // Checks the digest, then publishes the file. Returns its size.
    StatusOr<int64_t> Commit();

   private:
    friend class ArtifactStore;
    Writer(std::string expected_sha256, std::string temp_path, std::string final_path, std::FILE* file);
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
  std::string root_;
};

// True when `text` is 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);

}  // namespace gauntlet::store
