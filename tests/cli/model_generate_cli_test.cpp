// `warden model generate` end to end: greedy decoding through the binary reproduces transformers' generate().
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/safetensors.h"
#include "runtime/engine/weights/safetensors_writer.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;

namespace {

std::vector<int32_t> Ints(const std::filesystem::path& file, const std::string& name) {
  auto f = SafetensorsFile::Open(file);
  REQUIRE(f.ok());
  const TensorView* t = f->Find(name);
  REQUIRE(t != nullptr);
  auto v = ToFloat(*t);
  return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("model generate: greedy ids equal transformers' generate", "[cli][engine][generate]") {
  TempDir tmp;
  auto expected = SharedPath("fixtures/qwen3_5-tiny-c/expected.safetensors");
  auto prompt = Ints(expected, "greedy.prompt_ids");
  auto want = Ints(expected, "greedy.output_ids");
  auto in = tmp.path() / "prompt.safetensors";
  REQUIRE(WriteSafetensors(in, {{"input_ids", DType::kI32, {static_cast<int64_t>(prompt.size())}, BytesOf(prompt)}})
              .ok());
  auto out = tmp.path() / "gen.safetensors";
  auto r = RunWarden({"--json", "model", "generate", "--model", SharedPath("fixtures/qwen3_5-tiny-c/model").string(),
                      "--inputs", in.string(), "--max-new-tokens", std::to_string(want.size()), "--temperature", "0",
                      "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["output_ids"].get<std::vector<int32_t>>() == want);
  CHECK(doc["finish_reason"] == "length");
  CHECK(doc["prompt_tokens"] == prompt.size());
  CHECK(Ints(out, "output_ids") == want);
  auto f = SafetensorsFile::Open(out);
  REQUIRE(f.ok());
  CHECK(f->Find("step_logits")->shape == std::vector<int64_t>{static_cast<int64_t>(want.size()), 2048});

  // Sampling with a seed is repeatable, and a different seed gives a different continuation.
  auto sample = [&](const std::string& seed) {
    auto s = RunWarden({"--json", "model", "generate", "--model", SharedPath("fixtures/qwen3_5-tiny-c/model").string(),
                        "--inputs", in.string(), "--max-new-tokens", "12", "--temperature", "1.5", "--seed", seed});
    REQUIRE(s.exit_code == 0);
    return nlohmann::json::parse(s.out)["output_ids"].get<std::vector<int32_t>>();
  };
  CHECK(sample("1") == sample("1"));
  CHECK(sample("1") != sample("2"));
}

TEST_CASE("model generate: usage and missing pieces are clear errors", "[cli][engine][generate]") {
  auto model = SharedPath("fixtures/qwen3_5-tiny-c/model").string();
  auto none = RunWarden({"model", "generate", "--model", model});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("--prompt"));
  // The tiny fixture ships no tokenizer: a text prompt cannot be tokenized.
  auto text = RunWarden({"model", "generate", "--model", model, "--prompt", "hello"});
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.err, Catch::Contains("tokenizer"));
}

// A byte-level tokenizer over ids 0..255 plus Qwen's chat markers, small enough for the tiny model's 2048-token
// vocabulary, so the whole --prompt path (template → tokenize → generate → decode → parse) runs end to end.
#include <fstream>

#include "runtime/engine/tokenizer/tokenizer_internal.h"

TEST_CASE("model generate: --prompt renders, tokenizes, generates and parses", "[cli][engine][generate]") {
  TempDir tmp;
  auto dir = tmp.path() / "model";
  std::filesystem::create_directories(dir);
  for (const auto& e : std::filesystem::directory_iterator(SharedPath("fixtures/qwen3_5-tiny-c/model"))) {
    std::filesystem::copy_file(e.path(), dir / e.path().filename());
  }
  std::filesystem::copy_file(SharedPath("fixtures/chat/qwen3_6_chat_template.jinja"), dir / "chat_template.jinja");
  nlohmann::json vocab = nlohmann::json::object();
  const auto& chars = warden::engine::detail::ByteToChar();
  for (int b = 0; b < 256; ++b) vocab[chars[static_cast<size_t>(b)]] = b;
  nlohmann::json added = nlohmann::json::array();
  int id = 1000;
  for (const char* tok : {"<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>"}) {
    const bool special = std::string(tok).find('|') != std::string::npos;
    added.push_back({{"id", id}, {"content", tok}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", special}});
    vocab[tok] = id++;
  }
  // The random model may emit any of its 2048 ids: give every other id a decodable piece (" w<id>").
  for (int i = 256; i < 2048; ++i) {
    if (i >= 1000 && i < id) continue;
    vocab[chars[' '] + "w" + std::to_string(i)] = i;
  }
  nlohmann::json tok = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  std::ofstream(dir / "tokenizer.json") << tok.dump();

  auto run = [&] {
    auto r = RunWarden({"--json", "model", "generate", "--model", dir.string(), "--prompt", "Hello, Warden",
                        "--max-new-tokens", "6", "--temperature", "0"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  };
  auto doc = run();
  // The prompt is the rendered template, byte for byte: its token count is the rendered length in bytes plus the
  // marker tokens, which `chat render` and `model tokenize` reproduce independently.
  TempDir cases;
  std::ofstream(cases.path() / "case.json")
      << R"({"messages": [{"role": "user", "content": "Hello, Warden"}], "tools": null, "kwargs": {"add_generation_prompt": true}})";
  auto rendered = RunWarden({"chat", "render", "--model", dir.string(), "--case", (cases.path() / "case.json").string()});
  REQUIRE(rendered.exit_code == 0);
  auto ids = RunWarden({"--json", "model", "tokenize", "--model", dir.string(), "--text", rendered.out});
  REQUIRE(ids.exit_code == 0);
  CHECK(doc["prompt_tokens"] == nlohmann::json::parse(ids.out)["count"]);
  CHECK(doc["output_ids"].size() <= 6);
  CHECK(doc.contains("text"));
  CHECK(doc["message"].contains("reasoning"));
  CHECK(doc["message"].contains("tool_calls"));
  CHECK(run()["output_ids"] == doc["output_ids"]);  // greedy is deterministic
}
