// Flags shared by the verbs that run a model (model logits, model generate).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

#include "runtime/cli/cli_context.h"
#include "runtime/engine/weights/safetensors.h"

namespace warden::cli {

// --kv-dtype f32|bf16|fp8 (CLI11 has already checked the value) → the KV cache storage type.
inline engine::DType KvDtypeFromFlag(const std::string& flag) {
  if (flag == "bf16") return engine::DType::kBF16;
  if (flag == "fp8") return engine::DType::kF8E4M3;
  return engine::DType::kF32;
}

// Progress while a checkpoint's shards are mapped: one updating line on stderr, only for people (not with --json,
// not when stderr is a file or pipe, and not for single-file checkpoints).
inline engine::Checkpoint::ProgressFn ShardProgress(const CliContext& ctx) {
  if (ctx.json || !::isatty(STDERR_FILENO)) return {};
  return [](size_t i, size_t n, const std::string& name) {
    if (n < 2) return;
    std::fprintf(stderr, "\rloading shard %zu/%zu %s\033[K%s", i + 1, n, name.c_str(), i + 1 == n ? "\n" : "");
  };
}

}  // namespace warden::cli
