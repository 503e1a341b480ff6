#include "agent/job_user.h"

#include <grp.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace gauntlet::agent {

StatusOr<JobUser> LookUpJobUser(const std::string& name, uid_t agent_euid) {
  if (agent_euid != 0) {
    return Err(Status::FailedPrecondition(
        "only an agent running as root can run jobs as another user; start it as root, or drop --run-as to run "
        "jobs as the agent's own user"));
  }
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  int error = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0 || found == nullptr) {
    return Err(Status::NotFound("no such user" + (error ? std::string(" (") + std::strerror(error) + ")" : std::string()) +
                                "; create it (useradd --system gauntlet-job) or name an existing one"));
  }
  if (found->pw_uid == 0) {
    return Err(Status::InvalidArgument("is root; give an unprivileged user, or the job runs with the agent's powers"));
  }
  JobUser user{found->pw_name, found->pw_uid, found->pw_gid, {}, found->pw_dir ? found->pw_dir : "/"};
  int count = 64;
  user.groups.resize(count);
  if (getgrouplist(user.name.c_str(), user.gid, user.groups.data(), &count) < 0) {
    user.groups.resize(count);
    getgrouplist(user.name.c_str(), user.gid, user.groups.data(), &count);
  }
  user.groups.resize(count);
  return user;
}

Status CheckReachable(const std::string& path, const JobUser& user) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  fs::path walked = "/";
  for (const auto& part : absolute.relative_path()) {
    struct stat info {};
    if (stat(walked.c_str(), &info) != 0) break;  // Not made yet: the agent makes it, entrable.
    const bool in_group = info.st_gid == user.gid || std::find(user.groups.begin(), user.groups.end(), info.st_gid) !=
                                                          user.groups.end();
    const mode_t needed = info.st_uid == user.uid ? S_IXUSR : in_group ? S_IXGRP : S_IXOTH;
    if ((info.st_mode & needed) == 0) {
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%o", static_cast<unsigned>(info.st_mode & 07777));
      return Status::FailedPrecondition("user " + user.name + " cannot enter " + walked.string() + " (mode " + mode +
                                        "), so jobs could not reach their folders under " + path +
                                        "; pick a --workdir it can reach, e.g. /var/lib/gauntlet");
    }
    walked /= part;
  }
  return Status::Ok();
}

Status GiveFolderTo(const std::string& folder, const JobUser& user) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto give = [&](const fs::path& path) -> Status {
    if (lchown(path.c_str(), user.uid, user.gid) != 0) {
      return Status::Unavailable("cannot give " + path.string() + " to " + user.name + ": " + std::strerror(errno));
    }
    return Status::Ok();
  };
  GAUNTLET_RETURN_IF_ERROR(give(folder));
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    GAUNTLET_RETURN_IF_ERROR(give(it->path()));
  }
  if (ec) return Status::Unavailable("cannot walk " + folder + ": " + ec.message());
  return Status::Ok();
}

}  // namespace gauntlet::agent
