// Runs the data skills of the default catalog (issue 8): CSV/JSON/YAML conversion, CSV query, aggregate and
// describe, JSON query and format — real arguments in a temp workspace, asserting the results and the errors.
#include <catch2/catch.hpp>

#include "skills/catalog/catalog_test_support.h"

namespace warden::catalog_test {
namespace {

using nlohmann::json;

const char* kPeople = "name,age,city\nAda,36,London\nAlan,41,Wilmslow\nGrace,85,New York\nAda,36,London\n";

TEST_CASE("csv-to-json types cells, detects delimiters and writes files", "[catalog][data]") {
  Workspace ws;
  ws.Write("people.csv", kPeople);
  SkillCall call{"csv-to-json", ws};
  auto out = call.Ok({{"path", "people.csv"}});
  CHECK(out["columns"] == json({"name", "age", "city"}));
  CHECK(out["row_count"] == 4);
  CHECK(out["rows"][2] == json({{"name", "Grace"}, {"age", 85}, {"city", "New York"}}));
  out = call.Ok({{"text", "a;b\n1.5;true\n;x\n"}});
  CHECK(out["delimiter"] == ";");
  CHECK(out["rows"][0] == json({{"a", 1.5}, {"b", true}}));
  CHECK(out["rows"][1]["a"].is_null());
  out = call.Ok({{"text", "1,2\n"}, {"header", false}, {"infer_types", false}, {"output", "out/x.json"}});
  CHECK(out["written"] == "out/x.json");
  CHECK(json::parse(ws.Read("out/x.json")) == json::parse(R"([{"column1": "1", "column2": "2"}])"));
  CHECK_THAT(call.Fails({{"text", "a,b\n1,2,3\n"}}, 1), Catch::Contains("row 2 has 3 fields"));
  CHECK_THAT(call.Fails({{"path", "missing.csv"}}, 1), Catch::Contains("does not exist"));
  CHECK_THAT(call.Fails({{"path", "people.csv"}, {"text", "x"}}, 2), Catch::Contains("exactly one"));
  // Past limits.output_kb the executor would cut stdout mid-document: the skill says so and points at `output`.
  std::string big = "id,text\n";
  while (big.size() < 1200 * 1024) big += std::to_string(big.size()) + ",lorem ipsum dolor sit amet\n";
  ws.Write("big.csv", big);
  CHECK_THAT(call.Fails({{"path", "big.csv"}}, 1), Catch::Contains("over this skill's output limit of 1024 KB"));
  CHECK(call.Ok({{"path", "big.csv"}, {"output", "big.json"}})["row_count"] > 30000);
}

TEST_CASE("json-to-csv writes a header from the union of keys", "[catalog][data]") {
  Workspace ws;
  SkillCall call{"json-to-csv", ws};
  auto out = call.Ok({{"text", R"([{"id": 1, "tags": ["a"]}, {"id": 2, "name": "x, y", "ok": true}])"}});
  CHECK(out["columns"] == json({"id", "tags", "name", "ok"}));
  CHECK(out["csv"] == "id,tags,name,ok\n1,\"[\"\"a\"\"]\",,\n2,,\"x, y\",true\n");
  out = call.Ok({{"text", R"([{"b": 1, "a": 2}])"}, {"columns", {"a"}}, {"delimiter", "\t"}, {"output", "t.tsv"}});
  CHECK(ws.Read("t.tsv") == "a\n2\n");
  CHECK_THAT(call.Fails({{"text", "[1, {\"a\": 1}]"}}, 1), Catch::Contains("mixes objects"));
  CHECK_THAT(call.Fails({{"text", "{oops"}}, 1), Catch::Contains("not valid JSON"));
}

TEST_CASE("yaml-to-json and json-to-yaml round-trip a document", "[catalog][data]") {
  Workspace ws;
  ws.Write("c.yaml", "name: web\nports:\n  - 80\n  - 443\nsince: 2024-01-02\n---\nsecond: true\n");
  auto out = Skill("yaml-to-json", ws).Ok({{"path", "c.yaml"}});
  CHECK(out["documents"] == 2);
  CHECK(out["value"] == json({{"name", "web"}, {"ports", {80, 443}}, {"since", "2024-01-02"}}));
  out = Skill("yaml-to-json", ws).Ok({{"path", "c.yaml"}, {"all_documents", true}});
  CHECK(out["value"][1] == json({{"second", true}}));
  CHECK_THAT(Skill("yaml-to-json", ws).Fails({{"text", "a: [1,\nb: 2"}}, 1), Catch::Contains("line"));
  // python3-yaml's safe loader builds no objects: a Python tag is an error, not code.
  Skill("yaml-to-json", ws).Fails({{"text", "!!python/object/apply:os.system [\"echo hi\"]"}}, 1);

  out = Skill("json-to-yaml", ws).Ok({{"text", R"({"b": [1, 2], "a": "x"})"}, {"sort_keys", true}});
  CHECK(out["yaml"] == "a: x\nb:\n- 1\n- 2\n");
  Skill("json-to-yaml", ws).Ok({{"text", R"({"k": "é"})"}, {"output", "o.yaml"}});
  CHECK(ws.Read("o.yaml") == "k: é\n");
}

TEST_CASE("csv-query filters, sorts, selects and pages", "[catalog][data]") {
  Workspace ws;
  ws.Write("people.csv", kPeople);
  SkillCall call{"csv-query", ws};
  auto out = call.Ok({{"path", "people.csv"},
                      {"where", {{{"column", "age"}, {"op", ">"}, {"value", 40}}}},
                      {"sort_by", {"-age"}},
                      {"select", {"name"}}});
  CHECK(out["matched"] == 2);
  CHECK(out["rows"] == json::parse(R"([{"name": "Grace"}, {"name": "Alan"}])"));
  // Numeric, not text, comparison: "9" < "10".
  out = call.Ok({{"text", "n\n9\n10\n"}, {"where", {{{"column", "n"}, {"op", "<"}, {"value", "10"}}}}});
  CHECK(out["rows"] == json::parse(R"([{"n": "9"}])"));
  out = call.Ok({{"path", "people.csv"}, {"select", {"name", "city"}}, {"distinct", true}, {"sort_by", {"name"}},
                 {"offset", 1}, {"limit", 1}});
  CHECK(out["matched"] == 3);
  CHECK(out["rows"] == json::parse(R"([{"name": "Alan", "city": "Wilmslow"}])"));
  out = call.Ok({{"path", "people.csv"},
                 {"where", {{{"column", "city"}, {"op", "regex"}, {"value", "^New"}}, {{"column", "name"}, {"op", "in"}, {"value", {"Grace", "Bob"}}}}},
                 {"output", "q.csv"}});
  CHECK(ws.Read("q.csv") == "name,age,city\nGrace,85,New York\n");
  CHECK_THAT(call.Fails({{"path", "people.csv"}, {"select", {"salary"}}}, 2), Catch::Contains("name, age, city"));
  CHECK_THAT(call.Fails({{"path", "people.csv"}, {"where", {{{"column", "age"}, {"op", "~"}, {"value", 1}}}}}, 2),
             Catch::Contains("op must be one of"));
}

TEST_CASE("csv-aggregate groups and computes metrics", "[catalog][data]") {
  Workspace ws;
  ws.Write("sales.csv", "region,amount\nEU,10\nUS,5\nEU,2.5\nUS,\nAPAC,7\n");
  SkillCall call{"csv-aggregate", ws};
  auto out = call.Ok({{"path", "sales.csv"}, {"group_by", {"region"}},
                      {"metrics", {"count", "sum:amount", "avg:amount", "max:amount", "count:amount"}},
                      {"sort_by", "-sum_amount"}});
  CHECK(out["groups"] == 3);
  CHECK(out["rows"][0] == json::parse(
      R"({"region": "EU", "count": 2, "sum_amount": 12.5, "avg_amount": 6.25, "max_amount": 10, "count_amount": 2})"));
  CHECK(out["rows"][2]["region"] == "US");
  CHECK(out["rows"][2]["count"] == 2);
  CHECK(out["rows"][2]["count_amount"] == 1);
  out = call.Ok({{"path", "sales.csv"}, {"metrics", {"median:amount", "distinct:region"}}});
  CHECK(out["rows"] == json::parse(R"([{"median_amount": 6, "distinct_region": 3}])"));
  CHECK_THAT(call.Fails({{"text", "a,b\nx,y\n"}, {"metrics", {"sum:b"}}}, 1), Catch::Contains("not a number"));
  CHECK_THAT(call.Fails({{"path", "sales.csv"}, {"metrics", {"stddev:amount"}}}, 2), Catch::Contains("unknown function"));
}

TEST_CASE("csv-describe profiles columns", "[catalog][data]") {
  Workspace ws;
  ws.Write("d.csv", "id,price,when,flag,note\n1,2.5,2024-01-01,yes,a\n2,3.5,2024-02-01,no,\n3,,2024-03-01,yes,a\n");
  auto out = Skill("csv-describe", ws).Ok({{"path", "d.csv"}});
  CHECK(out["rows"] == 3);
  const auto& c = out["columns"];
  CHECK(c[0]["type"] == "integer");
  CHECK(c[0]["max"] == 3);
  CHECK(c[1]["type"] == "number");
  CHECK(c[1]["empty"] == 1);
  CHECK(c[1]["mean"] == 3.0);
  CHECK(c[2]["type"] == "date");
  CHECK(c[3]["type"] == "boolean");
  CHECK(c[4]["top_values"][0] == json({{"value", "a"}, {"count", 2}}));
}

TEST_CASE("json-query evaluates the path language", "[catalog][data]") {
  Workspace ws;
  ws.Write("store.json", R"({"store": {"book": [{"title": "A", "price": 8, "tags": ["x"]},
                                                {"title": "B", "price": 12},
                                                {"title": "C", "price": 5, "isbn": "0-1"}],
                                       "bicycle": {"price": 19.95}}})");
  SkillCall call{"json-query", ws};
  const auto q = [&](const std::string& query) { return call.Ok({{"path", "store.json"}, {"query", query}})["matches"]; };
  CHECK(q("$.store.book[?(@.price < 10)].title") == json({"A", "C"}));
  CHECK(q("store.book[-1].title") == json({"C"}));
  CHECK(q("$.store.book[0:2].price") == json({8, 12}));
  CHECK(q("$..price") == json({8, 12, 5, 19.95}));
  CHECK(q("$.store.book[*].title") == json({"A", "B", "C"}));
  CHECK(q("$['store']['bicycle'].price") == json({19.95}));
  CHECK(q("$.store.book[?(@.isbn)].title") == json({"C"}));
  CHECK(q("$.store.book[?(@.title =~ '^[AB]$')].price") == json({8, 12}));
  CHECK(q("$.store.book[?(@.title == \"B\")].price") == json({12}));
  CHECK(q("$.nothing.here") == json::array());
  auto out = call.Ok({{"path", "store.json"}, {"query", "$.store.bicycle.price"}, {"first", true}});
  CHECK(out["found"] == true);
  CHECK(out["value"] == 19.95);
  CHECK_THAT(call.Fails({{"path", "store.json"}, {"query", "$.store[?(@.price <"}}, 2), Catch::Contains("bad query"));
}

TEST_CASE("json-format pretty-prints, minifies and validates", "[catalog][data]") {
  Workspace ws;
  SkillCall call{"json-format", ws};
  CHECK(call.Ok({{"text", R"({"b":1,"a":[1,2]})"}, {"sort_keys", true}})["text"] ==
        "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1\n}");
  CHECK(call.Ok({{"text", "{ \"a\" : [ 1 , 2 ] }"}, {"mode", "minify"}})["text"] == R"({"a":[1,2]})");
  auto out = call.Ok({{"text", "{\n  \"a\": 1,\n}"}, {"mode", "validate"}});
  CHECK(out["valid"] == false);
  CHECK(out["line"] == 3);
  CHECK(call.Ok({{"text", "[1]"}, {"mode", "validate"}}) == json({{"valid", true}, {"type", "array"}}));
  ws.Write("c.json", "{\"x\":1}");
  call.Ok({{"path", "c.json"}, {"output", "c.json"}, {"indent", 4}});
  CHECK(ws.Read("c.json") == "{\n    \"x\": 1\n}\n");
  CHECK_THAT(call.Fails({{"text", "{\"a\" 1}"}}, 1), Catch::Contains("line 1 column 6"));
  CHECK_THAT(call.Fails({{"text", "{}"}, {"mode", "ugly"}}, 2), Catch::Contains("pretty|minify|validate"));
}

}  // namespace
}  // namespace warden::catalog_test
