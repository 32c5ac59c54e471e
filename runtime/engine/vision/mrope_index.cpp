// M-RoPE position ids (model.md §3); see mrope_index.h.
#include "runtime/engine/vision/mrope_index.h"

#include <algorithm>
#include <string>

namespace warden::engine {

Result<MropePositions> ComputeMropePositions(const MropeInput& in) {
  const size_t T = in.ids.size();
  const int64_t m = in.spatial_merge_size;
  MropePositions out;
  out.ids.assign(3 * T, 0);
  int64_t P = in.first_position, max_pos = in.first_position - 1;
  size_t next_image = 0, next_video = 0;
  // Video grids are consumed one temporal group at a time.
  int64_t video_group = 0;
  auto set = [&](size_t i, int64_t t, int64_t h, int64_t w) {
    out.ids[i] = t;
    out.ids[T + i] = h;
    out.ids[2 * T + i] = w;
    max_pos = std::max({max_pos, t, h, w});
  };
  size_t i = 0;
  while (i < T) {
    const int32_t id = in.ids[i];
    const bool image = id == in.image_token_id, video = id == in.video_token_id;
    if (!image && !video) {
      set(i, P, P, P);
      ++P;
      ++i;
      continue;
    }
    GridThw g;
    if (image) {
      if (next_image >= in.image_grids.size()) {
        return Status::InvalidArgument("the prompt has more image pad tokens than image_grid_thw covers (" +
                                       std::to_string(in.image_grids.size()) + " images)");
      }
      g = in.image_grids[next_image++];
      if (g.t != 1) {
        return Status::InvalidArgument("image_grid_thw[" + std::to_string(next_image - 1) + "] has grid_t " +
                                       std::to_string(g.t) + "; an image has grid_t 1 (send frames as a video)");
      }
    } else {
      if (next_video >= in.video_grids.size()) {
        return Status::InvalidArgument("the prompt has more video pad tokens than video_grid_thw covers (" +
                                       std::to_string(in.video_grids.size()) + " videos)");
      }
      g = in.video_grids[next_video];
      g.t = 1;
      if (++video_group == in.video_grids[next_video].t) {
        video_group = 0;
        ++next_video;
      }
    }
    const int64_t hh = g.h / m, ww = g.w / m, n = hh * ww;
    for (int64_t k = 0; k < n; ++k, ++i) {
      if (i >= T || in.ids[i] != id) {
        return Status::InvalidArgument(std::string(image ? "image" : "video") + " pad run at token " +
                                       std::to_string(i) + " is shorter than its grid's " + std::to_string(n) +
                                       " merged tokens");
      }
      set(i, P, P + k / ww, P + k % ww);
    }
    P += std::max(hh, ww);
  }
  if (next_image != in.image_grids.size() || next_video != in.video_grids.size() || video_group != 0) {
    return Status::InvalidArgument("the prompt's pad tokens cover " + std::to_string(next_image) + " of " +
                                   std::to_string(in.image_grids.size()) + " images and " +
                                   std::to_string(next_video) + " of " + std::to_string(in.video_grids.size()) +
                                   " videos");
  }
  out.next_position = max_pos + 1;
  return out;
}

}  // namespace warden::engine
