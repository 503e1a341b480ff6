// A validate job's per-step table and the two token streams side by side,
// from the worker's result.json (worker/suites/llm.cc writes `details`), as
// the seed's script prints them. Results without them render nothing.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"

namespace gauntlet::board {
namespace {

using nlohmann::json;

constexpr size_t kMaxStepRows = 2000;  // A page stays readable; the logits hold every step.

std::string Cell(const json& row, const char* key) {
  if (!row.contains(key) || !row[key].is_number()) return "<td></td>";
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", row[key].get<double>());
  return std::string("<td>") + text + "</td>";
}

std::string Tokens(const json& tokens) {
  std::string out;
  if (!tokens.is_array()) return out;
  for (const auto& token : tokens) out += (out.empty() ? "" : " ") + token.dump();
  return out;
}

}  // namespace

std::string RenderValidation(const std::string& result_json) {
  const json result = json::parse(result_json, nullptr, /*allow_exceptions=*/false);
  if (!result.is_object() || !result.contains("details") || !result["details"].is_object()) return "";
  const json& details = result["details"];
  if (!details.contains("steps") || !details["steps"].is_array()) return "";
  std::string body = "<h2>Validation</h2><table class=list id=validation-steps><thead><tr><th>sequence</th>"
                     "<th>step</th><th>cross-entropy</th><th>reference entropy</th><th>KL</th><th>mean |Δp|</th>"
                     "<th>top-1</th><th></th></tr></thead><tbody>";
  size_t shown = 0;
  for (const auto& row : details["steps"]) {
    if (++shown > kMaxStepRows) break;
    const bool failed = row.value("failed", false);
    body += std::string("<tr") + (failed ? " class=failed" : "") + "><td>" +
            std::to_string(row.value("sequence", 0)) + "</td><td>" + std::to_string(row.value("step", 0)) + "</td>" +
            Cell(row, "cross_entropy") + Cell(row, "reference_entropy") + Cell(row, "kl") + Cell(row, "mean_abs_diff") +
            "<td>" + (row.value("top1_agrees", false) ? "agrees" : "differs") + "</td><td>" +
            (failed ? "FAIL" : "") + "</td></tr>";
  }
  body += "</tbody></table>";
  if (details["steps"].size() > kMaxStepRows) {
    body += "<p>" + std::to_string(details["steps"].size() - kMaxStepRows) + " more steps in the result's JSON</p>";
  }
  if (details.contains("sequences") && details["sequences"].is_array() && !details["sequences"].empty()) {
    body += "<h3>CPU reference and device, side by side</h3><table class=list id=validation-tokens><thead><tr>"
            "<th>sequence</th><th>reference</th><th>device</th></tr></thead><tbody>";
    int index = 0;
    for (const auto& sequence : details["sequences"]) {
      auto side = [&](const char* tokens, const char* text) {
        std::string cell = "<td><code>" + Escape(Tokens(sequence.value(tokens, json::array()))) + "</code>";
        if (sequence.contains(text) && sequence[text].is_string()) {
          cell += "<br><q>" + Escape(sequence[text].get<std::string>()) + "</q>";
        }
        return cell + "</td>";
      };
      body += "<tr><td>" + std::to_string(index++) + "</td>" + side("reference_tokens", "reference_text") +
              side("device_tokens", "device_text") + "</tr>";
    }
    body += "</tbody></table>";
  }
  return body;
}

}  // namespace gauntlet::board
