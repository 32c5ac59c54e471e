// Jinja parser for chat templates (../shared/docs/model.md §7.1): tokens to a Program (ast.h).
//
// Follows jinja2 3.1's grammar and operator precedence (condexpr < or < and < not < compare < + - < ~ < * / // % <
// ** < unary < postfix/filter/test) and its statements: if/elif/else, for (tuple targets, `if` filter, else,
// recursive), set (incl. `ns.attr` and block set), macro, call, filter, with, break/continue (loopcontrols) and
// transformers' `generation`. `extends`, `block`, `include` and `import` are rejected: chat templates are single
// files. Unknown filters and tests are syntax errors, as in Jinja's compile step.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runtime/engine/template/ast.h"

namespace warden::engine::detail {

// Parses `source`; throws SyntaxError (lexer.h) with line and column.
std::unique_ptr<Program> ParseTemplate(std::string_view source, std::string source_name);

}  // namespace warden::engine::detail
