// The status matrix in a terminal, as the board draws it and the seeds'
// tracker tables did: one row per model × dtype × TP × attention, one
// column per stage × context length, each cell the outcome of its jobs.
// Pure: jobs in, text out.
#pragma once

#include <string>
#include <vector>

#include "gauntlet/v1/types.pb.h"

namespace gauntlet::cli {

// "PASS", "FAIL", "RUN", "WAIT", "SKIP", "CANCEL", with a count when
// jobs of a cell differ ("FAIL 1/2": one of two failed); the worst wins.
std::string CellText(const std::vector<const v1::Job*>& jobs);

struct MatrixView {
  std::vector<std::string> columns;             // MODEL DTYPE TP ATTENTION, then stage@context.
  std::vector<std::vector<std::string>> rows;  // One cell per column.
};

// The matrix of a sweep's model jobs; no rows when it has none (free-form jobs only).
MatrixView BuildMatrix(const std::vector<v1::Job>& jobs);
std::string RenderMatrix(const MatrixView& matrix);

}  // namespace gauntlet::cli
