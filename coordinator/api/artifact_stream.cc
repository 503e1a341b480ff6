#include "coordinator/api/artifact_stream.h"

#include <fstream>

namespace gauntlet::api {

grpc::Status StreamArtifact(const store::ArtifactStore& artifacts, const std::string& sha256,
                            grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  std::ifstream in(artifacts.PathFor(sha256), std::ios::binary);
  if (!in) return {grpc::StatusCode::NOT_FOUND, "no artifact " + sha256};
  std::string buffer(1 << 20, '\0');
  v1::ArtifactChunk chunk;
  chunk.set_sha256(sha256);
  bool sent = false;
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0 || !sent) {
    chunk.set_data(buffer.data(), static_cast<size_t>(in.gcount()));
    if (!writer->Write(chunk)) break;
    chunk.clear_sha256();
    sent = true;
    if (in.eof()) break;
  }
  return grpc::Status::OK;
}

}  // namespace gauntlet::api
