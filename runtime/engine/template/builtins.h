// The built-in filters, tests, globals and methods of the chat-template interpreter (../shared/docs/model.md §7.1):
// jinja2 3.1's filters and tests, transformers' globals (`raise_exception`, `strftime_now`) and `tojson`, and the
// Python str/dict/list methods a sandboxed template may call.
#pragma once

#include <string_view>

#include "runtime/engine/template/value.h"

namespace warden::engine::detail {

bool IsKnownFilter(std::string_view name);
bool IsKnownTest(std::string_view name);

// Applies filter `name` to `input` (args exclude the input). Throws TemplateError.
Value ApplyFilter(Interpreter& interp, std::string_view name, const Value& input, CallArgs& args);
// Evaluates test `name` on `input`. Throws TemplateError.
bool ApplyTest(Interpreter& interp, std::string_view name, const Value& input, CallArgs& args);
// The global functions visible to every template: range, namespace, dict, raise_exception, strftime_now, ...
// Returns undefined when `name` is not one.
Value LookupGlobal(std::string_view name);
// `obj.name` where obj is a str, dict, list or tuple and name is one of its methods: a callable bound to obj, or
// undefined when there is no such method.
Value LookupMethod(const Value& obj, std::string_view name);
// Python's printf-style `format % args` (args: a tuple, a dict for %(name)s, or one value). Throws TemplateError.
std::string PercentFormat(const std::string& format, const Value& args);

}  // namespace warden::engine::detail
