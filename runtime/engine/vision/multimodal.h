// Multimodal prompts (model.md §4.4, §4.5, §3): expanding the chat template's media placeholders the way the HF
// processor does, and running a prompt whose pad tokens take the vision tower's outputs, with M-RoPE positions
// and the rope delta left on the sequence for decode.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/engine/models/qwen3_5_text.h"
#include "runtime/engine/vision/qwen3_5_vision.h"

namespace warden::engine {

enum class MediaKind { kImage, kVideo };

// One preprocessed image or video, as the processor hands it to the model.
struct MediaItem {
  MediaKind kind = MediaKind::kImage;
  std::vector<float> pixel_values;  // [grid.patches(), patch_input_dim]
  GridThw grid;
  std::vector<double> timestamps;   // video: seconds per temporal group (grid.t entries)
};

// Rewrites rendered chat text as the processor does, media in order of appearance: each `<|image_pad|>` becomes
// t·h·w/merge² pads; each `<|vision_start|><|video_pad|><|vision_end|>` (or a bare `<|video_pad|>`) becomes, per
// temporal group k, `<{ts:.1f} seconds><|vision_start|>` + (h·w/merge²) pads + `<|vision_end|>`.
// InvalidArgument when the placeholders and `media` disagree in number or kind.
Result<std::string> ExpandMediaPlaceholders(const std::string& text, std::span<const MediaItem> media,
                                            int64_t merge_size);

// The media of a prompt flattened for one model call: images first, then videos (the order of the pad tokens'
// replacement rows), each kind in prompt order.
struct MediaBatch {
  std::vector<float> image_pixels, video_pixels;
  std::vector<GridThw> image_grids, video_grids;
  static MediaBatch From(std::span<const MediaItem> media);
  bool empty() const { return image_grids.empty() && video_grids.empty(); }
};

struct MultimodalRequest {
  std::span<const int32_t> ids;        // the new tokens, pads already expanded
  const MediaBatch* media = nullptr;   // null or empty: text only
  std::span<const int64_t> positions;  // [3, T] to override the computed M-RoPE ids (tests, `model logits`)
  bool want_hidden_states = false;
  bool all_logits = true;
};

// Encodes the media, scatters them into the pad rows, computes M-RoPE positions after what `seq` holds, runs the
// text model and sets seq.rope_delta so decode continues at the right position. `tower` may be null for text.
Result<ForwardResult> ForwardMultimodal(const Qwen35TextModel& model, const VisionTower* tower,
                                        const ModelConfig& config, SequenceState& seq, const MultimodalRequest& req);

}  // namespace warden::engine
