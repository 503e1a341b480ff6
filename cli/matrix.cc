#include "cli/matrix.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "cli/table.h"

namespace gauntlet::cli {
namespace {

// Worst first: a cell shows the first of these that any of its jobs is in.
enum class Outcome { kFail, kSetup, kCancel, kRun, kWait, kSkip, kPass };

Outcome OutcomeOf(const v1::Job& job) {
  switch (job.state()) {
    case v1::JOB_STATE_SUCCEEDED:
    case v1::JOB_STATE_CACHED: return Outcome::kPass;
    case v1::JOB_STATE_FAILED:
      // A model folder missing on the node is the farm's setup, not a verdict.
      return job.failure_class() == v1::FAILURE_CLASS_CONFIGURATION ? Outcome::kSetup : Outcome::kFail;
    case v1::JOB_STATE_CANCELLED: return Outcome::kCancel;
    case v1::JOB_STATE_SKIPPED: return Outcome::kSkip;
    case v1::JOB_STATE_RUNNING:
    case v1::JOB_STATE_LEASED: return Outcome::kRun;
    default: return Outcome::kWait;
  }
}

const char* Name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kFail: return "FAIL";
    case Outcome::kSetup: return "SETUP";
    case Outcome::kCancel: return "CANCEL";
    case Outcome::kRun: return "RUN";
    case Outcome::kWait: return "WAIT";
    case Outcome::kSkip: return "SKIP";
    case Outcome::kPass: return "PASS";
  }
  return "?";
}

std::string Label(const v1::Job& job, const std::string& key) {
  auto found = job.labels().find(key);
  return found == job.labels().end() ? "" : found->second;
}

// The pipeline's order, not the alphabet's.
int StageRank(const std::string& stage) {
  static const char* kOrder[] = {"reference", "compile", "run", "validate", "benchmark"};
  for (int i = 0; i < 5; ++i) {
    if (stage == kOrder[i]) return i;
  }
  return 5;
}

int Number(const std::string& text) {
  try {
    return std::stoi(text);
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string CellText(const std::vector<const v1::Job*>& jobs) {
  if (jobs.empty()) return "-";
  Outcome worst = Outcome::kPass;
  for (const v1::Job* job : jobs) worst = std::min(worst, OutcomeOf(*job));
  const auto count = std::count_if(jobs.begin(), jobs.end(), [&](const v1::Job* job) { return OutcomeOf(*job) == worst; });
  std::string text = Name(worst);
  if (static_cast<size_t>(count) != jobs.size()) text += " " + std::to_string(count) + "/" + std::to_string(jobs.size());
  return text;
}

MatrixView BuildMatrix(const std::vector<v1::Job>& jobs) {
  // Rows sort by model, dtype, then TP as a number; columns by context,
  // then stage in pipeline order.
  using RowKey = std::tuple<std::string, std::string, int, std::string>;
  using ColumnKey = std::pair<int, int>;
  std::map<RowKey, std::map<ColumnKey, std::vector<const v1::Job*>>> cells;
  std::map<ColumnKey, std::string> column_names;
  for (const v1::Job& job : jobs) {
    const std::string stage = job.stage();
    // The reference belongs to no dtype or TP: it is every row's input.
    if (stage.empty() || Label(job, "dtype").empty()) continue;
    const RowKey row{Label(job, "model"), Label(job, "dtype"), Number(Label(job, "tp")), Label(job, "attention")};
    const ColumnKey column{Number(Label(job, "context")), StageRank(stage)};
    column_names[column] = stage + "@" + Label(job, "context");
    cells[row][column].push_back(&job);
  }
  MatrixView matrix;
  matrix.columns = {"MODEL", "DTYPE", "TP", "ATTENTION"};
  for (const auto& [column, name] : column_names) matrix.columns.push_back(name);
  for (const auto& [row, columns] : cells) {
    std::vector<std::string> line = {std::get<0>(row), std::get<1>(row), std::to_string(std::get<2>(row)),
                                     std::get<3>(row).empty() ? "-" : std::get<3>(row)};
    for (const auto& [column, name] : column_names) {
      auto found = columns.find(column);
      line.push_back(found == columns.end() ? "-" : CellText(found->second));
    }
    matrix.rows.push_back(std::move(line));
  }
  return matrix;
}

std::string RenderMatrix(const MatrixView& matrix) {
  if (matrix.rows.empty()) return "";
  Table table(matrix.columns);
  for (const auto& row : matrix.rows) table.Add(row);
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

}  // namespace gauntlet::cli
