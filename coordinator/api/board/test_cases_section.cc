// A job's test cases from its `results:` files: counts, then the failed and
// flaky cases first, as a CI's test tab shows them.
#include <algorithm>

#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"

namespace gauntlet::board {

std::string RenderTestCases(const v1::Job& job) {
  if (job.test_cases().empty()) return "";
  std::map<std::string, int> counts;
  int flaky = 0;
  std::vector<const v1::TestCase*> order;
  for (const auto& test : job.test_cases()) {
    counts[test.status()]++;
    flaky += test.flaky();
    order.push_back(&test);
  }
  auto rank = [](const v1::TestCase* test) {
    if (test->status() == "failed" || test->status() == "error") return 0;
    return test->flaky() ? 1 : test->status() == "skipped" ? 3 : 2;
  };
  std::stable_sort(order.begin(), order.end(), [&](auto* a, auto* b) { return rank(a) < rank(b); });
  std::string body = "<h2>Tests</h2><p id=test-counts>";
  for (const char* status : {"passed", "failed", "error", "skipped"}) {
    if (counts[status] > 0) body += "<span class=\"test-" + std::string(status) + "\">" + std::to_string(counts[status]) + " " + status + "</span> ";
  }
  if (flaky > 0) body += "<span class=test-flaky>" + std::to_string(flaky) + " flaky</span>";
  body += "</p><table class=list id=test-cases><thead><tr><th>suite</th><th>test</th><th>status</th><th>time</th>"
          "<th>message</th></tr></thead><tbody>";
  constexpr size_t kShown = 500;  // A 20,000-case suite still loads; the JSON API has all.
  for (size_t i = 0; i < std::min(order.size(), kShown); ++i) {
    const v1::TestCase& test = *order[i];
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.3f s", test.time_s());
    body += "<tr class=\"test-" + Escape(test.status()) + (test.flaky() ? " flaky" : "") + "\"><td>" +
            Escape(test.suite()) + "</td><td>" + Escape(test.name()) + "</td><td>" + Escape(test.status()) +
            (test.flaky() ? " (flaky)" : "") + "</td><td>" + seconds + "</td><td class=reason>" +
            Escape(test.message()) + "</td></tr>";
  }
  body += "</tbody></table>";
  if (order.size() > kShown) {
    body += "<p>" + std::to_string(order.size() - kShown) + " more in <a href=\"/api/v1/jobs/" +
            std::to_string(job.id()) + "\">the job's JSON</a></p>";
  }
  return body;
}

}  // namespace gauntlet::board
