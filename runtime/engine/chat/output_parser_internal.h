// The steps of ParseModelOutput (../shared/docs/model.md §7.3), exposed for the streaming parser, which runs the
// same tool-call block parser on each block as soon as the block is closed, and for tests.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/engine/chat/output_parser.h"

namespace warden::engine::detail {

inline constexpr std::string_view kThinkOpen = "<think>";
inline constexpr std::string_view kThinkClose = "</think>";
inline constexpr std::string_view kToolCallOpen = "<tool_call>";
inline constexpr std::string_view kToolCallClose = "</tool_call>";
inline constexpr std::string_view kFunctionPrefix = "<function=";
inline constexpr std::string_view kFunctionClose = "</function>";
inline constexpr std::string_view kParameterPrefix = "<parameter=";
inline constexpr std::string_view kParameterClose = "</parameter>";

// True when the text right after a `<tool_call>` (at `after`) starts, past Python whitespace, with `<function=`
// or `<function` + whitespace: the tool call that ends reasoning implicitly (rule 1).
bool FunctionOpensAt(std::string_view text, size_t after);

// The `<tool_call>` blocks of `content` (rule 2): the text after each `<tool_call>` up to its structural
// `</tool_call>` (one followed, past whitespace, by end of text or another `<tool_call>`), or to the end for an
// unclosed block; the whole content when it has no `<tool_call>`.
std::vector<std::string_view> ToolCallBlocks(std::string_view content);

enum class BlockParse {
  kNoCall,  // no `<function=`, or a function name that is not a name
  kCall,    // *call is set
  kAbort,   // an argument converts to something JSON cannot hold: vLLM's json.dumps raises and every call is lost
};
// One raw block (as ToolCallBlocks returns it) to a call, arguments typed by `tools` (null = untyped).
BlockParse ParseToolCallBlock(std::string_view block, const nlohmann::ordered_json* tools, ToolCall* call);

// Converts one parameter value by the JSON schema of `properties[name]` (rule 3). `properties` null or without
// `name`: the raw string. Returns false for kAbort's case.
bool ConvertParameter(std::string_view value, std::string_view name, const nlohmann::ordered_json* properties,
                      nlohmann::ordered_json* out);

// `parameters.properties` of the first tool named `name` (OpenAI or flat form); null when there is none.
const nlohmann::ordered_json* FindToolProperties(const nlohmann::ordered_json* tools, std::string_view name);

// Python int(text) and float(text) (ASCII digits); nullopt where Python raises ValueError.
std::optional<nlohmann::ordered_json> PythonInt(std::string_view text);
std::optional<double> PythonFloat(std::string_view text);

}  // namespace warden::engine::detail
