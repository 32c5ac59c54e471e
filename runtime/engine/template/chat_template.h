// Chat templates: render a conversation into the model's prompt text with the template the checkpoint ships
// (../shared/docs/model.md §7.1 and §7.2).
//
// A ChatTemplate is parsed once (FromString/FromFile/FromModelDir) and rendered many times. Rendering follows
// transformers' apply_chat_template: the template runs in a Jinja sandbox with `messages`, `tools`,
// `documents=None`, `add_generation_prompt` and every caller kwarg as top-level variables, with `trim_blocks` and
// `lstrip_blocks` on and `raise_exception`/`strftime_now` available. Output is byte-identical to jinja2 3.1 for the
// language subset chat templates use (see docs/engine.md, "Chat templates", for what is not supported).
//
// Thread safety: a ChatTemplate is immutable after construction; Render may be called from many threads at once.
// Copies share the parsed template.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "runtime/base/result.h"

namespace warden::engine {

namespace detail {
struct Program;
}

// Bounds on one render, so that a hostile or buggy template fails with kResourceExhausted instead of hanging or
// exhausting memory. The defaults are far above what any real chat template needs.
struct ChatTemplateLimits {
  // Largest rendered prompt, and largest single string or list built on the way. Default 64 MiB.
  size_t max_output_bytes = size_t{64} << 20;
  // Work units (statements executed, loop iterations, calls, items built). Default 20 million: a long agent
  // conversation takes tens of thousands; an endless loop stops within a few seconds.
  int64_t max_steps = 20'000'000;
  // Deepest macro-call (and recursive-loop) nesting. Default 200.
  int max_call_depth = 200;
};

class ChatTemplate {
 public:
  // Parses `text`; `source_name` names it in error messages ("chat_template.jinja:12:5: ..."). Syntax errors are
  // kInvalidArgument with line and column.
  static Result<ChatTemplate> FromString(std::string text, std::string source_name);
  // Reads and parses a template file (kNotFound/kIoError when it cannot be read).
  static Result<ChatTemplate> FromFile(const std::filesystem::path& file);
  // The template of a model folder: chat_template.jinja, else chat_template.json's "chat_template", else
  // tokenizer_config.json's "chat_template" (a string, or a list of {name, template} from which "default" is
  // taken). kNotFound when the folder has none. Like transformers, the special tokens named in
  // tokenizer_config.json (bos_token, eos_token, unk_token, pad_token, sep_token, cls_token, mask_token; a string or
  // an {"content": ...} object) become template variables at render time; a kwarg of the same name wins.
  static Result<ChatTemplate> FromModelDir(const std::filesystem::path& dir);

  // Renders a conversation. `messages`: array of message objects; `tools`: null or an array of tool schemas;
  // `kwargs`: an object (or null) whose members become top-level template variables (add_generation_prompt,
  // enable_thinking, preserve_thinking, add_vision_id, bos_token, ...), passed as given.
  // Before rendering, a tool call whose `function.arguments` (or flat `arguments`) is a JSON string is parsed into
  // its value, and an empty string becomes {} (the OpenAI-request convention vLLM applies).
  // Errors: kInvalidArgument for bad inputs and for template errors, including raise_exception() — the message
  // is "<source>:<line>: <text>" and contains the template's own text verbatim; kResourceExhausted when a
  // ChatTemplateLimits bound is hit.
  Result<std::string> Render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                             const nlohmann::ordered_json& kwargs) const;

  // Replaces the render limits (defaults: ChatTemplateLimits{}).
  void set_limits(const ChatTemplateLimits& limits) { limits_ = limits; }
  const ChatTemplateLimits& limits() const { return limits_; }
  const std::string& source_name() const { return source_name_; }
  // The template text as given.
  const std::string& source() const { return source_; }

 private:
  ChatTemplate() = default;
  static Result<ChatTemplate> FindInModelDir(const std::filesystem::path& dir);

  std::shared_ptr<const detail::Program> program_;
  std::string source_;
  std::string source_name_;
  std::vector<std::pair<std::string, std::string>> special_tokens_;  // from the model folder, if any
  ChatTemplateLimits limits_;
};

}  // namespace warden::engine
