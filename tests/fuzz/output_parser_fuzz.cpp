// libFuzzer target for the chat output parser (runtime/engine/chat/, ../shared/docs/model.md §7.3). Arbitrary
// bytes are parsed whole and streamed in chunks chosen by the input; the streaming result must equal the whole
// parse, and when the parser says its deltas were consistent they must spell out that result. The Python literal
// and JSON readers also get the raw bytes. Byte 0 picks thinking on/off and tools on/off; byte 1 seeds chunking.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/engine/chat/output_parser.h"
#include "runtime/engine/chat/python_literal.h"

namespace {

using Json = nlohmann::ordered_json;

const Json& Tools() {
  static const Json tools = Json::parse(R"([
    {"type": "function", "function": {"name": "f", "parameters": {"properties": {
      "s": {"type": "string"}, "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "boolean"},
      "o": {"type": "object"}, "a": {"type": "array"}, "x": {"type": "any"},
      "u": {"anyOf": [{"type": "null"}, {"type": "integer"}]}}}}},
    {"name": "g", "parameters": {"properties": {"p": {"type": "string"}}}}])");
  return tools;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "invariant failed: %s\n", what);
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 64 * 1024) return 0;
  const uint8_t mode = data[0];
  const uint8_t seed = data[1];
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  // Python readers on the raw bytes: must not crash; results must dump.
  auto literal = warden::engine::detail::ParsePythonLiteral(text);
  if (literal.status == warden::engine::detail::LiteralStatus::kOk) {
    (void)literal.value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  Json parsed;
  if (warden::engine::detail::ParsePythonJson(text, &parsed)) {
    (void)parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  warden::engine::ParseOptions options;
  options.thinking_enabled = (mode & 1) != 0;
  options.tools = (mode & 2) != 0 ? &Tools() : nullptr;
  auto whole = warden::engine::ParseModelOutput(text, options);
  (void)warden::engine::ToJson(whole).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  warden::engine::StreamingOutputParser stream(options);
  std::string reasoning, content;
  std::vector<warden::engine::ToolCall> calls;
  uint32_t rng = seed * 2654435761u + 1;
  size_t pos = 0;
  while (pos < text.size()) {
    rng = rng * 1103515245u + 12345u;
    size_t n = 1 + (rng >> 16) % ((mode & 4) != 0 ? 3 : 17);
    n = std::min(n, text.size() - pos);
    auto d = stream.Feed(text.substr(pos, n));
    pos += n;
    reasoning += d.reasoning;
    content += d.content;
    calls.insert(calls.end(), d.tool_calls.begin(), d.tool_calls.end());
  }
  warden::engine::StreamDelta last;
  auto final_output = stream.Finish(&last);
  Check(final_output == whole, "streaming final == whole parse");
  if (stream.consistent()) {
    reasoning += last.reasoning;
    content += last.content;
    calls.insert(calls.end(), last.tool_calls.begin(), last.tool_calls.end());
    Check(reasoning == whole.reasoning.value_or(""), "reasoning deltas spell the final reasoning");
    Check(content == whole.content.value_or(""), "content deltas spell the final content");
    Check(calls == whole.tool_calls, "reported calls are the final calls");
  }
  return 0;
}
