// `warden chat render`: render a conversation with a model's chat template (runtime/engine/template/chat_template.h,
// ../shared/docs/model.md §7.1). Prints the prompt exactly as rendered — no newline is added — so the output can be
// compared byte for byte or piped into the tokenizer.
#include <iostream>
#include <iterator>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/engine/template/chat_template.h"

namespace warden::cli {
namespace {

struct ChatRenderFlags {
  std::string template_file;
  std::string model_dir;
  std::string case_file;
};

Result<std::string> ReadCase(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return text;
  }
  return ReadFile(path);
}

void Run(const ChatRenderFlags& flags, CliContext& ctx) {
  if (flags.template_file.empty() == flags.model_dir.empty()) {
    return ctx.Fail(Status::InvalidArgument("chat render needs exactly one of --template FILE or --model DIR"),
                    "run 'warden chat render --help'", kExitUsage);
  }
  auto tmpl = flags.template_file.empty() ? engine::ChatTemplate::FromModelDir(flags.model_dir)
                                          : engine::ChatTemplate::FromFile(flags.template_file);
  if (!tmpl.ok()) return ctx.Fail(tmpl.status(), "check the template file or model folder");

  auto text = ReadCase(flags.case_file);
  if (!text.ok()) return ctx.Fail(text.status());
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(*text);
  } catch (const nlohmann::ordered_json::exception& e) {
    return ctx.Fail(Status::InvalidArgument(flags.case_file + ": not valid JSON (" + e.what() + ")"),
                    "the case file is one JSON object with messages, tools and kwargs");
  }
  if (!doc.is_object() || !doc.contains("messages")) {
    return ctx.Fail(Status::InvalidArgument(flags.case_file + ": expected a JSON object with a \"messages\" array"),
                    "the case file is one JSON object with messages, tools and kwargs");
  }
  const nlohmann::ordered_json null_json;
  const nlohmann::ordered_json empty_object = nlohmann::ordered_json::object();
  auto prompt = tmpl->Render(doc["messages"], doc.contains("tools") ? doc["tools"] : null_json,
                             doc.contains("kwargs") ? doc["kwargs"] : empty_object);
  if (!prompt.ok()) return ctx.Fail(prompt.status());
  if (ctx.json) {
    // nlohmann::json rejects invalid UTF-8; a template can only produce that from invalid input bytes, so replace.
    nlohmann::json out{{"prompt", *prompt}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << *prompt;
  }
  std::cout.flush();
}

}  // namespace

void RegisterChatRender(CLI::App& chat, CliContext& ctx) {
  auto flags = std::make_shared<ChatRenderFlags>();
  auto* cmd = chat.add_subcommand("render", "Render a conversation into the model prompt with a chat template");
  auto* tmpl = cmd->add_option("--template", flags->template_file, "Chat template file (Jinja)");
  auto* model = cmd->add_option("--model", flags->model_dir,
                                "Model folder: chat_template.jinja or the chat_template of tokenizer_config.json");
  tmpl->excludes(model);
  cmd->add_option("--case", flags->case_file,
                  "JSON object {messages, tools, kwargs} (one render_cases line works), or - for stdin")
      ->required();
  cmd->footer("Prints the rendered prompt exactly, without a trailing newline; --json prints {\"prompt\": ...}.\n"
              "A template error (including raise_exception) exits 1 with the template's message.");
  cmd->callback([flags, &ctx] { Run(*flags, ctx); });
}

}  // namespace warden::cli
