// M-RoPE position ids for a prompt mixing text, images and video frames (model.md §3, HF `get_rope_index`), and
// the rope delta that carries into decode.
//
// Tokens are grouped into maximal runs by type (text, image pad, video pad). A text run advances the counter by
// its length on all three axes; each image (and each temporal group of a video, one (1, h, w) group per grid_t)
// is laid out on its merged grid starting at the counter, which then moves by max(h', w'). A pad run may hold
// several media back to back; each starts at the counter left by the previous one.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/vision/qwen3_5_vision.h"

namespace warden::engine {

struct MropeInput {
  std::span<const int32_t> ids;           // the new tokens
  std::span<const GridThw> image_grids;   // in prompt order, in patches (unmerged)
  std::span<const GridThw> video_grids;
  int32_t image_token_id = -1, video_token_id = -1;
  int64_t spatial_merge_size = 2;
  int64_t first_position = 0;             // counter before the first new token (seq length + rope delta)
};

struct MropePositions {
  std::vector<int64_t> ids;  // [3, T]: t ids, then h ids, then w ids
  int64_t next_position = 0; // max position + 1: where the next token's position starts
};

// InvalidArgument when the pad tokens and grids disagree (naming the counts).
Result<MropePositions> ComputeMropePositions(const MropeInput& in);

}  // namespace warden::engine
