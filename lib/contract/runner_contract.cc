#include "lib/contract/runner_contract.h"

#include <algorithm>
#include <cctype>

namespace gauntlet::contract {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Calls `on_placeholder(begin, end)` for each `{name}` that is one.
template <typename Fn>
void ForEachPlaceholder(std::string_view command, Fn on_placeholder) {
  for (size_t open = command.find('{'); open != std::string_view::npos; open = command.find('{', open + 1)) {
    if (open > 0 && command[open - 1] == '$') continue;
    size_t close = open + 1;
    while (close < command.size() && IsNameChar(command[close])) ++close;
    if (close == open + 1 || close >= command.size() || command[close] != '}') continue;
    on_placeholder(open, close + 1);
  }
}

}  // namespace

std::vector<std::string> RunnerPlaceholders(std::string_view command) {
  std::vector<std::string> names;
  ForEachPlaceholder(command, [&](size_t begin, size_t end) {
    names.emplace_back(command.substr(begin + 1, end - begin - 2));
  });
  return names;
}

std::string PlaceholderProblem(std::string_view name) {
  if (std::find(kRunnerPlaceholders.begin(), kRunnerPlaceholders.end(), name) != kRunnerPlaceholders.end()) return "";
  std::string known;
  for (auto placeholder : kRunnerPlaceholders) known += (known.empty() ? "{" : ", {") + std::string(placeholder) + "}";
  return "'{" + std::string(name) + "}' is not a runner placeholder; use one of " + known +
         " (the request file {request} holds everything)";
}

std::string ShellQuote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

StatusOr<std::string> ExpandRunnerCommand(std::string_view command, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t last = 0;
  std::string missing;
  ForEachPlaceholder(command, [&](size_t begin, size_t end) {
    const std::string name(command.substr(begin + 1, end - begin - 2));
    auto found = values.find(name);
    if (found == values.end()) {
      if (missing.empty()) missing = name;
      return;
    }
    out.append(command.substr(last, begin - last));
    out += ShellQuote(found->second);
    last = end;
  });
  if (!missing.empty()) {
    std::string problem = PlaceholderProblem(missing);
    return Err(Status::InvalidArgument(problem.empty() ? "'{" + missing + "}' has no value at this stage" : problem));
  }
  out.append(command.substr(last));
  return out;
}

std::string LaunchLine(std::string_view launcher, int tp, const std::string& command) {
  if (tp <= 1 || launcher == "none" || launcher.empty()) return command;
  const std::string ranks = std::to_string(tp);
  if (launcher == "mpirun") return "mpirun -np " + ranks + " --oversubscribe --bind-to none " + command;
  return "torchrun --standalone --nproc-per-node " + ranks + " --no-python " + command;
}

}  // namespace gauntlet::contract
