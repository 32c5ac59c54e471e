// SKILL.md frontmatter reader (Agent Skills convention, retrieval.md 3.1): splits the `---` delimited YAML block
// from the Markdown body and converts the YAML (libyaml's document API) to JSON with the line of each top-level key,
// so validation errors can name file:line.
#include <yaml.h>

#include <memory>

#include "skills/skills_internal.h"

namespace warden::skills::detail {
namespace {

struct ParserCloser {
  void operator()(yaml_parser_t* p) const { yaml_parser_delete(p); }
};
struct DocumentCloser {
  void operator()(yaml_document_t* d) const { yaml_document_delete(d); }
};

// YAML aliases can make a small document expand exponentially; the depth cap bounds it.
nlohmann::json NodeToJson(yaml_document_t* doc, yaml_node_t* node, int depth) {
  if (node == nullptr || depth > 32) return nullptr;
  switch (node->type) {
    case YAML_SCALAR_NODE: {
      std::string value(reinterpret_cast<const char*>(node->data.scalar.value), node->data.scalar.length);
      // A plain empty or "~"/"null" scalar is YAML null; quoted ones stay strings.
      if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
          (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")) {
        return nullptr;
      }
      return value;
    }
    case YAML_SEQUENCE_NODE: {
      nlohmann::json arr = nlohmann::json::array();
      for (yaml_node_item_t* it = node->data.sequence.items.start; it < node->data.sequence.items.top; ++it) {
        arr.push_back(NodeToJson(doc, yaml_document_get_node(doc, *it), depth + 1));
      }
      return arr;
    }
    case YAML_MAPPING_NODE: {
      nlohmann::json obj = nlohmann::json::object();
      for (yaml_node_pair_t* p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; ++p) {
        nlohmann::json key = NodeToJson(doc, yaml_document_get_node(doc, p->key), depth + 1);
        std::string k = key.is_string() ? key.get<std::string>() : key.dump();
        obj[k] = NodeToJson(doc, yaml_document_get_node(doc, p->value), depth + 1);
      }
      return obj;
    }
    default:
      return nullptr;
  }
}

// Lines of `text` as [begin, end) offsets without the line terminator.
bool NextLine(const std::string& text, size_t* pos, std::string_view* line) {
  if (*pos >= text.size()) return false;
  size_t end = text.find('\n', *pos);
  if (end == std::string::npos) end = text.size();
  size_t stop = end;
  if (stop > *pos && text[stop - 1] == '\r') --stop;
  *line = std::string_view(text).substr(*pos, stop - *pos);
  *pos = end + 1;
  return true;
}

bool IsDelimiter(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line == "---";
}

}  // namespace

bool ParseFrontmatter(const std::string& raw, Frontmatter* out, std::string* error, int* error_line) {
  std::string text = raw;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte-order mark some editors write
  size_t pos = 0;
  std::string_view line;
  if (!NextLine(text, &pos, &line) || !IsDelimiter(line)) {
    *error = "expected a YAML frontmatter block starting with a '---' line on line 1";
    *error_line = 1;
    return false;
  }
  const size_t yaml_begin = pos;
  size_t yaml_end = std::string::npos;
  int line_no = 1;
  for (size_t line_begin = pos; NextLine(text, &pos, &line); line_begin = pos) {
    ++line_no;
    if (IsDelimiter(line)) {
      yaml_end = line_begin;
      break;
    }
  }
  if (yaml_end == std::string::npos) {
    *error = "expected a closing '---' line after the frontmatter";
    *error_line = line_no;
    return false;
  }
  out->body = pos < text.size() ? text.substr(pos) : std::string();
  out->body_line = line_no + 1;
  const std::string yaml_text = text.substr(yaml_begin, yaml_end - yaml_begin);

  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    *error = "out of memory initialising the YAML parser";
    *error_line = 0;
    return false;
  }
  std::unique_ptr<yaml_parser_t, ParserCloser> parser_guard(&parser);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(yaml_text.data()), yaml_text.size());
  yaml_document_t document;
  if (!yaml_parser_load(&parser, &document)) {
    *error = std::string("invalid YAML in the frontmatter: ") + (parser.problem ? parser.problem : "parse error");
    if (parser.context) *error += std::string(" (") + parser.context + ")";
    *error_line = static_cast<int>(parser.problem_mark.line) + 2;  // +1 for 1-based, +1 for the '---' line
    return false;
  }
  std::unique_ptr<yaml_document_t, DocumentCloser> doc_guard(&document);
  yaml_node_t* root = yaml_document_get_root_node(&document);
  if (root == nullptr) {
    *error = "expected frontmatter keys (name, description), got an empty block";
    *error_line = 2;
    return false;
  }
  if (root->type != YAML_MAPPING_NODE) {
    *error = "expected the frontmatter to be a mapping of keys (name: ..., description: ...)";
    *error_line = static_cast<int>(root->start_mark.line) + 2;
    return false;
  }
  out->values = nlohmann::json::object();
  for (yaml_node_pair_t* p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; ++p) {
    yaml_node_t* key_node = yaml_document_get_node(&document, p->key);
    nlohmann::json key = NodeToJson(&document, key_node, 1);
    std::string k = key.is_string() ? key.get<std::string>() : key.dump();
    if (out->values.contains(k)) {
      *error = "duplicate frontmatter key '" + k + "'";
      *error_line = static_cast<int>(key_node->start_mark.line) + 2;
      return false;
    }
    out->values[k] = NodeToJson(&document, yaml_document_get_node(&document, p->value), 1);
    out->key_lines[k] = static_cast<int>(key_node->start_mark.line) + 2;
  }
  return true;
}

}  // namespace warden::skills::detail
