#include "coordinator/spec/yaml_guard.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace gauntlet::spec {
namespace {

std::string At(const std::string& source, size_t line, size_t column) {
  return source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

std::string At(const std::string& source, const YAML::Mark& mark) {
  return At(source, static_cast<size_t>(std::max(mark.line, 0)) + 1, static_cast<size_t>(std::max(mark.column, 0)) + 1);
}

// Line and column (1-based) of byte `offset`.
std::pair<size_t, size_t> Position(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
  size_t line_start = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  return {line, offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1};
}

// Specs end up in JSON (job specs, the API), which must be UTF-8; refuse
// anything else here, where the position can still be named.
Status CheckUtf8(std::string_view text, const std::string& source) {
  try {
    (void)nlohmann::json(std::string(text)).dump();
  } catch (const nlohmann::json::type_error& e) {
    // The message reads "... invalid UTF-8 byte at index N: 0xAB".
    std::string what = e.what();
    size_t index = what.find("at index ");
    size_t bad = index == std::string::npos ? 0 : std::strtoul(what.c_str() + index + 9, nullptr, 10);
    auto [line, column] = Position(text, bad);
    return Status::InvalidArgument(At(source, line, column) +
                                   "not valid UTF-8 (is this a binary file?); save the spec as UTF-8 text");
  }
  return Status::Ok();
}

Status CheckControlCharacters(std::string_view text, const std::string& source) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f) continue;
    if (c == '\n' || c == '\r' || c == '\t') continue;
    auto [line, column] = Position(text, i);
    char code[8];
    std::snprintf(code, sizeof code, "0x%02X", c);
    return Status::InvalidArgument(At(source, line, column) + "control character " + code +
                                   (c == 0 ? " (NUL)" : "") +
                                   " in the spec (is this a binary file?); a spec is YAML or JSON text");
  }
  return Status::Ok();
}

Status ContentAfterSpec(const std::string& source, const YAML::Mark& mark) {
  return Status::InvalidArgument(At(source, mark) +
                                 "content after the end of the spec (a second YAML document, or text after "
                                 "the closing brace); remove it or submit it as a spec of its own");
}

// Thrown out of the event handler to stop the parser at the first refusal.
struct Refusal {
  Status status;
};

// Tracks every open collection. Aliases are charged the size and height of
// the subtree their anchor names, so the count is that of the tree the
// parser would hand out after expanding them.
class ShapeChecker : public YAML::EventHandler {
 public:
  ShapeChecker(const std::string& source, const Limits& limits) : source_(source), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    ++documents_;
    document_start_ = mark;
  }
  void OnDocumentEnd() override {}

  // Where a second document starts (its first node), if the spec has one.
  const YAML::Mark& DocumentStart() const { return document_start_; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor, nullptr); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    Leaf(mark, anchor, &value);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto found = anchors_.find(anchor);
    // An alias inside the node its anchor names makes the tree a cycle:
    // every walk over it would never end.
    if (found == anchors_.end() &&
        std::any_of(frames_.begin(), frames_.end(), [&](const Frame& frame) { return frame.anchor == anchor; })) {
      throw Refusal{Status::InvalidArgument(At(source_, mark) +
                                            "this alias refers to a node that contains it (a cycle); "
                                            "alias only nodes that are complete")};
    }
    const Subtree tree = found == anchors_.end() ? Subtree{1, 0} : found->second;
    Charge(mark, tree.nodes, Depth() + tree.height);
    Completed(mark, nullptr);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor, /*is_map=*/false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor, /*is_map=*/true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Subtree {
    int64_t nodes = 1;
    int height = 0;
  };
  struct Frame {
    bool is_map = false;
    bool expecting_key = true;
    std::set<std::string> keys;
    YAML::anchor_t anchor = 0;
    int64_t nodes_at_start = 0;
    int deepest = 0;  // Deepest level reached inside, absolute.
    YAML::Mark mark;
  };

  int Depth() const { return static_cast<int>(frames_.size()); }

  void Charge(const YAML::Mark& mark, int64_t nodes, int depth) {
    if (documents_ > 1) throw Refusal{ContentAfterSpec(source_, mark)};
    nodes_ += nodes;
    if (nodes_ > limits_.max_yaml_nodes) {
      throw Refusal{Status::InvalidArgument(
          At(source_, mark) + "the spec expands to more than " + std::to_string(limits_.max_yaml_nodes) +
          " YAML nodes (an alias counts once per use), " + OverLimit(limits_.max_yaml_nodes, "--max-yaml-nodes") +
          "; use fewer aliases of aliases")};
    }
    if (depth > limits_.max_yaml_depth) {
      throw Refusal{Status::InvalidArgument(At(source_, mark) + "the spec nests " + std::to_string(depth) +
                                            " levels deep, " + OverLimit(limits_.max_yaml_depth, "--max-yaml-depth") +
                                            "; flatten the structure")};
    }
    for (auto& frame : frames_) frame.deepest = std::max(frame.deepest, depth);
  }

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string* value) {
    Charge(mark, 1, Depth());
    if (anchor) anchors_[anchor] = Subtree{1, 0};
    Completed(mark, value);
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    Charge(mark, 1, Depth() + 1);
    Frame frame;
    frame.is_map = is_map;
    frame.anchor = anchor;
    frame.nodes_at_start = nodes_;
    frame.deepest = Depth() + 1;
    frame.mark = mark;
    frames_.push_back(std::move(frame));
  }

  void Close() {
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    if (frame.anchor) {
      anchors_[frame.anchor] = Subtree{nodes_ - frame.nodes_at_start + 1, frame.deepest - Depth()};
    }
    Completed(frame.mark, nullptr);
  }

  // A node ended; in a mapping, keys and values alternate. `key_text` is set
  // for scalars, the only keys a spec uses and the ones compared.
  void Completed(const YAML::Mark& mark, const std::string* key_text) {
    if (frames_.empty() || !frames_.back().is_map) return;
    Frame& map = frames_.back();
    if (map.expecting_key && key_text && !map.keys.insert(*key_text).second) {
      throw Refusal{Status::InvalidArgument(At(source_, mark) + "'" + *key_text +
                                            "' is written twice in this mapping; keep one (YAML takes only the first)")};
    }
    map.expecting_key = !map.expecting_key;
  }

  const std::string& source_;
  const Limits& limits_;
  std::vector<Frame> frames_;
  std::unordered_map<YAML::anchor_t, Subtree> anchors_;
  int64_t nodes_ = 0;
  int documents_ = 0;
  YAML::Mark document_start_;
};

}  // namespace

Status CheckSpecText(std::string_view text, const std::string& source, const Limits& limits) {
  if (static_cast<int64_t>(text.size()) > limits.max_spec_bytes) {
    return Status::InvalidArgument(source + ": the spec is " + std::to_string(text.size()) + " bytes, " +
                                   OverLimit(limits.max_spec_bytes, "--max-spec-bytes") +
                                   "; split it into several sweeps");
  }
  GAUNTLET_RETURN_IF_ERROR(CheckUtf8(text, source));
  GAUNTLET_RETURN_IF_ERROR(CheckControlCharacters(text, source));
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    ShapeChecker checker(source, limits);
    if (!parser.HandleNextDocument(checker)) return Status::Ok();
    // A second document is refused at its first node, or where it starts if it has none.
    if (parser.HandleNextDocument(checker)) return ContentAfterSpec(source, checker.DocumentStart());
  } catch (const Refusal& refusal) {
    return refusal.status;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(At(source, e.mark) + "not valid YAML or JSON: " + e.msg);
  }
  return Status::Ok();
}

}  // namespace gauntlet::spec
