// `warden skills run http-fetch` end to end in the sandbox's network profile (issue 7, wiring): a policy folder that
// allows the skill and net.connect to its declared hosts, the built-in catalog, the sandbox's proxy handing the
// allowed request to a loopback FakeUpstream (the site's egress proxy, --upstream-proxy), and the proxy's
// decisions inside the audited sandbox.run record.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/doubles/fake_upstream.h"
#include "tests/support/test_support.h"

namespace {

using nlohmann::json;
using warden::testing::RunWarden;

constexpr const char* kNetPolicy = R"(
[policy]
id = "fetch"
tenant = "*"
description = "http-fetch may run and reach the hosts its manifest declares"

[[rule]]
id = "allow-http-fetch"
effect = "allow"
actions = ["skill.exec"]
skills = ["http-fetch"]
reason = "the test allows the fetch skill"

[[rule]]
id = "allow-fetch-hosts"
effect = "allow"
actions = ["net.connect"]
skills = ["http-fetch"]
hosts = ["example.com", "api.github.com", "raw.githubusercontent.com", "pypi.org"]
ports = [80, 443]
reason = "the hosts http-fetch declares"
)";

struct NetHome {
  warden::testing::TempDir tmp;
  std::string home = (tmp.path() / "home").string();
  std::string ws = (tmp.path() / "ws").string();
  std::string policies = (tmp.path() / "policies").string();
  NetHome() {
    std::filesystem::permissions(tmp.path(), std::filesystem::perms::others_read | std::filesystem::perms::others_exec,
                                 std::filesystem::perm_options::add);
    std::filesystem::create_directories(ws);
    std::filesystem::create_directories(policies);
    std::ofstream(policies + "/fetch.toml") << kNetPolicy;
    REQUIRE(RunWarden({"--home", home, "init"}).exit_code == 0);
  }
};

TEST_CASE("skills run http-fetch: allowed hosts reach the upstream through the sandbox proxy, audited",
          "[cli][agent][net]") {
  NetHome h;
  warden::testing::FakeUpstream upstream;
  auto r = RunWarden({"--home", h.home, "--json", "skills", "run", "http-fetch", "--args",
                      R"({"url": "http://example.com/page"})", "--workspace", h.ws, "--policies", h.policies,
                      "--upstream-proxy", upstream.address()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  CHECK(doc["verdict"] == "ran");
  CHECK(doc["decisions"].size() == 6);  // skill.exec + one net.connect per declared host:port
  CHECK(doc["result"]["layers"]["net"] == "proxy");
  auto fetched = json::parse(doc["result"]["output"]["stdout"]["text"].get<std::string>());
  CHECK(fetched["status"] == 200);
  CHECK(upstream.requests() == std::vector<std::string>{"GET http://example.com/page HTTP/1.1"});
  REQUIRE(doc["result"]["violations"].size() == 1);
  CHECK(doc["result"]["violations"][0]["host"] == "example.com");
  CHECK(doc["result"]["violations"][0]["port"] == 80);
  CHECK(doc["result"]["violations"][0]["action"] == "allow");

  // The proxy's decision is in the audit trail, inside the sandbox.run row, and the chain verifies.
  auto q = RunWarden({"--home", h.home, "--json", "audit", "query", "--format", "json"});
  REQUIRE(q.exit_code == 0);
  auto rows = json::parse(q.out);
  REQUIRE(rows.size() == 7);
  CHECK(rows[6]["kind"] == "sandbox.run");
  CHECK_THAT(rows[6].dump(), Catch::Contains("net-proxy") && Catch::Contains("example.com"));
  CHECK(RunWarden({"--home", h.home, "audit", "verify"}).exit_code == 0);
}

TEST_CASE("skills run: a bad --upstream-proxy is a usage error and nothing is decided", "[cli][agent][net]") {
  NetHome h;
  auto r = RunWarden({"--home", h.home, "skills", "run", "http-fetch", "--args", R"({"url": "http://example.com/"})",
                      "--workspace", h.ws, "--policies", h.policies, "--upstream-proxy", "no-port"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("upstream_proxy \"no-port\""));
  auto q = RunWarden({"--home", h.home, "--json", "audit", "query", "--format", "json"});
  CHECK((q.exit_code != 0 || json::parse(q.out).empty()));
}

}  // namespace
