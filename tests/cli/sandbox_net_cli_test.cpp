// End-to-end runs of `warden sandbox run --allow-net` (issue 7, profile net): a program fetches from a loopback
// FakeUpstream through the supervisor's proxy, the result carries the net records, a denied host is a 403 the
// program sees, bad HOST:PORT forms are usage errors (exit 2), and --help documents the flags.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/doubles/fake_upstream.h"
#include "tests/support/test_support.h"

namespace warden {
namespace {

using testing::RunWarden;

constexpr const char* kFetch =
    "import sys, urllib.request, urllib.error\n"
    "for url in sys.argv[1:]:\n"
    "    try:\n"
    "        print(url, urllib.request.urlopen(url, timeout=5).read().decode())\n"
    "    except urllib.error.HTTPError as e:\n"
    "        print(url, e.code, e.read().decode().strip())\n";

TEST_CASE("sandbox run --allow-net reaches a listed host through the proxy and records every request",
          "[sandbox][cli][net]") {
  testing::FakeUpstream upstream;
  const std::string ok = "http://" + upstream.address() + "/data";
  auto r = RunWarden({"--json", "sandbox", "run", "--allow-net", upstream.address(), "--timeout", "20", "--",
                      "python3", "-c", kFetch, ok, "http://blocked.example/"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["layers"]["net"] == "proxy");
  CHECK(j["output"]["stdout"]["text"] ==
        ok + " {\"fake_upstream\": \"GET\"}\nhttp://blocked.example/ 403 warden sandbox proxy: blocked.example:80 is "
             "not in this task's network allowlist; the task's policy must allow net.connect to it (warden sandbox "
             "run --allow-net blocked.example:80)\n");
  REQUIRE(j["violations"].size() == 2);
  CHECK(j["violations"][0]["kind"] == "net");
  CHECK(j["violations"][0]["host"] == "127.0.0.1");
  CHECK(j["violations"][0]["port"] == upstream.port());
  CHECK(j["violations"][0]["action"] == "allow");
  CHECK(j["violations"][1]["host"] == "blocked.example");
  CHECK(j["violations"][1]["action"] == "deny");
  CHECK(upstream.requests() == std::vector<std::string>{"GET /data HTTP/1.1"});

  // Text mode: the program's output, then the summary naming the proxy decisions.
  auto t = RunWarden({"sandbox", "run", "--allow-net", upstream.address(), "--", "python3", "-c", kFetch, ok});
  CHECK(t.exit_code == 0);
  CHECK_THAT(t.err, Catch::Contains("net " + upstream.address() + "->allow"));
}

TEST_CASE("sandbox run network flags: bad forms exit 2, --help documents them", "[sandbox][cli][net]") {
  for (const char* bad : {"example.com", "*.com:443", "example.com:99999"}) {
    auto r = RunWarden({"sandbox", "run", "--allow-net", bad, "--", "true"});
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(bad) && Catch::Contains("expected HOST:PORT"));
  }
  auto up = RunWarden({"sandbox", "run", "--upstream-proxy", "nope", "--", "true"});
  CHECK(up.exit_code == 2);
  auto help = RunWarden({"sandbox", "run", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--allow-net") && Catch::Contains("--deny-net") &&
                           Catch::Contains("--upstream-proxy") && Catch::Contains("HTTPS_PROXY"));
}

}  // namespace
}  // namespace warden
