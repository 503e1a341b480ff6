#include "coordinator/api/board/html.h"

#include <ctime>

namespace gauntlet::board {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string FormatTime(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &utc);
  return buffer;
}

std::string FormatDuration(int64_t start_ms, int64_t end_ms, int64_t now_ms) {
  if (start_ms <= 0) return "";
  int64_t ms = (end_ms > 0 ? end_ms : now_ms) - start_ms;
  char buffer[32];
  if (ms < 60'000) {
    std::snprintf(buffer, sizeof(buffer), "%.1fs", ms / 1000.0);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  }
  return buffer;
}

std::string_view StateClass(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_SUCCEEDED: return "pass";
    case v1::JOB_STATE_FAILED: return "fail";
    case v1::JOB_STATE_LEASED:
    case v1::JOB_STATE_RUNNING: return "running";
    case v1::JOB_STATE_PENDING:
    case v1::JOB_STATE_READY: return "queued";
    case v1::JOB_STATE_CACHED: return "cached";
    default: return "notrun";
  }
}

std::string_view FindingClass(std::string_view kind) {
  if (kind == "regression" || kind == "bench_regression" || kind == "new_failure") return "fail";
  if (kind == "fix" || kind == "bench_improvement") return "pass";
  if (kind == "flaky" || kind == "needs_confirmation") return "running";
  return "";
}

std::string_view StateWord(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_SUCCEEDED: return "PASS";
    case v1::JOB_STATE_FAILED: return "FAIL";
    case v1::JOB_STATE_LEASED:
    case v1::JOB_STATE_RUNNING: return "running";
    case v1::JOB_STATE_PENDING:
    case v1::JOB_STATE_READY: return "queued";
    case v1::JOB_STATE_CACHED: return "cached";
    default: return "not run";
  }
}

std::string Layout(std::string_view title, std::string_view active, const std::string& body, int64_t last_event) {
  std::string nav;
  for (auto [href, name] : {std::pair{"/", "Matrix"}, std::pair{"/benchmarks", "Benchmarks"},
                            std::pair{"/sweeps", "Sweeps"}, std::pair{"/nightly", "Nightly"},
                            std::pair{"/agents", "Agents"}, std::pair{"/audit", "Audit"}}) {
    nav += std::string("<a href=\"") + href + "\"" + (name == active ? " class=active" : "") + ">" + name + "</a>";
  }
  return "<!doctype html><html lang=en><head><meta charset=utf-8>"
         "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
         "<title>" + Escape(title) + " · Gauntlet</title>"
         "<link rel=stylesheet href=\"/static/board.css\"><link rel=stylesheet href=\"/static/uPlot.min.css\"></head>"
         "<body data-last-event=\"" + std::to_string(last_event) + "\">"
         "<header><span class=brand>Gauntlet</span><nav>" + nav + "</nav>"
         "<a id=sign-in href=\"/login\">sign in</a><span id=live title=\"Live updates\">live</span></header>"
         "<main id=content>" + body + "</main>"
         "<script src=\"/static/uPlot.iife.min.js\" defer></script>"
         "<script src=\"/static/board.js\" defer></script></body></html>";
}

}  // namespace gauntlet::board
