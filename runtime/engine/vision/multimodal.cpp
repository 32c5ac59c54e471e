// Multimodal prompts (model.md §3, §4.4, §4.5); see multimodal.h.
#include "runtime/engine/vision/multimodal.h"

#include <algorithm>
#include <cstdio>

#include "runtime/engine/vision/mrope_index.h"

namespace warden::engine {
namespace {

constexpr std::string_view kImagePad = "<|image_pad|>", kVideoPad = "<|video_pad|>",
                           kVisionStart = "<|vision_start|>", kVisionEnd = "<|vision_end|>";

std::string Repeat(std::string_view s, int64_t n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

Result<std::string> ExpandMediaPlaceholders(const std::string& text, std::span<const MediaItem> media,
                                            int64_t merge_size) {
  const std::string video_block = std::string(kVisionStart) + std::string(kVideoPad) + std::string(kVisionEnd);
  std::string out;
  size_t pos = 0, next = 0;
  const int64_t mm = merge_size * merge_size;
  while (true) {
    const size_t ip = text.find(kImagePad, pos), vp = text.find(kVideoPad, pos);
    if (ip == std::string::npos && vp == std::string::npos) break;
    const bool image = vp == std::string::npos || (ip != std::string::npos && ip < vp);
    if (next >= media.size()) {
      return Status::InvalidArgument("the prompt has more media placeholders than the " +
                                     std::to_string(media.size()) + " attached images/videos");
    }
    const MediaItem& m = media[next];
    if ((m.kind == MediaKind::kImage) != image) {
      return Status::InvalidArgument("media " + std::to_string(next + 1) + " is " +
                                     (m.kind == MediaKind::kImage ? "an image" : "a video") +
                                     " but the prompt's placeholder there is " + (image ? "an image" : "a video"));
    }
    ++next;
    if (image) {
      out.append(text, pos, ip - pos);
      out += Repeat(kImagePad, m.grid.patches() / mm);
      pos = ip + kImagePad.size();
      continue;
    }
    // The whole <|vision_start|><|video_pad|><|vision_end|> block is replaced when present.
    size_t begin = vp, end = vp + kVideoPad.size();
    if (vp >= kVisionStart.size() && text.compare(vp - kVisionStart.size(), kVisionStart.size(), kVisionStart) == 0 &&
        text.compare(end, kVisionEnd.size(), kVisionEnd) == 0 && vp - kVisionStart.size() >= pos) {
      begin = vp - kVisionStart.size();
      end += kVisionEnd.size();
    }
    out.append(text, pos, begin - pos);
    const int64_t per_group = m.grid.h * m.grid.w / mm;
    for (int64_t k = 0; k < m.grid.t; ++k) {
      const double ts = static_cast<size_t>(k) < m.timestamps.size() ? m.timestamps[static_cast<size_t>(k)] : 0.0;
      char buf[64];
      std::snprintf(buf, sizeof buf, "<%.1f seconds>", ts);
      out += buf;
      out += kVisionStart;
      out += Repeat(kVideoPad, per_group);
      out += kVisionEnd;
    }
    pos = end;
  }
  if (next != media.size()) {
    return Status::InvalidArgument("the prompt has " + std::to_string(next) + " media placeholders but " +
                                   std::to_string(media.size()) + " images/videos are attached");
  }
  out.append(text, pos, std::string::npos);
  return out;
}

MediaBatch MediaBatch::From(std::span<const MediaItem> media) {
  MediaBatch b;
  for (const MediaItem& m : media) {
    auto& px = m.kind == MediaKind::kImage ? b.image_pixels : b.video_pixels;
    px.insert(px.end(), m.pixel_values.begin(), m.pixel_values.end());
    (m.kind == MediaKind::kImage ? b.image_grids : b.video_grids).push_back(m.grid);
  }
  return b;
}

Result<ForwardResult> ForwardMultimodal(const Qwen35TextModel& model, const VisionTower* tower,
                                        const ModelConfig& config, SequenceState& seq, const MultimodalRequest& req) {
  const bool has_media = req.media != nullptr && !req.media->empty();
  const int32_t image_id = static_cast<int32_t>(config.image_token_id.value_or(-1)),
                video_id = static_cast<int32_t>(config.video_token_id.value_or(-1));
  const size_t T = req.ids.size();
  if (has_media && tower == nullptr) {
    return Status::InvalidArgument("the prompt carries images or videos but no vision tower is loaded");
  }
  const int64_t merge = tower != nullptr ? tower->config().spatial_merge_size : 2;
  if (has_media) {
    // Grids against their pixel rows first, so a mismatch is named before positions are laid out.
    const size_t width = static_cast<size_t>(tower->config().patch_input_dim());
    const struct {
      const std::vector<float>& px;
      const std::vector<GridThw>& grids;
      const char* pixels_name;
      const char* grid_name;
    } kinds[] = {{req.media->image_pixels, req.media->image_grids, "pixel_values", "image_grid_thw"},
                 {req.media->video_pixels, req.media->video_grids, "pixel_values_videos", "video_grid_thw"}};
    for (const auto& k : kinds) {
      if (k.px.size() % width != 0) {
        return Status::InvalidArgument(std::string(k.pixels_name) + " rows must hold " + std::to_string(width) +
                                       " values (channels · temporal_patch_size · patch_size²)");
      }
      WARDEN_RETURN_IF_ERROR(CheckGrids(k.grids, tower->config(), k.px.size() / width, k.grid_name));
    }
  }
  MropeInput mi;
  mi.ids = req.ids;
  if (has_media) {
    mi.image_grids = req.media->image_grids;
    mi.video_grids = req.media->video_grids;
  }
  mi.image_token_id = image_id;
  mi.video_token_id = video_id;
  mi.spatial_merge_size = merge;
  mi.first_position = static_cast<int64_t>(seq.length()) + seq.rope_delta;
  WARDEN_ASSIGN_OR_RETURN(MropePositions mp, ComputeMropePositions(mi));

  Tensor embeds;
  std::vector<int32_t> rows;
  if (has_media) {
    const MediaBatch& mb = *req.media;
    std::vector<float> pixels = mb.image_pixels;
    pixels.insert(pixels.end(), mb.video_pixels.begin(), mb.video_pixels.end());
    std::vector<GridThw> grids = mb.image_grids;
    grids.insert(grids.end(), mb.video_grids.begin(), mb.video_grids.end());
    WARDEN_ASSIGN_OR_RETURN(embeds, tower->Encode(pixels, grids));
    for (size_t t = 0; t < T; ++t) {
      if (req.ids[t] == image_id) rows.push_back(static_cast<int32_t>(t));
    }
    for (size_t t = 0; t < T; ++t) {
      if (req.ids[t] == video_id) rows.push_back(static_cast<int32_t>(t));
    }
    if (rows.size() != embeds.dim(0)) {
      return Status::InvalidArgument("the prompt has " + std::to_string(rows.size()) +
                                     " image/video pad tokens but the media encode to " +
                                     std::to_string(embeds.dim(0)) + " rows");
    }
  }
  ForwardRequest fr;
  fr.ids = req.ids;
  fr.positions = req.positions.empty() ? std::span<const int64_t>(mp.ids) : req.positions;
  if (has_media) {
    fr.media_embeds = &embeds;
    fr.media_rows = rows;
  }
  fr.want_hidden_states = req.want_hidden_states;
  fr.all_logits = req.all_logits;
  WARDEN_ASSIGN_OR_RETURN(ForwardResult r, model.Forward(seq, fr));
  int64_t next = mp.next_position;
  if (!req.positions.empty()) {
    next = 0;
    for (int64_t p : req.positions) next = std::max(next, p + 1);
  }
  seq.rope_delta = next - static_cast<int64_t>(seq.length());
  return r;
}

}  // namespace warden::engine
