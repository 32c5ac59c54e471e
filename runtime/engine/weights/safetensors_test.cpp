// Safetensors reader: round trips, element conversions, every corruption the validator must refuse, sharded
// checkpoints through model.safetensors.index.json, and the shared fixture files.
#include "runtime/engine/weights/safetensors.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "runtime/engine/weights/weights_test_util.h"
#include "tests/support/test_support.h"

using namespace warden::engine;
using namespace warden::engine::testing;
using warden::Status;
using warden::testing::TempDir;

namespace {

std::vector<StTensor> SampleTensors() {
  std::vector<StTensor> t;
  t.push_back({"a.bf16", "BF16", {2, 3}, std::string("\x80\x3f\x00\x40\x40\x40\x80\xbf\x00\x00\x00\x80", 12)});
  t.push_back({"b.scalar", "F32", {}, F32Bytes({0.125f})});
  t.push_back({"c.f8", "F8_E4M3", {4}, std::string("\x38\x7e\x01\xb8", 4)});
  t.push_back({"d.u8", "U8", {2}, std::string("\x21\xf0", 2)});
  t.push_back({"e.i64", "I64", {1}, std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8)});
  t.push_back({"f.bool", "BOOL", {3}, std::string("\x01\x00\x01", 3)});
  t.push_back({"g.f64", "F64", {1}, std::string("\x00\x00\x00\x00\x00\x00\xf8\x3f", 8)});
  t.push_back({"h.i32", "I32", {2}, std::string("\x07\x00\x00\x00\xfe\xff\xff\xff", 8)});
  t.push_back({"i.f16", "F16", {2}, std::string("\x00\x3c\x01\x00", 4)});
  t.push_back({"j.i8", "I8", {1}, std::string("\xfd", 1)});
  t.push_back({"k.empty", "F32", {0, 4}, ""});
  return t;
}

// Opens `bytes` from a real file (the mmap path) and expects a Corruption naming the file and `needle`.
void ExpectCorrupt(const std::string& bytes, const std::string& needle) {
  TempDir tmp;
  auto path = tmp.path() / "bad.safetensors";
  WriteBytes(path, bytes);
  auto r = SafetensorsFile::Open(path);
  INFO("expected an error mentioning: " << needle);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kCorruption);
  CHECK_THAT(r.status().message(), Catch::Contains(path.string()) && Catch::Contains(needle));
  auto m = SafetensorsFile::FromBytes(bytes, "mem");
  CHECK_FALSE(m.ok());
}

std::string Header(const nlohmann::json& h) { return h.dump(); }

}  // namespace

TEST_CASE("safetensors round trip of every dtype, scalars and metadata", "[engine][weights]") {
  TempDir tmp;
  auto path = tmp.path() / "x.safetensors";
  WriteBytes(path, BuildSafetensors(SampleTensors(), {{"format", "pt"}}));
  auto f = SafetensorsFile::Open(path);
  REQUIRE(f.ok());
  CHECK(f->metadata().at("format") == "pt");
  REQUIRE(f->tensors().size() == 11);
  CHECK(f->tensors()[0].name == "a.bf16");  // file order
  const TensorView* a = f->Find("a.bf16");
  REQUIRE(a != nullptr);
  CHECK(a->dtype == DType::kBF16);
  CHECK(a->shape == std::vector<int64_t>{2, 3});
  CHECK(a->ShapeString() == "[2, 3]");
  CHECK(ToFloat(*a) == std::vector<float>{1.0f, 2.0f, 3.0f, -1.0f, 0.0f, -0.0f});
  const TensorView* s = f->Find("b.scalar");
  REQUIRE(s != nullptr);
  CHECK(s->shape.empty());
  CHECK(s->num_elements() == 1);
  CHECK(ToFloat(*s) == std::vector<float>{0.125f});
  CHECK(ToFloat(*f->Find("c.f8")) == std::vector<float>{1.0f, 448.0f, std::ldexp(1.0f, -9), -1.0f});
  CHECK(ToFloat(*f->Find("d.u8")) == std::vector<float>{33.0f, 240.0f});
  CHECK(ToFloat(*f->Find("e.i64")) == std::vector<float>{-1.0f});
  CHECK(ToFloat(*f->Find("f.bool")) == std::vector<float>{1.0f, 0.0f, 1.0f});
  CHECK(ToFloat(*f->Find("g.f64")) == std::vector<float>{1.5f});
  CHECK(ToFloat(*f->Find("h.i32")) == std::vector<float>{7.0f, -2.0f});
  CHECK(ToFloat(*f->Find("i.f16")) == std::vector<float>{1.0f, std::ldexp(1.0f, -24)});
  CHECK(ToFloat(*f->Find("j.i8")) == std::vector<float>{-3.0f});
  CHECK(f->Find("k.empty")->size_bytes == 0);
  CHECK(f->Find("missing") == nullptr);
  // The owned-buffer path validates identically.
  auto m = SafetensorsFile::FromBytes(BuildSafetensors(SampleTensors()), "mem");
  REQUIRE(m.ok());
  CHECK(m->tensors().size() == 11);
  CHECK(m->metadata().empty());
}

TEST_CASE("element conversions are exact", "[engine][weights]") {
  CHECK(Bf16ToFloat(0x3F80) == 1.0f);
  CHECK(Bf16ToFloat(0xC2F7) == -123.5f);
  CHECK(std::isinf(Bf16ToFloat(0x7F80)));
  CHECK(F16ToFloat(0x3C00) == 1.0f);
  CHECK(F16ToFloat(0x7BFF) == 65504.0f);
  CHECK(F16ToFloat(0x0001) == std::ldexp(1.0f, -24));
  CHECK(F16ToFloat(0x8400) == -std::ldexp(1.0f, -14));
  CHECK(std::isinf(F16ToFloat(0x7C00)));
  CHECK(std::isnan(F16ToFloat(0x7E00)));
  // E4M3FN: every code against the definition value = (-1)^s · 2^(e-7) · (1 + m/8), subnormal 2^-6 · m/8.
  for (int code = 0; code < 256; ++code) {
    const int s = code >> 7, e = (code >> 3) & 15, mnt = code & 7;
    const float v = F8E4M3ToFloat(static_cast<uint8_t>(code));
    INFO("code " << code);
    if (e == 15 && mnt == 7) {
      CHECK(std::isnan(v));
      continue;
    }
    double expect = e == 0 ? std::pow(2.0, -6) * (mnt / 8.0) : std::pow(2.0, e - 7) * (1.0 + mnt / 8.0);
    if (s) expect = -expect;
    CHECK(static_cast<double>(v) == expect);
  }
  CHECK(F8E4M3ToFloat(0x7E) == 448.0f);
  CHECK(F8E4M3ToFloat(0x01) == std::ldexp(1.0f, -9));
  CHECK(std::signbit(F8E4M3ToFloat(0x80)));
}

TEST_CASE("corrupt safetensors files fail cleanly naming file and tensor", "[engine][weights]") {
  const std::string good = BuildSafetensors({{"w", "F32", {2}, F32Bytes({1, 2})}, {"v", "F32", {1}, F32Bytes({3})}});
  SECTION("shorter than the length prefix") { ExpectCorrupt("abc", "shorter than the 8-byte header length"); }
  SECTION("truncated data section") { ExpectCorrupt(good.substr(0, good.size() - 2), "\"v\""); }
  SECTION("header length past end of file") {
    std::string b = good;
    b[0] = static_cast<char>(0xF0);
    b[1] = static_cast<char>(0x7F);
    ExpectCorrupt(b, "runs past the end of the file");
  }
  SECTION("header length above the cap") {
    std::string b = good;
    b[5] = 1;
    ExpectCorrupt(b, "exceeds");
  }
  SECTION("header is not JSON") { ExpectCorrupt(RawSafetensors("{\"w\": [1,", "xxxx"), "not valid JSON"); }
  SECTION("header is not an object") { ExpectCorrupt(RawSafetensors("[1,2]", ""), "not a JSON object"); }
  SECTION("offsets past the end") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}}}),
                                 std::string(4, '\0')),
                  "\"w\": data_offsets [0, 8] run past the end");
  }
  SECTION("overlapping ranges") {
    ExpectCorrupt(RawSafetensors(Header({{"a", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}},
                                         {"b", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {4, 8}}}}}),
                                 std::string(8, '\0')),
                  "overlap");
  }
  SECTION("a hole between tensors") {
    ExpectCorrupt(RawSafetensors(Header({{"a", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}},
                                         {"b", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {8, 12}}}}}),
                                 std::string(12, '\0')),
                  "tensor \"b\": starts at byte 8");
  }
  SECTION("trailing bytes after the last tensor") {
    ExpectCorrupt(RawSafetensors(Header({{"a", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}}}),
                                 std::string(9, '\0')),
                  "tensors cover 4 bytes of the 9-byte data section");
  }
  SECTION("wrong dtype string") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "FLOAT32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}}}),
                                 std::string(4, '\0')),
                  "tensor \"w\": unknown dtype \"FLOAT32\"");
  }
  SECTION("shape and size disagree") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "BF16"}, {"shape", {3}}, {"data_offsets", {0, 4}}}}}),
                                 std::string(4, '\0')),
                  "tensor \"w\": shape [3] of BF16 needs 6 bytes");
  }
  SECTION("negative or fractional shape") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "U8"}, {"shape", {-1}}, {"data_offsets", {0, 1}}}}}),
                                 std::string(1, '\0')),
                  "tensor \"w\": shape entry -1");
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "U8"}, {"shape", {1.5}}, {"data_offsets", {0, 1}}}}}),
                                 std::string(1, '\0')),
                  "tensor \"w\"");
  }
  SECTION("shape overflows") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "F32"},
                                                {"shape", {1ULL << 40, 1ULL << 40}},
                                                {"data_offsets", {0, 4}}}}}),
                                 std::string(4, '\0')),
                  "overflows");
  }
  SECTION("missing fields") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"shape", {1}}, {"data_offsets", {0, 4}}}}}), std::string(4, '\0')),
                  "tensor \"w\": missing string field \"dtype\"");
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "F32"}, {"data_offsets", {0, 4}}}}}), std::string(4, '\0')),
                  "tensor \"w\": missing array field \"shape\"");
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0}}}}}),
                                 std::string(4, '\0')),
                  "data_offsets");
  }
  SECTION("end before begin") {
    ExpectCorrupt(RawSafetensors(Header({{"w", {{"dtype", "U8"}, {"shape", {0}}, {"data_offsets", {4, 0}}}}}),
                                 std::string(4, '\0')),
                  "end before they begin");
  }
  SECTION("duplicate tensor names") {
    ExpectCorrupt(RawSafetensors(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                 R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                 std::string(2, '\0')),
                  "tensor \"w\": name appears twice");
  }
  SECTION("metadata that is not a string map") {
    ExpectCorrupt(RawSafetensors(R"({"__metadata__":{"format":1}})", ""), "__metadata__");
  }
}

TEST_CASE("sharded checkpoints are read through the index", "[engine][weights]") {
  TempDir tmp;
  const auto dir = tmp.path();
  WriteBytes(dir / "model-00001-of-00002.safetensors",
             BuildSafetensors({{"z.w", "F32", {1}, F32Bytes({1})}, {"a.w", "F32", {2}, F32Bytes({2, 3})}}));
  WriteBytes(dir / "model-00002-of-00002.safetensors", BuildSafetensors({{"m.w", "BF16", {1}, std::string("\x80\x3f", 2)}}));
  nlohmann::json index = {{"metadata", {{"total_size", 14}}},
                          {"weight_map",
                           {{"z.w", "model-00001-of-00002.safetensors"},
                            {"a.w", "model-00001-of-00002.safetensors"},
                            {"m.w", "model-00002-of-00002.safetensors"}}}};
  WriteBytes(dir / "model.safetensors.index.json", index.dump());
  {
    std::vector<std::string> progress;
    auto ck = Checkpoint::Open(dir, [&](size_t i, size_t n, const std::string& name) {
      progress.push_back(std::to_string(i) + "/" + std::to_string(n) + " " + name);
    });
    REQUIRE(ck.ok());
    CHECK(progress.size() == 2);
    REQUIRE(ck->tensors().size() == 3);
    // Stable, shard-independent order: by name.
    CHECK(ck->tensors()[0].name == "a.w");
    CHECK(ck->tensors()[1].name == "m.w");
    CHECK(ck->tensors()[2].name == "z.w");
    CHECK(ck->shard_paths()[ck->Find("m.w")->shard].filename() == "model-00002-of-00002.safetensors");
    CHECK(ToFloat(*ck->Find("m.w")) == std::vector<float>{1.0f});
    CHECK(ck->total_tensor_bytes() == 14);
    auto missing = ck->Get("nope");
    CHECK(missing.status().code() == Status::Code::kNotFound);
    CHECK_THAT(missing.status().message(), Catch::Contains("\"nope\""));
  }
  SECTION("index naming a missing shard") {
    index["weight_map"]["q.w"] = "model-00003-of-00002.safetensors";
    WriteBytes(dir / "model.safetensors.index.json", index.dump());
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK(ck.status().code() == Status::Code::kNotFound);
    CHECK_THAT(ck.status().message(),
               Catch::Contains("model-00003-of-00002.safetensors") && Catch::Contains("\"q.w\""));
  }
  SECTION("index naming a tensor absent from its shard") {
    index["weight_map"]["q.w"] = "model-00002-of-00002.safetensors";
    WriteBytes(dir / "model.safetensors.index.json", index.dump());
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK(ck.status().code() == Status::Code::kCorruption);
    CHECK_THAT(ck.status().message(), Catch::Contains("\"q.w\"") && Catch::Contains("model-00002-of-00002"));
  }
  SECTION("shard tensor not listed in the index") {
    index["weight_map"].erase("a.w");
    WriteBytes(dir / "model.safetensors.index.json", index.dump());
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK_THAT(ck.status().message(), Catch::Contains("\"a.w\"") && Catch::Contains("not listed"));
  }
  SECTION("index mapping a tensor to the wrong shard") {
    index["weight_map"]["a.w"] = "model-00002-of-00002.safetensors";
    WriteBytes(dir / "model.safetensors.index.json", index.dump());
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK_THAT(ck.status().message(), Catch::Contains("\"a.w\""));
  }
  SECTION("shard names may not leave the folder") {
    index["weight_map"]["a.w"] = "../model-00001-of-00002.safetensors";
    WriteBytes(dir / "model.safetensors.index.json", index.dump());
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK_THAT(ck.status().message(), Catch::Contains("not a plain file name"));
  }
  SECTION("index that is not JSON") {
    WriteBytes(dir / "model.safetensors.index.json", "{");
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK_THAT(ck.status().message(), Catch::Contains("model.safetensors.index.json"));
  }
  SECTION("a corrupt shard names the shard file") {
    std::string bytes = ReadBytes(dir / "model-00002-of-00002.safetensors");
    WriteBytes(dir / "model-00002-of-00002.safetensors", bytes.substr(0, bytes.size() - 1));
    auto ck = Checkpoint::Open(dir);
    REQUIRE_FALSE(ck.ok());
    CHECK_THAT(ck.status().message(), Catch::Contains("model-00002-of-00002.safetensors") && Catch::Contains("\"m.w\""));
  }
}

TEST_CASE("folders without an index: one file or every *.safetensors", "[engine][weights]") {
  TempDir tmp;
  auto none = Checkpoint::Open(tmp.path());
  CHECK(none.status().code() == Status::Code::kNotFound);
  WriteBytes(tmp.path() / "b.safetensors", BuildSafetensors({{"x", "U8", {1}, "\x01"}}));
  WriteBytes(tmp.path() / "a.safetensors", BuildSafetensors({{"x", "U8", {1}, "\x02"}}));
  auto dup = Checkpoint::Open(tmp.path());
  REQUIRE_FALSE(dup.ok());
  CHECK_THAT(dup.status().message(), Catch::Contains("\"x\" appears in both"));
  WriteBytes(tmp.path() / "b.safetensors", BuildSafetensors({{"y", "U8", {1}, "\x01"}}));
  auto two = Checkpoint::Open(tmp.path());
  REQUIRE(two.ok());
  CHECK(two->tensors().size() == 2);
  auto single = Checkpoint::Open(tmp.path() / "a.safetensors");
  REQUIRE(single.ok());
  CHECK(single->tensors().size() == 1);
}

TEST_CASE("every fixture safetensors file validates", "[engine][weights]") {
  for (const char* rel : {"qwen3_5-tiny-a/model/model.safetensors", "qwen3_5-tiny-a/model-nvfp4/model.safetensors",
                          "qwen3_5-tiny-a/expected.safetensors", "qwen3_5-tiny-c/model/model.safetensors",
                          "qwen3_5-tiny-c/model-mixed/model.safetensors", "qwen3_5-tiny-c/model-nvfp4/model.safetensors",
                          "qwen3_5-tiny-c/expected.safetensors"}) {
    INFO(rel);
    auto f = SafetensorsFile::Open(Fixture(rel));
    REQUIRE(f.ok());
    CHECK(f->metadata().at("format") == "pt");
    uint64_t bytes = 0;
    for (const auto& t : f->tensors()) bytes += t.size_bytes;
    CHECK(8 + f->header_size_bytes() + bytes == f->file_size_bytes());
  }
  auto e = SafetensorsFile::Open(Fixture("qwen3_5-tiny-c/expected.safetensors"));
  REQUIRE(e.ok());
  const TensorView* ids = e->Find("text.input_ids");
  REQUIRE(ids != nullptr);
  CHECK(ids->dtype == DType::kI32);
  CHECK(ids->shape == std::vector<int64_t>{150});
  for (float v : ToFloat(*ids)) CHECK((v >= 0 && v < 2000));
}
