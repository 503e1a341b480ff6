// Program selectors in the seeds' grammar (drive_paged_programs.py --programs):
//
//   <program_id>:<batch_constraint>,<seq_len_constraint>    or    <program_id>
//
// program_id is an int (that program), '*' (every program with a matching
// shape) or '?' (any one). A constraint is an int, meaning '>=', or one of
// >, >=, <, <=, == followed by an int. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lib/programs/criteria.h"

namespace gauntlet::programs {

struct Constraint {
  enum class Op { kGreater, kGreaterEqual, kLess, kLessEqual, kEqual };
  Op op = Op::kGreaterEqual;
  int value = 0;
  bool Holds(int x) const;
};

struct Selector {
  enum class Which { kId, kAll, kAny };
  Which which = Which::kAll;
  int program_id = 0;       // With kId.
  Constraint batch;
  Constraint prompt_len;
  std::string text;         // As written.
};

// Errors say which part is wrong and what it must look like.
StatusOr<Selector> ParseSelector(std::string_view text);

struct SelectedProgram {
  int program_id = 0;        // The prefill program.
  PromptShape shape;
  std::string selector;      // The selector that picked it.
};

// Applies selectors in order, as drive_paged_programs.py does: an id or '?'
// takes the first matching shape of one program, '*' one shape of every
// prefill program that has a match. No selectors means every program once.
// A program picked by two selectors with the same shape appears once.
// `unmatched`, when given, receives the text of each selector that matched
// no shape at all, so one dead selector beside a live one is not lost.
std::vector<SelectedProgram> SelectPrograms(const ProgramMap& map, const std::vector<ProgramCriteria>& criteria,
                                            const std::vector<Selector>& selectors,
                                            std::vector<std::string>* unmatched = nullptr);

}  // namespace gauntlet::programs
