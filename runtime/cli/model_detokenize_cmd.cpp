// `warden model detokenize`: decode comma-separated token ids with a Hugging Face tokenizer.json (--tokenizer FILE
// or --model DIR) and print the text exactly, with no newline added; --skip-special drops special added tokens
// (../shared/docs/model.md §6).
#include <charconv>
#include <iostream>

#include "runtime/cli/commands.h"
#include "runtime/engine/tokenizer/tokenizer.h"

namespace warden::cli {
namespace {

struct DetokenizeArgs {
  std::string tokenizer;
  std::string model;
  std::string ids;
  bool skip_special = false;
};

// "1,2, 3" or "1 2 3" → ids. Empty entries are skipped; anything else that is not a token id is an error naming it.
Result<std::vector<int32_t>> ParseIds(const std::string& s) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = s.find_first_of(", \t\n", i);
    if (end == std::string::npos) end = s.size();
    std::string_view item(s.data() + i, end - i);
    i = end + 1;
    if (item.empty()) continue;
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || ptr != item.data() + item.size()) {
      return Status::InvalidArgument("bad token id \"" + std::string(item) + "\" in --ids: expected a whole number");
    }
    if (value < 0 || value > INT32_MAX) {
      return Status::InvalidArgument("token id " + std::string(item) + " in --ids is out of range");
    }
    ids.push_back(static_cast<int32_t>(value));
  }
  return ids;
}

}  // namespace

void RegisterModelDetokenize(CLI::App& model, CliContext& ctx) {
  auto args = std::make_shared<DetokenizeArgs>();
  auto* cmd = model.add_subcommand("detokenize", "Decode token ids to text with a Hugging Face tokenizer.json");
  auto* from = cmd->add_option_group("tokenizer", "Where the tokenizer is (one of)");
  from->add_option("--tokenizer", args->tokenizer, "A Hugging Face tokenizer.json");
  from->add_option("--model", args->model, "A model folder holding tokenizer.json");
  from->require_option(1);
  cmd->add_option("--ids", args->ids, "Token ids separated by commas, e.g. 9707,11,1879")->required();
  cmd->add_flag("--skip-special", args->skip_special, "Drop added tokens flagged special (<|im_end|>, ...)");
  cmd->callback([&ctx, args] {
    auto ids = ParseIds(args->ids);
    if (!ids.ok()) return ctx.Fail(ids.status(), "pass --ids as comma-separated whole numbers");
    auto tok = args->tokenizer.empty() ? engine::Tokenizer::FromModelDir(args->model)
                                       : engine::Tokenizer::FromFile(args->tokenizer);
    if (!tok.ok()) {
      return ctx.Fail(tok.status(), "pass --tokenizer FILE (a Hugging Face tokenizer.json) or --model DIR");
    }
    auto text = tok->Decode(*ids, args->skip_special);
    if (!text.ok()) return ctx.Fail(text.status(), "every id must be in the tokenizer's vocabulary");
    if (ctx.json) {
      ctx.Emit(nlohmann::json{{"text", *text}}, "");
    } else {
      // Exactly the decoded text: a newline here would change what a pipe receives.
      std::cout << *text;
      std::cout.flush();
    }
  });
}

}  // namespace warden::cli
