// Registers the board's pages and static assets on the coordinator's HTTP
// server. Each page is the server-rendered HTML of its view; with
// ?fragment=1 only the content, which the script swaps in on live events.
#pragma once

#include <httplib.h>

#include "coordinator/api/http_gate.h"
#include "coordinator/job_manager.h"

namespace gauntlet::board {

// `jobs` must outlive the server.
void RegisterRoutes(httplib::Server& server, JobManager& jobs, api::HttpGate& gate, const Clock& clock);

}  // namespace gauntlet::board
