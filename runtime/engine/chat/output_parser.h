// Splits Qwen3.6 generated text into reasoning, content and tool calls the way vLLM does with
// `--reasoning-parser qwen3 --tool-call-parser qwen3_coder --enable-auto-tool-choice` (non-streaming path), so a
// client sees the same message from Warden as from vLLM. Spec: ../shared/docs/model.md §7.3 and the rules and
// quirks listed under "parse_cases.jsonl" in ../shared/fixtures/chat/README.md. A streaming front end is provided
// whose final result always equals the whole-text parse, whatever the chunking.
#pragma once

#include <initializer_list>
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

  StreamDelta Feed(std::string_view delta);
  // Ends the stream. `last` (optional) receives what was held back, when the deltas are still consistent with
  // the final result. Finish may be called once.
  ParsedOutput Finish(StreamDelta* last = nullptr);
  // True while every delta returned so far is a prefix of the final result (after Finish: the deltas together
  // with `last` spell it out exactly, apart from null versus "").
  bool consistent() const { return consistent_; }
  // All text fed so far.
  const std::string& text() const { return text_; }

 private:
  enum class Phase { kReasoning, kContent };

  void Advance(StreamDelta* out);
  void AdvanceReasoning(StreamDelta* out);
  void AdvanceContent(StreamDelta* out);
  void EmitTo(size_t end, std::string* field, size_t* cursor);
  size_t SafeEnd(std::initializer_list<std::string_view> tags) const;
  void Diverge();
  void Restart(size_t start);
  bool HasEmitted() const;

  nlohmann::ordered_json tools_;
  ParseOptions options_;
  bool has_tools_ = false;
  std::string text_;
  bool consistent_ = true;
  bool finished_ = false;

  // Where each tag first occurs (npos = not yet) and how far it has been searched for.
  size_t think_open_ = std::string::npos, think_open_scan_ = 0;
  size_t think_close_ = std::string::npos, think_close_scan_ = 0;

  Phase phase_ = Phase::kReasoning;
  size_t start_ = 0;           // where the text after the first `<think>` starts
  size_t reasoning_emit_ = 0;  // reasoning bytes [start_, reasoning_emit_) have been returned
  size_t first_tool_call_ = std::string::npos, first_tool_call_scan_ = 0;
  bool tool_call_is_mention_ = false;  // the first `<tool_call>` was not followed by `<function`

  size_t content_start_ = 0;           // content is text_[content_start_, ...)
  bool content_provisional_ = false;   // a later `</think>` would turn this content into reasoning
  size_t content_emit_ = 0;            // content bytes [content_start_, content_emit_) have been returned
  size_t boundary_scan_tc_ = 0, boundary_scan_fn_ = 0;
  size_t first_tc_in_content_ = std::string::npos, first_fn_in_content_ = std::string::npos;
  size_t ws_scan_ = 0;                 // content before here is known to be whitespace only
  bool content_has_text_ = false;      // content holds a non-whitespace character (so it is never nulled)
  size_t block_start_ = std::string::npos;  // the `<tool_call>` of the block being closed
  size_t close_scan_ = 0;              // `</tool_call>` searched from here
  bool calls_stopped_ = false;         // a block failed to convert: no more calls are reported early

  std::string emitted_reasoning_, emitted_content_;
  std::vector<ToolCall> emitted_calls_;
};

}  // namespace warden::engine
