// Throughput of the output parser on a large synthetic output, whole and streamed in 4-byte chunks, against a
// single std::string_view::find pass over the same bytes as the peer. Hidden test: run it with
//   warden_engine_chat_tests "[.bench]"
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "runtime/engine/chat/output_parser.h"

namespace warden::engine {
namespace {

template <typename F>
double BestSeconds(int reps, F&& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

TEST_CASE("output parser throughput", "[.bench][engine][chatparse]") {
  auto tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "write_file",
    "parameters": {"properties": {"path": {"type": "string"}, "content": {"type": "string"},
    "mode": {"type": "integer"}, "meta": {"type": "object"}}}}}])");
  std::string text;
  while (text.size() < 8'000'000) text += "Reasoning about the task, step by step; nothing special here. ";
  text += "\n</think>\n\nI will write the files now.\n\n";
  std::string body;
  for (int line = 0; line < 400; ++line) body += "    print(\"line " + std::to_string(line) + " <tag> & stuff\")\n";
  for (int i = 0; i < 200; ++i) {
    text += "<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/f" + std::to_string(i) +
            ".py\n</parameter>\n<parameter=content>\n" + body + "</parameter>\n<parameter=mode>\n420\n</parameter>\n"
            "<parameter=meta>\n{\"owner\": \"ops\", \"tags\": [1, 2, 3]}\n</parameter>\n</function>\n</tool_call>\n";
  }
  ParseOptions options;
  options.tools = &tools;
  const double mb = static_cast<double>(text.size()) / 1e6;
  size_t sink = 0;
  double peer = BestSeconds(5, [&] { sink += std::string_view(text).find("<no such tag>") == std::string::npos; });
  double whole = BestSeconds(3, [&] { sink += ParseModelOutput(text, options).tool_calls.size(); });
  double stream = BestSeconds(3, [&] {
    StreamingOutputParser p(options);
    for (size_t pos = 0; pos < text.size(); pos += 4) sink += p.Feed(std::string_view(text).substr(pos, 4)).tool_calls.size();
    sink += p.Finish().tool_calls.size();
  });
  std::printf("output parser, %.1f MB synthetic output (%zu calls):\n", mb, size_t{200});
  std::printf("  peer string_view::find pass : %8.1f MB/s\n", mb / peer);
  std::printf("  whole ParseModelOutput      : %8.1f MB/s (%.1fx the peer's time)\n", mb / whole, whole / peer);
  std::printf("  streaming, 4-byte chunks    : %8.1f MB/s (%.1fx the peer's time)\n", mb / stream, stream / peer);
  CHECK(sink > 0);
}

}  // namespace warden::engine
