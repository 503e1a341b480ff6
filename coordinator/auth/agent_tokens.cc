#include "coordinator/auth/agent_tokens.h"

#include <algorithm>
#include <set>

#include <yaml-cpp/yaml.h>

namespace gauntlet::auth {
namespace {

std::string At(const std::string& source, const YAML::Node& node) {
  return source + ":" + std::to_string(node.Mark().line + 1);
}

bool IsSha256Hex(const std::string& text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

StatusOr<std::vector<std::string>> Strings(const YAML::Node& entry, const char* field, const std::string& source) {
  std::vector<std::string> out;
  const YAML::Node list = entry[field];
  if (!list) return out;
  if (!list.IsSequence()) {
    return Err(Status::InvalidArgument(At(source, list) + ": " + field + " must be a list, e.g. " + field +
                                       ": [cpu, gpu]"));
  }
  for (const auto& item : list) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      return Err(Status::InvalidArgument(At(source, item) + ": " + field + " holds names, not '" +
                                         YAML::Dump(item) + "'"));
    }
    out.push_back(item.Scalar());
  }
  return out;
}

}  // namespace

StatusOr<std::vector<AgentToken>> ParseAgentTokens(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    return Err(Status::InvalidArgument(source + ":" + std::to_string(error.mark.line + 1) + ": " + error.msg));
  }
  if (!root || root.IsNull()) {
    return Err(Status::InvalidArgument(source + ": no tokens; list one per agent pool (docs/security.md)"));
  }
  if (!root.IsSequence()) {
    return Err(Status::InvalidArgument(At(source, root) + ": must be a list of tokens (- name: ..., token_sha256: ...)"));
  }
  std::vector<AgentToken> tokens;
  std::set<std::string> names, hashes;
  for (const auto& entry : root) {
    if (!entry.IsMap()) return Err(Status::InvalidArgument(At(source, entry) + ": each token is a map"));
    for (const auto& field : entry) {
      const std::string key = field.first.Scalar();
      if (key != "name" && key != "token_sha256" && key != "device_kinds" && key != "tags") {
        return Err(Status::InvalidArgument(At(source, field.first) + ": unknown field '" + key +
                                           "'; a token has name, token_sha256, device_kinds and tags"));
      }
    }
    AgentToken token;
    token.name = entry["name"] && entry["name"].IsScalar() ? entry["name"].Scalar() : "";
    if (token.name.empty()) return Err(Status::InvalidArgument(At(source, entry) + ": name is missing"));
    if (!names.insert(token.name).second) {
      return Err(Status::InvalidArgument(At(source, entry["name"]) + ": name '" + token.name + "' appears twice"));
    }
    token.token_sha256 = entry["token_sha256"] && entry["token_sha256"].IsScalar() ? entry["token_sha256"].Scalar() : "";
    if (!IsSha256Hex(token.token_sha256)) {
      return Err(Status::InvalidArgument(At(source, entry) + ": token '" + token.name +
                                         "': token_sha256 must be 64 lower-case hex digits (printf %s TOKEN | "
                                         "sha256sum), never the token itself"));
    }
    if (!hashes.insert(token.token_sha256).second) {
      return Err(Status::InvalidArgument(At(source, entry) + ": token '" + token.name +
                                         "' has the same token_sha256 as another"));
    }
    GAUNTLET_ASSIGN_OR_RETURN(token.device_kinds, Strings(entry, "device_kinds", source));
    GAUNTLET_ASSIGN_OR_RETURN(token.tags, Strings(entry, "tags", source));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

const AgentToken* FindAgentToken(const std::vector<AgentToken>& tokens, const std::string& presented_sha256) {
  for (const auto& token : tokens) {
    if (token.token_sha256 == presented_sha256) return &token;
  }
  return nullptr;
}

Status CheckAdmission(const AgentToken& token, const std::vector<std::string>& device_kinds,
                      const std::vector<std::string>& tags) {
  auto allowed = [](const std::vector<std::string>& list, const std::string& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  for (const auto& kind : device_kinds) {
    if (!allowed(token.device_kinds, kind)) {
      return Status::PermissionDenied("register: token '" + token.name + "' does not allow '" + kind +
                                      "' devices; it allows only the kinds listed in its device_kinds");
    }
  }
  for (const auto& tag : tags) {
    if (!allowed(token.tags, tag)) {
      return Status::PermissionDenied("register: token '" + token.name + "' does not allow the tag '" + tag +
                                      "'; drop it from --tags or add it to the token's tags");
    }
  }
  return Status::Ok();
}

}  // namespace gauntlet::auth
