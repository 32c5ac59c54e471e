// Unit tests of request normalisation (normalize.cpp): lexical paths, symlink resolution inside a sandbox root,
// hosts and punycode, identifiers, and the requests that must be rejected before any rule is consulted.
#include <catch2/catch.hpp>

#include "policies/policy_internal.h"
#include "tests/support/test_support.h"

namespace warden::policy::detail {
namespace {

using nlohmann::json;

TEST_CASE("lexical normalisation collapses ., .. and duplicate slashes, never above /", "[policies][normalize]") {
  CHECK(LexicalNormalize("/a/./b//c/../d") == "/a/b/d");
  CHECK(LexicalNormalize("/../../etc") == "/etc");
  CHECK(LexicalNormalize("/") == "/");
  CHECK(LexicalNormalize("//x//") == "/x");
}

TEST_CASE("symlinks resolve inside the sandbox root: absolute targets restart there, loops are errors",
          "[policies][normalize]") {
  testing::TempDir root;
  namespace fs = std::filesystem;
  fs::create_directories(root.path() / "w/sub");
  fs::create_symlink("/etc", root.path() / "w/abs");
  fs::create_symlink("../..", root.path() / "w/sub/up");
  fs::create_symlink("loop2", root.path() / "w/loop1");
  fs::create_symlink("loop1", root.path() / "w/loop2");
  fs::create_symlink("sub", root.path() / "w/rel");
  std::string out;
  CHECK(ResolveInRoot(root.path().string(), "/w/abs/passwd", &out).empty());
  CHECK(out == "/etc/passwd");
  CHECK(ResolveInRoot(root.path().string(), "/w/sub/up/x", &out).empty());
  CHECK(out == "/x");
  CHECK(ResolveInRoot(root.path().string(), "/w/rel/new/file", &out).empty());
  CHECK(out == "/w/sub/new/file");
  CHECK(ResolveInRoot(root.path().string(), "/w/missing/../x", &out).empty());  // lexical after a missing part
  CHECK(out == "/w/x");
  CHECK(ResolveInRoot(root.path().string(), "/w/loop1", &out).find("too many levels") != std::string::npos);
}

TEST_CASE("hosts: lowercase, one trailing dot, punycode for non-ASCII labels", "[policies][normalize]") {
  std::string err;
  CHECK(NormalizeHost("API.GitHub.COM.", &err) == "api.github.com");
  CHECK(NormalizeHost("\xd0\xb0pi.github.com", &err) == "xn--pi-6kc.github.com");
  CHECK(NormalizeHost("b\xc3\xbc" "cher.de", &err) == "xn--bcher-kva.de");  // RFC 3492 sample
  CHECK(NormalizeHost("a..b", &err).empty());
  CHECK(NormalizeHost("a.com..", &err).empty());
  CHECK(NormalizeHost("a b.com", &err).empty());
  CHECK(NormalizeHost(std::string("\xff\xfe", 2) + ".com", &err).empty());
}

std::string Invalid(const json& req) {
  Request r;
  return Normalize(req, LoadOptions{"/", false, {}}, &r);
}

TEST_CASE("malformed requests are rejected with the reason", "[policies][normalize]") {
  const json ok{{"principal", "acme/agent/bot"}, {"action", "fs.read"}, {"resource", {{"path", "/workspace/a"}}}};
  CHECK(Invalid(ok).empty());
  auto with = [&](const char* key, json v) {
    json r = ok;
    r[key] = std::move(v);
    return Invalid(r);
  };
  CHECK(with("action", "fs.raed").find("unknown action") != std::string::npos);
  CHECK(with("principal", "acme").find("tenant/kind/name") != std::string::npos);
  CHECK(with("principal", "acme/agent/b\xc3\xb6t").find("identifier") != std::string::npos);
  CHECK(with("tenant", "other").find("differs") != std::string::npos);
  CHECK(with("resource", {{"path", std::string(5000, 'a')}}).find("4096") != std::string::npos);
  CHECK(with("resource", {{"path", 7}}).find("string") != std::string::npos);
  CHECK(with("task", {{"cwd", "relative"}}).find("absolute") != std::string::npos);
  CHECK(Invalid(json::array()).find("object") != std::string::npos);
  json net{{"principal", "acme/agent/bot"}, {"action", "net.connect"}, {"resource", {{"host", "a.com"}, {"port", 70000}}}};
  CHECK(Invalid(net).find("port") != std::string::npos);
  json tool{{"principal", "acme/agent/bot"}, {"action", "tool.call"}, {"resource", {{"tool", "Sh\xd0\xb5ll"}}}};
  CHECK(Invalid(tool).find("identifier") != std::string::npos);
}

TEST_CASE("normalised requests carry lowercased identifiers and the tenant", "[policies][normalize]") {
  Request r;
  REQUIRE(Normalize({{"principal", "ACME/Agent/Bot"}, {"action", "TOOL.CALL"}, {"resource", {{"tool", "Shell"}}}},
                    LoadOptions{}, &r)
              .empty());
  CHECK(r.json["principal"] == "acme/agent/bot");
  CHECK(r.json["tenant"] == "acme");
  CHECK(r.json["action"] == "tool.call");
  CHECK(r.tool == "shell");
}

}  // namespace
}  // namespace warden::policy::detail
