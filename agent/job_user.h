// The unprivileged user an agent started as root runs its jobs as
// (--run-as), as Buildkite's agent runs builds as its own user: a job then
// cannot read the agent's session credential (mode 0600, root's), signal
// or trace the agent, or write outside its attempt folder and the user's own.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace gauntlet::agent {

struct JobUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // Supplementary groups (video, render: GPU device nodes).
  std::string home;
};

// Looks `name` up in the user database. Refused unless the agent runs as
// root (`agent_euid` 0) and the user is not root.
StatusOr<JobUser> LookUpJobUser(const std::string& name, uid_t agent_euid);

// OK when `user` may enter every existing folder on the way to `path`;
// else names the first that stops it (a home folder of mode 0700).
Status CheckReachable(const std::string& path, const JobUser& user);

// Gives the user the attempt folder and everything in it.
Status GiveFolderTo(const std::string& folder, const JobUser& user);

}  // namespace gauntlet::agent
