// x86-64 kernels: SSE2 (the x86-64 baseline, so always safe) and AVX2 picked
// at run time. Conv and fully connected share the ISA-neutral drivers in
// x86_conv.inc and differ only in Dot(). Depthwise (padded-plane and NHWC
// kernels) is SSE2 in both sets: its time goes to the scalar requantisation,
// which AVX2 does not help. Add and average pool are reference: add is all
// requantisation and pools are a tiny share of MBNet. docs/benchmarks.md has
// the measurements behind each choice.

#if !defined(__x86_64__) && !defined(_M_X64)
#error "x86-64-only file; see engine/kernels/CMakeLists.txt"
#endif

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels/optimized/depthwise_plane.h"
#include "engine/kernels/optimized/platform_kernels.h"
#include "engine/kernels/reference/reference_kernels.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine::optimized {
namespace {

// 8 x int8 -> 8 x int16 (SSE2 has no sign-extending load).
inline __m128i Widen8(const int8_t* p) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
}

// {sum(a), sum(b), sum(c), sum(d)} over the four int32 lanes of each.
inline __m128i Sum4(__m128i a, __m128i b, __m128i c, __m128i d) {
  const __m128i ab =
      _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
  const __m128i cd =
      _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
  return _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
}

inline int32_t Sum1(__m128i a) {
  const __m128i s = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

inline int32_t ScalarX(const int8_t* x, int32_t k, int32_t offset) {
  return x[k] + offset;
}
inline int32_t ScalarX(const int16_t* x, int32_t k, int32_t /*offset*/) {
  return x[k];
}

// Folds NP x NO vector accumulators into acc (see x86_conv.inc for layout)
// and finishes the columns past the last whole vector in scalar code.
template <typename XT, int NP, int NO>
inline void FinishDot(__m128i (&vacc)[NP][NO], const XT* const* xs,
                      const int8_t* w, int32_t w_stride, int32_t k, int32_t n,
                      int32_t input_offset, int32_t* acc) {
  static_assert(NO == 1 || NO == 4, "blocks are 1 or 4 channels wide");
  for (int p = 0; p < NP; ++p) {
    if constexpr (NO == 4) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + p * 4),
                       Sum4(vacc[p][0], vacc[p][1], vacc[p][2], vacc[p][3]));
    } else {
      acc[p] = Sum1(vacc[p][0]);
    }
  }
  for (; k < n; ++k) {
    for (int p = 0; p < NP; ++p) {
      const int32_t x = ScalarX(xs[p], k, input_offset);
      for (int o = 0; o < NO; ++o) acc[p * NO + o] += x * w[o * w_stride + k];
    }
  }
}

namespace sse2 {

inline __m128i LoadX(const int8_t* p, __m128i offset) {
  return _mm_add_epi16(Widen8(p), offset);
}
inline __m128i LoadX(const int16_t* p, __m128i /*offset*/) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

template <typename XT, int NP, int NO>
void Dot(const XT* const* xs, const int8_t* w, int32_t w_stride, int32_t n,
         int32_t input_offset, int32_t* acc) {
  __m128i vacc[NP][NO];
  for (int p = 0; p < NP; ++p) {
    for (int o = 0; o < NO; ++o) vacc[p][o] = _mm_setzero_si128();
  }
  const __m128i offset = _mm_set1_epi16(static_cast<int16_t>(input_offset));
  int32_t k = 0;
  for (; k + 8 <= n; k += 8) {
    __m128i xv[NP];
    for (int p = 0; p < NP; ++p) xv[p] = LoadX(xs[p] + k, offset);
    for (int o = 0; o < NO; ++o) {
      const __m128i wv = Widen8(w + o * w_stride + k);
      for (int p = 0; p < NP; ++p) {
        vacc[p][o] = _mm_add_epi32(vacc[p][o], _mm_madd_epi16(xv[p], wv));
      }
    }
  }
  FinishDot<XT, NP, NO>(vacc, xs, w, w_stride, k, n, input_offset, acc);
}

#include "engine/kernels/optimized/x86_conv.inc"

}  // namespace sse2

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

namespace avx2 {

inline __m256i LoadX(const int8_t* p, __m256i offset) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_add_epi16(_mm256_cvtepi8_epi16(v), offset);
}
inline __m256i LoadX(const int16_t* p, __m256i /*offset*/) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline __m128i LoadX8(const int8_t* p, __m128i offset) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm_add_epi16(_mm_cvtepi8_epi16(v), offset);
}
inline __m128i LoadX8(const int16_t* p, __m128i /*offset*/) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// As sse2::Dot, 16 columns per step, then at most one 8-column step. Rows
// shorter than 16 (the stem's 3x3x1 patches) skip the 256-bit accumulators,
// whose setup and folding would cost more than they save.
template <typename XT, int NP, int NO>
void Dot(const XT* const* xs, const int8_t* w, int32_t w_stride, int32_t n,
         int32_t input_offset, int32_t* acc) {
  __m128i vacc[NP][NO];
  int32_t k = 0;
  if (n >= 16) {
    __m256i wide[NP][NO];
    for (int p = 0; p < NP; ++p) {
      for (int o = 0; o < NO; ++o) wide[p][o] = _mm256_setzero_si256();
    }
    const __m256i offset =
        _mm256_set1_epi16(static_cast<int16_t>(input_offset));
    for (; k + 16 <= n; k += 16) {
      __m256i xv[NP];
      for (int p = 0; p < NP; ++p) xv[p] = LoadX(xs[p] + k, offset);
      for (int o = 0; o < NO; ++o) {
        const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(w + o * w_stride + k)));
        for (int p = 0; p < NP; ++p) {
          wide[p][o] =
              _mm256_add_epi32(wide[p][o], _mm256_madd_epi16(xv[p], wv));
        }
      }
    }
    for (int p = 0; p < NP; ++p) {
      for (int o = 0; o < NO; ++o) {
        vacc[p][o] = _mm_add_epi32(_mm256_castsi256_si128(wide[p][o]),
                                   _mm256_extracti128_si256(wide[p][o], 1));
      }
    }
  } else {
    for (int p = 0; p < NP; ++p) {
      for (int o = 0; o < NO; ++o) vacc[p][o] = _mm_setzero_si128();
    }
  }
  if (k + 8 <= n) {
    const __m128i offset8 = _mm_set1_epi16(static_cast<int16_t>(input_offset));
    __m128i xv[NP];
    for (int p = 0; p < NP; ++p) xv[p] = LoadX8(xs[p] + k, offset8);
    for (int o = 0; o < NO; ++o) {
      const __m128i wv = _mm_cvtepi8_epi16(_mm_loadl_epi64(
          reinterpret_cast<const __m128i*>(w + o * w_stride + k)));
      for (int p = 0; p < NP; ++p) {
        vacc[p][o] = _mm_add_epi32(vacc[p][o], _mm_madd_epi16(xv[p], wv));
      }
    }
    k += 8;
  }
  FinishDot<XT, NP, NO>(vacc, xs, w, w_stride, k, n, input_offset, acc);
}

#include "engine/kernels/optimized/x86_conv.inc"

}  // namespace avx2

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// Accumulates one output row of one depthwise channel from the padded plane,
// eight outputs per vector: each pair of horizontal taps (k, k + 1) is one
// pmaddwd of interleaved (x[k], x[k + 1]) against (w[k], w[k + 1]). An odd
// last tap is paired with its left neighbour at weight 0, so no load reaches
// past the window of the last output. A short row's tail is redone as one
// overlapping vector rather than in scalar code.
struct DepthwiseRow {
  const int8_t* plane;
  int32_t plane_w;
  int32_t kernel_h, kernel_w, stride;
  int32_t pairs;          // (kernel_w + 1) / 2
  int32_t pair_start[4];  // first tap of each pair
  __m128i pair_weights[kMaxPlaneKernel][4];
  int32_t acc0;

  void Setup(const int16_t* taps) {
    pairs = (kernel_w + 1) / 2;
    for (int32_t j = 0; j < pairs; ++j) {
      const bool odd_last = 2 * j + 1 == kernel_w;
      pair_start[j] = odd_last ? kernel_w - 2 : 2 * j;
      for (int32_t ky = 0; ky < kernel_h; ++ky) {
        const int16_t* t = taps + ky * kernel_w + pair_start[j];
        const int16_t lo = odd_last ? 0 : t[0];
        pair_weights[ky][j] = _mm_set1_epi32(static_cast<int32_t>(
            static_cast<uint16_t>(lo) |
            (static_cast<uint32_t>(static_cast<uint16_t>(t[1])) << 16)));
      }
    }
  }

  // Accumulators of outputs [ox, ox + 8) of the row whose window starts at
  // plane row `top`.
  void Eight(int32_t top, int32_t ox, int32_t* acc) const {
    __m128i lo = _mm_set1_epi32(acc0);
    __m128i hi = lo;
    for (int32_t ky = 0; ky < kernel_h; ++ky) {
      const int8_t* row = plane + (top + ky) * plane_w + ox * stride;
      for (int32_t j = 0; j < pairs; ++j) {
        const __m128i w = pair_weights[ky][j];
        if (stride == 1) {
          const __m128i a = Widen8(row + pair_start[j]);
          const __m128i b = Widen8(row + pair_start[j] + 1);
          lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(a, b), w));
          hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(a, b), w));
        } else {
          // Stride 2: 16 consecutive bytes already alternate tap k and k + 1
          // of consecutive outputs.
          const __m128i v = _mm_loadu_si128(
              reinterpret_cast<const __m128i*>(row + pair_start[j]));
          const __m128i v_lo = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
          const __m128i v_hi = _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
          lo = _mm_add_epi32(lo, _mm_madd_epi16(v_lo, w));
          hi = _mm_add_epi32(hi, _mm_madd_epi16(v_hi, w));
        }
      }
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + 4), hi);
  }
};

// Out-of-place strided depthwise with depth multiplier 1, straight from NHWC:
// eight channels per vector, so every load is contiguous and no plane is
// gathered or scattered (for 28x28x48 k3 s2 the strided plane copy alone was
// a third of the plane kernel's time). Taps outside the input are skipped per
// output pixel, as reference does, never per channel. Pairs of taps are
// interleaved into one pmaddwd, as in DepthwiseRow.
void NhwcDepthwise(const ConvParams& params, const Shape3& in,
                   const int8_t* input, const int8_t* weights,
                   const int32_t* bias, const Shape3& out, int8_t* output) {
  const int32_t c_count = in.c;
  const int32_t vector_end = c_count & ~7;
  const int32_t offset = params.requant.input_offset;
  const __m128i offset16 = _mm_set1_epi16(static_cast<int16_t>(offset));
  const __m128i zero = _mm_setzero_si128();
  for (int32_t oy = 0; oy < out.h; ++oy) {
    const int32_t y0 = oy * params.stride_h - params.pad_top;
    const int32_t ky_begin = y0 < 0 ? -y0 : 0;
    const int32_t ky_end =
        in.h - y0 < params.kernel_h ? in.h - y0 : params.kernel_h;
    for (int32_t ox = 0; ox < out.w; ++ox) {
      const int32_t x0 = ox * params.stride_w - params.pad_left;
      const int32_t kx_begin = x0 < 0 ? -x0 : 0;
      const int32_t kx_end =
          in.w - x0 < params.kernel_w ? in.w - x0 : params.kernel_w;
      int8_t* dst = output + (oy * out.w + ox) * c_count;
      for (int32_t c = 0; c < vector_end; c += 8) {
        __m128i lo = zero;
        __m128i hi = zero;
        __m128i held_x = zero;
        __m128i held_w = zero;
        bool holding = false;
        for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
          const int8_t* row = input + ((y0 + ky) * in.w + x0) * c_count + c;
          const int8_t* w_row = weights + ky * params.kernel_w * c_count + c;
          for (int32_t kx = kx_begin; kx < kx_end; ++kx) {
            const __m128i x =
                _mm_add_epi16(Widen8(row + kx * c_count), offset16);
            const __m128i w = Widen8(w_row + kx * c_count);
            if (!holding) {
              held_x = x;
              held_w = w;
              holding = true;
              continue;
            }
            lo = _mm_add_epi32(lo,
                               _mm_madd_epi16(_mm_unpacklo_epi16(held_x, x),
                                              _mm_unpacklo_epi16(held_w, w)));
            hi = _mm_add_epi32(hi,
                               _mm_madd_epi16(_mm_unpackhi_epi16(held_x, x),
                                              _mm_unpackhi_epi16(held_w, w)));
            holding = false;
          }
        }
        if (holding) {
          lo = _mm_add_epi32(lo,
                             _mm_madd_epi16(_mm_unpacklo_epi16(held_x, zero),
                                            _mm_unpacklo_epi16(held_w, zero)));
          hi = _mm_add_epi32(hi,
                             _mm_madd_epi16(_mm_unpackhi_epi16(held_x, zero),
                                            _mm_unpackhi_epi16(held_w, zero)));
        }
        alignas(16) int32_t acc[8];
        _mm_store_si128(reinterpret_cast<__m128i*>(acc), lo);
        _mm_store_si128(reinterpret_cast<__m128i*>(acc + 4), hi);
        for (int32_t i = 0; i < 8; ++i) {
          const int32_t b = bias != nullptr ? bias[c + i] : 0;
          dst[c + i] =
              reference::ForChannel(params.requant, c + i).Apply(acc[i] + b);
        }
      }
      for (int32_t c = vector_end; c < c_count; ++c) {
        int32_t acc = bias != nullptr ? bias[c] : 0;
        for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
          for (int32_t kx = kx_begin; kx < kx_end; ++kx) {
            acc += weights[(ky * params.kernel_w + kx) * c_count + c] *
                   (input[((y0 + ky) * in.w + x0 + kx) * c_count + c] + offset);
          }
        }
        dst[c] = reference::ForChannel(params.requant, c).Apply(acc);
      }
    }
  }
}

// Depthwise on the padded plane (in place, depth multiplier > 1).
void PlaneDepthwise(const ConvParams& params, const Shape3& in,
                    const int8_t* input, const int8_t* weights,
                    const int32_t* bias, const Shape3& out, int8_t* output,
                    int8_t* scratch) {
  const bool vector = (params.stride_w == 1 || params.stride_w == 2) &&
                      params.kernel_w >= 2 && out.w >= 8;
  const int32_t kh = params.kernel_h;
  const int32_t kw = params.kernel_w;
  const auto channel = [&](const int8_t* plane, PlaneGeometry g,
                           const int16_t* taps, int32_t acc0,
                           reference::ChannelRequant rq, int8_t* dst) {
    if (!vector) {
      for (int32_t oy = 0; oy < out.h; ++oy) {
        for (int32_t ox = 0; ox < out.w; ++ox) {
          const int8_t* window =
              plane + oy * params.stride_h * g.w + ox * params.stride_w;
          int32_t acc = acc0;
          for (int32_t ky = 0; ky < kh; ++ky) {
            for (int32_t kx = 0; kx < kw; ++kx) {
              acc += window[ky * g.w + kx] * taps[ky * kw + kx];
            }
          }
          dst[(oy * out.w + ox) * out.c] = rq.Apply(acc);
        }
      }
      return;
    }
    DepthwiseRow row;
    row.plane = plane;
    row.plane_w = g.w;
    row.kernel_h = kh;
    row.kernel_w = kw;
    row.stride = params.stride_w;
    row.acc0 = acc0;
    row.Setup(taps);
    int32_t acc[8];
    for (int32_t oy = 0; oy < out.h; ++oy) {
      int8_t* out_row = dst + oy * out.w * out.c;
      const int32_t top = oy * params.stride_h;
      for (int32_t ox = 0; ox < out.w; ox += 8) {
        // The last vector overlaps the previous one; skip what it redoes.
        const int32_t start = ox + 8 <= out.w ? ox : out.w - 8;
        row.Eight(top, start, acc);
        for (int32_t i = ox - start; i < 8; ++i) {
          out_row[(start + i) * out.c] = rq.Apply(acc[i]);
        }
      }
    }
  };
  RunPlaneDepthwise(params, in, input, weights, bias, out, output, scratch,
                    channel);
}

void Depthwise(const ConvParams& params, const Shape3& in, const int8_t* input,
               const int8_t* weights, const int32_t* bias, const Shape3& out,
               int8_t* output, int8_t* scratch) {
  // NHWC wins where the strided plane copy is large next to the MACs: each
  // output costs ~stride^2 plane bytes and kernel^2 MACs. Measured (SSE2,
  // 28x28x48 s2): k3 +40%, k5 +10%, k7 -5%; at stride 1 the two tie.
  const int32_t offset = params.requant.input_offset;
  if (output != input && params.depth_multiplier == 1 && out.c == in.c &&
      params.stride_h * params.stride_w * 8 >=
          params.kernel_h * params.kernel_w &&
      offset >= -32767 + 128 && offset <= 32767 - 128) {
    NhwcDepthwise(params, in, input, weights, bias, out, output);
  } else if (PlaneDepthwiseApplies(params, in, out)) {
    PlaneDepthwise(params, in, input, weights, bias, out, output, scratch);
  } else {
    reference::Depthwise(params, in, input, weights, bias, out, output,
                         scratch);
  }
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

constexpr KernelSet kSse2Set = {"x86-sse2",
                                sse2::Conv,
                                Depthwise,
                                reference::Add,
                                reference::AveragePool,
                                sse2::FullyConnected,
                                reference::Softmax,
                                reference::Mean,
                                reference::Requantize,
                                reference::Transpose,
                                reference::Pad};
constexpr KernelSet kAvx2Set = {"x86-avx2",
                                avx2::Conv,
                                Depthwise,
                                reference::Add,
                                reference::AveragePool,
                                avx2::FullyConnected,
                                reference::Softmax,
                                reference::Mean,
                                reference::Requantize,
                                reference::Transpose,
                                reference::Pad};

}  // namespace

const KernelSet& X86Sse2Kernels() { return kSse2Set; }

const KernelSet* X86Avx2Kernels() { return HasAvx2() ? &kAvx2Set : nullptr; }

const KernelSet& X86Kernels() { return HasAvx2() ? kAvx2Set : kSse2Set; }

}  // namespace mcunas::engine::optimized
