#include "coordinator/spec/iree/marker_expression.h"

#include <cctype>
#include <vector>

namespace gauntlet::spec::iree {

struct MarkerExpression::Node {
  enum class Op { kIdent, kNot, kAnd, kOr } op = Op::kIdent;
  std::string ident;
  std::shared_ptr<const Node> left, right;

  bool Evaluate(const std::set<std::string>& markers) const {
    switch (op) {
      case Op::kIdent: return markers.contains(ident);
      case Op::kNot: return !left->Evaluate(markers);
      case Op::kAnd: return left->Evaluate(markers) && right->Evaluate(markers);
      case Op::kOr: return left->Evaluate(markers) || right->Evaluate(markers);
    }
    return false;
  }
};

namespace {

using NodePtr = std::shared_ptr<const MarkerExpression::Node>;
using Node = MarkerExpression::Node;

enum class TokenType { kLeftParen, kRightParen, kOr, kAnd, kNot, kIdent, kEnd };

struct Token {
  TokenType type;
  std::string value;
  size_t column;  // 1-based.
};

std::string Describe(TokenType type) {
  switch (type) {
    case TokenType::kLeftParen: return "left parenthesis";
    case TokenType::kRightParen: return "right parenthesis";
    case TokenType::kOr: return "or";
    case TokenType::kAnd: return "and";
    case TokenType::kNot: return "not";
    case TokenType::kIdent: return "identifier";
    case TokenType::kEnd: return "end of input";
  }
  return "";
}

bool IdentChar(char c) {
  // Python's \w matches Unicode word characters; bytes of a UTF-8 sequence
  // stand in for them.
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80 ||
         c == ':' || c == '+' || c == '-' || c == '.' || c == '[' || c == ']' || c == '\\' || c == '/';
}

Status ErrorAt(size_t column, const std::string& message) {
  return Status::InvalidArgument("at column " + std::to_string(column) + ": " + message);
}

StatusOr<std::vector<Token>> Lex(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (c == '(' || c == ')') {
      tokens.push_back({c == '(' ? TokenType::kLeftParen : TokenType::kRightParen, std::string(1, c), i + 1});
      ++i;
    } else if (IdentChar(c)) {
      size_t end = i;
      while (end < text.size() && IdentChar(text[end])) ++end;
      std::string word(text.substr(i, end - i));
      TokenType type = word == "or" ? TokenType::kOr : word == "and" ? TokenType::kAnd
                     : word == "not" ? TokenType::kNot : TokenType::kIdent;
      tokens.push_back({type, std::move(word), i + 1});
      i = end;
    } else {
      // `mark(key=value)`: pytest 8's keyword matching, which this grammar leaves out.
      for (size_t t = 0; t + 1 < tokens.size(); ++t) {
        if (tokens[t].type == TokenType::kIdent && tokens[t + 1].type == TokenType::kLeftParen && c == '=') {
          return Err(ErrorAt(i + 1, "keyword arguments (marker(key=value)) are not supported; select on marker names"));
        }
      }
      return Err(ErrorAt(i + 1, "unexpected character \"" + std::string(1, c) + "\""));
    }
  }
  tokens.push_back({TokenType::kEnd, "", text.size() + 1});
  return tokens;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  StatusOr<NodePtr> Expression() {
    if (Peek().type == TokenType::kEnd) return NodePtr();
    GAUNTLET_ASSIGN_OR_RETURN(NodePtr root, Or());
    if (Peek().type != TokenType::kEnd) return Err(Expected({TokenType::kEnd}));
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[position_]; }

  bool Accept(TokenType type) {
    if (Peek().type != type) return false;
    ++position_;
    return true;
  }

  Status Expected(std::initializer_list<TokenType> types) const {
    std::string wanted;
    for (TokenType type : types) wanted += (wanted.empty() ? "" : " OR ") + Describe(type);
    const Token& got = Peek();
    std::string found = got.type == TokenType::kEnd ? "end of input" : Describe(got.type);
    if (got.type == TokenType::kLeftParen && position_ > 0 && tokens_[position_ - 1].type == TokenType::kIdent) {
      return ErrorAt(got.column, "keyword arguments (marker(key=value)) are not supported; select on marker names");
    }
    return ErrorAt(got.column, "expected " + wanted + "; got " + found);
  }

  StatusOr<NodePtr> Or() {
    GAUNTLET_ASSIGN_OR_RETURN(NodePtr left, And());
    while (Accept(TokenType::kOr)) {
      GAUNTLET_ASSIGN_OR_RETURN(NodePtr right, And());
      left = Join(Node::Op::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  StatusOr<NodePtr> And() {
    GAUNTLET_ASSIGN_OR_RETURN(NodePtr left, Not());
    while (Accept(TokenType::kAnd)) {
      GAUNTLET_ASSIGN_OR_RETURN(NodePtr right, Not());
      left = Join(Node::Op::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  StatusOr<NodePtr> Not() {
    if (Accept(TokenType::kNot)) {
      GAUNTLET_ASSIGN_OR_RETURN(NodePtr operand, Not());
      auto node = std::make_shared<Node>();
      node->op = Node::Op::kNot;
      node->left = std::move(operand);
      return NodePtr(std::move(node));
    }
    if (Accept(TokenType::kLeftParen)) {
      GAUNTLET_ASSIGN_OR_RETURN(NodePtr inner, Or());
      if (!Accept(TokenType::kRightParen)) return Err(Expected({TokenType::kRightParen}));
      return inner;
    }
    if (Peek().type == TokenType::kIdent) {
      auto node = std::make_shared<Node>();
      node->ident = tokens_[position_++].value;
      return NodePtr(std::move(node));
    }
    return Err(Expected({TokenType::kNot, TokenType::kLeftParen, TokenType::kIdent}));
  }

  static NodePtr Join(Node::Op op, NodePtr left, NodePtr right) {
    auto node = std::make_shared<Node>();
    node->op = op;
    node->left = std::move(left);
    node->right = std::move(right);
    return node;
  }

  std::vector<Token> tokens_;
  size_t position_ = 0;
};

}  // namespace

StatusOr<MarkerExpression> MarkerExpression::Parse(std::string_view text) {
  GAUNTLET_ASSIGN_OR_RETURN(auto tokens, Lex(text));
  Parser parser(std::move(tokens));
  GAUNTLET_ASSIGN_OR_RETURN(NodePtr root, parser.Expression());
  MarkerExpression expression;
  expression.text_ = std::string(text);
  expression.root_ = std::move(root);
  return expression;
}

bool MarkerExpression::Matches(const std::set<std::string>& markers) const {
  return !root_ || root_->Evaluate(markers);
}

}  // namespace gauntlet::spec::iree
