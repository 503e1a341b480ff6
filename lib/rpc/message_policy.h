// One message-size policy for every gRPC channel and server of the farm.
// The coordinator, agents, the CLI and the load generator all take their
// channels and server limits from here, so no side can accept a message the
// other side cannot receive. Replies that could grow with a sweep (job
// lists, dry runs) are paged well under this bound instead of raising it.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace gauntlet::rpc {

// Largest message sent or received anywhere. A spec is at most 4 MiB by
// default (--max-spec-bytes) and a page of a list at most kMaxPageBytes.
inline constexpr int kMaxMessageBytes = 16 * 1024 * 1024;
// Byte budget of one page of a list reply: pages end at this or at their
// row limit, whichever comes first. Under gRPC's default 4 MiB receive
// limit with room to spare, so clients built without this policy (grpcurl,
// other languages) can page too.
inline constexpr size_t kMaxPageBytes = 3 * 1024 * 1024;

inline grpc::ChannelArguments ChannelArguments() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  return args;
}

inline std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), ChannelArguments());
}

inline void ApplyTo(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
}

}  // namespace gauntlet::rpc
