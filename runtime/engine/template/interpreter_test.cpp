// Interpreter features, each as a small template with the output real jinja2 3.1.6 prints under transformers'
// environment (ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True), loopcontrols, transformers'
// tojson and raise_exception). The expected strings were produced by rendering each template with jinja2 itself;
// for error cases the engine's message must contain Jinja's message. Plus limits, syntax errors and thread use.
#include "runtime/engine/template/interpreter.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/template/chat_template.h"
#include "runtime/engine/template/lexer.h"
#include "runtime/engine/template/parser.h"

namespace {

using namespace warden::engine::detail;
using json = nlohmann::ordered_json;

struct Case {
  enum Kind { kOk, kError };
  const char* name;
  const char* tmpl;
  const char* context;  // JSON object of variables; "" = kDefaultContext
  Kind kind;
  const char* expected;  // output, or text the error message must contain
};

constexpr const char* kDefaultContext = R"J({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1, "b": "x"}}}]}],
  "d": {"b": 2, "a": 1, "items": "K"}, "s": "Hello World", "n": null, "xs": [3, 1, 2], "f": 2.5, "t": true,
  "names": ["bob", "Alice", "carol"], "users": [{"name": "a", "age": 3}, {"name": "b", "age": 1}, {"name": "c"}]})J";

const Case kCases[] = {
    {"trim_blocks_eats_one_newline", R"J({% if true %}
A
{% endif %}
B)J", "", Case::kOk, R"J(A
B)J"},
    {"lstrip_blocks_strips_indent", R"J(  {% if true %}
    x
  {% endif %}
y)J", "", Case::kOk, R"J(    x
y)J"},
    {"lstrip_not_for_variables", R"J(  {{ 'v' }}
  {% if true %}z{% endif %})J", "", Case::kOk, R"J(  v
z)J"},
    {"lstrip_only_when_alone_on_line", R"J(a  {% if true %}b{% endif %}  c)J", "", Case::kOk, R"J(a  b  c)J"},
    {"minus_strips_both_sides", R"J(a  
  {{- 'X' -}}  
  b)J", "", Case::kOk, R"J(aXb)J"},
    {"minus_on_block", R"J(a

  {%- if true -%}

  B  
{%- endif %}
c)J", "", Case::kOk, R"J(aBc)J"},
    {"plus_disables_lstrip", R"J(  {%+ if true %}x{% endif %})J", "", Case::kOk, R"J(  x)J"},
    {"plus_disables_trim", R"J({% if true +%}
x{% endif %})J", "", Case::kOk, R"J(
x)J"},
    {"comment_trim_and_lstrip", R"J(a
  {# note #}
b
{#- x -#}  c)J", "", Case::kOk, R"J(a
bc)J"},
    {"comment_keeps_inline", R"J(a {# n #} b)J", "", Case::kOk, R"J(a  b)J"},
    {"trailing_newline_dropped_once", R"J(x

)J", "", Case::kOk, R"J(x
)J"},
    {"crlf_normalized", R"J(a
b
c)J", "", Case::kOk, R"J(a
b
c)J"},
    {"raw_block", R"J({% raw %}{{ not parsed }}{% endraw %}!)J", "", Case::kOk, R"J({{ not parsed }}!)J"},
    {"raw_block_trim", R"J(  {% raw %}
{{x}}
  {% endraw %}
y)J", "", Case::kOk, R"J(
{{x}}
y)J"},
    {"set_line_alone", R"J(a
{% set x = 1 %}
b{{ x }})J", "", Case::kOk, R"J(a
b1)J"},
    {"unicode_whitespace_minus", R"J(a 　{{- 'b' }})J", "", Case::kOk, R"J(ab)J"},
    {"nested_braces_in_expression", R"J({{ {'a': {'b': 1}} }})J", "", Case::kOk, R"J({'a': {'b': 1}})J"},
    {"for_with_newlines", R"J({% for i in [1,2] %}
  {{ i }}
{% endfor %}
end)J", "", Case::kOk, R"J(  1
  2
end)J"},
    {"string_escapes", R"J({{ 'a\nb\t\'c\' \x41\u00e9 \\ \q' }})J", "", Case::kOk, R"J(a
b	'c' Aé \ \q)J"},
    {"adjacent_strings_concatenate", R"J({{ 'a' "b" 'c' }})J", "", Case::kOk, R"J(abc)J"},
    {"numbers", R"J({{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1.5e3 }} {{ 2.0 }} {{ 1e-7 }} {{ 1e16 }} {{ 123456789.125 }})J", "", Case::kOk, R"J(1000 31 15 5 1500.0 2.0 1e-07 1e+16 123456789.125)J"},
    {"arithmetic", R"J({{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 6 / 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ -2 ** 2 }} {{ 0.1 + 0.2 }} {{ 1 + true }})J", "", Case::kOk, R"J(3 -4 1 2 3.5 2.0 1024 0.5 4 0.30000000000000004 2)J"},
    {"float_mod_floordiv", R"J({{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 5 % -3 }})J", "", Case::kOk, R"J(3.0 0.5 -1)J"},
    {"string_ops", R"J({{ 'ab' * 3 }} {{ 'a' + 'b' }} {{ 'x' ~ 1 ~ none ~ true ~ 2.5 }})J", "", Case::kOk, R"J(ababab ab x1NoneTrue2.5)J"},
    {"list_ops", R"J({{ [1, 2] + [3] }} {{ [0] * 3 }} {{ (1, 2) + (3,) }})J", "", Case::kOk, R"J([1, 2, 3] [0, 0, 0] (1, 2, 3))J"},
    {"comparisons_chain", R"J({{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 1 != 2 }})J", "", Case::kOk, R"J(True False True True True True)J"},
    {"in_operator", R"J({{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 3 not in [1] }} {{ 'x' in undefined_thing }})J", "", Case::kOk, R"J(True True True True False)J"},
    {"and_or_return_operands", R"J({{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ none or [] }} {{ not 0 }})J", "", Case::kOk, R"J(x b |[] True)J"},
    {"conditional_expression", R"J({{ 'y' if t else 'n' }} {{ 'y' if n else 'n' }} [{{ 'y' if n }}])J", "", Case::kOk, R"J(y n [])J"},
    {"tuple_and_dict_literals", R"J({{ (1,) }} {{ () }} {{ {'a': 1, 'b': [1, 'x', none, true]} }} {{ [1, 'two', 3.0] }})J", "", Case::kOk, R"J((1,) () {'a': 1, 'b': [1, 'x', None, True]} [1, 'two', 3.0])J"},
    {"print_tuple", R"J({{ 1, 'a' }})J", "", Case::kOk, R"J((1, 'a'))J"},
    {"python_str_of_values", R"J({{ none }} {{ true }} {{ false }} {{ [none, true, 'it\'s', "q\""] }} {{ {'k': 1.0} }})J", "", Case::kOk, R"J(None True False [None, True, "it's", 'q"'] {'k': 1.0})J"},
    {"repr_quotes_and_unicode", R"J({{ ["it's", 'a"b', 'é', 'tab\t', 'both\'"'] }})J", "", Case::kOk, R"J(["it's", 'a"b', 'é', 'tab\t', 'both\'"'])J"},
    {"unary", R"J({{ -f }} {{ +3 }} {{ -(1 - 3) }} {{ - 1|abs }})J", "", Case::kOk, R"J(-2.5 3 2 1)J"},
    {"precedence", R"J({{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ~ 4 }} {{ (1 + 1) ~ 2 }} {{ not 1 == 2 }})J", "", Case::kOk, R"J(7 9 64 22 True)J"},
    {"attr_and_item", R"J({{ d.a }} {{ d['b'] }} {{ messages[0].role }} {{ messages[-1]['content'] }} {{ xs.1 }})J", "", Case::kOk, R"J(1 2 user Yo 1)J"},
    {"dict_method_wins_over_key", R"J({{ d['items'] }} {{ d.items() | list }})J", "", Case::kOk, R"J(K [('b', 2), ('a', 1), ('items', 'K')])J"},
    {"missing_attr_renders_empty", R"J([{{ d.zzz }}][{{ xs[10] }}][{{ n.x }}][{{ undefined_thing }}])J", "", Case::kOk, R"J([][][][])J"},
    {"slicing", R"J({{ xs[::-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ s[::2] }} {{ s[-5:] }} {{ xs[5:] }} {{ 'héllo'[1:3] }} {{ xs[::-2] }})J", "", Case::kOk, R"J([2, 1, 3] [1, 2] [3, 1] HloWrd World [] él [2, 3])J"},
    {"string_index", R"J({{ s[0] }}{{ s[-1] }}{{ 'é€'[1] }})J", "", Case::kOk, R"J(Hd€)J"},
    {"tests_types", R"J({{ s is string }} {{ 1 is number }} {{ t is number }} {{ 1 is integer }} {{ t is integer }} {{ f is float }} {{ d is mapping }} {{ xs is mapping }} {{ xs is iterable }} {{ s is iterable }} {{ d is sequence }} {{ 1 is iterable }} {{ t is boolean }} {{ n is none }})J", "", Case::kOk, R"J(True True True True False True True False True True True False True True)J"},
    {"tests_undefined", R"J({{ zz is defined }} {{ zz is undefined }} {{ zz is iterable }} {{ zz is sequence }} {{ zz is string }} {{ d.q is defined }} {{ n is defined }})J", "", Case::kOk, R"J(False True True True False False True)J"},
    {"tests_true_false", R"J({{ t is true }} {{ 1 is true }} {{ 'true' is true }} {{ false is false }} {{ 0 is false }})J", "", Case::kOk, R"J(True False False True False)J"},
    {"tests_numbers", R"J({{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 2 is eq 2 }} {{ 2 is ne 2 }} {{ 1 is lt 2 }} {{ 3 is ge 3 }} {{ 2 is in [1, 2] }})J", "", Case::kOk, R"J(True True True False True False True True True)J"},
    {"tests_misc", R"J({{ n is sameas none }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ range is callable }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }})J", "", Case::kOk, R"J(True True True True True True False)J"},
    {"is_not", R"J({{ s is not string }} {{ xs is not mapping }})J", "", Case::kOk, R"J(False True)J"},
    {"tojson_basic", R"J({{ d | tojson }} {{ xs | tojson }} {{ 'é"\n' | tojson }} {{ none | tojson }} {{ 1.0 | tojson }} {{ 1e-7 | tojson }} {{ (1, 2) | tojson }})J", "", Case::kOk, R"J({"b": 2, "a": 1, "items": "K"} [3, 1, 2] "é\"\n" null 1.0 1e-07 [1, 2])J"},
    {"tojson_options", R"J({{ d | tojson(indent=2) }}|{{ {'b': 1, 'a': [1, {}]} | tojson(sort_keys=true) }}|{{ xs | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }})J", "", Case::kOk, R"J({
  "b": 2,
  "a": 1,
  "items": "K"
}|{"a": [1, {}], "b": 1}|[3,1,2]|"\u00e9"|[])J"},
    {"tojson_keys", R"J({{ {1: 'a', true: 'b', none: 'c', 2.5: 'd'} | tojson }})J", "", Case::kOk, R"J({"1": "b", "null": "c", "2.5": "d"})J"},
    {"tojson_unicode_and_control", R"J({{ '😀    ' | tojson }} {{ '😀' | tojson(ensure_ascii=true) }})J", "", Case::kOk, R"J("😀   \u0001 " "\ud83d\ude00")J"},
    {"string_filters", R"J({{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hello wORLD-foo(bar' | title }}|{{ 'hELLO' | capitalize }}|{{ 'aaa' | replace('a', 'b', 2) }})J", "", Case::kOk, R"J(a b|a|AB|ab|Hello World-Foo(Bar|Hello|bba)J"},
    {"string_filter_on_values", R"J({{ 1 | string }} {{ none | string }} {{ [1, 'a'] | string }} {{ true | string }} {{ zz | string }}|{{ 5 | upper }})J", "", Case::kOk, R"J(1 None [1, 'a'] True |5)J"},
    {"length_count", R"J({{ xs | length }} {{ s | count }} {{ d | length }} {{ 'é€' | length }} {{ zz | length }})J", "", Case::kOk, R"J(3 11 3 2 0)J"},
    {"join_filter", R"J({{ xs | join(', ') }} {{ names | join }} {{ users | join(',', attribute='name') }})J", "", Case::kOk, R"J(3, 1, 2 bobAlicecarol a,b,c)J"},
    {"default_filter", R"J({{ zz | default('dflt') }} {{ '' | default('e', true) }} {{ '' | d('e') }} {{ n | default('x') }})J", "", Case::kOk, R"J(dflt e  None)J"},
    {"first_last", R"J({{ xs | first }} {{ xs | last }} {{ s | first }} {{ s | last }} [{{ [] | first }}])J", "", Case::kOk, R"J(3 2 H d [])J"},
    {"list_items", R"J({{ s[:3] | list }} {{ d | list }} {{ d | items | list }} {{ zz | items | list }})J", "", Case::kOk, R"J(['H', 'e', 'l'] ['b', 'a', 'items'] [('b', 2), ('a', 1), ('items', 'K')] [])J"},
    {"map_select", R"J({{ users | map(attribute='name') | list }} {{ users | map(attribute='age', default=0) | list }} {{ names | map('upper') | join(',') }} {{ xs | select('odd') | list }} {{ xs | reject('odd') | list }})J", "", Case::kOk, R"J(['a', 'b', 'c'] [3, 1, 0] BOB,ALICE,CAROL [3, 1] [2])J"},
    {"selectattr", R"J({{ users | selectattr('age') | map(attribute='name') | list }} {{ users | selectattr('name', 'ne', 'b') | map(attribute='name') | list }} {{ users | rejectattr('age') | map(attribute='name') | list }} {{ messages | selectattr('role', 'equalto', 'user') | list | length }})J", "", Case::kOk, R"J(['a', 'b'] ['a', 'c'] ['c'] 1)J"},
    {"int_float_abs_round", R"J({{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '0x1A' | int(base=16) }} {{ '2.5' | float }} {{ 'y' | float }} {{ -3 | abs }} {{ 2.675 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 7 | round }})J", "", Case::kOk, R"J(42 4 7 3 26 2.5 0.0 3 2.67 2.0 4.0 3.0 7)J"},
    {"unique_sort", R"J({{ ['a', 'A', 'b', 'a'] | unique | list }} {{ names | sort }} {{ names | sort(case_sensitive=true) }} {{ xs | sort(reverse=true) }} {{ users | sort(attribute='name', reverse=true) | map(attribute='name') | join }})J", "", Case::kOk, R"J(['a', 'b'] ['Alice', 'bob', 'carol'] ['Alice', 'bob', 'carol'] [3, 2, 1] cba)J"},
    {"dictsort", R"J({% set e = {'b': 1, 'A': 3, 'c': 2} %}{{ e | dictsort }} {{ e | dictsort(true) }} {{ e | dictsort(by='value') }} {{ e | dictsort(reverse=true) }})J", "", Case::kOk, R"J([('A', 3), ('b', 1), ('c', 2)] [('A', 3), ('b', 1), ('c', 2)] [('b', 1), ('c', 2), ('A', 3)] [('c', 2), ('b', 1), ('A', 3)])J"},
    {"indent_filter", R"J({{ 'a
b

c' | indent }}|{{ 'a
b' | indent(2, true) }}|{{ 'a

b' | indent(width='> ', blank=true) }})J", "", Case::kOk, R"J(a
    b

    c|  a
  b|a
> 
> b)J"},
    {"misc_filters", R"J({{ xs | sum }} {{ xs | max }} {{ xs | min }} {{ names | max }} {{ 'a b  c' | wordcount }} {{ '<a&"' | e }} {{ xs | reverse | list }} {{ 'abc' | reverse }} {{ '%s-%d' | format('x', 3) }} {{ 'x' | center(5) }}|)J", "", Case::kOk, R"J(6 3 1 carol 3 &lt;a&amp;&#34; [2, 1, 3] cba x-3   x  |)J"},
    {"safe_and_string", R"J({{ 5 | safe }} {{ 'x' | safe | string }})J", "", Case::kOk, R"J(5 x)J"},
    {"batch_filter", R"J({{ [1,2,3,4,5] | batch(2) | list }} {{ [1,2,3] | batch(2, 0) | list }})J", "", Case::kOk, R"J([[1, 2], [3, 4], [5]] [[1, 2], [3, 0]])J"},
    {"truncate_filter", R"J({{ 'foo bar baz qux' | truncate(9) }} {{ 'foo bar baz qux' | truncate(9, true) }} {{ 'short' | truncate(9) }})J", "", Case::kOk, R"J(foo... foo ba... short)J"},
    {"filter_chain_and_args", R"J({{ '  Hello ' | trim | lower | replace('l', 'L') }})J", "", Case::kOk, R"J(heLLo)J"},
    {"str_methods", R"J({{ s.startswith('He') }} {{ s.endswith(('x', 'ld')) }} {{ s.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ s.upper() }} {{ s.lower() }} {{ 'ab cd'.title() }} {{ s.find('o') }} {{ s.rfind('o') }} {{ s.count('l') }} {{ s.replace('l', 'L', 1) }})J", "", Case::kOk, R"J(True True ['Hello', 'World'] ['a', 'b', '', 'c'] ['a', 'b c'] ['a b', 'c'] HELLO WORLD hello world Ab Cd 4 7 3 HeLlo World)J"},
    {"strip_methods", R"J([{{ '  x  '.strip() }}][{{ ' x '.strip() }}][{{ 'xxhixx'.strip('x') }}][{{ '

hi
'.lstrip('
') }}][{{ 'hi

'.rstrip('
') }}][{{ 'ab​'.strip() }}])J", "", Case::kOk, R"J([x][x][hi][hi
][hi][ab​])J"},
    {"str_join_format", R"J({{ '-'.join(['a', 'b']) }} {{ '{} and {}'.format(1, 'x') }} {{ '{0}{0}{name}'.format('a', name='b') }} {{ '{{}}'.format() }} {{ '%s=%r' % ('k', 'v') }} {{ '%(a)s' % {'a': 1} }} {{ '%05.1f|%x|%5s|%-3d|' % (3.14159, 255, 'ab', 7) }})J", "", Case::kOk, R"J(a-b 1 and x aab {} k='v' 1 003.1|ff|   ab|7  |)J"},
    {"str_predicates", R"J({{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'a1'.isalnum() }} {{ ' '.isspace() }} {{ 'ab'.islower() }} {{ 'AB'.isupper() }} {{ ''.isdigit() }} {{ 'x'.ljust(3, '.') }}{{ 'x'.rjust(3) }} {{ 'ab'.removeprefix('a') }}{{ 'ab'.removesuffix('b') }})J", "", Case::kOk, R"J(True True True True True True False x..  x ba)J"},
    {"str_partition_zfill_index", R"J({{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'x'.partition('=') }} {{ '-42'.zfill(5) }} {{ 'abc'.index('c') }} {{ '12'.isnumeric() }})J", "", Case::kOk, R"J(('a', '=', 'b=c') ('a=b', '=', 'c') ('x', '', '') -0042 2 True)J"},
    {"macro_scope_sees_template_level_not_loop", R"J({% set v = 1 %}{% macro m() %}[{{ v }}]{% endmacro %}{% for i in [1] %}{% set v = 5 %}{{ m() }}{% endfor %}{{ m() }})J", "", Case::kOk, R"J([1][1])J"},
    {"macro_defined_in_loop_closes_over_iteration", R"J({% for i in [1, 2] %}{% macro m() %}[{{ i }}]{% endmacro %}{{ m() }}{% endfor %})J", "", Case::kOk, R"J([1][2])J"},
    {"with_scope_and_nested_macro", R"J({% set x = 1 %}{% with %}{% set x = 2 %}{{ x }}{% endwith %}{{ x }} {% macro outer() %}{% set y = 3 %}{% macro inner() %}{{ y }}{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }})J", "", Case::kOk, R"J(21 3)J"},
    {"unsafe_list_method_is_undefined", R"J({% set l = [] %}{{ l.append is defined }}[{{ l.append }}])J", "", Case::kOk, R"J(False[])J"},
    {"split_lines", R"J({{ 'a
b
c'.splitlines() }})J", "", Case::kOk, R"J(['a', 'b', 'c'])J"},
    {"dict_methods", R"J({{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 5) }} {{ d.keys() | list }} {{ d.values() | list }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})J", "", Case::kOk, R"J(1 None 5 ['b', 'a', 'items'] [2, 1, 'K'] b=2;a=1;items=K;)J"},
    {"list_methods", R"J({{ xs.index(1) }} {{ xs.count(3) }})J", "", Case::kOk, R"J(1 1)J"},
    {"if_elif_else", R"J({% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %})J", "", Case::kOk, R"J(one two many )J"},
    {"loop_variables", R"J({% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %})J", "", Case::kOk, R"J(1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;)J"},
    {"loop_prev_next", R"J({% for x in xs %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %} {% for x in xs %}{{ loop.previtem is defined }}{% endfor %})J", "", Case::kOk, R"J([|1][3|2][1|] FalseTrueTrue)J"},
    {"loop_cycle_depth", R"J({% for x in xs %}{{ loop.cycle('odd', 'even') }}{{ loop.depth }} {% endfor %})J", "", Case::kOk, R"J(odd1 even1 odd1 )J"},
    {"for_else_and_filter", R"J({% for x in [] %}x{% else %}empty{% endfor %} {% for x in xs if x > 1 %}{{ x }}{{ loop.index }}{{ loop.length }} {% endfor %})J", "", Case::kOk, R"J(empty 312 222 )J"},
    {"for_over_dict_and_string", R"J({% for k in d %}{{ k }}{% endfor %} {% for c in 'héy' %}{{ c }}.{% endfor %})J", "", Case::kOk, R"J(baitems h.é.y.)J"},
    {"for_tuple_unpacking", R"J({% for a, b in [[1, 2], (3, 4)] %}{{ a }}{{ b }}{% endfor %} {% for k, v in d | items %}{{ k }}{{ v }}{% endfor %})J", "", Case::kOk, R"J(1234 b2a1itemsK)J"},
    {"nested_loops", R"J({% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %})J", "", Case::kOk, R"J(1x11y21 2x12y22 )J"},
    {"break_continue", R"J({% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %})J", "", Case::kOk, R"J(13)J"},
    {"for_scoping", R"J({% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i * 10 %}{{ x }}{% endfor %}{{ x }})J", "", Case::kOk, R"J(1101201)J"},
    {"if_does_not_scope", R"J({% if true %}{% set y = 5 %}{% endif %}{{ y }})J", "", Case::kOk, R"J(5)J"},
    {"loop_var_not_persisting", R"J({% for i in [1, 2] %}{% if i == 2 %}[{{ y }}]{% endif %}{% set y = i %}{% endfor %})J", "", Case::kOk, R"J([])J"},
    {"namespace", R"J({% set ns = namespace(count=0, found=false) %}{% for i in xs %}{% set ns.count = ns.count + i %}{% if i == 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }} {{ ns.missing is defined }})J", "", Case::kOk, R"J(6 True False)J"},
    {"namespace_from_dict", R"J({% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }})J", "", Case::kOk, R"J(121)J"},
    {"set_tuple", R"J({% set a, b = 1, 2 %}{{ a }}{{ b }} {% set c = (3, 4) %}{{ c }})J", "", Case::kOk, R"J(12 (3, 4))J"},
    {"set_block", R"J({% set body %}
  hi {{ s }}
{% endset %}[{{ body }}] {% set up | upper %}x{% endset %}{{ up }})J", "", Case::kOk, R"J([  hi Hello World
] X)J"},
    {"macro_defaults_and_kwargs", R"J({% macro m(a, b='B', c=none) %}[{{ a }}|{{ b }}|{{ c }}]{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(1, c=3) }}{{ m(a=4, b=5) }}{{ m() }})J", "", Case::kOk, R"J([1|B|None][1|2|None][1|B|3][4|5|None][|B|None])J"},
    {"macro_varargs_kwargs", R"J({% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }})J", "", Case::kOk, R"J(1(2, 3){'k': 'v'})J"},
    {"macro_sees_globals_at_call", R"J({% macro m() %}{{ g }}{% endmacro %}{% set g = 'late' %}{{ m() }})J", "", Case::kOk, R"J(late)J"},
    {"macro_recursion", R"J({% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }})J", "", Case::kOk, R"J(120)J"},
    {"macro_returns_string", R"J({% macro m() %} x {% endmacro %}[{{ m() | trim }}] {{ m() | length }})J", "", Case::kOk, R"J([x] 3)J"},
    {"call_block", R"J({% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ s }}{% endcall %})J", "", Case::kOk, R"J(<b>inner Hello World</b>)J"},
    {"call_block_with_args", R"J({% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}<{{ x }}>{% endcall %})J", "", Case::kOk, R"J(<1><2>)J"},
    {"filter_block", R"J({% filter upper %}hello {{ s }}{% endfilter %})J", "", Case::kOk, R"J(HELLO HELLO WORLD)J"},
    {"with_block", R"J({% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}])J", "", Case::kOk, R"J(1x[])J"},
    {"recursive_loop", R"J({% for item in [{'n': 'a', 'c': [{'n': 'b', 'c': []}]}, {'n': 'c', 'c': []}] recursive %}{{ item.n }}{{ loop.depth }}({{ loop(item.c) }}){% endfor %})J", "", Case::kOk, R"J(a1(b2())c1())J"},
    {"range_and_dict_globals", R"J({{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ dict(a=1, b=2) }} {% for i in range(2) %}{{ i }}{% endfor %})J", "", Case::kOk, R"J([0, 1, 2] [1, 4, 7] [5, 3, 1] {'a': 1, 'b': 2} 01)J"},
    {"print_statement_and_comment", R"J({% print 'p' %}{# c #}!)J", "", Case::kOk, R"J(p!)J"},
    {"raise_exception_inside_loop_not_reached", R"J({% for m in [] %}{{ raise_exception('no') }}{% endfor %}ok)J", "", Case::kOk, R"J(ok)J"},
    {"err_raise", R"J({{ raise_exception('Custom failure: ' ~ 42) }})J", "", Case::kError, R"J(Custom failure: 42)J"},
    {"err_undefined_attr_of_undefined", R"J({{ zz.a }})J", "", Case::kError, R"J('zz' is undefined)J"},
    {"err_missing_key_then_attr", R"J({{ d.zz.y }})J", "", Case::kError, R"J('dict object' has no attribute 'zz')J"},
    {"err_none_attr_chain", R"J({{ n.x.y }})J", "", Case::kError, R"J('None' has no attribute 'x')J"},
    {"err_add_str_int", R"J({{ 'a' + 1 }})J", "", Case::kError, R"J(can only concatenate str (not "int") to str)J"},
    {"err_div_zero", R"J({{ 1 / 0 }})J", "", Case::kError, R"J(division by zero)J"},
    {"err_items_non_mapping", R"J({% for a, b in xs | items %}{% endfor %})J", "", Case::kError, R"J(Can only get item pairs from a mapping.)J"},
    {"err_iterate_none", R"J({% for x in n %}{% endfor %})J", "", Case::kError, R"J('NoneType' object is not iterable)J"},
    {"err_unpack", R"J({% for a, b in [[1, 2, 3]] %}{% endfor %})J", "", Case::kError, R"J(too many values to unpack (expected 2))J"},
    {"err_tojson_undefined", R"J({{ zz | tojson }})J", "", Case::kError, R"J(Object of type Undefined is not JSON serializable)J"},
    {"err_macro_too_many_args", R"J({% macro m(a) %}{% endmacro %}{{ m(1, 2) }})J", "", Case::kError, R"J(macro 'm' takes not more than 1 argument(s))J"},
    {"err_call_non_callable", R"J({{ s() }})J", "", Case::kError, R"J('str' object is not callable)J"},
    {"err_set_attr_on_non_namespace", R"J({% set d.x = 1 %})J", "", Case::kError, R"J(cannot assign attribute on non-namespace object)J"},
    {"err_range_too_big", R"J({{ range(1000000) | length }})J", "", Case::kError, R"J(Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).)J"},
    {"err_compare_types", R"J({{ 1 < 'a' }})J", "", Case::kError, R"J('<' not supported between instances of 'int' and 'str')J"},
    {"err_in_string_int", R"J({{ 1 in 'abc' }})J", "", Case::kError, R"J('in <string>' requires string as left operand, not int)J"},
    {"err_concat_binds_tighter_than_plus", R"J({{ 1 + 1 ~ 2 }})J", "", Case::kError, R"J(unsupported operand type(s) for +: 'int' and 'str')J"},
    {"err_test_compares_undefined", R"J({{ users | selectattr('age', 'gt', 1) | list }})J", "", Case::kError, R"J('dict object' has no attribute 'age')J"},
    {"err_undefined_arith", R"J({{ zz + 1 }})J", "", Case::kError, R"J('zz' is undefined)J"},

};

struct Outcome {
  bool ok = false;
  std::string text;  // output or error message
};

Outcome RenderCase(const std::string& tmpl, const std::string& context_json, RenderLimits limits = {}) {
  auto t = warden::engine::ChatTemplate::FromString(tmpl, "case.jinja");
  if (!t.ok()) return {false, t.status().message()};
  json ctx = json::parse(context_json.empty() ? kDefaultContext : context_json);
  std::unique_ptr<Program> program;
  try {
    program = ParseTemplate(tmpl, "case.jinja");
  } catch (const SyntaxError& e) {
    return {false, e.message()};
  }
  std::unordered_map<std::string, Value> vars;
  for (const auto& [k, v] : ctx.items()) vars[k] = FromJson(v);
  Interpreter interp(*program, limits);
  try {
    return {true, interp.Render(std::move(vars))};
  } catch (const TemplateError& e) {
    return {false, e.message()};
  }
}

Outcome Render(const std::string& tmpl, RenderLimits limits = {}) { return RenderCase(tmpl, "{}", limits); }

}  // namespace

TEST_CASE("interpreter features match jinja2 output", "[engine][template]") {
  for (const auto& c : kCases) {
    INFO("case " << c.name << "\n  template: " << c.tmpl);
    Outcome o = RenderCase(c.tmpl, c.context);
    if (c.kind == Case::kOk) {
      INFO("error: " << (o.ok ? "" : o.text));
      REQUIRE(o.ok);
      CHECK(o.text == std::string(c.expected));
    } else {
      REQUIRE_FALSE(o.ok);
      CHECK_THAT(o.text, Catch::Contains(c.expected));
    }
  }
}

TEST_CASE("loop.changed remembers the previous call within one loop", "[engine][template]") {
  CHECK(Render("{% for x in [1, 1, 2, 1] %}{{ loop.changed(x) }}{% endfor %}").text == "TrueFalseTrueTrue");
  CHECK(Render("{% for x in [1, 2] %}{% for y in [x, x] %}{{ loop.changed(y) }}{% endfor %}|{% endfor %}").text ==
        "TrueFalse|TrueFalse|");
}

TEST_CASE("transformers extras: generation block, strftime_now, raise_exception text", "[engine][template]") {
  CHECK(Render("{% generation %}gen {{ 1 }}{% endgeneration %}!").text == "gen 1!");
  Outcome year = Render("{{ strftime_now('%Y') }}");
  REQUIRE(year.ok);
  CHECK(year.text.size() == 4);
  Outcome raised = Render("{% if true %}{{ raise_exception('exact text: <x>') }}{% endif %}");
  REQUIRE_FALSE(raised.ok);
  CHECK(raised.text == "exact text: <x>");
}

TEST_CASE("syntax errors name the source, line and column", "[engine][template]") {
  auto bad = warden::engine::ChatTemplate::FromString("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}", "bad.jinja");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == warden::Status::Code::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::StartsWith("bad.jinja:3:8: template syntax error"));

  struct Want {
    const char* tmpl;
    const char* text;
  };
  const Want wants[] = {
      {"{% if x %}no end", "'endif'"},
      {"{% for x in y %}{% endif %}", "endif"},
      {"{% frobnicate %}", "Encountered unknown tag 'frobnicate'."},
      {"{{ x | nosuchfilter }}", "No filter named 'nosuchfilter'."},
      {"{{ x is nosuchtest }}", "No test named 'nosuchtest'."},
      {"{# never closed", "Missing end of comment tag"},
      {"{{ 'unterminated }}", "unexpected char"},
      {"{{ (1 }}", "unexpected '}'"},
      {"{{ x }", "unexpected '}'"},
      {"{{ x ", "never closed"},
      {"{% break %}", "outside of a for loop"},
      {"{% macro m(a=1, b) %}{% endmacro %}", "non-default argument follows default argument"},
      {"{% extends 'base.html' %}", "not supported"},
      {"{{ 99999999999999999999 }}", "too large"},
      {"{{ '\\x4' }}", "truncated"},
      {"{% set 1 = 2 %}", "can't assign"},
  };
  for (const auto& w : wants) {
    INFO(w.tmpl);
    auto t = warden::engine::ChatTemplate::FromString(w.tmpl, "t.jinja");
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(t.status().message(), Catch::Contains(w.text));
  }
}

TEST_CASE("runtime errors name the line of the failing statement", "[engine][template]") {
  auto t = warden::engine::ChatTemplate::FromString("a\n{% macro m(x) %}\n{{ x.y.z }}\n{% endmacro %}\n{{ m(none) }}",
                                                    "rt.jinja");
  REQUIRE(t.ok());
  auto r = t->Render(json::array(), json(), json::object());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == warden::Status::Code::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::StartsWith("rt.jinja:3: template error: 'None' has no attribute 'y'"));
}

TEST_CASE("runaway templates stop at the render limits", "[engine][template]") {
  RenderLimits small;
  small.max_steps = 100000;
  small.max_output_bytes = 1 << 20;
  small.max_call_depth = 50;

  Outcome recursion = Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", small);
  REQUIRE_FALSE(recursion.ok);
  CHECK_THAT(recursion.text, Catch::Contains("nested more than 50"));

  Outcome loop = Render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", small);
  REQUIRE_FALSE(loop.ok);
  CHECK_THAT(loop.text, Catch::Contains("budget"));

  Outcome big = Render("{% for i in range(1000) %}{{ 'x' * 10000 }}{% endfor %}", small);
  REQUIRE_FALSE(big.ok);
  CHECK_THAT(big.text, Catch::Contains("exceed"));

  Outcome repeat = Render("{{ 'ab' * 100000000000 }}", small);
  REQUIRE_FALSE(repeat.ok);
  CHECK_THAT(repeat.text, Catch::Contains("exceed"));

  Outcome overflow = Render("{{ 2 ** 64 }}");
  REQUIRE_FALSE(overflow.ok);
  CHECK_THAT(overflow.text, Catch::Contains("overflow"));

  // A namespace that contains itself: printing is bounded, not an endless recursion.
  Outcome cycle = Render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
  REQUIRE_FALSE(cycle.ok);
  CHECK_THAT(cycle.text, Catch::Contains("nested"));

  auto deep = warden::engine::ChatTemplate::FromString("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}",
                                                       "deep.jinja");
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(deep.status().message(), Catch::Contains("nested too deeply"));

  // Long operator chains build deep trees without parser recursion; they are bounded like nesting.
  std::string chain = "{{ 'x'";
  for (int i = 0; i < 2000; ++i) chain += "|trim";
  chain += " }}";
  auto long_chain = warden::engine::ChatTemplate::FromString(chain, "chain.jinja");
  REQUIRE_FALSE(long_chain.ok());
  CHECK_THAT(long_chain.status().message(), Catch::Contains("nested too deeply"));
  std::string sum = "{{ 1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  auto long_sum = warden::engine::ChatTemplate::FromString(sum + " }}", "sum.jinja");
  REQUIRE_FALSE(long_sum.ok());
  CHECK(Render("{{ 1 + 1 + 1 + 1 }}").text == "4");

  // Values nested by a loop stop at the value depth limit instead of overflowing the stack when freed.
  Outcome nested = Render(
      "{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x|length }}");
  REQUIRE_FALSE(nested.ok);
  CHECK_THAT(nested.text, Catch::Contains("nested more than"));

  // Through the public API, a limit is kResourceExhausted.
  auto t = warden::engine::ChatTemplate::FromString("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "r.jinja");
  REQUIRE(t.ok());
  auto r = t->Render(json::array(), json(), json::object());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == warden::Status::Code::kResourceExhausted);

  // So is JSON input nested beyond the value depth limit.
  json nested_json = json::array();
  for (int i = 0; i < 1200; ++i) {
    json outer = json::array();
    outer.push_back(std::move(nested_json));
    nested_json = std::move(outer);
  }
  json deep_messages = json::array();
  deep_messages.push_back(std::move(nested_json));
  auto plain = warden::engine::ChatTemplate::FromString("{{ messages|length }}", "p.jinja");
  REQUIRE(plain.ok());
  auto deep_render = plain->Render(deep_messages, json(), json::object());
  REQUIRE_FALSE(deep_render.ok());
  CHECK(deep_render.status().code() == warden::Status::Code::kResourceExhausted);
}
