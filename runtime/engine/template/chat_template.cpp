// ChatTemplate: loading a checkpoint's chat template and rendering requests with it (chat_template.h,
// ../shared/docs/model.md §7.1). This file owns the boundary: template errors thrown inside the interpreter and
// nlohmann exceptions become Status values here and go no further.
#include "runtime/engine/template/chat_template.h"

#include <fstream>
#include <new>
#include <unordered_map>

#include "runtime/base/file_util.h"
#include "runtime/engine/template/interpreter.h"
#include "runtime/engine/template/lexer.h"
#include "runtime/engine/template/parser.h"

namespace warden::engine {
namespace {

using detail::Value;
using json = nlohmann::ordered_json;

// The request-side convention of OpenAI-compatible servers (vLLM): tool-call arguments arrive as a JSON string and
// templates expect a mapping.
Status NormalizeArguments(json& holder, const std::string& where) {
  auto it = holder.find("arguments");
  if (it == holder.end() || !it->is_string()) return Status::Ok();
  const std::string text = it->get<std::string>();
  if (text.empty()) {
    *it = json::object();
    return Status::Ok();
  }
  try {
    *it = json::parse(text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(where + ".arguments: not valid JSON (" + e.what() +
                                   "); send the tool call's arguments as a JSON object or a JSON-encoded string");
  }
  return Status::Ok();
}

Result<json> NormalizeMessages(const json& messages) {
  json out = messages;
  for (size_t i = 0; i < out.size(); ++i) {
    json& m = out[i];
    if (!m.is_object()) continue;
    auto calls = m.find("tool_calls");
    if (calls == m.end() || !calls->is_array()) continue;
    for (size_t j = 0; j < calls->size(); ++j) {
      json& call = (*calls)[j];
      if (!call.is_object()) continue;
      const std::string where = "messages[" + std::to_string(i) + "].tool_calls[" + std::to_string(j) + "]";
      auto fn = call.find("function");
      if (fn != call.end() && fn->is_object()) {
        WARDEN_RETURN_IF_ERROR(NormalizeArguments(*fn, where + ".function"));
      } else {
        WARDEN_RETURN_IF_ERROR(NormalizeArguments(call, where));
      }
    }
  }
  return out;
}

// The special tokens transformers passes to every render (tokenizer.special_tokens_map).
std::vector<std::pair<std::string, std::string>> SpecialTokens(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  const auto path = dir / "tokenizer_config.json";
  if (!std::filesystem::exists(path, ec)) return out;
  auto text = ReadFile(path);
  if (!text.ok()) return out;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return out;
  for (const char* name : {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"}) {
    auto it = doc.find(name);
    if (it == doc.end()) continue;
    if (it->is_string()) {
      out.emplace_back(name, it->get<std::string>());
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      out.emplace_back(name, (*it)["content"].get<std::string>());
    }
  }
  return out;
}

}  // namespace

Result<ChatTemplate> ChatTemplate::FromString(std::string text, std::string source_name) {
  ChatTemplate t;
  try {
    t.program_ = detail::ParseTemplate(text, source_name);
  } catch (const detail::SyntaxError& e) {
    return Status::InvalidArgument(source_name + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) +
                                   ": template syntax error: " + e.message());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(source_name + ": out of memory while parsing the chat template");
  }
  t.source_ = std::move(text);
  t.source_name_ = std::move(source_name);
  return t;
}

Result<ChatTemplate> ChatTemplate::FromFile(const std::filesystem::path& file) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  return FromString(std::move(text), file.string());
}

Result<ChatTemplate> ChatTemplate::FromModelDir(const std::filesystem::path& dir) {
  auto t = FindInModelDir(dir);
  if (t.ok()) t->special_tokens_ = SpecialTokens(dir);
  return t;
}

Result<ChatTemplate> ChatTemplate::FindInModelDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound(dir.string() + ": not a folder; pass the model folder that holds the checkpoint");
  }
  const auto jinja = dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja, ec)) return FromFile(jinja);
  for (const char* name : {"chat_template.json", "tokenizer_config.json"}) {
    const auto path = dir / name;
    if (!std::filesystem::exists(path, ec)) continue;
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      return Status::Corruption(path.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!doc.is_object() || !doc.contains("chat_template")) continue;
    const json& field = doc["chat_template"];
    const std::string where = path.string() + ":chat_template";
    if (field.is_string()) return FromString(field.get<std::string>(), where);
    if (field.is_array()) {
      std::string names;
      for (const auto& entry : field) {
        if (!entry.is_object() || !entry.contains("name") || !entry.contains("template")) continue;
        if (!entry["name"].is_string() || !entry["template"].is_string()) continue;
        const std::string entry_name = entry["name"].get<std::string>();
        if (entry_name == "default") return FromString(entry["template"].get<std::string>(), where + "[default]");
        names += (names.empty() ? "" : ", ") + entry_name;
      }
      return Status::NotFound(where + ": no template named \"default\" (found: " +
                              (names.empty() ? std::string("none") : names) + ")");
    }
    return Status::Corruption(where + ": expected a string or a list of {name, template} objects");
  }
  return Status::NotFound(dir.string() +
                          ": no chat template (expected chat_template.jinja, or a \"chat_template\" field in "
                          "chat_template.json or tokenizer_config.json)");
}

Result<std::string> ChatTemplate::Render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                         const nlohmann::ordered_json& kwargs) const {
  if (!program_) return Status::Internal("ChatTemplate used before it was loaded");
  if (!messages.is_array()) return Status::InvalidArgument("messages: expected an array of message objects");
  if (!tools.is_null() && !tools.is_array()) return Status::InvalidArgument("tools: expected null or an array");
  if (!kwargs.is_null() && !kwargs.is_object()) return Status::InvalidArgument("kwargs: expected an object");
  WARDEN_ASSIGN_OR_RETURN(json normalized, NormalizeMessages(messages));

  detail::Interpreter interpreter(*program_, limits_);
  try {
    // Inside the try: converting deeply nested JSON input can hit a value limit.
    std::unordered_map<std::string, Value> context;
    context["documents"] = Value::None();
    context["add_generation_prompt"] = Value::Bool(false);
    for (const auto& [name, token] : special_tokens_) context[name] = Value::String(token);
    if (kwargs.is_object()) {
      for (const auto& [key, value] : kwargs.items()) {
        if (key == "messages" || key == "tools") {
          return Status::InvalidArgument("kwargs: '" + key + "' is passed separately and cannot be a kwarg");
        }
        context[key] = detail::FromJson(value);
      }
    }
    context["messages"] = detail::FromJson(normalized);
    context["tools"] = detail::FromJson(tools);
    return interpreter.Render(std::move(context));
  } catch (const detail::TemplateError& e) {
    std::string where = source_name_ + (e.line() > 0 ? ":" + std::to_string(e.line()) : std::string()) + ": ";
    switch (e.kind()) {
      case detail::TemplateError::Kind::kRaised:
        return Status::InvalidArgument(where + e.message());
      case detail::TemplateError::Kind::kLimit:
        return Status::ResourceExhausted(where + e.message());
      case detail::TemplateError::Kind::kRuntime:
        break;
    }
    return Status::InvalidArgument(where + "template error: " + e.message());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(source_name_ + ": out of memory while rendering the chat template");
  }
}

}  // namespace warden::engine
