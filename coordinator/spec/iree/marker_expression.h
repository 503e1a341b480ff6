// pytest's marker expressions (`-m "hip and not slow"`), so a team's IREE
// suites select the same tests on the farm as under pytest. Pure.
//
// The grammar is pytest's (_pytest/mark/expression.py):
//   expression: expr? EOF
//   expr:       and_expr ('or' and_expr)*
//   and_expr:   not_expr ('and' not_expr)*
//   not_expr:   'not' not_expr | '(' expr ')' | ident
//   ident:      (\w|:|\+|-|\.|\[|\]|\\|/)+
// An empty expression selects every test (pytest applies no -m filter then).
// Keyword arguments (`mark(key=1)`) are pytest 8's and are refused.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gauntlet::spec::iree {

class MarkerExpression {
 public:
  // Errors say the column (1-based, as pytest does) and what was expected.
  static StatusOr<MarkerExpression> Parse(std::string_view text);

  bool Matches(const std::set<std::string>& markers) const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;  // Null: the empty expression.
};

}  // namespace gauntlet::spec::iree
