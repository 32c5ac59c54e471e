// Python str semantics over UTF-8: whitespace, strip/split, repr, float repr (../shared/docs/model.md §7.1).
#include "runtime/engine/template/py_string.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

using namespace warden::engine::detail;

TEST_CASE("float repr is Python's shortest round-trip form", "[engine][template]") {
  CHECK(PyFloatRepr(0.0) == "0.0");
  CHECK(PyFloatRepr(-0.0) == "-0.0");
  CHECK(PyFloatRepr(1.0) == "1.0");
  CHECK(PyFloatRepr(2.5) == "2.5");
  CHECK(PyFloatRepr(0.1 + 0.2) == "0.30000000000000004");
  CHECK(PyFloatRepr(1e-7) == "1e-07");
  CHECK(PyFloatRepr(0.0001) == "0.0001");
  CHECK(PyFloatRepr(0.00001) == "1e-05");
  CHECK(PyFloatRepr(1e16) == "1e+16");
  CHECK(PyFloatRepr(9999999999999998.0) == "9999999999999998.0");
  CHECK(PyFloatRepr(123456789012345678.0) == "1.2345678901234568e+17");
  CHECK(PyFloatRepr(1.5e300) == "1.5e+300");
  CHECK(PyFloatRepr(-3.25) == "-3.25");
  CHECK(PyFloatRepr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(PyFloatRepr(std::nan("")) == "nan");
}

TEST_CASE("strip and split use Python's Unicode whitespace", "[engine][template]") {
  CHECK(PyStrip("\u00a0\u2003 x \t\n\u3000", nullptr, true, true) == "x");
  CHECK(PyStrip("x\u200b", nullptr, true, true) == "x\u200b");  // ZERO WIDTH SPACE is not whitespace
  std::string chars = "xy";
  CHECK(PyStrip("xyaxyx", &chars, true, false) == "axyx");
  CHECK(PyStrip("xyaxyx", &chars, false, true) == "xya");
  CHECK(PySplitWhitespace("  a  b\u00a0c ", -1, false) == std::vector<std::string>{"a", "b", "c"});
  CHECK(PySplitWhitespace(" a b c ", 1, false) == std::vector<std::string>{"a", "b c "});
  CHECK(PySplitWhitespace(" a b c ", 1, true) == std::vector<std::string>{" a b", "c"});
  CHECK(PySplit("a,,b", ",", -1, false) == std::vector<std::string>{"a", "", "b"});
  CHECK(PySplit("a,b,c", ",", 1, true) == std::vector<std::string>{"a,b", "c"});
  CHECK(PySplitLines("a\r\nb\n\nc\u2028d") == std::vector<std::string>{"a", "b", "", "c", "d"});
}

TEST_CASE("repr, case mapping and code point counting", "[engine][template]") {
  CHECK(PyReprString("it's") == "\"it's\"");
  CHECK(PyReprString("a\"b") == "'a\"b'");
  CHECK(PyReprString("both'\"") == "'both\\'\"'");
  CHECK(PyReprString("t\tn\n\x01\u00e9\u200b") == "'t\\tn\\n\\x01\u00e9\\u200b'");
  CHECK(PyUpper("\u00e9a") == "\u00c9A");
  CHECK(PyTitle("hello wORLD-foo") == "Hello World-Foo");
  CHECK(PyCapitalize("hELLO") == "Hello");
  CHECK(Utf8Length("\u00e9\u20ac\U0001F600") == 3);
  CHECK(PyFind("\u00e9ab", "b", false) == 2);
  CHECK(PyCount("aaa", "") == 4);
  CHECK(PyReplace("ab", "", "-", -1) == "-a-b-");
  // Invalid UTF-8 survives a round trip byte for byte.
  std::string bad = "a\xff\xc3(b";
  CHECK(EncodeUtf8(DecodeUtf8(bad)) == bad);
}
