// Helpers shared by the HTTP routes: JSON responses in the protobuf JSON
// mapping, errors, and parsing of query and path parameters.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>

#include <google/protobuf/message.h>

#include "common/status.h"

namespace gauntlet::api {

std::string ToJson(const google::protobuf::Message& message);
// {"error": ..., "code": ...} with the status's HTTP code.
void SendError(httplib::Response& res, const Status& status);
// An HTML error page (404 for unknown ids, 400 for bad parameters).
void SendErrorPage(httplib::Response& res, const Status& status);

// Parses a non-negative integer; nullopt when malformed.
std::optional<int64_t> ParseId(const std::string& text);
// A query parameter that must be a non-negative integer; absent gives
// `fallback`. Fails naming the parameter.
StatusOr<int64_t> IdParam(const httplib::Request& req, const std::string& name, int64_t fallback);

}  // namespace gauntlet::api
