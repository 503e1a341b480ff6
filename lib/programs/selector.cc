#include "lib/programs/selector.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace gauntlet::programs {
namespace {

bool ParseInt(std::string_view text, int* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 0;
}

StatusOr<Constraint> ParseConstraint(std::string_view text, std::string_view what, std::string_view selector) {
  Constraint constraint;
  std::string_view number = text;
  static const std::pair<std::string_view, Constraint::Op> kOps[] = {
      {">=", Constraint::Op::kGreaterEqual}, {"<=", Constraint::Op::kLessEqual}, {"==", Constraint::Op::kEqual},
      {">", Constraint::Op::kGreater},       {"<", Constraint::Op::kLess}};
  for (const auto& [symbol, op] : kOps) {
    if (text.starts_with(symbol)) {
      constraint.op = op;
      number = text.substr(symbol.size());
      break;
    }
  }
  if (!ParseInt(number, &constraint.value)) {
    return Err(Status::InvalidArgument("'" + std::string(selector) + "' — " + std::string(what) +
                                       " constraint must be an int or <op><int> with op one of >, >=, <, <=, =="));
  }
  return constraint;
}

}  // namespace

bool Constraint::Holds(int x) const {
  switch (op) {
    case Op::kGreater: return x > value;
    case Op::kGreaterEqual: return x >= value;
    case Op::kLess: return x < value;
    case Op::kLessEqual: return x <= value;
    case Op::kEqual: return x == value;
  }
  return false;
}

StatusOr<Selector> ParseSelector(std::string_view text) {
  Selector selector;
  selector.text = std::string(text);
  size_t colon = text.find(':');
  std::string_view id = text.substr(0, colon);
  if (id == "*") {
    selector.which = Selector::Which::kAll;
  } else if (id == "?") {
    selector.which = Selector::Which::kAny;
  } else if (ParseInt(id, &selector.program_id)) {
    selector.which = Selector::Which::kId;
  } else {
    return Err(Status::InvalidArgument("'" + std::string(text) +
                                       "' — program id must be an int, '*' (all matching) or '?' (any one)"));
  }
  if (colon == std::string_view::npos) return selector;  // Bare id: >=0, >=0.
  std::string_view rest = text.substr(colon + 1);
  size_t comma = rest.find(',');
  if (comma == std::string_view::npos || rest.find(',', comma + 1) != std::string_view::npos) {
    return Err(Status::InvalidArgument("'" + std::string(text) +
                                       "' — expected <program_id>:<batch_constraint>,<seq_len_constraint>"));
  }
  auto batch = ParseConstraint(rest.substr(0, comma), "batch", text);
  if (!batch) return Err(batch.error());
  auto prompt_len = ParseConstraint(rest.substr(comma + 1), "seq_len", text);
  if (!prompt_len) return Err(prompt_len.error());
  selector.batch = *batch;
  selector.prompt_len = *prompt_len;
  return selector;
}

std::vector<SelectedProgram> SelectPrograms(const ProgramMap& map, const std::vector<ProgramCriteria>& criteria,
                                            const std::vector<Selector>& selectors,
                                            std::vector<std::string>* unmatched) {
  std::vector<Selector> effective = selectors;
  if (effective.empty()) {
    for (const auto& program : criteria) {
      Selector all;
      all.which = Selector::Which::kId;
      all.program_id = program.id;
      all.text = std::to_string(program.id);
      effective.push_back(all);
    }
  }
  std::vector<SelectedProgram> out;
  std::set<std::pair<int, std::pair<int, int>>> seen;
  for (const auto& selector : effective) {
    std::set<int> used;
    for (const auto& group : map) {
      const int prefill = group.programs.front();
      if (selector.which == Selector::Which::kId && prefill != selector.program_id) continue;
      if (selector.which != Selector::Which::kAll && !used.empty()) break;
      if (used.contains(prefill)) continue;
      for (const auto& shape : group.shapes) {
        if (!selector.batch.Holds(shape.batch) || !selector.prompt_len.Holds(shape.prompt_len)) continue;
        used.insert(prefill);
        if (seen.insert({prefill, {shape.batch, shape.prompt_len}}).second) {
          out.push_back({prefill, shape, selector.text});
        }
        break;
      }
    }
    if (used.empty() && unmatched) unmatched->push_back(selector.text);
  }
  return out;
}

}  // namespace gauntlet::programs
