#include "runtime/engine/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/engine/numeric.h"
#include "runtime/engine/cpu/thread_pool.h"

namespace warden::engine::cpu {
namespace {

// Loads head `h` of position `p` from pages into dst (fp32).
void LoadKv(const void* const* pages, const KvLayerView& kv, size_t p, size_t h, float scale, float* dst) {
  const size_t offset = ((p % kv.page_size) * kv.num_kv_heads + h) * kv.head_dim;
  const void* page = pages[p / kv.page_size];
  switch (kv.dtype) {
    case KvDtype::kF32:
      std::memcpy(dst, static_cast<const float*>(page) + offset, kv.head_dim * sizeof(float));
      break;
    case KvDtype::kBF16: {
      const uint16_t* src = static_cast<const uint16_t*>(page) + offset;
      for (size_t d = 0; d < kv.head_dim; ++d) dst[d] = Bf16ToFloat(src[d]);
      break;
    }
    case KvDtype::kFP8E4M3: {
      const uint8_t* src = static_cast<const uint8_t*>(page) + offset;
      for (size_t d = 0; d < kv.head_dim; ++d) dst[d] = F8E4M3ToFloat(src[d]) * scale;
      break;
    }
  }
}

}  // namespace

void CausalAttention(const float* q, size_t T, size_t num_heads, const KvLayerView& kv, float* out) {
  const size_t D = kv.head_dim, group = num_heads / kv.num_kv_heads, past = kv.length - T;
  const float scale = 1.f / std::sqrt(static_cast<float>(D));
  // One work item per (query token, kv head): the group's query heads share every key/value load.
  ThreadPool::Default().ParallelFor(T * kv.num_kv_heads, [&](size_t w0, size_t w1) {
    std::vector<float> key(D), val(D), scores, acc;
    for (size_t w = w0; w < w1; ++w) {
      const size_t t = w / kv.num_kv_heads, kh = w % kv.num_kv_heads;
      const size_t n = past + t + 1;  // keys visible to this query (causal)
      scores.assign(group * n, 0.f);
      for (size_t p = 0; p < n; ++p) {
        LoadKv(kv.k_pages, kv, p, kh, kv.k_scale, key.data());
        for (size_t g = 0; g < group; ++g) {
          const float* qh = q + (t * num_heads + kh * group + g) * D;
          float s = 0.f;
          for (size_t d = 0; d < D; ++d) s += qh[d] * key[d];
          scores[g * n + p] = s * scale;
        }
      }
      for (size_t g = 0; g < group; ++g) {
        float* sc = &scores[g * n];
        float mx = -std::numeric_limits<float>::infinity();
        for (size_t p = 0; p < n; ++p) mx = std::max(mx, sc[p]);
        float sum = 0.f;
        for (size_t p = 0; p < n; ++p) sum += (sc[p] = std::exp(sc[p] - mx));
        for (size_t p = 0; p < n; ++p) sc[p] /= sum;
      }
      acc.assign(group * D, 0.f);
      for (size_t p = 0; p < n; ++p) {
        LoadKv(kv.v_pages, kv, p, kh, kv.v_scale, val.data());
        for (size_t g = 0; g < group; ++g) {
          const float a = scores[g * n + p];
          float* ag = &acc[g * D];
          for (size_t d = 0; d < D; ++d) ag[d] += a * val[d];
        }
      }
      for (size_t g = 0; g < group; ++g) {
        std::memcpy(out + (t * num_heads + kh * group + g) * D, &acc[g * D], D * sizeof(float));
      }
    }
  });
}

}  // namespace warden::engine::cpu
