// Tokenizer and field extraction for the skill index (retrieval.md 1.8 "Reference BM25 conventions" and 1.9):
// the same tokens as bench/retrieval/reference_bm25.py so the plain configuration reproduces its numbers.
#include "skills/skills_internal.h"

namespace warden::skills::detail {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsLower(c) || IsUpper(c) || IsDigit(c); }

void AppendSchemaParams(const nlohmann::json& schema, std::string* out, int depth) {
  // Nested objects and arrays of objects carry parameter names too; the depth cap guards against hostile schemas.
  if (depth > 8 || !schema.is_object()) return;
  auto props = schema.find("properties");
  if (props != schema.end() && props->is_object()) {
    for (const auto& [pname, p] : props->items()) {
      out->append(pname).push_back(' ');
      if (p.is_object()) {
        auto d = p.find("description");
        if (d != p.end() && d->is_string()) out->append(d->get<std::string>());
        out->push_back(' ');
        AppendSchemaParams(p, out, depth + 1);
      }
    }
  }
  auto items = schema.find("items");
  if (items != schema.end()) AppendSchemaParams(*items, out, depth + 1);
}

}  // namespace

std::vector<std::string> Tokenize(std::string_view text, bool split_identifiers) {
  std::vector<std::string> tokens;
  std::string cur;
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (!IsWordChar(c)) {
      if (!cur.empty()) tokens.push_back(std::move(cur)), cur.clear();
      continue;
    }
    if (split_identifiers && !cur.empty() && IsUpper(c)) {
      const char prev = text[i - 1];
      const bool boundary = IsLower(prev) || IsDigit(prev) || (IsUpper(prev) && i + 1 < n && IsLower(text[i + 1]));
      if (boundary) tokens.push_back(std::move(cur)), cur.clear();
    }
    cur.push_back(IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (!cur.empty()) tokens.push_back(std::move(cur));
  return tokens;
}

FieldTexts FieldTextsOf(const Skill& skill) {
  FieldTexts t;
  t.text[static_cast<int>(Field::kName)] = skill.name;
  t.text[static_cast<int>(Field::kDescription)] = skill.description;
  std::string& tags = t.text[static_cast<int>(Field::kTags)];
  for (const auto& tag : skill.tags) tags.append(tag).push_back(' ');
  AppendSchemaParams(skill.arguments, &t.text[static_cast<int>(Field::kParams)], 0);
  return t;
}

IndexDoc MakeIndexDoc(const Skill& skill, bool split_identifiers) {
  IndexDoc doc;
  doc.name = skill.name;
  FieldTexts texts = FieldTextsOf(skill);
  for (int f = 0; f < kFieldCount; ++f) doc.tokens[f] = Tokenize(texts.text[f], split_identifiers);
  return doc;
}

}  // namespace warden::skills::detail
