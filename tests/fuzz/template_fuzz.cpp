// libFuzzer target: arbitrary bytes as a chat template, parsed and then rendered against a small fixed
// conversation (runtime/engine/template/chat_template.h). It must never crash, hang or exhaust memory: every input
// either fails with a Status or renders within the (tightened) render limits, and a render never exceeds the
// output limit it was given.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/engine/template/chat_template.h"

namespace {

const nlohmann::ordered_json& Messages() {
  static const auto* m = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this? \u00e9"}]},
    {"role": "assistant", "content": "<think>\nhm\n</think>\n\nA cat.", "reasoning_content": "looks like a cat",
     "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
    {"role": "tool", "content": "{\"ok\": true}"},
    {"role": "user", "content": "Thanks"}])"));
  return *m;
}

const nlohmann::ordered_json& Tools() {
  static const auto* t = new nlohmann::ordered_json(nlohmann::ordered_json::parse(
      R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}])"));
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  auto tmpl = warden::engine::ChatTemplate::FromString(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!tmpl.ok()) return 0;
  warden::engine::ChatTemplateLimits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_steps = 200000;
  limits.max_call_depth = 64;
  tmpl->set_limits(limits);
  static const nlohmann::ordered_json kwargs = {{"add_generation_prompt", true}, {"enable_thinking", false}};
  auto out = tmpl->Render(Messages(), Tools(), kwargs);
  if (out.ok() && out->size() > limits.max_output_bytes) __builtin_trap();
  return 0;
}
