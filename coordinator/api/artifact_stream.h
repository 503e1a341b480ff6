// Streams a stored artifact in chunks: to agents (their jobs' inputs) and
// to people (`gauntlet artifacts JOB NAME`).
#pragma once

#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include "coordinator/store/artifact_store.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::api {

// NOT_FOUND when the store has no file for the digest. The first chunk
// carries the digest.
grpc::Status StreamArtifact(const store::ArtifactStore& artifacts, const std::string& sha256,
                            grpc::ServerWriter<v1::ArtifactChunk>* writer);

}  // namespace gauntlet::api
