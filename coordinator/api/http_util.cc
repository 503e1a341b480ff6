#include "coordinator/api/http_util.h"

#include <cassert>
#include <charconv>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "coordinator/api/board/html.h"
#include "coordinator/api/status_mapping.h"

namespace gauntlet::api {

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  [[maybe_unused]] auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  assert(status.ok());
  return out;
}

void SendError(httplib::Response& res, const Status& status) {
  res.status = ToHttpCode(status);
  nlohmann::json body = {{"error", status.message()}, {"code", res.status}};
  res.set_content(body.dump(), "application/json");
}

void SendErrorPage(httplib::Response& res, const Status& status) {
  res.status = ToHttpCode(status);
  std::string title = res.status == 404 ? "Not found" : "Bad request";
  res.set_content(board::Layout(title, "", "<h1>" + title + "</h1><p class=reason>" + board::Escape(status.message()) +
                                               "</p><p><a href=\"/\">Back to the matrix</a></p>",
                                0),
                  "text/html; charset=utf-8");
}

std::optional<int64_t> ParseId(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id < 0) return std::nullopt;
  return id;
}

StatusOr<int64_t> IdParam(const httplib::Request& req, const std::string& name, int64_t fallback) {
  if (!req.has_param(name)) return fallback;
  std::string text = req.get_param_value(name);
  auto id = ParseId(text);
  if (!id) return Err(Status::InvalidArgument(name + " '" + text + "' must be a non-negative integer"));
  return *id;
}

}  // namespace gauntlet::api
