#include "runtime/engine/models/sequence_state.h"

#include <cstring>

#include "runtime/engine/numeric.h"

namespace warden::engine {

SequenceState::SequenceState(const std::vector<bool>& is_full_attention, size_t kv_width,
                             size_t conv_history_floats, size_t recurrent_state_floats, const KvCacheOptions& kv)
    : kv_width_(kv_width), kv_(kv) {
  layers_.resize(is_full_attention.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].is_full_attention = is_full_attention[i];
    if (!is_full_attention[i]) {
      layers_[i].conv_history.assign(conv_history_floats, 0.f);
      layers_[i].recurrent_state.assign(recurrent_state_floats, 0.f);
    }
  }
}

size_t SequenceState::ElementBytes() const {
  switch (kv_.dtype) {
    case cpu::KvDtype::kF32: return 4;
    case cpu::KvDtype::kBF16: return 2;
    case cpu::KvDtype::kFP8E4M3: return 1;
  }
  return 4;
}

void SequenceState::AppendKv(size_t layer, size_t T, const float* k, const float* v) {
  Layer& L = layers_[layer];
  const size_t eb = ElementBytes(), page_bytes = kv_.page_size * kv_width_ * eb;
  for (size_t t = 0; t < T; ++t) {
    const size_t pos = length_ + t, page = pos / kv_.page_size, slot = pos % kv_.page_size;
    while (L.k_pages.size() <= page) {
      L.k_pages.emplace_back(page_bytes);
      L.v_pages.emplace_back(page_bytes);
      L.k_ptrs.push_back(L.k_pages.back().data());
      L.v_ptrs.push_back(L.v_pages.back().data());
    }
    uint8_t* kd = L.k_pages[page].data() + slot * kv_width_ * eb;
    uint8_t* vd = L.v_pages[page].data() + slot * kv_width_ * eb;
    const float* ks = k + t * kv_width_;
    const float* vs = v + t * kv_width_;
    for (size_t i = 0; i < kv_width_; ++i) {
      switch (kv_.dtype) {
        case cpu::KvDtype::kF32:
          std::memcpy(kd + i * 4, &ks[i], 4);
          std::memcpy(vd + i * 4, &vs[i], 4);
          break;
        case cpu::KvDtype::kBF16: {
          const uint16_t kb = FloatToBf16(ks[i]), vb = FloatToBf16(vs[i]);
          std::memcpy(kd + i * 2, &kb, 2);
          std::memcpy(vd + i * 2, &vb, 2);
          break;
        }
        case cpu::KvDtype::kFP8E4M3:
          kd[i] = FloatToF8E4M3(ks[i] / kv_.k_scale);
          vd[i] = FloatToF8E4M3(vs[i] / kv_.v_scale);
          break;
      }
    }
  }
}

cpu::KvLayerView SequenceState::KvView(size_t layer, size_t length, size_t num_kv_heads, size_t head_dim) const {
  const Layer& L = layers_[layer];
  cpu::KvLayerView view;
  view.k_pages = L.k_ptrs.data();
  view.v_pages = L.v_ptrs.data();
  view.page_size = kv_.page_size;
  view.length = length;
  view.num_kv_heads = num_kv_heads;
  view.head_dim = head_dim;
  view.dtype = kv_.dtype;
  view.k_scale = kv_.k_scale;
  view.v_scale = kv_.v_scale;
  return view;
}

size_t SequenceState::memory_bytes() const {
  size_t total = 0;
  for (const auto& L : layers_) {
    for (const auto& p : L.k_pages) total += p.size();
    for (const auto& p : L.v_pages) total += p.size();
    total += (L.conv_history.size() + L.recurrent_state.size()) * sizeof(float);
  }
  return total;
}

}  // namespace warden::engine
