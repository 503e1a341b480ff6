// One coordinator per database. Two coordinators on one SQLite file would
// each schedule the same jobs and fire the same nights; the second is
// refused at start-up, and told who holds the file.
//
// The lock is flock(2) on "<db>.lock", held for the process's life: the
// kernel drops it when the holder dies, however it dies, so a crash leaves
// no stale lock to clear by hand. The file's text names the holder.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace gauntlet::store {

class DatabaseLock {
 public:
  // FAILED_PRECONDITION naming the holder when another process has it.
  static StatusOr<std::unique_ptr<DatabaseLock>> Acquire(const std::string& db_path, const std::string& holder);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  // Rewrites who holds it (once the listening ports are known).
  void Describe(const std::string& holder);
  const std::string& path() const { return path_; }

 private:
  DatabaseLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace gauntlet::store
