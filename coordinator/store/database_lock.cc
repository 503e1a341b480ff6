#include "coordinator/store/database_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gauntlet::store {

StatusOr<std::unique_ptr<DatabaseLock>> DatabaseLock::Acquire(const std::string& db_path,
                                                              const std::string& holder) {
  const std::string path = db_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Err(Status::Unavailable("cannot open " + path + ": " + std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char text[512] = {};
    const ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return Err(Status::Unavailable("cannot lock " + path + ": " + std::strerror(error)));
    }
    const std::string who = n > 0 ? std::string(text, static_cast<size_t>(n)) : "another process";
    return Err(Status::FailedPrecondition("database " + db_path + " is in use by " + who +
                                          ": stop that coordinator first, or give this one another --db"));
  }
  auto lock = std::unique_ptr<DatabaseLock>(new DatabaseLock(fd, path));
  lock->Describe(holder);
  return lock;
}

DatabaseLock::~DatabaseLock() { ::close(fd_); }

void DatabaseLock::Describe(const std::string& holder) {
  // Best effort: the text only helps a refused coordinator say who holds it.
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, holder.data(), holder.size(), 0);
}

}  // namespace gauntlet::store
