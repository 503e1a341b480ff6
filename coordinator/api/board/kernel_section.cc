// Kernel suites' tables on a job's page, from its metrics: the gemm suite's
// compute/communication split per layer and pass, and the moe suite's
// latency per method and token count (seed 004's table), each with a bar so
// the shape shows at a glance. What teams pasted into wiki tables.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"

namespace gauntlet::board {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

// "a.b.c" split at its last two dots: {"a", "b", "c"}; false with fewer.
bool SplitMetric(const std::string& name, std::string* first, std::string* middle, std::string* last) {
  const size_t second_dot = name.rfind('.');
  if (second_dot == std::string::npos || second_dot == 0) return false;
  const size_t first_dot = name.rfind('.', second_dot - 1);
  if (first_dot == std::string::npos || first_dot == 0) return false;
  *first = name.substr(0, first_dot);
  *middle = name.substr(first_dot + 1, second_dot - first_dot - 1);
  *last = name.substr(second_dot + 1);
  return true;
}

std::string Bar(const char* css_class, double value, double scale) {
  const double percent = scale > 0 ? std::clamp(100.0 * value / scale, 0.0, 100.0) : 0;
  char width[32];
  std::snprintf(width, sizeof width, "%.1f%%", percent);
  return "<span class=\"kbar " + std::string(css_class) + "\" style=\"width:" + width + "\"></span>";
}

std::string GemmSplit(const v1::Job& job) {
  struct Row {
    double compute = 0, comm = 0, busbw = -1;
  };
  std::vector<std::pair<std::string, std::string>> order;  // (layer, pass) in pass order per layer
  std::map<std::pair<std::string, std::string>, Row> rows;
  static const std::vector<std::string> kPasses = {"fwd", "input_grad", "weight_grad"};
  for (const auto& [name, value] : job.metrics()) {
    std::string layer, pass, field;
    if (!SplitMetric(name, &layer, &pass, &field)) continue;
    if (std::find(kPasses.begin(), kPasses.end(), pass) == kPasses.end()) continue;
    Row& row = rows[{layer, pass}];
    if (field == "compute_ms") row.compute = value;
    else if (field == "comm_ms") row.comm = value;
    else if (field == "busbw_gbps") row.busbw = value;
  }
  if (rows.empty()) return "";
  double widest = 0;
  for (const auto& [key, row] : rows) widest = std::max(widest, row.compute + row.comm);
  std::string body = "<h2>Compute and communication</h2><table class=list id=gemm-split><thead><tr><th>layer</th>"
                     "<th>pass</th><th>compute ms</th><th>communication ms</th><th>bus GB/s</th><th></th></tr>"
                     "</thead><tbody>";
  std::set<std::string> layers;
  for (const auto& [key, row] : rows) layers.insert(key.first);
  for (const auto& layer : layers) {
    for (const auto& pass : kPasses) {
      auto found = rows.find({layer, pass});
      if (found == rows.end()) continue;
      const Row& row = found->second;
      body += "<tr><td>" + Escape(layer) + "</td><td>" + pass + "</td><td>" + Number(row.compute) + "</td><td>" +
              Number(row.comm) + "</td><td>" + (row.busbw >= 0 ? Number(row.busbw) : "") + "</td><td class=bars>" +
              Bar("compute", row.compute, widest) + Bar("comm", row.comm, widest) + "</td></tr>";
    }
  }
  return body + "</tbody></table>";
}

std::string MoeTable(const v1::Job& job) {
  std::map<int, std::map<std::string, double>> by_tokens;
  std::set<std::string> methods;
  double slowest = 0;
  for (const auto& [name, value] : job.metrics()) {
    std::string method, tokens, field;
    if (!SplitMetric(name, &method, &tokens, &field) || field != "time_ms" || tokens.size() < 2 || tokens[0] != 't') {
      continue;
    }
    int count = 0;
    if (std::sscanf(tokens.c_str() + 1, "%d", &count) != 1) continue;
    by_tokens[count][method] = value;
    methods.insert(method);
    slowest = std::max(slowest, value);
  }
  if (by_tokens.empty()) return "";
  std::string body = "<h2>Latency by method</h2><table class=list id=moe-table><thead><tr><th>input_token</th>";
  for (const auto& method : methods) body += "<th>" + Escape(method) + " ms</th>";
  body += "</tr></thead><tbody>";
  for (const auto& [tokens, times] : by_tokens) {
    body += "<tr><td>" + std::to_string(tokens) + "</td>";
    for (const auto& method : methods) {
      auto found = times.find(method);
      body += found == times.end() ? "<td class=missing>FAIL</td>"
                                   : "<td>" + Number(found->second) + " " + Bar("compute", found->second, slowest) + "</td>";
    }
    body += "</tr>";
  }
  return body + "</tbody></table>";
}

}  // namespace

std::string RenderKernelTables(const v1::Job& job) { return GemmSplit(job) + MoeTable(job); }

}  // namespace gauntlet::board
