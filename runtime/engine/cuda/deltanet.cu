// Gated DeltaNet on the GPU, correct first; cpu/deltanet.cpp is the reference and the loops below keep its
// summation order where a thread owns a whole sum.
//   conv1d     one thread per channel runs the K taps over [history ‖ m], then writes the new history.
//   recurrent  one block per value head, one thread per state column e: every step of the delta rule touches a
//              column S[:, e] independently of the others, so threads only share the staged q_t and k_t.
//   chunked    one block per value head; per chunk of 64 tokens the block builds Γ, A and the decayed q·k in
//              shared memory, solves (I + A)U = diag(β)V and (I + A)W = diag(β e^Γ)K column by column (each
//              thread owns columns, so the forward substitution needs no barrier), forms Ṽ = U − W·S, the
//              outputs, and the state update, with a barrier between phases (model.md §2.4 "Chunked" form).
#include "runtime/engine/cuda/deltanet.cuh"
#include "runtime/engine/cuda/device_math.cuh"

namespace warden::engine::cuda {
namespace {

using namespace detail;

__global__ void CausalConv1dSiluKernel(const float* m, size_t T, size_t C, const float* w, size_t K, float* history,
                                       float* out) {
  const size_t c = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const size_t H = K - 1;
  auto row = [&](size_t r) { return r < H ? history[r * C + c] : m[(r - H) * C + c]; };
  for (size_t t = 0; t < T; ++t) {
    float acc = 0.f;
    for (size_t j = 0; j < K; ++j) acc += w[c * K + j] * row(t + j);
    out[t * C + c] = Silu(acc);
  }
  // The new history may read the old one (T < K − 1): gather first, then write.
  float next[kMaxConvTaps];
  for (size_t r = 0; r < H; ++r) next[r] = row(T + r);
  for (size_t r = 0; r < H; ++r) history[r * C + c] = next[r];
}

__global__ void RecurrentKernel(DeltaNetArgs s, size_t T, const float* __restrict__ q, const float* __restrict__ k,
                                const float* __restrict__ v, const float* __restrict__ g,
                                const float* __restrict__ beta, float* __restrict__ state, float* __restrict__ out) {
  extern __shared__ float smem[];  // k_t [Dk], q_t [Dk]
  const size_t Dk = s.k_dim, Dv = s.v_dim, Hk = s.num_k_heads, Hv = s.num_v_heads;
  const size_t h = blockIdx.x, kh = h / (Hv / Hk), e = threadIdx.x;
  float* ks = smem;
  float* qs = smem + Dk;
  float* S = state + h * Dk * Dv;
  for (size_t t = 0; t < T; ++t) {
    for (size_t d = threadIdx.x; d < Dk; d += blockDim.x) {
      ks[d] = k[(t * Hk + kh) * Dk + d];
      qs[d] = q[(t * Hk + kh) * Dk + d];
    }
    __syncthreads();
    if (e < Dv) {
      const float decay = expf(g[t * Hv + h]), b = beta[t * Hv + h];
      float u = 0.f;
      for (size_t d = 0; d < Dk; ++d) {
        const float sd = S[d * Dv + e] * decay;
        S[d * Dv + e] = sd;
        u += ks[d] * sd;
      }
      const float delta = b * (v[(t * Hv + h) * Dv + e] - u);
      float o = 0.f;
      for (size_t d = 0; d < Dk; ++d) {
        const float sd = S[d * Dv + e] + ks[d] * delta;
        S[d * Dv + e] = sd;
        o += qs[d] * sd;
      }
      out[(t * Hv + h) * Dv + e] = o;
    }
    __syncthreads();  // ks/qs are restaged for the next token
  }
}

constexpr size_t kChunk = kDeltaChunk;
constexpr int kChunkThreads = 256;

size_t ChunkedSmemBytes(const DeltaNetArgs& s) {
  return (kChunk + 2 * kChunk * kChunk + kChunk * s.v_dim + kChunk * s.k_dim) * sizeof(float);
}

__global__ void __launch_bounds__(kChunkThreads) ChunkedKernel(DeltaNetArgs s, size_t T, const float* __restrict__ q,
                                                               const float* __restrict__ k,
                                                               const float* __restrict__ v,
                                                               const float* __restrict__ g,
                                                               const float* __restrict__ beta,
                                                               float* __restrict__ state, float* __restrict__ out) {
  extern __shared__ float smem[];
  const size_t Dk = s.k_dim, Dv = s.v_dim, Hk = s.num_k_heads, Hv = s.num_v_heads;
  const size_t h = blockIdx.x, kh = h / (Hv / Hk);
  float* gamma = smem;                  // [kChunk]
  float* A = gamma + kChunk;            // [kChunk, kChunk]
  float* QK = A + kChunk * kChunk;      // [kChunk, kChunk]
  float* U = QK + kChunk * kChunk;      // [kChunk, Dv]
  float* W = U + kChunk * Dv;           // [kChunk, Dk]
  float* S = state + h * Dk * Dv;
  auto K = [&](size_t t) { return k + (t * Hk + kh) * Dk; };
  auto Q = [&](size_t t) { return q + (t * Hk + kh) * Dk; };
  auto V = [&](size_t t) { return v + (t * Hv + h) * Dv; };
  const size_t tid = threadIdx.x, nt = blockDim.x;
  for (size_t c0 = 0; c0 < T; c0 += kChunk) {
    const size_t L = T - c0 < kChunk ? T - c0 : kChunk;
    if (tid == 0) {
      float acc = 0.f;
      for (size_t i = 0; i < L; ++i) gamma[i] = (acc += g[(c0 + i) * Hv + h]);
    }
    __syncthreads();
    // A (strictly lower) and the decayed q·k (lower with diagonal).
    for (size_t ij = tid; ij < L * L; ij += nt) {
      const size_t i = ij / L, j = ij % L;
      float a = 0.f, w = 0.f;
      if (j <= i) {
        float kk = 0.f, qk = 0.f;
        const float *ki = K(c0 + i), *kj = K(c0 + j), *qi = Q(c0 + i);
        for (size_t d = 0; d < Dk; ++d) {
          kk += ki[d] * kj[d];
          qk += qi[d] * kj[d];
        }
        const float decay = expf(gamma[i] - gamma[j]);
        w = qk * decay;
        if (j < i) a = beta[(c0 + i) * Hv + h] * kk * decay;
      }
      A[i * kChunk + j] = a;
      QK[i * kChunk + j] = w;
    }
    __syncthreads();
    // Forward substitution, one column of U (e < Dv) or W (Dv ≤ col < Dv + Dk) per thread.
    for (size_t col = tid; col < Dv + Dk; col += nt) {
      const bool is_u = col < Dv;
      const size_t e = is_u ? col : col - Dv;
      float* X = is_u ? U : W;
      const size_t width = is_u ? Dv : Dk;
      for (size_t i = 0; i < L; ++i) {
        const float b = beta[(c0 + i) * Hv + h];
        float x = is_u ? b * V(c0 + i)[e] : b * expf(gamma[i]) * K(c0 + i)[e];
        for (size_t j = 0; j < i; ++j) {
          const float a = A[i * kChunk + j];
          if (a != 0.f) x -= a * X[j * width + e];
        }
        X[i * width + e] = x;
      }
    }
    __syncthreads();
    // Ṽ = U − W·S, over U.
    for (size_t ie = tid; ie < L * Dv; ie += nt) {
      const size_t i = ie / Dv, e = ie % Dv;
      float u = U[i * Dv + e];
      for (size_t d = 0; d < Dk; ++d) u -= W[i * Dk + d] * S[d * Dv + e];
      U[i * Dv + e] = u;
    }
    __syncthreads();
    // Outputs from the entering state and the corrected values.
    for (size_t ie = tid; ie < L * Dv; ie += nt) {
      const size_t i = ie / Dv, e = ie % Dv;
      const float* qi = Q(c0 + i);
      const float eg = expf(gamma[i]);
      float o = 0.f;
      for (size_t d = 0; d < Dk; ++d) o += (qi[d] * eg) * S[d * Dv + e];
      for (size_t j = 0; j <= i; ++j) o += QK[i * kChunk + j] * U[j * Dv + e];
      out[((c0 + i) * Hv + h) * Dv + e] = o;
    }
    __syncthreads();  // every output has read the entering state
    const float eL = expf(gamma[L - 1]);
    for (size_t de = tid; de < Dk * Dv; de += nt) {
      const size_t d = de / Dv, e = de % Dv;
      float sv = S[de] * eL;
      for (size_t j = 0; j < L; ++j) sv += (K(c0 + j)[d] * expf(gamma[L - 1] - gamma[j])) * U[j * Dv + e];
      S[de] = sv;
    }
    __syncthreads();  // gamma, A, U, W are rebuilt for the next chunk
  }
}

}  // namespace

cudaError_t LaunchCausalConv1dSilu(const float* m, size_t T, size_t C, const float* w, size_t K, float* history,
                                   float* out, cudaStream_t stream) {
  if (C == 0) return cudaSuccess;
  if (K == 0 || K > kMaxConvTaps) return cudaErrorInvalidValue;
  CausalConv1dSiluKernel<<<static_cast<unsigned>((C + 127) / 128), 128, 0, stream>>>(m, T, C, w, K, history, out);
  return cudaGetLastError();
}

cudaError_t LaunchGatedDeltaRuleRecurrent(const DeltaNetArgs& s, size_t T, const float* q, const float* k,
                                          const float* v, const float* g, const float* beta, float* state, float* out,
                                          cudaStream_t stream) {
  if (T == 0 || s.num_v_heads == 0) return cudaSuccess;
  if (s.v_dim > 1024) return cudaErrorInvalidValue;
  const unsigned threads = static_cast<unsigned>((s.v_dim + 31) / 32 * 32);
  RecurrentKernel<<<static_cast<unsigned>(s.num_v_heads), threads, 2 * s.k_dim * sizeof(float), stream>>>(
      s, T, q, k, v, g, beta, state, out);
  return cudaGetLastError();
}

cudaError_t LaunchGatedDeltaRuleChunked(const DeltaNetArgs& s, size_t T, const float* q, const float* k,
                                        const float* v, const float* g, const float* beta, float* state, float* out,
                                        cudaStream_t stream) {
  if (T == 0 || s.num_v_heads == 0) return cudaSuccess;
  const size_t smem = ChunkedSmemBytes(s);
  int device = 0, max_optin = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err == cudaSuccess) err = cudaDeviceGetAttribute(&max_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (err != cudaSuccess) return err;
  if (smem > static_cast<size_t>(max_optin)) {
    return LaunchGatedDeltaRuleRecurrent(s, T, q, k, v, g, beta, state, out, stream);
  }
  err = cudaFuncSetAttribute(ChunkedKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (err != cudaSuccess) return err;
  ChunkedKernel<<<static_cast<unsigned>(s.num_v_heads), kChunkThreads, smem, stream>>>(s, T, q, k, v, g, beta, state,
                                                                                        out);
  return cudaGetLastError();
}

}  // namespace warden::engine::cuda
