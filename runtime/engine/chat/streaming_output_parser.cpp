// Streaming front end of the Qwen3.6 output parser (../shared/docs/model.md §7.3). It never decides anything on
// its own: it reports text and calls only once the whole-text rules (output_parser.cpp) can no longer change them,
// and Finish() is the whole-text parse itself. What is held back and why:
//  * a tail that may be the start of `<think>` (until one is seen), `</think>`, `<tool_call>` or `<function=`,
//    and an incomplete UTF-8 character, so no delta ever holds half a tag or half a character;
//  * the first `<tool_call>` inside reasoning until the text after it shows whether `<function` follows
//    (reasoning ends there) or not (a mention; reasoning goes on);
//  * content that is whitespace only so far, when the request has tools (it becomes null if a call follows);
//  * everything from the first `<tool_call>` or `<function=` of the content on: the content end and the text
//    between calls depend on later text (rule 4);
//  * each tool call until its block is closed by a `</tool_call>` followed by the next `<tool_call>`; a close
//    followed by end of text is only structural once the text has ended, so the last call comes from Finish.
// The retroactive rules (a late first `<think>`, a `</think>` after reply text, an argument json.dumps rejects)
// are detected and reported through consistent() rather than held for, since holding for them would mean
// holding everything.
#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine/chat/output_parser.h"
#include "runtime/engine/chat/output_parser_internal.h"
#include "runtime/engine/chat/python_literal.h"

namespace warden::engine {
namespace {

constexpr size_t npos = std::string::npos;

// Finds `tag` in `text` at or after `from`, resuming where the last unsuccessful search stopped.
size_t FindResumable(const std::string& text, std::string_view tag, size_t from, size_t* scan) {
  size_t begin = std::max(from, *scan);
  size_t at = text.find(tag, begin);
  if (at == npos) {
    size_t keep = tag.size() - 1;  // a tag may straddle the current end
    *scan = std::max(begin, text.size() > keep ? text.size() - keep : size_t{0});
  }
  return at;
}

// Whether the bytes from `pos` to the end are the first bytes of a multi-byte UTF-8 character.
bool IsIncompleteUtf8(std::string_view s, size_t pos) {
  if (pos >= s.size()) return false;
  auto lead = static_cast<unsigned char>(s[pos]);
  size_t need = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
  if (need == 0 || s.size() - pos >= need) return false;
  for (size_t i = pos + 1; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return false;
  }
  return true;
}

bool IsPrefixOf(std::string_view prefix, std::string_view whole) {
  return prefix.size() <= whole.size() && whole.substr(0, prefix.size()) == prefix;
}

}  // namespace

class StreamingOutputParser::Impl {
 public:
  explicit Impl(const ParseOptions& options);
  StreamDelta Feed(std::string_view delta);
  ParsedOutput Finish(StreamDelta* last);
  bool consistent() const { return consistent_; }
  const std::string& text() const { return text_; }

 private:
  enum class Phase { kReasoning, kContent };

  void Advance(StreamDelta* out);
  void AdvanceReasoning(StreamDelta* out);
  void AdvanceContent(StreamDelta* out);
  void EmitTo(size_t end, std::string* field, size_t* cursor);
  size_t SafeEnd(std::initializer_list<std::string_view> tags) const;
  void Diverge() { consistent_ = false; }
  void Restart(size_t start);
  bool HasEmitted() const;

  nlohmann::ordered_json tools_;
  bool has_tools_ = false;
  bool thinking_enabled_ = true;
  std::string text_;
  bool consistent_ = true;
  bool finished_ = false;

  // Where each tag first occurs (npos = not yet) and how far it has been searched for.
  size_t think_open_ = npos, think_open_scan_ = 0;
  size_t think_close_ = npos, think_close_scan_ = 0;

  Phase phase_ = Phase::kReasoning;
  size_t start_ = 0;           // where the text after the first `<think>` starts
  size_t reasoning_emit_ = 0;  // reasoning bytes [start_, reasoning_emit_) have been returned
  size_t first_tool_call_ = npos, first_tool_call_scan_ = 0;
  bool tool_call_is_mention_ = false;  // the first `<tool_call>` was not followed by `<function`

  size_t content_start_ = 0;          // content is text_[content_start_, ...)
  bool content_provisional_ = false;  // a later `</think>` would turn this content into reasoning
  size_t content_emit_ = 0;           // content bytes [content_start_, content_emit_) have been returned
  size_t first_tc_in_content_ = npos, first_fn_in_content_ = npos;
  size_t boundary_scan_tc_ = 0, boundary_scan_fn_ = 0;
  size_t ws_scan_ = 0;             // content before here is known to be whitespace only
  bool content_has_text_ = false;  // content holds a non-whitespace character (so it is never nulled)
  size_t block_start_ = npos;      // the `<tool_call>` of the block being closed
  size_t close_scan_ = 0;          // `</tool_call>` searched from here
  bool calls_stopped_ = false;     // a block failed to convert: no more calls are reported early

  std::string emitted_reasoning_, emitted_content_;
  std::vector<ToolCall> emitted_calls_;
};

StreamingOutputParser::StreamingOutputParser(const ParseOptions& options) : impl_(std::make_unique<Impl>(options)) {}
StreamingOutputParser::~StreamingOutputParser() = default;
StreamingOutputParser::StreamingOutputParser(StreamingOutputParser&&) noexcept = default;
StreamingOutputParser& StreamingOutputParser::operator=(StreamingOutputParser&&) noexcept = default;
StreamDelta StreamingOutputParser::Feed(std::string_view delta) { return impl_->Feed(delta); }
ParsedOutput StreamingOutputParser::Finish(StreamDelta* last) { return impl_->Finish(last); }
bool StreamingOutputParser::consistent() const { return impl_->consistent(); }
const std::string& StreamingOutputParser::text() const { return impl_->text(); }

StreamingOutputParser::Impl::Impl(const ParseOptions& options) : thinking_enabled_(options.thinking_enabled) {
  if (options.tools != nullptr) tools_ = *options.tools;  // a copy: the caller's tools may go away
  has_tools_ = tools_.is_array() && !tools_.empty();
  Restart(0);
}

void StreamingOutputParser::Impl::Restart(size_t start) {
  start_ = start;
  reasoning_emit_ = start;
  think_close_ = npos;
  think_close_scan_ = start;
  first_tool_call_ = npos;
  first_tool_call_scan_ = start;
  tool_call_is_mention_ = false;
  if (thinking_enabled_) {
    phase_ = Phase::kReasoning;
  } else {
    phase_ = Phase::kContent;
    content_start_ = start;
    content_provisional_ = true;
  }
  content_emit_ = content_start_;
  first_tc_in_content_ = npos;
  first_fn_in_content_ = npos;
  boundary_scan_tc_ = boundary_scan_fn_ = content_start_;
  ws_scan_ = content_start_;
  content_has_text_ = false;
  block_start_ = npos;
  close_scan_ = 0;
  calls_stopped_ = false;
}

bool StreamingOutputParser::Impl::HasEmitted() const {
  return !emitted_reasoning_.empty() || !emitted_content_.empty() || !emitted_calls_.empty();
}

size_t StreamingOutputParser::Impl::SafeEnd(std::initializer_list<std::string_view> tags) const {
  size_t end = text_.size();
  std::string_view text(text_);
  for (std::string_view tag : tags) {
    if (tag.empty()) continue;  // a tag no longer looked for
    for (size_t k = std::min(tag.size() - 1, text.size()); k > 0; --k) {
      if (text.substr(text.size() - k) == tag.substr(0, k)) {
        end = std::min(end, text.size() - k);
        break;
      }
    }
  }
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    if (IsIncompleteUtf8(text, text.size() - back)) {
      end = std::min(end, text.size() - back);
      break;
    }
  }
  return end;
}

void StreamingOutputParser::Impl::EmitTo(size_t end, std::string* field, size_t* cursor) {
  if (end <= *cursor) return;
  std::string_view piece = std::string_view(text_).substr(*cursor, end - *cursor);
  field->append(piece);
  *cursor = end;
}

StreamDelta StreamingOutputParser::Impl::Feed(std::string_view delta) {
  StreamDelta out;
  if (finished_) return out;
  text_.append(delta);
  Advance(&out);
  emitted_reasoning_ += out.reasoning;
  emitted_content_ += out.content;
  emitted_calls_.insert(emitted_calls_.end(), out.tool_calls.begin(), out.tool_calls.end());
  return out;
}

void StreamingOutputParser::Impl::Advance(StreamDelta* out) {
  if (!consistent_) return;
  if (think_open_ == npos) {
    think_open_ = FindResumable(text_, detail::kThinkOpen, 0, &think_open_scan_);
    if (think_open_ != npos) {
      // Everything up to the first `<think>` is dropped: fine unless some of it was already reported.
      if (HasEmitted() || !out->empty()) return Diverge();
      Restart(think_open_ + detail::kThinkOpen.size());
    }
  }
  if (phase_ == Phase::kReasoning) AdvanceReasoning(out);
  if (phase_ == Phase::kContent && consistent_) AdvanceContent(out);
}

void StreamingOutputParser::Impl::AdvanceReasoning(StreamDelta* out) {
  if (think_close_ == npos) think_close_ = FindResumable(text_, detail::kThinkClose, start_, &think_close_scan_);
  if (think_close_ != npos) {  // an explicit end wins over any `<tool_call>` before it
    EmitTo(think_close_, &out->reasoning, &reasoning_emit_);
    phase_ = Phase::kContent;
    content_start_ = think_close_ + detail::kThinkClose.size();
    content_provisional_ = false;
    content_emit_ = ws_scan_ = boundary_scan_tc_ = boundary_scan_fn_ = content_start_;
    return;
  }
  if (first_tool_call_ == npos) {
    first_tool_call_ = FindResumable(text_, detail::kToolCallOpen, start_, &first_tool_call_scan_);
  }
  size_t limit = SafeEnd({detail::kThinkClose, think_open_ == npos ? detail::kThinkOpen : std::string_view(),
                          first_tool_call_ == npos ? detail::kToolCallOpen : std::string_view()});
  if (first_tool_call_ != npos && !tool_call_is_mention_) {
    std::string_view text(text_);
    size_t after = first_tool_call_ + detail::kToolCallOpen.size();
    size_t at = detail::SkipPythonSpace(text, after);
    std::string_view rest = text.substr(at);
    constexpr std::string_view kFunctionWord = "<function";
    bool undecided = rest.empty() || IsIncompleteUtf8(text, at) || IsPrefixOf(rest, kFunctionWord) ||
                     (IsPrefixOf(kFunctionWord, rest) && IsIncompleteUtf8(text, at + kFunctionWord.size()));
    if (undecided) {
      limit = std::min(limit, first_tool_call_);
    } else if (detail::FunctionOpensAt(text, after)) {
      // Reasoning ends at the `<tool_call>` (unless a `</think>` turns up later: see consistent()).
      EmitTo(first_tool_call_, &out->reasoning, &reasoning_emit_);
      phase_ = Phase::kContent;
      content_start_ = first_tool_call_;
      content_provisional_ = true;
      content_emit_ = ws_scan_ = boundary_scan_tc_ = boundary_scan_fn_ = content_start_;
      return;
    } else {
      tool_call_is_mention_ = true;  // only the first `<tool_call>` is ever checked
    }
  }
  EmitTo(limit, &out->reasoning, &reasoning_emit_);
}

void StreamingOutputParser::Impl::AdvanceContent(StreamDelta* out) {
  if (content_provisional_) {
    if (think_close_ == npos) think_close_ = FindResumable(text_, detail::kThinkClose, start_, &think_close_scan_);
    if (think_close_ != npos) {
      // Everything before the first `</think>` is reasoning after all. Recoverable only while no reply text or
      // call has been reported.
      if (!emitted_content_.empty() || !emitted_calls_.empty() || !out->content.empty() || !out->tool_calls.empty()) {
        return Diverge();
      }
      EmitTo(think_close_, &out->reasoning, &reasoning_emit_);
      content_start_ = think_close_ + detail::kThinkClose.size();
      content_provisional_ = false;
      content_emit_ = ws_scan_ = boundary_scan_tc_ = boundary_scan_fn_ = content_start_;
      first_tc_in_content_ = first_fn_in_content_ = npos;
      content_has_text_ = false;
      block_start_ = npos;
      calls_stopped_ = false;
    }
  }
  std::string_view think_open_tag = think_open_ == npos ? detail::kThinkOpen : std::string_view();
  std::string_view think_close_tag = content_provisional_ ? detail::kThinkClose : std::string_view();
  if (!has_tools_) {
    EmitTo(SafeEnd({think_open_tag, think_close_tag}), &out->content, &content_emit_);
    return;
  }
  if (first_tc_in_content_ == npos) {
    first_tc_in_content_ = FindResumable(text_, detail::kToolCallOpen, content_start_, &boundary_scan_tc_);
  }
  if (first_fn_in_content_ == npos) {
    first_fn_in_content_ = FindResumable(text_, detail::kFunctionPrefix, content_start_, &boundary_scan_fn_);
  }
  size_t boundary = std::min(first_tc_in_content_, first_fn_in_content_);
  size_t limit = boundary != npos
                     ? std::min(boundary, SafeEnd({think_open_tag, think_close_tag}))
                     : SafeEnd({think_open_tag, think_close_tag, detail::kToolCallOpen, detail::kFunctionPrefix});
  if (!content_has_text_ && limit > ws_scan_) {
    size_t at = detail::SkipPythonSpace(std::string_view(text_).substr(0, limit), ws_scan_);
    if (at < limit) {
      content_has_text_ = true;
    } else {
      ws_scan_ = limit;
    }
  }
  if (content_has_text_) EmitTo(limit, &out->content, &content_emit_);
  if (first_tc_in_content_ == npos || calls_stopped_) return;

  // Tool calls: close each block at a `</tool_call>` that the next `<tool_call>` follows.
  std::string_view text(text_);
  if (block_start_ == npos) {
    block_start_ = first_tc_in_content_;
    close_scan_ = block_start_ + detail::kToolCallOpen.size();
  }
  while (true) {
    size_t at = text.find(detail::kToolCallClose, close_scan_);
    if (at == npos) {
      size_t keep = detail::kToolCallClose.size() - 1;
      close_scan_ = std::max(close_scan_, text.size() > keep ? text.size() - keep : size_t{0});
      return;
    }
    size_t rest = detail::SkipPythonSpace(text, at + detail::kToolCallClose.size());
    std::string_view tail = text.substr(rest);
    bool partial_open = tail.size() < detail::kToolCallOpen.size() && IsPrefixOf(tail, detail::kToolCallOpen);
    if (tail.empty() || IsIncompleteUtf8(text, rest) || partial_open) {
      close_scan_ = at;  // end of text or the next `<tool_call>` may still come
      return;
    }
    if (!IsPrefixOf(detail::kToolCallOpen, tail)) {
      close_scan_ = at + detail::kToolCallClose.size();  // a literal `</tool_call>` inside the block
      continue;
    }
    size_t body = block_start_ + detail::kToolCallOpen.size();
    ToolCall call;
    switch (detail::ParseToolCallBlock(text.substr(body, at - body), has_tools_ ? &tools_ : nullptr, &call)) {
      case detail::BlockParse::kCall:
        out->tool_calls.push_back(std::move(call));
        break;
      case detail::BlockParse::kNoCall:
        break;
      case detail::BlockParse::kAbort:
        // The whole-text parse will drop every call; say so if some were reported already.
        calls_stopped_ = true;
        if (!emitted_calls_.empty() || !out->tool_calls.empty()) Diverge();
        return;
    }
    block_start_ = rest;
    close_scan_ = rest + detail::kToolCallOpen.size();
  }
}

ParsedOutput StreamingOutputParser::Impl::Finish(StreamDelta* last) {
  ParseOptions options;
  options.tools = has_tools_ ? &tools_ : nullptr;
  options.thinking_enabled = thinking_enabled_;
  ParsedOutput final_output = ParseModelOutput(text_, options);
  if (finished_) return final_output;
  finished_ = true;
  if (consistent_) {
    std::string reasoning = final_output.reasoning.value_or("");
    std::string content = final_output.content.value_or("");
    const auto& calls = final_output.tool_calls;
    bool ok = IsPrefixOf(emitted_reasoning_, reasoning) && IsPrefixOf(emitted_content_, content) &&
              emitted_calls_.size() <= calls.size() &&
              std::equal(emitted_calls_.begin(), emitted_calls_.end(), calls.begin());
    if (!ok) {
      consistent_ = false;
    } else if (last != nullptr) {
      last->reasoning = reasoning.substr(emitted_reasoning_.size());
      last->content = content.substr(emitted_content_.size());
      last->tool_calls.assign(calls.begin() + static_cast<std::ptrdiff_t>(emitted_calls_.size()), calls.end());
    }
  }
  return final_output;
}

}  // namespace warden::engine
