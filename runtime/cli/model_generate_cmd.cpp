// `warden model generate`: the whole text path of the engine in one command — render the model's chat template,
// tokenize, prefill, sample token by token, decode, and split the output into reasoning, content and tool calls.
//
// With --inputs (a safetensors file holding input_ids) it skips the template and tokenizer, so it also runs on
// checkpoints that ship none (the tiny fixtures); --out writes output_ids and step_logits for golden checks.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/engine/chat/output_parser.h"
#include "runtime/engine/generate.h"
#include "runtime/engine/template/chat_template.h"
#include "runtime/engine/vision/media_decode.h"
#include "runtime/engine/vision/multimodal.h"
#include "runtime/engine/vision/preprocess.h"
#include "runtime/engine/tokenizer/tokenizer.h"
#include "runtime/engine/weights/safetensors.h"
#include "runtime/engine/weights/safetensors_writer.h"

namespace warden::cli {
namespace {

struct GenerateFlags {
  std::string model, prompt, system, inputs, out, tools_file, kv_dtype = "f32";
  std::vector<std::string> stop;
  std::vector<std::string> images, videos;  // attached media: images first, then videos, each in flag order
  size_t max_new_tokens = 0;  // 0: generation_config.json's, else 256
  std::optional<float> temperature, top_p, min_p, presence_penalty, repetition_penalty;
  std::optional<int> top_k;
  uint64_t seed = 0;
  bool no_thinking = false, fp8_activations = false, stream = false;
};

Result<std::vector<int32_t>> IdsFromFile(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(auto file, engine::SafetensorsFile::Open(path));
  const engine::TensorView* ids = file.Find("input_ids");
  if (ids == nullptr) return Status::InvalidArgument(path + ": no tensor named input_ids (I32/I64 [T])");
  if (ids->dtype != engine::DType::kI32 && ids->dtype != engine::DType::kI64) {
    return Status::InvalidArgument(path + ": input_ids must be I32 or I64, not " +
                                   std::string(engine::DTypeName(ids->dtype)));
  }
  std::vector<int32_t> out;
  for (int64_t i = 0; i < ids->num_elements(); ++i) {
    out.push_back(static_cast<int32_t>(engine::ElementAsDouble(*ids, i)));
  }
  return out;
}

Result<nlohmann::ordered_json> ReadTools(const std::string& path) {
  if (path.empty()) return nlohmann::ordered_json();
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (doc.is_object() && doc.contains("tools")) doc = doc["tools"];
  if (!doc.is_array()) return Status::InvalidArgument(path + ": expected a JSON array of tools (or {\"tools\": [...]})");
  return doc;
}

// Decodes and preprocesses the attached media with the model's processor configs (defaults when absent).
Result<std::vector<engine::MediaItem>> LoadMedia(const GenerateFlags& f) {
  std::vector<engine::MediaItem> media;
  const std::filesystem::path dir = f.model;
  engine::PreprocessorConfig image_config;
  if (std::filesystem::exists(dir / "preprocessor_config.json")) {
    WARDEN_ASSIGN_OR_RETURN(image_config, engine::PreprocessorConfig::FromFile(dir / "preprocessor_config.json"));
  }
  engine::VideoPreprocessorConfig video_config;
  if (std::filesystem::exists(dir / "video_preprocessor_config.json")) {
    WARDEN_ASSIGN_OR_RETURN(video_config,
                            engine::VideoPreprocessorConfig::FromFile(dir / "video_preprocessor_config.json"));
  }
  for (const std::string& path : f.images) {
    WARDEN_ASSIGN_OR_RETURN(engine::RgbImage img, engine::DecodeImageFile(path));
    auto p = engine::PreprocessImage(img, image_config);
    if (!p.ok()) return p.status().WithContext(path);
    media.push_back({engine::MediaKind::kImage, std::move(p->pixel_values), p->grid, {}});
  }
  for (const std::string& path : f.videos) {
    WARDEN_ASSIGN_OR_RETURN(engine::DecodedVideo v, engine::DecodeVideoFile(path, video_config));
    auto p = engine::PreprocessVideo(v.frames, v.times, video_config);
    if (!p.ok()) return p.status().WithContext(path);
    media.push_back({engine::MediaKind::kVideo, std::move(p->pixel_values), p->grid, p->timestamps});
  }
  return media;
}

}  // namespace

void RegisterModelGenerate(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("generate", "Generate a reply: chat template, tokenize, prefill, sample, decode, "
                                               "and split reasoning, content and tool calls");
  auto f = std::make_shared<GenerateFlags>();
  cmd->add_option("--model", f->model, "Model folder (config.json, safetensors, tokenizer.json, chat template)")
      ->required();
  auto* prompt = cmd->add_option("--prompt", f->prompt, "The user's message (rendered with the model's chat template)");
  auto* inputs = cmd->add_option("--inputs", f->inputs, "safetensors with input_ids [T]: raw prompt ids, no template");
  prompt->excludes(inputs);
  cmd->add_option("--system", f->system, "A system message before the prompt");
  cmd->add_option("--tools", f->tools_file, "JSON array of tools offered to the model (OpenAI style)");
  cmd->add_flag("--no-thinking", f->no_thinking, "Render with enable_thinking=false (no <think> reasoning)");
  cmd->add_option("--max-new-tokens", f->max_new_tokens, "Token budget (default: generation_config.json, else 256)");
  cmd->add_option("--temperature", f->temperature, "0 = greedy (default: generation_config.json, else 1)");
  cmd->add_option("--top-k", f->top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--top-p", f->top_p, "Nucleus sampling mass (1 = off)");
  cmd->add_option("--min-p", f->min_p, "Drop tokens below min-p × the top probability (0 = off)");
  cmd->add_option("--presence-penalty", f->presence_penalty, "Subtracted once from every seen token's logit");
  cmd->add_option("--repetition-penalty", f->repetition_penalty, ">1 discourages seen tokens");
  cmd->add_option("--seed", f->seed, "Random seed (same seed, same output)");
  cmd->add_option("--stop", f->stop, "Stop when the output contains this text (repeatable)");
  cmd->add_option("--out", f->out, "Write output_ids I32 [N] and step_logits F32 [N, vocab] as safetensors");
  cmd->add_option("--kv-dtype", f->kv_dtype, "KV cache storage: f32, bf16 or fp8")
      ->check(CLI::IsMember({"f32", "bf16", "fp8"}));
  cmd->add_flag("--fp8-activations", f->fp8_activations, "FP8 layers run W8A8 with their static input scale");
  cmd->add_option("--image", f->images,
                  "Attach an image (repeatable; PNG, JPEG, BMP, GIF). With --prompt it goes before the text; with "
                  "--inputs the ids must already hold its <|image_pad|> tokens");
  cmd->add_option("--video", f->videos, "Attach a video (repeatable; after the images)");
  cmd->add_flag("--stream", f->stream, "Print text as it is generated (needs tokenizer.json)");
  cmd->callback([&ctx, f] {
    if (f->prompt.empty() && f->inputs.empty()) {
      return ctx.Fail(Status::InvalidArgument("give --prompt TEXT or --inputs FILE"), "", kExitUsage);
    }
    auto files = engine::ModelFiles::Load(f->model, ShardProgress(ctx));
    if (!files.ok()) return ctx.Fail(files.status(), "--model must be a Qwen3.5/3.6 Hugging Face folder");
    auto model = engine::Qwen35TextModel::Load(*files, {.fp8_activations = f->fp8_activations});
    if (!model.ok()) return ctx.Fail(model.status());
    auto tools = ReadTools(f->tools_file);
    if (!tools.ok()) return ctx.Fail(tools.status());
    auto media = LoadMedia(*f);
    if (!media.ok()) return ctx.Fail(media.status());
    std::unique_ptr<engine::VisionTower> tower;
    if (!media->empty()) {
      auto t = engine::VisionTower::Load(*files);
      if (!t.ok()) return ctx.Fail(t.status(), "--image and --video need a checkpoint with its vision tower");
      tower = std::move(t).value();
    }

    // The tokenizer is optional with --inputs (then ids are printed instead of text).
    std::optional<engine::Tokenizer> tokenizer;
    if (auto t = engine::Tokenizer::FromModelDir(f->model); t.ok()) {
      tokenizer = std::move(t).value();
    } else if (!f->prompt.empty() || f->stream || !f->stop.empty()) {
      return ctx.Fail(t.status(), "--prompt, --stream and --stop need the model's tokenizer.json");
    }
    std::vector<int32_t> prompt_ids;
    if (!f->prompt.empty()) {
      auto tmpl = engine::ChatTemplate::FromModelDir(f->model);
      if (!tmpl.ok()) return ctx.Fail(tmpl.status(), "the model folder needs chat_template.jinja or a "
                                                     "chat_template in tokenizer_config.json; or use --inputs");
      nlohmann::ordered_json messages = nlohmann::ordered_json::array();
      if (!f->system.empty()) messages.push_back({{"role", "system"}, {"content", f->system}});
      if (media->empty()) {
        messages.push_back({{"role", "user"}, {"content", f->prompt}});
      } else {
        nlohmann::ordered_json parts = nlohmann::ordered_json::array();
        for (const auto& m : *media) parts.push_back({{"type", m.kind == engine::MediaKind::kImage ? "image" : "video"}});
        parts.push_back({{"type", "text"}, {"text", f->prompt}});
        messages.push_back({{"role", "user"}, {"content", parts}});
      }
      nlohmann::ordered_json kwargs = {{"add_generation_prompt", true}};
      if (f->no_thinking) kwargs["enable_thinking"] = false;
      auto text = tmpl->Render(messages, *tools, kwargs);
      if (!text.ok()) return ctx.Fail(text.status());
      if (!media->empty()) {
        // The template emits one placeholder per medium; the processor expands it (pads, video timestamps).
        auto expanded = engine::ExpandMediaPlaceholders(*text, *media, tower->config().spatial_merge_size);
        if (!expanded.ok()) return ctx.Fail(expanded.status());
        text = std::move(expanded);
      }
      auto ids = tokenizer->Encode(*text);
      if (!ids.ok()) return ctx.Fail(ids.status());
      prompt_ids = std::move(ids).value();
    } else {
      auto ids = IdsFromFile(f->inputs);
      if (!ids.ok()) return ctx.Fail(ids.status());
      prompt_ids = std::move(ids).value();
    }

    engine::GenerateOptions options;
    if (files->generation_config()) engine::ApplyGenerationConfig(*files->generation_config(), &options);
    if (tokenizer) {
      // Qwen chat turns end with <|im_end|>; a checkpoint without generation_config.json still stops there.
      if (auto im_end = tokenizer->TokenToId("<|im_end|>")) options.stop_token_ids.push_back(*im_end);
    }
    if (f->max_new_tokens > 0) options.max_new_tokens = f->max_new_tokens;
    auto& s = options.sampling;
    if (f->temperature) s.temperature = *f->temperature;
    if (f->top_k) s.top_k = *f->top_k;
    if (f->top_p) s.top_p = *f->top_p;
    if (f->min_p) s.min_p = *f->min_p;
    if (f->presence_penalty) s.presence_penalty = *f->presence_penalty;
    if (f->repetition_penalty) s.repetition_penalty = *f->repetition_penalty;
    s.seed = f->seed;
    options.stop_strings = f->stop;
    options.tokenizer = tokenizer ? &*tokenizer : nullptr;
    options.keep_step_logits = !f->out.empty();
    std::vector<int32_t> streamed;
    size_t printed = 0;
    if (f->stream && !ctx.json) {
      options.on_token = [&](int32_t id) {
        // Decode everything so far and print the new suffix: byte-level tokens can split a UTF-8 character.
        streamed.push_back(id);
        auto text = tokenizer->Decode(streamed, /*skip_special_tokens=*/true);
        if (text.ok() && text->size() > printed && text->find("\xEF\xBF\xBD", printed) == std::string::npos) {
          std::fwrite(text->data() + printed, 1, text->size() - printed, stdout);
          std::fflush(stdout);
          printed = text->size();
        }
        return true;
      };
    }
    engine::KvCacheOptions kv;
    kv.dtype = KvDtypeFromFlag(f->kv_dtype);
    auto seq = (*model)->NewSequence(kv);
    const engine::MediaBatch batch = engine::MediaBatch::From(*media);
    if (tower != nullptr) {
      options.prefill = [&](engine::SequenceState& s, std::span<const int32_t> ids) {
        engine::MultimodalRequest req;
        req.ids = ids;
        req.media = &batch;
        req.all_logits = false;
        return engine::ForwardMultimodal(**model, tower.get(), files->config(), s, req);
      };
    }
    auto result = engine::Generate(**model, *seq, prompt_ids, options);
    if (!result.ok()) return ctx.Fail(result.status());
    if (printed > 0) std::printf("\n");

    if (!f->out.empty()) {
      const int64_t n = static_cast<int64_t>(result->output_ids.size()), vocab = (*model)->config().vocab_size;
      Status st = engine::WriteSafetensors(
          f->out, {{"output_ids", engine::DType::kI32, {n}, engine::BytesOf(result->output_ids)},
                   {"step_logits", engine::DType::kF32, {n, vocab}, engine::BytesOf(result->step_logits)}});
      if (!st.ok()) return ctx.Fail(st);
    }
    nlohmann::ordered_json doc = {{"prompt_tokens", result->prompt_tokens},
                                  {"output_ids", result->output_ids},
                                  {"finish_reason", result->finish_reason},
                                  {"prefill_tokens_per_second", result->prompt_tokens / std::max(1e-9, result->prefill_seconds)},
                                  {"decode_tokens_per_second",
                                   result->output_ids.size() / std::max(1e-9, result->decode_seconds)}};
    std::ostringstream text;
    if (tokenizer) {
      // The parser takes the text before the turn's end marker.
      std::vector<int32_t> body = result->output_ids;
      if (result->finish_reason == "stop_token" && !body.empty()) body.pop_back();
      auto decoded = tokenizer->Decode(body);
      if (!decoded.ok()) return ctx.Fail(decoded.status());
      engine::ParseOptions popts;
      popts.tools = tools->is_array() ? &*tools : nullptr;
      popts.thinking_enabled = !f->no_thinking;
      auto parsed = engine::ParseModelOutput(*decoded, popts);
      doc["text"] = *decoded;
      doc["message"] = engine::ToJson(parsed);
      if (!f->stream) {
        if (parsed.reasoning) text << "[reasoning]\n" << *parsed.reasoning << "\n[/reasoning]\n";
        if (parsed.content) text << *parsed.content << "\n";
        for (const auto& call : parsed.tool_calls) text << "[tool call] " << call.name << " " << call.arguments.dump() << "\n";
      }
    } else {
      text << "output ids:";
      for (int32_t id : result->output_ids) text << " " << id;
      text << "\n";
    }
    text << "(" << result->output_ids.size() << " tokens, " << result->finish_reason << ")";
    ctx.Emit(doc, text.str());
  });
}

}  // namespace warden::cli
