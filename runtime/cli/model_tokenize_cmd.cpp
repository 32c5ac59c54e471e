// `warden model tokenize`: encode text (--text or --file) with a Hugging Face tokenizer.json (--tokenizer FILE or
// --model DIR) and print the ids, or with --json the ids, their vocabulary spellings and the count
// (../shared/docs/model.md §6).
#include <sstream>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/engine/tokenizer/tokenizer.h"

namespace warden::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  std::string model;
  std::string text;
  std::string file;
};

}  // namespace

void RegisterModelTokenize(CLI::App& model, CliContext& ctx) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = model.add_subcommand("tokenize", "Encode text to token ids with a Hugging Face tokenizer.json");
  auto* from = cmd->add_option_group("tokenizer", "Where the tokenizer is (one of)");
  from->add_option("--tokenizer", args->tokenizer, "A Hugging Face tokenizer.json");
  from->add_option("--model", args->model, "A model folder holding tokenizer.json");
  from->require_option(1);
  auto* input = cmd->add_option_group("input", "What to encode (one of)");
  input->add_option("--text", args->text, "The text to encode (UTF-8)");
  input->add_option("--file", args->file, "A file whose bytes (UTF-8) are encoded");
  input->require_option(1);
  cmd->callback([&ctx, args, cmd] {
    auto tok = args->tokenizer.empty() ? engine::Tokenizer::FromModelDir(args->model)
                                       : engine::Tokenizer::FromFile(args->tokenizer);
    if (!tok.ok()) {
      return ctx.Fail(tok.status(), "pass --tokenizer FILE (a Hugging Face tokenizer.json) or --model DIR");
    }
    std::string text = args->text;
    if (cmd->get_option_group("input")->get_option("--file")->count() > 0) {
      auto data = ReadFile(args->file);
      if (!data.ok()) return ctx.Fail(data.status(), "check the --file path");
      text = std::move(data).value();
    }
    auto ids = tok->Encode(text);
    if (!ids.ok()) return ctx.Fail(ids.status(), "the input must be UTF-8 text");
    nlohmann::json doc{{"ids", *ids}, {"tokens", nlohmann::json::array()}, {"count", ids->size()}};
    std::ostringstream line;
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i > 0) line << ' ';
      line << (*ids)[i];
      doc["tokens"].push_back(tok->IdToToken((*ids)[i]).value_or(""));
    }
    line << '\n';
    ctx.Emit(doc, line.str());
  });
}

}  // namespace warden::cli
