// Small helpers for the board's server-rendered HTML. Every value that comes
// from a user (model names, job names, reasons, URLs) goes through Escape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gauntlet/v1/types.pb.h"

namespace gauntlet::board {

std::string Escape(std::string_view text);
// Percent-encodes a query parameter value.
std::string UrlEncode(std::string_view text);
// "2026-11-23 12:01:05" (UTC); "" for 0.
std::string FormatTime(int64_t ms);
// "3.2s", "4m05s"; "" when not started.
std::string FormatDuration(int64_t start_ms, int64_t end_ms, int64_t now_ms);
// The CSS class and short word for a state: "pass", "fail", "running", ...
std::string_view StateClass(v1::JobState state);
std::string_view StateWord(v1::JobState state);
// The CSS class of a comparison's finding kind: regressions "fail", fixes
// and improvements "pass", flaky and re-running "running", the rest "".
std::string_view FindingClass(std::string_view kind);

// Wraps a page body in the board's layout. `active` names the nav entry;
// `last_event` lets the script follow events from where the page was made.
std::string Layout(std::string_view title, std::string_view active, const std::string& body, int64_t last_event);

}  // namespace gauntlet::board
