// Recursive-descent Jinja parser (parser.h). Function names follow jinja2/parser.py so the two can be read side by
// side; error texts follow Jinja's where a template author would recognise them.
#include "runtime/engine/template/parser.h"

#include <initializer_list>
#include <set>

#include "runtime/engine/template/builtins.h"
#include "runtime/engine/template/lexer.h"

namespace warden::engine::detail {
namespace {

// Bounds the C++ recursion of both the parser and the evaluator (which recurses over the same tree), so a hostile
// template such as "((((..." cannot overflow the stack.
constexpr int kMaxNesting = 256;

std::string Describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEof: return "end of template";
    case TokenType::kBlockEnd: return "end of statement block";
    case TokenType::kVariableEnd: return "end of print statement";
    case TokenType::kBlockBegin: return "begin of statement block";
    case TokenType::kVariableBegin: return "begin of print statement";
    case TokenType::kData: return "template data";
    case TokenType::kInteger:
    case TokenType::kFloat: return t.text;
    case TokenType::kString: return "string";
    default: return t.text;
  }
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string source_name)
      : tokens_(std::move(tokens)), source_name_(std::move(source_name)) {}

  std::unique_ptr<Program> Parse() {
    auto program = std::make_unique<Program>();
    program->source_name = source_name_;
    program->body = Subparse({});
    return program;
  }

 private:
  // ---- token stream -------------------------------------------------------------------------------------------
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Look() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool IsOp(const char* op) const { return Cur().type == TokenType::kOperator && Cur().text == op; }
  bool IsName(const char* name) const { return Cur().type == TokenType::kName && Cur().text == name; }
  bool SkipOp(const char* op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool SkipName(const char* name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }
  [[noreturn]] void Fail(const std::string& message) const { Fail(message, Cur()); }
  [[noreturn]] void Fail(const std::string& message, const Token& at) const {
    throw SyntaxError(message, at.line, at.column);
  }
  void ExpectOp(const char* op) {
    if (!SkipOp(op)) Fail(std::string("expected token '") + op + "', got '" + Describe(Cur()) + "'");
  }
  void ExpectBlockEnd() {
    if (Cur().type != TokenType::kBlockEnd) {
      Fail("expected token 'end of statement block', got '" + Describe(Cur()) + "'");
    }
    Next();
  }
  std::string ExpectName() {
    if (Cur().type != TokenType::kName) Fail("expected token 'name', got '" + Describe(Cur()) + "'");
    return Next().text;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxNesting) {
        p_->Fail("template nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
      }
    }
    ~DepthGuard() { --p_->depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Parser* p_;
  };

  // Operator chains (`a + b + c`, `x.y.z`, `v|f|g`) build left-deep trees without recursing in the parser; each
  // link counts as one level of nesting so the tree, and the evaluator's recursion over it, stay bounded.
  class ChainGuard {
   public:
    explicit ChainGuard(Parser* p) : p_(p), saved_(p->depth_) {}
    ~ChainGuard() { p_->depth_ = saved_; }
    ChainGuard(const ChainGuard&) = delete;
    ChainGuard& operator=(const ChainGuard&) = delete;
    void Step() {
      if (++p_->depth_ > kMaxNesting) {
        p_->Fail("expression nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
      }
    }

   private:
    Parser* p_;
    int saved_;
  };

  ExprPtr Make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ---------------------------------------------------------------------------------------------
  // Parses until a block whose tag name is one of `end_tokens`; leaves the stream at that tag name.
  Body Subparse(std::initializer_list<const char*> end_tokens) {
    DepthGuard guard(this);
    Body body;
    while (Cur().type != TokenType::kEof) {
      const Token& t = Cur();
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        Next();
      } else if (t.type == TokenType::kVariableBegin) {
        Next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = Cur().line;
        s->expr = ParseTuple(true, {}, false);
        if (Cur().type != TokenType::kVariableEnd) {
          Fail("expected token 'end of print statement', got '" + Describe(Cur()) + "'");
        }
        Next();
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        Next();
        for (const char* end : end_tokens) {
          if (IsName(end)) return body;
        }
        body.push_back(ParseStatement());
        ExpectBlockEnd();
      } else {
        Fail("unexpected '" + Describe(t) + "'");
      }
    }
    if (end_tokens.size() > 0) {
      std::string names;
      for (const char* end : end_tokens) names += (names.empty() ? "'" : " or '") + std::string(end) + "'";
      Fail("unexpected end of template; Jinja was looking for " + names + " to close a block");
    }
    return body;
  }

  // Parses the body of a block statement: `%}` then statements up to an end tag (the tag name stays current).
  Body ParseStatements(std::initializer_list<const char*> end_tokens) {
    SkipOp(":");
    ExpectBlockEnd();
    return Subparse(end_tokens);
  }

  StmtPtr ParseStatement() {
    if (Cur().type != TokenType::kName) Fail("tag name expected");
    const std::string tag = Cur().text;
    const int line = Cur().line;
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (tag == "if") {
      ParseIf(s.get());
    } else if (tag == "for") {
      ParseFor(s.get());
    } else if (tag == "set") {
      ParseSet(s.get());
    } else if (tag == "macro") {
      Next();
      s->kind = StmtKind::kMacro;
      s->name = ExpectName();
      s->signature = ParseSignature();
      ParseMacroBody(s.get(), "endmacro");
    } else if (tag == "call") {
      Next();
      s->kind = StmtKind::kCallBlock;
      s->signature = IsOp("(") ? ParseSignature() : std::make_shared<Signature>();
      s->expr = ParseExpression(true);
      if (s->expr->kind != ExprKind::kCall) Fail("expected call");
      ParseMacroBody(s.get(), "endcall");
    } else if (tag == "filter") {
      Next();
      s->kind = StmtKind::kFilterBlock;
      s->filter = ParseFilter(nullptr, true);
      s->body = ParseStatements({"endfilter"});
      Next();
    } else if (tag == "with") {
      Next();
      s->kind = StmtKind::kWith;
      while (Cur().type != TokenType::kBlockEnd) {
        if (!s->targets.empty()) ExpectOp(",");
        s->targets.push_back(ParseAssignTarget(false, false, {}));
        ExpectOp("=");
        s->values.push_back(ParseExpression(true));
      }
      s->body = ParseStatements({"endwith"});
      Next();
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) Fail("'" + tag + "' outside of a for loop");
      Next();
      s->kind = tag == "break" ? StmtKind::kBreak : StmtKind::kContinue;
    } else if (tag == "generation") {
      Next();
      s->kind = StmtKind::kGeneration;
      s->body = ParseStatements({"endgeneration"});
      Next();
    } else if (tag == "print") {
      Next();
      s->kind = StmtKind::kPrint;
      s->expr = ParseTuple(true, {}, false);
    } else if (tag == "extends" || tag == "block" || tag == "include" || tag == "import" || tag == "from") {
      Fail("'" + tag + "' is not supported in chat templates (a chat template is a single self-contained file)");
    } else {
      Fail("Encountered unknown tag '" + tag + "'.");
    }
    return s;
  }

  // A macro body is its own scope for loop controls; the names it reads decide whether extra call arguments are
  // caught in `varargs`/`kwargs` (as Jinja does) or are an error.
  void ParseMacroBody(Stmt* s, const char* end_tag) {
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    std::set<std::string> names;
    name_sinks_.push_back(&names);
    s->body = ParseStatements({end_tag});
    name_sinks_.pop_back();
    loop_depth_ = saved_loops;
    Next();
    s->signature->catch_varargs = names.count("varargs") > 0;
    s->signature->catch_kwargs = names.count("kwargs") > 0;
    for (auto* sink : name_sinks_) sink->insert(names.begin(), names.end());
  }

  void ParseIf(Stmt* s) {
    Next();
    s->kind = StmtKind::kIf;
    while (true) {
      s->tests.push_back(ParseTuple(false, {}, false));
      s->bodies.push_back(ParseStatements({"elif", "else", "endif"}));
      const std::string t = Next().text;
      if (t == "elif") continue;
      if (t == "else") {
        s->else_body = ParseStatements({"endif"});
        Next();
      }
      break;
    }
  }

  void ParseFor(Stmt* s) {
    Next();
    s->kind = StmtKind::kFor;
    s->target = ParseAssignTarget(true, false, {"in"});
    if (!SkipName("in")) Fail("expected token 'in', got '" + Describe(Cur()) + "'");
    s->expr = ParseTuple(false, {"recursive"}, false);
    if (SkipName("if")) s->filter = ParseExpression(true);
    s->recursive = SkipName("recursive");
    ++loop_depth_;
    s->body = ParseStatements({"endfor", "else"});
    --loop_depth_;
    if (Next().text == "else") {
      s->else_body = ParseStatements({"endfor"});
      Next();
    }
  }

  void ParseSet(Stmt* s) {
    Next();
    s->target = ParseAssignTarget(true, true, {});
    if (SkipOp("=")) {
      s->kind = StmtKind::kSet;
      s->expr = ParseTuple(true, {}, false);
      return;
    }
    s->kind = StmtKind::kSetBlock;
    if (IsOp("|")) s->filter = ParseFilter(nullptr, false);
    s->body = ParseStatements({"endset"});
    Next();
  }

  std::shared_ptr<Signature> ParseSignature() {
    auto sig = std::make_shared<Signature>();
    ExpectOp("(");
    while (!IsOp(")")) {
      if (!sig->params.empty()) ExpectOp(",");
      std::string name = ExpectName();
      if (SkipOp("=")) {
        sig->defaults.push_back(ParseExpression(true));
      } else if (!sig->defaults.empty()) {
        Fail("non-default argument follows default argument");
      }
      sig->params.push_back(std::move(name));
    }
    ExpectOp(")");
    return sig;
  }

  Target ParseAssignTarget(bool with_tuple, bool with_namespace, std::initializer_list<const char*> extra_end) {
    auto one = [&]() {
      Target t;
      if (Cur().type != TokenType::kName) Fail("can't assign to '" + Describe(Cur()) + "'");
      const std::string name = Next().text;
      if (name == "true" || name == "false" || name == "none" || name == "True" || name == "False" ||
          name == "None") {
        Fail("can't assign to 'const'");
      }
      if (with_namespace && IsOp(".")) {
        Next();
        t.kind = Target::Kind::kNamespaceAttr;
        t.name = name;
        t.attr = ExpectName();
      } else {
        t.name = name;
      }
      return t;
    };
    if (!with_tuple) return one();
    Target tuple;
    tuple.kind = Target::Kind::kTuple;
    bool is_tuple = false;
    while (true) {
      if (!tuple.items.empty()) ExpectOp(",");
      if (IsTupleEnd(extra_end)) break;
      tuple.items.push_back(one());
      if (IsOp(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (tuple.items.empty()) Fail("expected an assignment target, got '" + Describe(Cur()) + "'");
    if (!is_tuple) return std::move(tuple.items[0]);
    return tuple;
  }

  // ---- expressions --------------------------------------------------------------------------------------------
  bool IsTupleEnd(std::initializer_list<const char*> extra_end) const {
    if (Cur().type == TokenType::kVariableEnd || Cur().type == TokenType::kBlockEnd || IsOp(")")) return true;
    for (const char* e : extra_end) {
      if (IsName(e)) return true;
    }
    return false;
  }

  ExprPtr ParseTuple(bool with_condexpr, std::initializer_list<const char*> extra_end, bool explicit_parens) {
    const int line = Cur().line;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) ExpectOp(",");
      if (IsTupleEnd(extra_end)) break;
      args.push_back(ParseExpression(with_condexpr));
      if (IsOp(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parens) Fail("Expected an expression, got '" + Describe(Cur()) + "'");
    }
    auto e = Make(ExprKind::kTuple, line);
    e->children = std::move(args);
    return e;
  }

  ExprPtr ParseExpression(bool with_condexpr) { return with_condexpr ? ParseCondExpr() : ParseOr(); }

  ExprPtr ParseCondExpr() {
    DepthGuard guard(this);
    const int line = Cur().line;
    ExprPtr expr1 = ParseOr();
    while (SkipName("if")) {
      ExprPtr expr2 = ParseOr();
      ExprPtr expr3 = SkipName("else") ? ParseCondExpr() : nullptr;
      auto e = Make(ExprKind::kCondExpr, line);
      e->children.push_back(std::move(expr2));
      e->children.push_back(std::move(expr1));
      e->children.push_back(std::move(expr3));
      expr1 = std::move(e);
    }
    return expr1;
  }

  ExprPtr ParseOr() {
    ChainGuard chain(this);
    ExprPtr left = ParseAnd();
    while (IsName("or")) {
      chain.Step();
      const int line = Next().line;
      auto e = Make(ExprKind::kOr, line);
      e->children.push_back(std::move(left));
      e->children.push_back(ParseAnd());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr ParseAnd() {
    ChainGuard chain(this);
    ExprPtr left = ParseNot();
    while (IsName("and")) {
      chain.Step();
      const int line = Next().line;
      auto e = Make(ExprKind::kAnd, line);
      e->children.push_back(std::move(left));
      e->children.push_back(ParseNot());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr ParseNot() {
    if (IsName("not")) {
      DepthGuard guard(this);
      const int line = Next().line;
      auto e = Make(ExprKind::kNot, line);
      e->children.push_back(ParseNot());
      return e;
    }
    return ParseCompare();
  }

  ExprPtr ParseCompare() {
    const int line = Cur().line;
    ExprPtr expr = ParseMath1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      static const char* const kOps[] = {"==", "!=", "<", "<=", ">", ">="};
      std::string op;
      for (const char* o : kOps) {
        if (IsOp(o)) op = o;
      }
      if (!op.empty()) {
        Next();
      } else if (SkipName("in")) {
        op = "in";
      } else if (IsName("not") && Look().type == TokenType::kName && Look().text == "in") {
        Next();
        Next();
        op = "notin";
      } else {
        break;
      }
      ops.push_back(op);
      operands.push_back(ParseMath1());
    }
    if (ops.empty()) return expr;
    auto e = Make(ExprKind::kCompare, line);
    e->children.push_back(std::move(expr));
    for (auto& o : operands) e->children.push_back(std::move(o));
    e->ops = std::move(ops);
    return e;
  }

  ExprPtr Binary(const std::string& op, ExprPtr left, ExprPtr right, int line) {
    auto e = Make(ExprKind::kBinary, line);
    e->name = op;
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    return e;
  }

  ExprPtr ParseMath1() {
    ChainGuard chain(this);
    ExprPtr left = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      chain.Step();
      const Token& t = Next();
      std::string op = t.text;
      left = Binary(op, std::move(left), ParseConcat(), t.line);
    }
    return left;
  }

  ExprPtr ParseConcat() {
    const int line = Cur().line;
    ExprPtr first = ParseMath2();
    if (!IsOp("~")) return first;
    auto e = Make(ExprKind::kConcat, line);
    e->children.push_back(std::move(first));
    while (SkipOp("~")) e->children.push_back(ParseMath2());
    return e;
  }

  ExprPtr ParseMath2() {
    ChainGuard chain(this);
    ExprPtr left = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      chain.Step();
      const Token& t = Next();
      std::string op = t.text;
      left = Binary(op, std::move(left), ParsePow(), t.line);
    }
    return left;
  }

  ExprPtr ParsePow() {
    ChainGuard chain(this);
    ExprPtr left = ParseUnary(true);
    while (IsOp("**")) {
      chain.Step();
      const int line = Next().line;
      left = Binary("**", std::move(left), ParseUnary(true), line);
    }
    return left;
  }

  ExprPtr ParseUnary(bool with_filter) {
    DepthGuard guard(this);
    const int line = Cur().line;
    ExprPtr node;
    if (SkipOp("-")) {
      node = Make(ExprKind::kNeg, line);
      node->children.push_back(ParseUnary(false));
    } else if (SkipOp("+")) {
      node = Make(ExprKind::kPos, line);
      node->children.push_back(ParseUnary(false));
    } else {
      node = ParsePrimary();
    }
    node = ParsePostfix(std::move(node));
    if (with_filter) node = ParseFilterExpr(std::move(node));
    return node;
  }

  ExprPtr ParsePrimary() {
    DepthGuard guard(this);
    const Token& t = Cur();
    const int line = t.line;
    if (t.type == TokenType::kName) {
      std::string name = Next().text;
      auto e = Make(ExprKind::kConst, line);
      if (name == "true" || name == "True") {
        e->constant = Value::Bool(true);
      } else if (name == "false" || name == "False") {
        e->constant = Value::Bool(false);
      } else if (name == "none" || name == "None") {
        e->constant = Value::None();
      } else {
        e->kind = ExprKind::kName;
        for (auto* sink : name_sinks_) sink->insert(name);
        e->name = std::move(name);
      }
      return e;
    }
    if (t.type == TokenType::kString) {
      std::string s;
      while (Cur().type == TokenType::kString) s += Next().text;
      auto e = Make(ExprKind::kConst, line);
      e->constant = Value::String(std::move(s));
      return e;
    }
    if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
      auto e = Make(ExprKind::kConst, line);
      e->constant = t.type == TokenType::kInteger ? Value::Int(t.int_value) : Value::Float(t.float_value);
      Next();
      return e;
    }
    if (SkipOp("(")) {
      ExprPtr e = ParseTuple(true, {}, true);
      ExpectOp(")");
      return e;
    }
    if (IsOp("[")) {
      Next();
      auto e = Make(ExprKind::kList, line);
      while (!IsOp("]")) {
        if (!e->children.empty()) ExpectOp(",");
        if (IsOp("]")) break;
        e->children.push_back(ParseExpression(true));
      }
      ExpectOp("]");
      return e;
    }
    if (IsOp("{")) {
      Next();
      auto e = Make(ExprKind::kDict, line);
      while (!IsOp("}")) {
        if (!e->children.empty()) ExpectOp(",");
        if (IsOp("}")) break;
        e->children.push_back(ParseExpression(true));
        ExpectOp(":");
        e->children.push_back(ParseExpression(true));
      }
      ExpectOp("}");
      return e;
    }
    Fail("unexpected '" + Describe(t) + "'");
  }

  ExprPtr ParsePostfix(ExprPtr node) {
    ChainGuard chain(this);
    while (true) {
      chain.Step();
      if (IsOp(".") || IsOp("[")) {
        node = ParseSubscript(std::move(node));
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr ParseFilterExpr(ExprPtr node) {
    ChainGuard chain(this);
    while (true) {
      chain.Step();
      if (IsOp("|")) {
        node = ParseFilter(std::move(node), false);
      } else if (IsName("is")) {
        node = ParseTest(std::move(node));
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr ParseSubscript(ExprPtr node) {
    DepthGuard guard(this);
    const Token& t = Next();
    const int line = t.line;
    if (t.text == ".") {
      const Token& attr = Cur();
      if (attr.type == TokenType::kName) {
        auto e = Make(ExprKind::kGetAttr, line);
        e->name = Next().text;
        e->children.push_back(std::move(node));
        return e;
      }
      if (attr.type != TokenType::kInteger) Fail("expected name or number");
      auto idx = Make(ExprKind::kConst, line);
      idx->constant = Value::Int(Next().int_value);
      auto e = Make(ExprKind::kGetItem, line);
      e->children.push_back(std::move(node));
      e->children.push_back(std::move(idx));
      return e;
    }
    std::vector<ExprPtr> args;
    while (!IsOp("]")) {
      if (!args.empty()) ExpectOp(",");
      args.push_back(ParseSubscribed());
    }
    ExpectOp("]");
    auto e = Make(ExprKind::kGetItem, line);
    e->children.push_back(std::move(node));
    if (args.size() == 1) {
      e->children.push_back(std::move(args[0]));
    } else {
      auto tuple = Make(ExprKind::kTuple, line);
      tuple->children = std::move(args);
      e->children.push_back(std::move(tuple));
    }
    return e;
  }

  ExprPtr ParseSubscribed() {
    const int line = Cur().line;
    std::vector<ExprPtr> parts;
    if (IsOp(":")) {
      Next();
      parts.push_back(nullptr);
    } else {
      ExprPtr node = ParseExpression(true);
      if (!IsOp(":")) return node;
      Next();
      parts.push_back(std::move(node));
    }
    if (IsOp(":")) {
      parts.push_back(nullptr);
    } else if (!IsOp("]") && !IsOp(",")) {
      parts.push_back(ParseExpression(true));
    } else {
      parts.push_back(nullptr);
    }
    if (SkipOp(":")) {
      parts.push_back(!IsOp("]") && !IsOp(",") ? ParseExpression(true) : nullptr);
    } else {
      parts.push_back(nullptr);
    }
    auto e = Make(ExprKind::kSlice, line);
    e->children = std::move(parts);
    return e;
  }

  void ParseCallArgs(Expr* e) {
    const Token& open = Cur();
    ExpectOp("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) Fail("invalid syntax for function call expression", open);
    };
    while (!IsOp(")")) {
      if (require_comma) {
        ExpectOp(",");
        if (IsOp(")")) break;
      }
      if (IsOp("*")) {
        ensure(e->dyn_args == nullptr && e->dyn_kwargs == nullptr);
        Next();
        e->dyn_args = ParseExpression(true);
      } else if (IsOp("**")) {
        ensure(e->dyn_kwargs == nullptr);
        Next();
        e->dyn_kwargs = ParseExpression(true);
      } else if (Cur().type == TokenType::kName && Look().type == TokenType::kOperator && Look().text == "=") {
        ensure(e->dyn_kwargs == nullptr);
        std::string key = Next().text;
        Next();
        e->kwargs.emplace_back(std::move(key), ParseExpression(true));
      } else {
        ensure(e->dyn_args == nullptr && e->dyn_kwargs == nullptr && e->kwargs.empty());
        e->children.push_back(ParseExpression(true));
      }
      require_comma = true;
    }
    ExpectOp(")");
  }

  ExprPtr ParseCall(ExprPtr node) {
    DepthGuard guard(this);
    auto e = Make(ExprKind::kCall, Cur().line);
    e->children.push_back(std::move(node));
    ParseCallArgs(e.get());
    return e;
  }

  ExprPtr ParseFilter(ExprPtr node, bool start_inline) {
    ChainGuard chain(this);
    while (IsOp("|") || start_inline) {
      chain.Step();
      if (!start_inline) Next();
      const Token& name_token = Cur();
      std::string name = ExpectName();
      while (SkipOp(".")) {
      name += '.';
      name += ExpectName();
    }
      if (!IsKnownFilter(name)) Fail("No filter named '" + name + "'.", name_token);
      auto e = Make(ExprKind::kFilter, name_token.line);
      e->name = std::move(name);
      e->children.push_back(std::move(node));
      if (IsOp("(")) ParseCallArgs(e.get());
      node = std::move(e);
      start_inline = false;
    }
    return node;
  }

  ExprPtr ParseTest(ExprPtr node) {
    DepthGuard guard(this);
    const int line = Next().line;
    bool negated = SkipName("not");
    const Token& name_token = Cur();
    std::string name = ExpectName();
    while (SkipOp(".")) {
      name += '.';
      name += ExpectName();
    }
    if (!IsKnownTest(name)) Fail("No test named '" + name + "'.", name_token);
    auto e = Make(ExprKind::kTest, line);
    e->name = std::move(name);
    e->children.push_back(std::move(node));
    if (IsOp("(")) {
      ParseCallArgs(e.get());
    } else if ((Cur().type == TokenType::kName || Cur().type == TokenType::kString ||
                Cur().type == TokenType::kInteger || Cur().type == TokenType::kFloat || IsOp("(") || IsOp("[") ||
                IsOp("{")) &&
               !IsName("else") && !IsName("or") && !IsName("and")) {
      if (IsName("is")) Fail("You cannot chain multiple tests with is");
      e->children.push_back(ParsePostfix(ParsePrimary()));
    }
    if (!negated) return e;
    auto n = Make(ExprKind::kNot, line);
    n->children.push_back(std::move(e));
    return n;
  }

  std::vector<Token> tokens_;
  std::string source_name_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::set<std::string>*> name_sinks_;
};

}  // namespace

std::unique_ptr<Program> ParseTemplate(std::string_view source, std::string source_name) {
  return Parser(Tokenize(source), std::move(source_name)).Parse();
}

}  // namespace warden::engine::detail
