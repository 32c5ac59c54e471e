// `warden chat parse`: model output on stdin -> {"reasoning", "content", "tool_calls"} on stdout, split the way
// vLLM's qwen3 reasoning parser and qwen3_coder tool parser do (../shared/docs/model.md §7.3). The output is
// always JSON: it is the verb's contract. `--stream` runs the streaming parser over small chunks of stdin and
// prints each non-empty delta as a JSON line before the final object, to check streaming by hand.
#include <cstdio>
#include <iostream>
#include <string>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/engine/chat/output_parser.h"

namespace warden::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string ReadStdin() {
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) data.append(buf, n);
  return data;
}

// Reads a tools file: a JSON array of tools, or an object with a "tools" array. Each tool is OpenAI style
// ({"type": "function", "function": {"name", "parameters"}}) or flat ({"name", "parameters"}).
Result<Json> LoadTools(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again with exceptions to learn where it broke; the exception stays inside this file.
    std::string where;
    try {
      Json again = Json::parse(text);
    } catch (const Json::parse_error& e) {
      where = std::string(": ") + e.what();
    }
    return Status::InvalidArgument(path + ": not valid JSON" + where);
  }
  if (doc.is_object() && doc.contains("tools")) doc = doc["tools"];
  if (!doc.is_array()) {
    return Status::InvalidArgument(path + ": expected a JSON array of tools or an object with a \"tools\" array, got " +
                                   std::string(doc.type_name()));
  }
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& tool = doc[i];
    std::string where = path + ": tools[" + std::to_string(i) + "]";
    if (!tool.is_object()) return Status::InvalidArgument(where + ": expected an object, got " + tool.type_name());
    const Json* fn = &tool;
    if (tool.contains("function")) {
      if (!tool["function"].is_object()) return Status::InvalidArgument(where + ".function: expected an object");
      fn = &tool["function"];
      where += ".function";
    }
    if (!fn->contains("name") || !(*fn)["name"].is_string()) {
      return Status::InvalidArgument(where + ": missing the string field \"name\"");
    }
    if (fn->contains("parameters") && !(*fn)["parameters"].is_object()) {
      return Status::InvalidArgument(where + ".parameters: expected a JSON schema object, got " +
                                     std::string((*fn)["parameters"].type_name()));
    }
  }
  return doc;
}

std::string Dump(const Json& j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

Json DeltaJson(const engine::StreamDelta& d) {
  Json delta = Json::object();
  if (!d.reasoning.empty()) delta["reasoning"] = d.reasoning;
  if (!d.content.empty()) delta["content"] = d.content;
  if (!d.tool_calls.empty()) {
    delta["tool_calls"] = Json::array();
    for (const auto& call : d.tool_calls) delta["tool_calls"].push_back({{"name", call.name}, {"arguments", call.arguments}});
  }
  return Json{{"delta", delta}};
}

}  // namespace

void RegisterChatParse(CLI::App& chat, CliContext& ctx) {
  struct Flags {
    std::string tools_file;
    bool no_thinking = false;
    bool stream = false;
    size_t chunk_size = 4;
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = chat.add_subcommand(
      "parse", "Split model output (stdin) into reasoning, content and tool calls as vLLM's qwen3 / qwen3_coder "
               "parsers do; prints {\"reasoning\", \"content\", \"tool_calls\"} as JSON");
  cmd->add_option("--tools", flags->tools_file,
                  "JSON file with the request's tools (an array, or an object with a \"tools\" array); without it "
                  "tool-call XML stays in the content");
  cmd->add_flag("--no-thinking", flags->no_thinking, "The request had enable_thinking=false");
  cmd->add_flag("--stream", flags->stream,
                "Feed stdin through the streaming parser in small chunks; print one JSON line per non-empty delta, "
                "then the final object");
  cmd->add_option("--chunk-size", flags->chunk_size, "Bytes per chunk with --stream (default 4)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  cmd->callback([&ctx, flags] {
    Json tools;
    engine::ParseOptions options;
    options.thinking_enabled = !flags->no_thinking;
    if (!flags->tools_file.empty()) {
      auto loaded = LoadTools(flags->tools_file);
      if (!loaded.ok()) {
        return ctx.Fail(loaded.status(), "pass a JSON array of OpenAI-style tools, e.g. "
                                         "[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}]");
      }
      tools = std::move(*loaded);
      options.tools = &tools;
    }
    std::string text = ReadStdin();
    if (!flags->stream) {
      std::cout << Dump(engine::ToJson(engine::ParseModelOutput(text, options)), 2) << "\n";
      std::cout.flush();
      return;
    }
    engine::StreamingOutputParser parser(options);
    std::string_view rest(text);
    while (!rest.empty()) {
      size_t n = std::min(flags->chunk_size, rest.size());
      auto delta = parser.Feed(rest.substr(0, n));
      rest.remove_prefix(n);
      if (!delta.empty()) std::cout << Dump(DeltaJson(delta), -1) << "\n";
    }
    engine::StreamDelta last;
    auto final_output = parser.Finish(&last);
    if (!last.empty()) std::cout << Dump(DeltaJson(last), -1) << "\n";
    // The deltas could not be taken back after a retroactive rule fired: say so before the authoritative result.
    if (!parser.consistent()) std::cout << Dump(Json{{"consistent", false}}, -1) << "\n";
    std::cout << Dump(engine::ToJson(final_output), -1) << "\n";
    std::cout.flush();
  });
}

}  // namespace warden::cli
