// The Qwen3.5 / Qwen3.6 vision tower (model.md §4.2), written against backend.h like the text decoder: patch
// embedding as a Linear over the flattened Conv3d weight, learned position embeddings bilinearly resampled to each
// grid, 2-D rotary, pre-norm blocks (LayerNorm, attention within each image / video frame, GELU-tanh MLP) and the
// 2×2 merger with exact GELU. Its output rows replace the <|image_pad|> / <|video_pad|> embeddings (§4.4).
//
// Thread safety: a loaded tower is immutable; Encode may run concurrently. It keeps pointers into the ModelFiles it
// was loaded from, which must outlive it.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/backend.h"
#include "runtime/engine/weights/model_info.h"

namespace warden::engine {

// One image or video in patches: (grid_t, grid_h, grid_w) as the processor's *_grid_thw.
struct GridThw {
  int64_t t = 1, h = 0, w = 0;
  int64_t patches() const { return t * h * w; }
};

class VisionTower {
 public:
  // InvalidArgument when the config has no vision tower (language_model_only or a text-only checkpoint) or one
  // this code cannot run; Corruption when a tensor disagrees with the config. backend: null = CPU.
  static Result<std::unique_ptr<VisionTower>> Load(const ModelFiles& files, std::shared_ptr<Backend> backend = {});

  // pixel_values: [Σ patches, patch_input_dim] rows exactly as the processor emits them (model.md §4.1 step 5),
  // the media in `grids` order. Returns the merger output [Σ patches / merge², out_hidden_size] on the backend.
  Result<Tensor> Encode(std::span<const float> pixel_values, std::span<const GridThw> grids) const;

  const VisionConfig& config() const { return config_; }
  Backend& backend() const { return *backend_; }

 private:
  struct Block {
    Tensor norm1_w, norm1_b, norm2_w, norm2_b;
    LinearWeight qkv, proj, fc1, fc2;
  };
  VisionTower() = default;
  // Position embeddings [patches, hidden] for one grid, bilinear from the learned table, in merge-block order.
  std::vector<float> PositionEmbeddings(const GridThw& g) const;

  VisionConfig config_;
  std::shared_ptr<Backend> backend_;
  ResolvedLinear patch_linear_;  // the Conv3d weight read as a Linear [hidden, C·T·P·P]
  LinearWeight patch_embed_;
  std::vector<float> pos_table_;  // [num_position_embeddings, hidden]
  size_t pos_side_ = 0;           // the table is pos_side_ × pos_side_
  std::vector<Block> blocks_;
  Tensor merger_norm_w_, merger_norm_b_;
  LinearWeight merger_fc1_, merger_fc2_;
};

// Checks a grid list against the vision config: positive sizes divisible by the merge size, and the total patch
// count equal to `rows`. `what` names the input in errors ("image_grid_thw").
Status CheckGrids(std::span<const GridThw> grids, const VisionConfig& config, size_t rows, const std::string& what);

}  // namespace warden::engine
