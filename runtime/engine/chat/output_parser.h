// Splits Qwen3.6 generated text into reasoning, content and tool calls the way vLLM does with
// `--reasoning-parser qwen3 --tool-call-parser qwen3_coder --enable-auto-tool-choice` (non-streaming path), so a
// client sees the same message from Warden as from vLLM. Spec: ../shared/docs/model.md §7.3 and the rules and
// quirks listed under "parse_cases.jsonl" in ../shared/fixtures/chat/README.md. A streaming front end is provided
// whose final result always equals the whole-text parse, whatever the chunking.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine {

// One function call the model asked for. `arguments` keeps the order in which the model wrote the parameters.
struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments;  // always an object

  bool operator==(const ToolCall&) const = default;
};

// The assistant message. A field the output did not produce is nullopt (JSON null), which differs from "":
// `</think>` at the very start gives reasoning "" while a no-thinking reply gives reasoning null.
struct ParsedOutput {
  std::optional<std::string> reasoning;
  std::optional<std::string> content;
  std::vector<ToolCall> tool_calls;

  bool operator==(const ParsedOutput&) const = default;
};

struct ParseOptions {
  // The request's tools, OpenAI style ({"type":"function","function":{"name","parameters"}}) or flat
  // ({"name","parameters"}). Null or [] = the request has no tools, so tool-call XML stays in the content. Only
  // `parameters.properties` of each function is read, to type the arguments; malformed entries are skipped.
  // Default: null. Not owned; must outlive the ParseModelOutput call (StreamingOutputParser keeps a copy).
  const nlohmann::ordered_json* tools = nullptr;
  // The request's enable_thinking. When false and the output has no `</think>`, all of it is content.
  // Default: true (Qwen3.6's template default).
  bool thinking_enabled = true;
};

// Parses one complete generated text (after the `<|im_start|>assistant\n<think>\n` prompt, before `<|im_end|>`).
// Never fails: text that does not follow the protocol ends up as reasoning or content. Works on arbitrary bytes;
// invalid UTF-8 is passed through unchanged.
ParsedOutput ParseModelOutput(std::string_view model_output, const ParseOptions& options);

// {"reasoning": str|null, "content": str|null, "tool_calls": [{"name": str, "arguments": {...}}]}.
// Dump it with nlohmann::json::error_handler_t::replace when the text may hold invalid UTF-8.
nlohmann::ordered_json ToJson(const ParsedOutput& parsed);

// What one Feed() (or the end of the stream) adds to the message.
struct StreamDelta {
  std::string reasoning;              // reasoning text to append
  std::string content;                // content text to append
  std::vector<ToolCall> tool_calls;   // calls that are now complete, in order, each reported once

  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

// Parses text as it is generated. Feed() returns only what the rest of the output can no longer change under
// the rules of ParseModelOutput, holding back a possibly partial tag (`<think>`, `</think>`, `<tool_call>`,
// `<function=`), an incomplete UTF-8 character, whitespace-only content before a tool call (it becomes null),
// the `<tool_call>` whose next characters decide whether reasoning ended, and every tool call until the
// `<tool_call>` that follows it shows its block is closed (the last call is reported by Finish). Finish() returns
// exactly ParseModelOutput(all text).
//
// Three rules of the whole-text parser reach back over text already seen, so nothing could ever be emitted early
// if they were honoured strictly: a first `<think>` anywhere drops everything before it; a `</think>` after
// content that was taken to be reply text (thinking disabled, or reasoning ended by a `<tool_call>`) turns that
// text into reasoning; and a parameter value that json.dumps would reject discards every call. Deltas assume
// none of these happens later. When one does, the deltas already returned cannot be taken back: consistent()
// becomes false, later deltas are empty, and the caller must use Finish()'s result. Cost per Feed is linear in
// the delta for plain text (tags are searched only in new bytes).
class StreamingOutputParser {
 public:
  explicit StreamingOutputParser(const ParseOptions& options);
  ~StreamingOutputParser();
  StreamingOutputParser(StreamingOutputParser&&) noexcept;
  StreamingOutputParser& operator=(StreamingOutputParser&&) noexcept;

  StreamDelta Feed(std::string_view delta);
  // Ends the stream. `last` (optional) receives what was held back, when the deltas are still consistent with
  // the final result. Calling Finish again returns the same result and leaves `last` alone.
  ParsedOutput Finish(StreamDelta* last = nullptr);
  // True while every delta returned so far is a prefix of the final result (after Finish: the deltas together
  // with `last` spell it out exactly, apart from null versus "").
  bool consistent() const;
  // All text fed so far.
  const std::string& text() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::engine
