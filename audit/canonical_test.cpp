// Canonical JSON and hash chain (policy-audit.md B.2 "Large or sensitive values", B.3; audit cases R16, R18, R19).
#include "audit/audit_internal.h"

#include <catch2/catch.hpp>

namespace warden::audit::detail {
namespace {

TEST_CASE("canonical body sorts keys and drops whitespace regardless of input order", "[audit][canonical]") {
  auto a = nlohmann::json::parse(R"({"b": 1, "a": {"y": [true, null, "x"], "x": -5}})");
  auto b = nlohmann::json::parse("{\"a\":{\"x\":-5,\n \"y\":[true,null,\"x\"]},\"b\":1}");
  auto ca = CanonicalBody(a, 4096, 65536);
  auto cb = CanonicalBody(b, 4096, 65536);
  REQUIRE(ca.ok());
  REQUIRE(cb.ok());
  CHECK(*ca == R"({"a":{"x":-5,"y":[true,null,"x"]},"b":1})");
  CHECK(*ca == *cb);
}

TEST_CASE("golden vectors pin the canonical form and both hashes across runs and builds", "[audit][canonical]") {
  RowFields row;
  row.event_id = "01890a5d-ac96-774b-bcce-b302099a8057";
  row.ts_ns = 1'700'000'000'123'456'789;
  row.kind = "policy.decision";
  row.tenant_id = "acme";
  row.principal_id = "alice";
  row.task_id = "t1";
  row.action = "net.connect";
  row.decision = "deny";
  row.body = *CanonicalBody(nlohmann::json{{"z", "\u00e9\t\"q\""}, {"a", 1}}, 4096, 65536);
  std::string text;
  RowContentText(row, text);
  CHECK(text ==
        "{\"action\":\"net.connect\",\"body\":{\"a\":1,\"z\":\"\u00e9\\t\\\"q\\\"\"},\"decision\":\"deny\","
        "\"event_id\":\"01890a5d-ac96-774b-bcce-b302099a8057\",\"kind\":\"policy.decision\",\"policy_set\":null,"
        "\"principal_id\":\"alice\",\"skill\":null,\"task_id\":\"t1\",\"tenant_id\":\"acme\","
        "\"ts_ns\":1700000000123456789}");
  // The canonical text itself is valid JSON that parses back to the same fields.
  auto parsed = nlohmann::json::parse(text);
  CHECK(parsed["body"]["z"] == "\u00e9\t\"q\"");
  CHECK(parsed.dump() == text);
  const Hash content = ContentHash(row);
  CHECK(Hex(content) == Hex(Sha256(text)));
  Hash genesis{};
  CHECK(Hex(ChainHash(genesis, 1, content)) == "b7e3e0dbc3ad884d7e394fab439dd8b8638c7b761a13c06598974e900e43dd38");
}

TEST_CASE("chain hash binds seq and prev", "[audit][canonical]") {
  Hash prev{}, content = Sha256("x");
  const Hash h1 = ChainHash(prev, 1, content);
  CHECK(h1 != ChainHash(prev, 2, content));
  prev[31] = 1;
  CHECK(h1 != ChainHash(prev, 1, content));
}

TEST_CASE("numbers must be safe integers - integral floats become integers", "[audit][canonical]") {
  CHECK(*CanonicalBody(nlohmann::json{{"ms", 12.0}}, 4096, 65536) == R"({"ms":12})");
  auto frac = CanonicalBody(nlohmann::json{{"ms", 1.5}}, 4096, 65536);
  REQUIRE_FALSE(frac.ok());
  CHECK(frac.status().code() == Status::Code::kInvalidArgument);
  CHECK(frac.status().message().find("$.ms") != std::string::npos);
  auto big = CanonicalBody(nlohmann::json{{"n", {{"deep", int64_t{1} << 53}}}}, 4096, 65536);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("$.n.deep") != std::string::npos);
  CHECK(CanonicalBody(nlohmann::json{{"n", (int64_t{1} << 53) - 1}}, 4096, 65536).ok());
  CHECK_FALSE(CanonicalBody(nlohmann::json::array({1}), 4096, 65536).ok());
  CHECK(*CanonicalBody(nlohmann::json(nullptr), 4096, 65536) == "{}");
}

TEST_CASE("R16: an over-long string is capped with its head, length and the SHA-256 of the original",
          "[audit][canonical]") {
  std::string big(10 * 1024 * 1024, 'x');
  big[0] = 'A';
  // A two-byte character straddles the 1 KiB head boundary: the head must not split it.
  big[1023] = '\xc3';
  big[1024] = '\xa9';
  auto c = CanonicalBody(nlohmann::json{{"args", {{"blob", big}}}}, 4096, 65536);
  REQUIRE(c.ok());
  CHECK(c->size() < 4096);
  auto j = nlohmann::json::parse(*c);
  const auto& t = j["args"]["blob"]["$trunc"];
  CHECK(t["len"] == static_cast<int64_t>(big.size()));
  CHECK(t["sha256"] == Hex(Sha256(big)));
  CHECK(t["head"].get<std::string>().size() == 1023);
  CHECK(t["head"].get<std::string>()[0] == 'A');
  // Exactly at the cap stays inline.
  auto at_cap = CanonicalBody(nlohmann::json{{"s", std::string(4096, 'y')}}, 4096, 65536);
  CHECK(nlohmann::json::parse(*at_cap)["s"].is_string());
}

TEST_CASE("a body over the body cap is replaced as a whole", "[audit][canonical]") {
  nlohmann::json body;
  for (int i = 0; i < 100; ++i) {
    std::string key = std::to_string(i);
    key.insert(key.begin(), 'k');
    body[key] = std::string(1000, static_cast<char>('a' + i % 26));
  }
  auto full = CanonicalBody(body, 4096, 1u << 20);
  auto c = CanonicalBody(body, 4096, 65536);
  REQUIRE(c.ok());
  CHECK(c->size() < 2048);
  auto j = nlohmann::json::parse(*c);
  CHECK(j["$trunc"]["len"] == static_cast<int64_t>(full->size()));
  CHECK(j["$trunc"]["sha256"] == Hex(Sha256(*full)));
}

TEST_CASE("R18: invalid UTF-8 becomes $b64 and control characters are escaped, stably", "[audit][canonical]") {
  const std::string bad = std::string("ok\xff\xfe", 4);
  auto c1 = CanonicalBody(nlohmann::json{{"arg", bad}, {"ctl", std::string("a\x01\x1f" "b")}}, 4096, 65536);
  auto c2 = CanonicalBody(nlohmann::json{{"ctl", std::string("a\x01\x1f" "b")}, {"arg", bad}}, 4096, 65536);
  REQUIRE(c1.ok());
  CHECK(*c1 == *c2);
  CHECK(*c1 == R"({"arg":{"$b64":"b2v//g=="},"ctl":"a\u0001\u001fb"})");
  CHECK_FALSE(ValidUtf8("\xc0\x80"));          // overlong NUL
  CHECK_FALSE(ValidUtf8("\xed\xa0\x80"));      // surrogate
  CHECK(ValidUtf8("\xf0\x9f\x98\x80 ascii"));  // U+1F600
}

TEST_CASE("event ids are UUIDv7 with the time in front", "[audit][canonical]") {
  const std::string a = NewEventId(1'700'000'000'000'000'000);
  const std::string b = NewEventId(1'700'000'000'000'000'000);
  CHECK(a.size() == 36);
  CHECK(a[14] == '7');
  CHECK(a != b);
  CHECK(a.substr(0, 13) == b.substr(0, 13));  // same millisecond prefix
  CHECK(NewEventId(1'700'000'001'000'000'000) > a);
}

TEST_CASE("hex and base64 round trip and reject bad input", "[audit][canonical]") {
  uint8_t raw[3] = {0x00, 0xab, 0xff};
  CHECK(Hex(raw, 3) == "00abff");
  uint8_t back[3];
  CHECK(FromHex("00ABff", back, 3));
  CHECK(back[1] == 0xab);
  CHECK_FALSE(FromHex("00abfg", back, 3));
  std::string decoded;
  CHECK(FromBase64(Base64(raw, 3), decoded));
  CHECK(decoded == std::string("\x00\xab\xff", 3));
  CHECK_FALSE(FromBase64("!!!", decoded));
}

}  // namespace
}  // namespace warden::audit::detail

namespace warden::audit::detail {
namespace {

TEST_CASE("IsCanonicalBody accepts exactly what CanonicalBody writes", "[audit][canonical]") {
  for (const char* ok : {R"({})", R"({"a":[],"b":{},"c":[1,-2,0,true,false,null,"x"]})",
                         R"({"s":"a\"b\\c\n\t\u0001\u001f\u007f/é"})", R"({"n":9007199254740991,"m":-9007199254740991})",
                         R"({"A":1,"B":2,"a":3})"}) {
    INFO(ok);
    auto parsed = nlohmann::json::parse(ok);
    CHECK(IsCanonicalBody(ok) == (parsed.dump() == ok));
  }
  CHECK(IsCanonicalBody(R"({"s":"a\"b\\c\n\t\u0001\u001f/é"})"));
  for (const char* bad : {R"({"b":1,"a":2})", R"({"a":1,"a":2})", R"({ "a":1})", R"({"a": 1})", R"({"a":1.0})",
                          R"({"a":1e3})", R"({"a":-0})", R"({"a":01})", R"({"a":9007199254740992})",
                          R"({"a":"\/"})", R"({"a":"\u0041"})", R"({"a":"\u000a"})", R"({"a":"\u001F"})",
                          R"([1])", R"({"a":1}x)", R"({"a":tru})", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", ""}) {
    INFO(bad);
    CHECK_FALSE(IsCanonicalBody(bad));
  }
  // Every sample body, written by the writer's path, passes.
  for (const auto& body : {nlohmann::json{{"z", {1, 2}}, {"a", "\x01"}}, nlohmann::json{{"k", nlohmann::json::object()}}}) {
    CHECK(IsCanonicalBody(*CanonicalBody(body, 4096, 65536)));
  }
}

}  // namespace
}  // namespace warden::audit::detail
