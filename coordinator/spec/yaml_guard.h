// The checks a spec passes before any YAML tree is built: its size, its
// encoding and the shape of its YAML, read once as a stream of parser events.
// Counting nodes while parsing (an alias counts as many nodes as it stands
// for) is what makes an alias bomb cost microseconds instead of a core.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "coordinator/spec/limits.h"

namespace gauntlet::spec {

// Refuses, naming "<source>:<line>:<column>" and the fix: a spec over the
// size limit; bytes that are not UTF-8; control characters (NUL, binary
// junk); more YAML nodes or deeper nesting than the limits allow; a key
// written twice in one mapping; anything after the first document.
Status CheckSpecText(std::string_view text, const std::string& source, const Limits& limits);

}  // namespace gauntlet::spec
