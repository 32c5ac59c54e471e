// End-to-end tests of `warden model info`: text and JSON on every fixture folder, the per-Linear format list,
// --context, and failures (missing folder, bad config, corrupt weights, bad flags) with their exit codes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;

namespace {
std::string Fx(const std::string& rel) { return SharedPath("fixtures/" + rel).string(); }

void CopyDir(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(e.path(), to / e.path().filename());
    std::filesystem::permissions(to / e.path().filename(), std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
  }
}
}  // namespace

TEST_CASE("model info text summary", "[cli][model]") {
  auto r = RunWarden({"model", "info", Fx("qwen3_5-tiny-c/model-mixed"), "--context", "4096"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Qwen3_5ForConditionalGeneration") && Catch::Contains("MIXED_PRECISION") &&
                        Catch::Contains("[L L L F] x 2") && Catch::Contains("W4A16_NVFP4 (25)") &&
                        Catch::Contains("FP8 (26)") && Catch::Contains("BF16 (22)") &&
                        Catch::Contains("model.language_model.layers.{0-7}.mlp.gate_proj") &&
                        Catch::Contains("512 B/token, fp8") && Catch::Contains("4096 tokens"));
  CHECK(r.err.empty());  // no progress output when stderr is not a terminal
  auto help = RunWarden({"model", "info", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--context"));
  auto group_help = RunWarden({"model", "--help"});
  CHECK_THAT(group_help.out, Catch::Contains("info"));
}

TEST_CASE("model info --json on every fixture folder", "[cli][model]") {
  for (const char* rel : {"qwen3_5-tiny-a/model", "qwen3_5-tiny-a/model-nvfp4", "qwen3_5-tiny-c/model",
                          "qwen3_5-tiny-c/model-mixed", "qwen3_5-tiny-c/model-nvfp4"}) {
    INFO(rel);
    auto r = RunWarden({"--json", "model", "info", Fx(rel)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["architecture"] == "Qwen3_5ForConditionalGeneration");
    CHECK(doc["layers"]["count"] == 8);
    CHECK(doc["layers"]["types"].size() == 8);
    CHECK(doc["vision"] == true);
    // Default context is max_position_embeddings.
    CHECK(doc["memory"]["context_tokens"] == (std::string(rel).find("tiny-a") != std::string::npos ? 4096 : 8192));
    REQUIRE(doc["linears"].is_array());
    std::map<std::string, int64_t> counts;
    for (const auto& l : doc["linears"]) {
      REQUIRE(l.contains("name"));
      counts[l["format"].get<std::string>()]++;
    }
    for (const auto& [format, n] : counts) CHECK(doc["formats"][format]["linears"] == n);
    uint64_t bytes = 0;
    for (const auto& [k, v] : doc["formats"].items()) bytes += v["bytes"].get<uint64_t>();
    CHECK(bytes == doc["checkpoint"]["bytes"].get<uint64_t>());
  }
  auto plain = RunWarden({"--json", "model", "info", Fx("qwen3_5-tiny-c/model")});
  REQUIRE(plain.exit_code == 0);
  auto pdoc = nlohmann::json::parse(plain.out);
  CHECK(pdoc["generation_config"]["eos_token_id"].empty());  // the fixture's generation_config.json has none
  CHECK(pdoc["preprocessor_config"].is_null());
  auto r = RunWarden({"model", "info", Fx("qwen3_5-tiny-c/model-nvfp4"), "--json", "--context", "0"});
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["quantization"]["quant_algo"] == "NVFP4");
  CHECK(doc["generation_config"].is_null());
  CHECK(doc["quantization"]["kv_cache_quant_algo"].is_null());
  CHECK(doc["memory"]["kv_cache_bytes"] == 0);
  CHECK(doc["memory"]["kv_dtype"] == "bfloat16");
  for (const auto& l : doc["linears"]) {
    const std::string name = l["name"];
    const bool quantised = name.rfind("model.language_model.layers.", 0) == 0 &&
                           name.find("in_proj_a") == std::string::npos && name.find("in_proj_b") == std::string::npos;
    INFO(name);
    CHECK(l["format"] == (quantised ? "NVFP4" : "BF16"));
  }
}

TEST_CASE("model info failures", "[cli][model]") {
  TempDir tmp;
  auto missing = RunWarden({"model", "info", (tmp.path() / "nope").string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nope") && Catch::Contains("hint:"));

  const auto bad = tmp.path() / "bad";
  CopyDir(SharedPath("fixtures/qwen3_5-tiny-c/model"), bad);
  {
    auto cfg = nlohmann::json::parse(std::ifstream(bad / "config.json"));
    cfg["text_config"]["num_key_value_heads"] = 3;
    std::ofstream(bad / "config.json") << cfg.dump();
  }
  auto r = RunWarden({"--json", "model", "info", bad.string()});
  CHECK(r.exit_code == 1);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["error"]["code"] == "invalid_argument");
  CHECK_THAT(doc["error"]["message"].get<std::string>(),
             Catch::Contains("config.json") && Catch::Contains("text_config.num_key_value_heads"));

  const auto trunc = tmp.path() / "trunc";
  CopyDir(SharedPath("fixtures/qwen3_5-tiny-c/model"), trunc);
  std::filesystem::resize_file(trunc / "model.safetensors", std::filesystem::file_size(trunc / "model.safetensors") - 10);
  auto t = RunWarden({"model", "info", trunc.string()});
  CHECK(t.exit_code == 1);
  CHECK_THAT(t.err, Catch::Contains("model.safetensors") && Catch::Contains("tensor \""));

  CHECK(RunWarden({"model", "info"}).exit_code == 2);
  CHECK(RunWarden({"model", "info", Fx("qwen3_5-tiny-c/model"), "--context", "-5"}).exit_code == 2);
  CHECK(RunWarden({"model", "info", Fx("qwen3_5-tiny-c/model"), "--context", "many"}).exit_code == 2);
}

TEST_CASE("model info on a sharded copy", "[cli][model]") {
  TempDir tmp;
  const auto dir = tmp.path() / "sharded";
  CopyDir(SharedPath("fixtures/qwen3_5-tiny-c/model-nvfp4"), dir);
  // Two shards written by moving tensors, through the index the way HF lays them out.
  auto single = RunWarden({"--json", "model", "info", dir.string()});
  REQUIRE(single.exit_code == 0);
  auto before = nlohmann::json::parse(single.out);
  std::filesystem::rename(dir / "model.safetensors", dir / "model-00001-of-00001.safetensors");
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  auto listing = RunWarden({"--json", "model", "info", dir.string()});
  CHECK(listing.exit_code == 0);  // no index: every *.safetensors file is read
  std::ifstream f(dir / "model-00001-of-00001.safetensors", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  for (const auto& [name, v] : header.items())
    if (name != "__metadata__") index["weight_map"][name] = "model-00001-of-00001.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  auto r = RunWarden({"--json", "model", "info", dir.string()});
  REQUIRE(r.exit_code == 0);
  auto after = nlohmann::json::parse(r.out);
  CHECK(after["linears"] == before["linears"]);
  CHECK(after["checkpoint"]["shards"] == 1);
  CHECK(r.err.empty());
  // An index naming a shard that is not there.
  index["weight_map"]["lm_head.weight"] = "model-00002-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  auto bad = RunWarden({"model", "info", dir.string()});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("model-00002-of-00002.safetensors") && Catch::Contains("lm_head.weight"));
}
