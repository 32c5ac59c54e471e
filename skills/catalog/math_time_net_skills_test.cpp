// Runs the math, date/time and network skills of the default catalog (issue 8): the calculator (its own parser,
// never eval), unit conversion, statistics, time zones and date arithmetic, and http-fetch in the sandbox's network
// profile against a loopback FakeUpstream (no real network is touched).
#include <catch2/catch.hpp>

#include "skills/catalog/catalog_test_support.h"
#include "tests/doubles/fake_upstream.h"

namespace warden::catalog_test {
namespace {

using nlohmann::json;

TEST_CASE("calculate evaluates expressions without eval", "[catalog][math]") {
  Workspace ws;
  SkillCall call{"calculate", ws};
  const auto calc = [&](const std::string& e) { return call.Ok({{"expression", e}})["result"]; };
  CHECK(calc("(3 + 4) * 2^3") == 56);
  CHECK(calc("2^3^2") == 512);
  CHECK(calc("-2^2") == -4);
  CHECK(calc("7 // 2 + 7 % 2 + 5!") == 124);
  CHECK(calc("log(8, 2) + log10(1000) + ln(e)") == 7);
  CHECK(calc("round(pi, 3)") == 3.142);
  CHECK(calc("max(1, 9, 4) + min(3, 2) + avg(1, 2, 3)") == 13);
  CHECK(calc("2^100") == json::parse("1267650600228229401496703205376"));
  CHECK(calc("200 * 15%") == 30);  // a trailing % is a percentage, a % between operands the remainder
  CHECK(calc("10 % 3 + 50%") == 1.5);
  CHECK(calc("0.1 + 0.2") == 0.3);  // shown to 15 significant digits, as a calculator does
  CHECK(call.Ok({{"expression", "sqrt(x^2 + y^2)"}, {"variables", {{"x", 3}, {"y", 4}}}})["result"] == 5);
  CHECK(call.Ok({{"expression", "1/3"}, {"precision", 4}})["result"] == 0.3333);
  CHECK_THAT(call.Fails({{"expression", "1/0"}}, 1), Catch::Contains("division by zero"));
  CHECK_THAT(call.Fails({{"expression", "__import__('os').system('id')"}}, 2), Catch::Contains("cannot read"));
  CHECK_THAT(call.Fails({{"expression", "open(1)"}}, 2), Catch::Contains("unknown function 'open'"));
  CHECK_THAT(call.Fails({{"expression", "9^9^9"}}, 1), Catch::Contains("too large"));
  CHECK_THAT(call.Fails({{"expression", "(1 + 2"}}, 2), Catch::Contains("expected ')'"));
  CHECK_THAT(call.Fails({{"expression", "x + 1"}}, 2), Catch::Contains("unknown name 'x'"));
}

TEST_CASE("unit-convert converts across dimensions' units and temperatures", "[catalog][math]") {
  Workspace ws;
  SkillCall call{"unit-convert", ws};
  const auto conv = [&](double v, const std::string& from, const std::string& to) {
    return call.Ok({{"value", v}, {"from", from}, {"to", to}})["result"].get<double>();
  };
  CHECK(conv(10, "mi", "km") == Approx(16.09344));
  CHECK(conv(1, "pound", "g") == Approx(453.59237));
  CHECK(conv(100, "C", "F") == Approx(212));
  CHECK(conv(0, "kelvin", "celsius") == Approx(-273.15));
  CHECK(conv(1, "GiB", "MB") == Approx(1073.741824));
  CHECK(conv(1, "gal", "l") == Approx(3.785411784));
  CHECK(conv(90, "km/h", "m/s") == Approx(25));
  CHECK(conv(180, "deg", "rad") == Approx(3.14159265));
  CHECK(conv(1, "kWh", "J") == Approx(3.6e6));
  CHECK(call.Ok({{"value", 2}, {"from", "h"}, {"to", "min"}})["dimension"] == "time");
  CHECK_THAT(call.Fails({{"value", 1}, {"from", "kg"}, {"to", "km"}}, 2), Catch::Contains("different dimensions"));
  CHECK_THAT(call.Fails({{"value", 1}, {"from", "furlongs"}, {"to", "m"}}, 2), Catch::Contains("unknown unit"));
  CHECK_THAT(call.Fails({{"value", -500}, {"from", "C"}, {"to", "K"}}, 1), Catch::Contains("absolute zero"));
}

TEST_CASE("statistics summarises values, text and CSV columns", "[catalog][math]") {
  Workspace ws;
  SkillCall call{"statistics", ws};
  auto out = call.Ok({{"values", {2, 4, 4, 4, 5, 5, 7, 9}}});
  CHECK(out["count"] == 8);
  CHECK(out["mean"] == 5.0);
  CHECK(out["median"] == 4.5);
  CHECK(out["mode"] == json({4.0}));
  CHECK(out["stdev_population"] == 2.0);
  CHECK(out["stdev_sample"] == Approx(2.13809));
  CHECK(out["percentiles"]["p90"] == Approx(7.6));
  CHECK(out["outliers"] == json({9.0}));
  CHECK(call.Ok({{"text", "took 1.5s, then 2.5s and -1s"}})["sum"] == 3.0);
  ws.Write("s.csv", "item,amount\na,10\nb,\nc,30\n");
  out = call.Ok({{"path", "s.csv"}, {"column", "amount"}, {"percentiles", {50}}});
  CHECK(out["count"] == 2);
  CHECK(out["percentiles"] == json({{"p50", 20.0}}));
  CHECK_THAT(call.Fails({{"path", "s.csv"}, {"column", "price"}}, 2), Catch::Contains("item, amount"));
  CHECK_THAT(call.Fails({{"text", "no numbers"}}, 1), Catch::Contains("no numbers"));
  CHECK_THAT(call.Fails({{"values", {1, "2"}}}, 2), Catch::Contains("only numbers"));
}

TEST_CASE("datetime-convert converts between time zones and timestamps", "[catalog][datetime]") {
  Workspace ws;
  SkillCall call{"datetime-convert", ws};
  auto out = call.Ok({{"value", "2024-07-01 09:00"}, {"from_timezone", "America/New_York"}, {"to_timezone", "Asia/Tokyo"},
                      {"format", "%d %B %Y %H:%M"}});
  CHECK(out["iso"] == "2024-07-01T22:00:00+09:00");
  CHECK(out["utc"] == "2024-07-01T13:00:00Z");
  CHECK(out["formatted"] == "01 July 2024 22:00");
  CHECK(out["weekday"] == "Monday");
  // Daylight saving: the same zone has two offsets across the year.
  CHECK(call.Ok({{"value", "2024-01-15T12:00:00Z"}, {"to_timezone", "Europe/Berlin"}})["utc_offset"] == "+01:00");
  CHECK(call.Ok({{"value", "2024-07-15T12:00:00Z"}, {"to_timezone", "Europe/Berlin"}})["dst"] == true);
  CHECK(call.Ok({{"value", 1700000000}})["utc"] == "2023-11-14T22:13:20Z");
  CHECK(call.Ok({{"value", "1700000000000"}})["unix"] == 1700000000);
  CHECK(call.Ok({{"value", "Tue, 05 Mar 2024 14:30:00 GMT"}})["iso_week"] == "2024-W10");
  CHECK(call.Ok({{"value", "05/03/2024"}, {"input_format", "%d/%m/%Y"}})["date"] == "2024-03-05");
  CHECK_THAT(call.Fails({{"value", "next tuesday-ish"}}, 2), Catch::Contains("ISO 8601"));
  CHECK_THAT(call.Fails({{"value", "now"}, {"to_timezone", "Mars/Olympus"}}, 2), Catch::Contains("unknown time zone"));
}

TEST_CASE("date-diff and date-add do calendar arithmetic", "[catalog][datetime]") {
  Workspace ws;
  auto out = Skill("date-diff", ws).Ok({{"start", "2024-01-01"}, {"end", "2024-03-01"}});
  CHECK(out["days"] == 60.0);
  CHECK(out["calendar_months"] == 2);
  CHECK(out["business_days"] == 44);
  CHECK(out["human"] == "60 days");
  out = Skill("date-diff", ws).Ok({{"start", "2024-03-10T12:00:00"}, {"end", "2024-03-08T09:30:00"}});
  CHECK(out["hours"] == -50.5);
  CHECK(out["human"] == "-2 days, 2 hours, 30 minutes");
  CHECK(Skill("date-diff", ws).Ok({{"start", "1990-06-15"}, {"end", "2024-06-14"}})["years"] == 33);

  SkillCall add{"date-add", ws};
  CHECK(add.Ok({{"value", "2024-01-31"}, {"months", 1}})["date"] == "2024-02-29");
  CHECK(add.Ok({{"value", "2024-05-01T09:00:00"}, {"duration", "P2W"}})["date"] == "2024-05-15");
  CHECK(add.Ok({{"value", "2024-03-01"}, {"duration", "-P1Y2M"}, {"days", 1}})["date"] == "2023-01-02");
  // Across the spring-forward change in Berlin a day keeps the wall clock, 24 hours do not.
  CHECK(add.Ok({{"value", "2024-03-30T12:00:00"}, {"timezone", "Europe/Berlin"}, {"days", 1}})["iso"] == "2024-03-31T12:00:00+02:00");
  CHECK(add.Ok({{"value", "2024-03-30T12:00:00"}, {"timezone", "Europe/Berlin"}, {"hours", 24}})["iso"] == "2024-03-31T13:00:00+02:00");
  CHECK_THAT(add.Fails({{"value", "2024-01-01"}, {"duration", "3 days"}}, 2), Catch::Contains("ISO 8601 duration"));
  CHECK_THAT(add.Fails({{"value", "2024-01-01"}, {"months", 1.5}}, 2), Catch::Contains("whole number"));
}

TEST_CASE("http-fetch goes through the sandbox's proxy and only to declared hosts", "[catalog][network]") {
  // The skill runs in profile "net" with its declared hosts; the sandbox's proxy admits example.com:80 and hands
  // the request to a loopback FakeUpstream playing the site's egress proxy, so no real network is touched.
  Workspace ws;
  warden::testing::FakeUpstream upstream;
  const auto r = RunSkill(CatalogDir() / "http-fetch",
                          R"({"url": "http://example.com/data?x=1", "headers": {"Accept": "application/json"}})",
                          ws.path(), upstream.address());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto out = json::parse(r.out);
  CHECK(out["status"] == 200);
  CHECK(out["text"] == "{\"fake_upstream\": \"GET\"}");
  CHECK(out["headers"]["content-type"] == "application/json");
  REQUIRE(upstream.requests().size() == 1);
  CHECK(upstream.requests()[0] == "GET http://example.com/data?x=1 HTTP/1.1");
  CHECK_THAT(upstream.last_head(), Catch::Contains("Accept: application/json"));

  SkillCall call{"http-fetch", ws};
  CHECK_THAT(call.Fails({{"url", "http://evil.example.net/"}}, 3), Catch::Contains("not among this skill's declared hosts"));
  CHECK_THAT(call.Fails({{"url", "https://example.com:8443/"}}, 3), Catch::Contains("example.com:8443"));
  CHECK_THAT(call.Fails({{"url", "file:///etc/passwd"}}, 2), Catch::Contains("only http:// and https://"));
  CHECK_THAT(call.Fails({{"url", "http://user:pw@example.com/"}}, 2), Catch::Contains("credentials"));
  CHECK_THAT(call.Fails({{"url", "http://example.com/"}, {"headers", {{"X", "a\r\nInjected: 1"}}}}, 2), Catch::Contains("one-line"));
}

}  // namespace
}  // namespace warden::catalog_test
