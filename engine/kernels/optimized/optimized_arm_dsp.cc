// Cortex-M kernels for cores with the DSP extension (M4, M7, M33 with DSP),
// in the style of CMSIS-NN: SXTB16 widens the even and odd bytes of a word to
// two int16 lanes and SMLAD multiplies and accumulates both lanes, so four
// int8 MACs cost a load, two extracts and two SMLADs. Both operands are split
// the same way (bytes 0,2 and 1,3), which only reorders an exact integer sum.
// Pointwise convs are in arm_dsp_pointwise.cc, the 3x3 depthwise row
// kernels in arm_dsp_dw3x3.cc; pointwise and depthwise
// requantise with FastRequant (arm_dsp_requant.h), im2col and fully
// connected with ArmRequant below. Add and average pool are reference (add
// is all requantisation; pools are a tiny share of MBNet).

#if !defined(__arm__) && !defined(__thumb__)
#error "ARM-only file; see engine/kernels/CMakeLists.txt"
#endif

// Cores without DSP (M0, M3) compile nothing here and use reference (see
// optimized_kernels.cc).
#if defined(__ARM_FEATURE_DSP)

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels/optimized/arm_dsp_dw3x3.h"
#include "engine/kernels/optimized/arm_dsp_pointwise.h"
#include "engine/kernels/optimized/arm_dsp_requant.h"
#include "engine/kernels/optimized/depthwise_plane.h"
#include "engine/kernels/optimized/platform_kernels.h"
#include "engine/kernels/reference/reference_kernels.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine::optimized {
namespace {

// Unaligned word load: LDR allows it on v7E-M and v8-M Mainline, and memcpy
// keeps the compiler from assuming alignment (and from using LDRD/LDM).
inline uint32_t Load4(const void* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

inline int32_t PackPair(int32_t lo, int32_t hi) {
  return static_cast<int32_t>((static_cast<uint32_t>(lo) & 0xFFFFu) |
                              (static_cast<uint32_t>(hi) << 16));
}

// (b0 + lo(a), b2 + hi(a)) and (b1 + lo(a), b3 + hi(a)) of x = b3:b2:b1:b0.
inline int32_t EvenBytesPlus(int32_t a, uint32_t x) {
  return __sxtab16(a, static_cast<int32_t>(x));
}
inline int32_t OddBytesPlus(int32_t a, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
inline int32_t EvenBytes(uint32_t x) {
  return __sxtb16(static_cast<int32_t>(x));
}
inline int32_t OddBytes(uint32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

// Whether x + offset fits an int16 lane for every int8 x.
inline bool OffsetFitsInt16(int32_t offset) {
  return offset >= -32767 + 128 && offset <= 32767 - 128;
}

// Requantisation bit-exact with reference::ChannelRequant::Apply
// (quant_math.h), in ~15 instructions instead of ~60:
//  - SaturatingRoundingDoublingHighMul(a, m) = (a * m + 2^30) >> 31 with an
//    arithmetic (flooring) shift. For a * m >= 0 this is TFLite's
//    (a * m + 2^30) / 2^31; for a * m = -k < 0 TFLite truncates
//    (-k + 1 - 2^30) / 2^31 toward zero, which is
//    -floor((k + 2^30 - 1) / 2^31) = floor((2^30 - k) / 2^31): the same.
//    The one saturating case, a == m == INT32_MIN, cannot occur because
//    kernels fall back to reference for a multiplier of INT32_MIN
//    (MultipliersAreExact). GCC makes the product and the add one SMLAL.
//  - RoundingDivideByPOT with the mask and half-mask precomputed per
//    channel.
struct ArmRequant {
  int32_t multiplier;
  int32_t left_shift;
  int32_t right_shift;
  int32_t mask;
  int32_t half_mask;
  int32_t output_offset;
  int32_t act_min;
  int32_t act_max;

  static ArmRequant From(int32_t multiplier, int32_t shift,
                         int32_t output_offset, int32_t act_min,
                         int32_t act_max) {
    ArmRequant r;
    r.multiplier = multiplier;
    r.left_shift = shift > 0 ? shift : 0;
    r.right_shift = shift > 0 ? 0 : -shift;
    r.mask = static_cast<int32_t>((uint32_t{1} << r.right_shift) - 1u);
    r.half_mask = r.mask >> 1;
    r.output_offset = output_offset;
    r.act_min = act_min;
    r.act_max = act_max;
    return r;
  }
  static ArmRequant From(const reference::ChannelRequant& c) {
    return From(c.multiplier, c.shift, c.output_offset, c.act_min, c.act_max);
  }
  static ArmRequant ForChannel(const RequantParams& rq, int32_t channel) {
    return From(rq.multiplier[channel], rq.shift[channel], rq.output_offset,
                rq.act_min, rq.act_max);
  }

  int8_t Apply(int32_t acc) const {
    const int32_t a =
        static_cast<int32_t>(static_cast<uint32_t>(acc) << left_shift);
    const int64_t p = static_cast<int64_t>(a) * multiplier + (int64_t{1} << 30);
    const int32_t high = static_cast<int32_t>(p >> 31);
    int32_t v = high >> right_shift;
    const int32_t threshold = half_mask + (high < 0 ? 1 : 0);
    if ((high & mask) > threshold) ++v;
    v += output_offset;
    if (v < act_min) v = act_min;
    if (v > act_max) v = act_max;
    return static_cast<int8_t>(v);
  }
};

// Whether ArmRequant is exact for every channel: no multiplier is INT32_MIN
// (the saturating case of SaturatingRoundingDoublingHighMul) and no shift
// leaves [-31, 31].
inline bool MultipliersAreExact(const RequantParams& rq, int32_t channels) {
  for (int32_t c = 0; c < channels; ++c) {
    if (rq.multiplier[c] == INT32_MIN || rq.shift[c] > 31 ||
        rq.shift[c] < -31) {
      return false;
    }
  }
  return true;
}

// An int8 activation row; the input offset is added while widening.
struct Int8Row {
  const int8_t* p;
  int32_t offset;
  int32_t offset2;  // offset in both int16 lanes

  void Group(int32_t k, int32_t* even, int32_t* odd) const {
    const uint32_t x = Load4(p + k);
    *even = EvenBytesPlus(offset2, x);
    *odd = OddBytesPlus(offset2, x);
  }
  int32_t At(int32_t k) const { return p[k] + offset; }
};

// An im2col patch row of int16 (offset already added). Whole groups of four
// are stored as (x0, x2, x1, x3), the lane order EvenBytes/OddBytes give the
// weights; the tail past the last whole group is in natural order.
struct PatchRow {
  const int16_t* p;

  void Group(int32_t k, int32_t* even, int32_t* odd) const {
    *even = static_cast<int32_t>(Load4(p + k));
    *odd = static_cast<int32_t>(Load4(p + k + 2));
  }
  int32_t At(int32_t k) const { return p[k]; }
};

// acc[i * NO + o] = sum over k < n of x[i](k) * w[o * n + k], NP rows by NO
// output channels, NP, NO in {1, 2}. Named scalar accumulators rather than
// an array: GCC keeps an accumulator array in memory and stores it on every
// iteration.
template <typename Row, int NP, int NO>
inline void Dot(const Row* x, const int8_t* w, int32_t n, int32_t* acc) {
  static_assert(NP >= 1 && NP <= 2 && NO >= 1 && NO <= 2, "2 x 2 at most");
  const Row& x0 = x[0];
  const Row& x1 = x[NP - 1];
  const int8_t* w0 = w;
  const int8_t* w1 = w + (NO - 1) * n;
  int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
  int32_t k = 0;
  for (; k + 4 <= n; k += 4) {
    int32_t x0_even, x0_odd, x1_even = 0, x1_odd = 0;
    x0.Group(k, &x0_even, &x0_odd);
    if constexpr (NP == 2) x1.Group(k, &x1_even, &x1_odd);
    const uint32_t ww0 = Load4(w0 + k);
    const int32_t w0_even = EvenBytes(ww0);
    a00 = __smlad(x0_even, w0_even, a00);
    if constexpr (NP == 2) a10 = __smlad(x1_even, w0_even, a10);
    const int32_t w0_odd = OddBytes(ww0);
    a00 = __smlad(x0_odd, w0_odd, a00);
    if constexpr (NP == 2) a10 = __smlad(x1_odd, w0_odd, a10);
    if constexpr (NO == 2) {
      const uint32_t ww1 = Load4(w1 + k);
      const int32_t w1_even = EvenBytes(ww1);
      a01 = __smlad(x0_even, w1_even, a01);
      if constexpr (NP == 2) a11 = __smlad(x1_even, w1_even, a11);
      const int32_t w1_odd = OddBytes(ww1);
      a01 = __smlad(x0_odd, w1_odd, a01);
      if constexpr (NP == 2) a11 = __smlad(x1_odd, w1_odd, a11);
    }
  }
  for (; k < n; ++k) {
    const int32_t v0 = x0.At(k);
    a00 += v0 * w0[k];
    if constexpr (NO == 2) a01 += v0 * w1[k];
    if constexpr (NP == 2) {
      const int32_t v1 = x1.At(k);
      a10 += v1 * w0[k];
      if constexpr (NO == 2) a11 += v1 * w1[k];
    }
  }
  acc[0] = a00;
  if constexpr (NO == 2) acc[1] = a01;
  if constexpr (NP == 2) {
    acc[NO] = a10;
    if constexpr (NO == 2) acc[NO + 1] = a11;
  }
}

// NO output channels from `oc` of NP pixels: dot products, bias,
// requantisation.
template <typename Row, int NP, int NO>
inline void Block(const RequantParams& rq, const Row* x, const int8_t* weights,
                  const int32_t* bias, int32_t n, int32_t oc,
                  int8_t* const* out) {
  int32_t acc[NP * NO];
  Dot<Row, NP, NO>(x, weights + oc * n, n, acc);
  for (int o = 0; o < NO; ++o) {
    const ArmRequant cr = ArmRequant::ForChannel(rq, oc + o);
    const int32_t b = bias != nullptr ? bias[oc + o] : 0;
    for (int i = 0; i < NP; ++i) out[i][oc + o] = cr.Apply(acc[i * NO + o] + b);
  }
}

// All output channels of NP pixels, two channels per block (the register
// budget of a Cortex-M allows 2 x 2 accumulators plus operands).
template <typename Row, int NP>
void PixelsAllChannels(const RequantParams& rq, const Row* x,
                       const int8_t* weights, const int32_t* bias, int32_t n,
                       int32_t out_c, int8_t* const* out) {
  int32_t oc = 0;
  for (; oc + 2 <= out_c; oc += 2) {
    Block<Row, NP, 2>(rq, x, weights, bias, n, oc, out);
  }
  if (oc < out_c) Block<Row, NP, 1>(rq, x, weights, bias, n, oc, out);
}

// Output pixel (oy, ox)'s receptive field as int16 (input + offset, 0 in the
// padding) in OHWI order, whole groups of four reordered as PatchRow says. A
// window inside the input is kernel_h contiguous runs; only border windows
// check taps one by one.
void Im2colPatch(const ConvParams& params, const Shape3& in,
                 const int8_t* input, int32_t oy, int32_t ox, int32_t len,
                 int16_t* patch) {
  const int32_t y0 = oy * params.stride_h - params.pad_top;
  const int32_t x0 = ox * params.stride_w - params.pad_left;
  const int32_t grouped = len & ~3;
  const int32_t offset = params.requant.input_offset;
  // Within a whole group, lanes 1 and 2 swap: (x0, x1, x2, x3) is stored as
  // (x0, x2, x1, x3).
  const auto put = [&](int32_t j, int32_t v) {
    const int32_t lane = j & 3;
    patch[j < grouped && (lane == 1 || lane == 2) ? (j ^ 3) : j] =
        static_cast<int16_t>(v);
  };
  if (y0 >= 0 && x0 >= 0 && y0 + params.kernel_h <= in.h &&
      x0 + params.kernel_w <= in.w) {
    const int32_t run = params.kernel_w * in.c;
    for (int32_t ky = 0, j = 0; ky < params.kernel_h; ++ky) {
      const int8_t* src = input + ((y0 + ky) * in.w + x0) * in.c;
      for (int32_t i = 0; i < run; ++i, ++j) put(j, src[i] + offset);
    }
    return;
  }
  int32_t j = 0;
  for (int32_t ky = 0; ky < params.kernel_h; ++ky) {
    const int32_t y = y0 + ky;
    for (int32_t kx = 0; kx < params.kernel_w; ++kx) {
      const int32_t x = x0 + kx;
      if (y < 0 || y >= in.h || x < 0 || x >= in.w) {
        for (int32_t c = 0; c < in.c; ++c, ++j) put(j, 0);
        continue;
      }
      const int8_t* src = input + (y * in.w + x) * in.c;
      for (int32_t c = 0; c < in.c; ++c, ++j) put(j, src[c] + offset);
    }
  }
}

void Im2colConv(const ConvParams& params, const Shape3& in, const int8_t* input,
                const int8_t* weights, const int32_t* bias, const Shape3& out,
                int8_t* output, int8_t* scratch) {
  const int32_t len = params.kernel_h * params.kernel_w * in.c;
  int16_t* patches = reinterpret_cast<int16_t*>(scratch);
  const int32_t pixels = out.h * out.w;
  int32_t i = 0;
  for (; i + 2 <= pixels; i += 2) {
    Im2colPatch(params, in, input, i / out.w, i % out.w, len, patches);
    Im2colPatch(params, in, input, (i + 1) / out.w, (i + 1) % out.w, len,
                patches + len);
    const PatchRow x[2] = {{patches}, {patches + len}};
    int8_t* rows[2] = {output + i * out.c, output + (i + 1) * out.c};
    PixelsAllChannels<PatchRow, 2>(params.requant, x, weights, bias, len, out.c,
                                   rows);
  }
  if (i < pixels) {
    Im2colPatch(params, in, input, i / out.w, i % out.w, len, patches);
    const PatchRow x[1] = {{patches}};
    int8_t* rows[1] = {output + i * out.c};
    PixelsAllChannels<PatchRow, 1>(params.requant, x, weights, bias, len, out.c,
                                   rows);
  }
}

void Conv(const ConvParams& params, const Shape3& in, const int8_t* input,
          const int8_t* weights, const int32_t* bias, const Shape3& out,
          int8_t* output, int8_t* scratch) {
  const bool offset_ok = OffsetFitsInt16(params.requant.input_offset) &&
                         MultipliersAreExact(params.requant, out.c);
  const bool one_by_one = params.kernel_h == 1 && params.kernel_w == 1;
  if (offset_ok && one_by_one && params.pad_top == 0 && params.pad_left == 0 &&
      (out.h - 1) * params.stride_h < in.h &&
      (out.w - 1) * params.stride_w < in.w) {
    if (ArmPointwise(params, in, input, weights, bias, out, output)) return;
    // What ArmPointwise leaves (clamped or odd layers): pixel by pixel, the
    // fully connected loop on the int8 input row.
    const RequantParams& rq = params.requant;
    const int32_t off = rq.input_offset;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const Int8Row x[1] = {
            {input + (oy * params.stride_h * in.w + ox * params.stride_w) *
                         in.c,
             off, PackPair(off, off)}};
        int8_t* rows[1] = {output + (oy * out.w + ox) * out.c};
        PixelsAllChannels<Int8Row, 1>(rq, x, weights, bias, in.c, out.c, rows);
      }
    }
    return;
  }
  if (offset_ok && !one_by_one) {
    Im2colConv(params, in, input, weights, bias, out, output, scratch);
  } else {
    reference::Conv(params, in, input, weights, bias, out, output, scratch);
  }
}

void FullyConnected(const RequantParams& rq, int32_t in_elements,
                    const int8_t* input, const int8_t* weights,
                    const int32_t* bias, int32_t out_elements, int8_t* output) {
  if (!OffsetFitsInt16(rq.input_offset) ||
      !MultipliersAreExact(rq, out_elements)) {
    reference::FullyConnected(rq, in_elements, input, weights, bias,
                              out_elements, output);
    return;
  }
  const Int8Row x[1] = {
      {input, rq.input_offset, PackPair(rq.input_offset, rq.input_offset)}};
  int8_t* rows[1] = {output};
  PixelsAllChannels<Int8Row, 1>(rq, x, weights, bias, in_elements, out_elements,
                                rows);
}

// One output channel of a depthwise conv: its taps and accumulator start
// (bias + input_offset * sum of taps), both doubled for FastRequant, and its
// requantisation.
struct DwChannel {
  const int16_t* taps;  // [kernel_h][kernel_w]
  int32_t acc0;         // added by RequantRow, not by the MAC loops
  FastChannel q;
  int32_t act_min;
  int32_t act_max;
};

// The requantisation of a DwChannel in locals: stores through int8_t* may
// alias anything, so values read through a reference would be reloaded
// after every output byte.
struct DwRequant {
  int32_t acc0, multiplier, k, right_shift, act_min, act_max;

  explicit DwRequant(const DwChannel& ch)
      : acc0(ch.acc0),
        multiplier(ch.q.multiplier),
        k(ch.q.k),
        right_shift(ch.q.right_shift),
        act_min(ch.act_min),
        act_max(ch.act_max) {}
};

// Outputs per pass of the depthwise channel functions: a pass first leaves
// its accumulators in a stack buffer, then requantises them with the
// constants in registers (doing both in one loop runs out of registers and
// spills every constant).
constexpr int32_t kDwRow = 64;

// Writes FastRequant of acc0 + acc[0 .. n) to o[0], o[stride], ...
void RequantRow(const int32_t* acc, int32_t n, int8_t* o, int32_t stride,
                const DwRequant& rq) {
  const int32_t acc0 = rq.acc0;
  const int32_t m = rq.multiplier;
  const int32_t k = rq.k;
  const int32_t r = rq.right_shift;
  const int32_t lo = rq.act_min;
  const int32_t hi = rq.act_max;
  if (lo == -128 && hi == 127) {  // the usual fused ReLU6 / none: SSAT clamps
    for (int32_t i = 0; i < n; ++i, o += stride) {
      *o = static_cast<int8_t>(FastRequant(acc0 + acc[i], m, k, r));
    }
    return;
  }
  for (int32_t i = 0; i < n; ++i, o += stride) {
    *o = Clamp(FastRequant(acc0 + acc[i], m, k, r), lo, hi);
  }
}

// Runs one channel row by row: row_macs(oy, ox0, n, acc) leaves the
// accumulators of outputs (oy, ox0 .. ox0 + n) in acc, then RequantRow
// writes them.
template <typename RowMacs>
inline void ChannelByRows(const DwChannel& ch, int8_t* dst, const Shape3& out,
                          RowMacs row_macs) {
  const DwRequant rq(ch);
  int32_t acc[kDwRow];
  const int32_t oc = out.c;
  for (int32_t oy = 0; oy < out.h; ++oy) {
    for (int32_t ox0 = 0; ox0 < out.w; ox0 += kDwRow) {
      const int32_t n = out.w - ox0 < kDwRow ? out.w - ox0 : kDwRow;
      row_macs(oy, ox0, n, acc);
      RequantRow(acc, n, dst + (oy * out.w + ox0) * oc, oc, rq);
    }
  }
}

// One depthwise channel from the padded plane, two outputs per step sharing
// each weight load. K and S known at compile time unroll the taps; 0 means
// "read them from the parameters".
template <int32_t K, int32_t S>
void DepthwiseChannel(const int8_t* plane, PlaneGeometry g,
                      const DwChannel& ch, int8_t* dst, const ConvParams& p,
                      const Shape3& out) {
  const int16_t* taps = ch.taps;
  const int32_t kh = K != 0 ? K : p.kernel_h;
  const int32_t kw = K != 0 ? K : p.kernel_w;
  const int32_t sw = S != 0 ? S : p.stride_w;
  const int32_t row_step = p.stride_h * g.w;
  const int32_t gw = g.w;
  ChannelByRows(ch, dst, out, [&](int32_t oy, int32_t ox0, int32_t n,
                                  int32_t* acc) {
    const int8_t* top = plane + oy * row_step + ox0 * sw;
    int32_t i = 0;
    for (; i + 2 <= n; i += 2, top += 2 * sw) {
      int32_t a0 = 0;
      int32_t a1 = 0;
      const int8_t* r = top;
#pragma GCC unroll 7
      for (int32_t ky = 0; ky < kh; ++ky, r += gw) {
        const int16_t* t = taps + ky * kw;
#pragma GCC unroll 7
        for (int32_t kx = 0; kx < kw; ++kx) {
          a0 += r[kx] * t[kx];
          a1 += r[kx + sw] * t[kx];
        }
      }
      acc[i] = a0;
      acc[i + 1] = a1;
    }
    if (i < n) {
      int32_t a0 = 0;
      const int8_t* r = top;
      for (int32_t ky = 0; ky < kh; ++ky, r += gw) {
        for (int32_t kx = 0; kx < kw; ++kx) a0 += r[kx] * taps[ky * kw + kx];
      }
      acc[i] = a0;
    }
  });
}

// One kernel row's taps packed for RowPairS1: w02 = (w0, w2), w13 = (w1, w3),
// w46 = (w4, w6), w5 = (w5, 0); taps past the kernel width are 0.
struct PackedRow {
  int32_t w02, w13, w46, w5;
};

// Adds one kernel row to two stride-1 neighbours: a0 += sum r[k] w[k] and
// a1 += sum r[k + 1] w[k] for k < K. SMLAD takes the pairs whose operands
// sit in matching lanes (even bytes with even taps, odd with odd); the
// single-lane SMLAxy take the rest. Reads r[0 .. K], which is inside the
// window of the second output.
template <int32_t K>
inline void RowPairS1(const int8_t* r, const PackedRow& w, int32_t* a0,
                      int32_t* a1) {
  const uint32_t x = Load4(r);
  const int32_t e = EvenBytes(x);       // (r0, r2)
  const int32_t o = OddBytes(x);        // (r1, r3)
  int32_t s0 = __smlad(e, w.w02, *a0);  // r0 w0 + r2 w2
  int32_t s1 = __smlad(o, w.w02, *a1);  // r1 w0 + r3 w2
  s1 = __smlatb(e, w.w13, s1);          // r2 w1
  if constexpr (K == 3) {
    s0 = __smlabb(o, w.w13, s0);  // r1 w1
  } else {
    s0 = __smlad(o, w.w13, s0);  // r1 w1 + r3 w3
  }
  if constexpr (K == 5) {
    const int32_t r4 = r[4];
    const int32_t r5 = r[5];
    s0 = __smlabb(r4, w.w46, s0);  // r4 w4
    s1 = __smlabt(r4, w.w13, s1);  // r4 w3
    s1 = __smlabb(r5, w.w46, s1);  // r5 w4
  } else if constexpr (K == 7) {
    const uint32_t y = Load4(r + 4);
    const int32_t e2 = EvenBytes(y);  // (r4, r6)
    const int32_t o2 = OddBytes(y);   // (r5, r7)
    s0 = __smlad(e2, w.w46, s0);      // r4 w4 + r6 w6
    s0 = __smlabb(o2, w.w5, s0);      // r5 w5
    s1 = __smlabt(e2, w.w13, s1);     // r4 w3
    s1 = __smlad(o2, w.w46, s1);      // r5 w4 + r7 w6
    s1 = __smlatb(e2, w.w5, s1);      // r6 w5
  }
  *a0 = s0;
  *a1 = s1;
}

// Stride-1 KxK depthwise channel with RowPairS1, two outputs per step.
template <int32_t K>
void DepthwiseChannelS1(const int8_t* plane, PlaneGeometry g,
                        const DwChannel& ch, int8_t* dst,
                        const ConvParams& /*p*/, const Shape3& out) {
  const int16_t* taps = ch.taps;
  PackedRow rows[K];
  for (int32_t ky = 0; ky < K; ++ky) {
    const int16_t* t = taps + ky * K;
    const auto tap = [t](int32_t kx) { return kx < K ? t[kx] : 0; };
    rows[ky] = {PackPair(tap(0), tap(2)), PackPair(tap(1), tap(3)),
                PackPair(tap(4), tap(6)), PackPair(tap(5), 0)};
  }
  const int32_t gw = g.w;
  ChannelByRows(ch, dst, out, [&](int32_t oy, int32_t ox0, int32_t n,
                                  int32_t* acc) {
    const int8_t* top = plane + oy * gw + ox0;
    int32_t i = 0;
    for (; i + 2 <= n; i += 2, top += 2) {
      int32_t a0 = 0;
      int32_t a1 = 0;
#pragma GCC unroll 7
      for (int32_t ky = 0; ky < K; ++ky) {
        RowPairS1<K>(top + ky * gw, rows[ky], &a0, &a1);
      }
      acc[i] = a0;
      acc[i + 1] = a1;
    }
    if (i < n) {
      int32_t a0 = 0;
      const int8_t* r = top;
      for (int32_t ky = 0; ky < K; ++ky, r += gw) {
        for (int32_t kx = 0; kx < K; ++kx) a0 += r[kx] * taps[ky * K + kx];
      }
      acc[i] = a0;
    }
  });
}

// Accumulators the flattened 3x3 stride-1 pass keeps on the stack (1 KB).
constexpr int32_t kDw3Buffer = 256;

// Stride-1 3x3 channel over whole plane rows: the outputs of consecutive
// rows are computed as one run over the flattened plane (each row's last
// gw - ow results straddle two rows and are dropped), so the assembly loop
// runs once per block of rows, not once per row. Planes wider than the
// buffer take DepthwiseChannelS1<3>.
void DepthwiseChannel3S1(const int8_t* plane, PlaneGeometry g,
                         const DwChannel& ch, int8_t* dst,
                         const ConvParams& p, const Shape3& out) {
  const int32_t gw = g.w;
  const int32_t rows_per_block = kDw3Buffer / gw;
  if (rows_per_block < 1) {
    DepthwiseChannelS1<3>(plane, g, ch, dst, p, out);
    return;
  }
  const int16_t* t = ch.taps;
  const int32_t w[5] = {PackPair(t[0], t[2]), PackPair(t[3], t[5]),
                        PackPair(t[6], t[8]), PackPair(t[1], t[4]),
                        PackPair(t[7], 0)};
  const DwRequant rq(ch);
  const int32_t ow = out.w;
  const int32_t oc = out.c;
  int32_t acc[kDw3Buffer];
  for (int32_t oy0 = 0; oy0 < out.h; oy0 += rows_per_block) {
    const int32_t rows =
        out.h - oy0 < rows_per_block ? out.h - oy0 : rows_per_block;
    const int8_t* top = plane + oy0 * gw;
    // A pair reads 4 bytes from its first window column, so the runs stop
    // where that would pass the plane's last row; the rest is scalar.
    const int32_t n = rows * gw - (oy0 + rows == out.h ? gw - ow : 0);
    const int32_t pairs = (oy0 + rows == out.h ? n - 1 : n) >> 1;
    if (pairs > 0) McunasArmDw3x3S1Pairs(top, gw, acc, pairs, w);
    for (int32_t j = 2 * pairs; j < n; ++j) {
      const int8_t* r = top + j;
      int32_t a = 0;
      for (int32_t ky = 0; ky < 3; ++ky) {
        for (int32_t kx = 0; kx < 3; ++kx) a += r[ky * gw + kx] * t[3 * ky + kx];
      }
      acc[j] = a;
    }
    for (int32_t y = 0; y < rows; ++y) {
      RequantRow(acc + y * gw, ow, dst + (oy0 + y) * ow * oc, oc, rq);
    }
  }
}

// Stride-2 3x3 channel, one output row per McunasArmDw3x3S2Pairs call (an
// odd last output is scalar).
void DepthwiseChannel3S2(const int8_t* plane, PlaneGeometry g,
                         const DwChannel& ch, int8_t* dst,
                         const ConvParams& /*p*/, const Shape3& out) {
  const int16_t* t = ch.taps;
  const int32_t w[5] = {PackPair(t[0], t[2]), PackPair(t[3], t[5]),
                        PackPair(t[6], t[8]), PackPair(t[1], t[4]),
                        PackPair(t[7], 0)};
  const int32_t gw = g.w;
  ChannelByRows(ch, dst, out, [&](int32_t oy, int32_t ox0, int32_t n,
                                  int32_t* acc) {
    const int8_t* r = plane + 2 * oy * gw + 2 * ox0;
    const int32_t pairs = n >> 1;
    if (pairs > 0) McunasArmDw3x3S2Pairs(r, gw, acc, pairs, w);
    if ((n & 1) != 0) {
      r += 4 * pairs;
      int32_t a = 0;
      for (int32_t ky = 0; ky < 3; ++ky) {
        for (int32_t kx = 0; kx < 3; ++kx) a += r[ky * gw + kx] * t[3 * ky + kx];
      }
      acc[n - 1] = a;
    }
  });
}

using ChannelFn = void (*)(const int8_t*, PlaneGeometry, const DwChannel&,
                           int8_t*, const ConvParams&, const Shape3&);

// Strides 1 and 2 of the square MBNet kernels are specialised; anything
// else (stride 3+, non-square) takes the generic loop, which keeps the
// firmware from carrying unrolled copies nobody runs.
ChannelFn PickChannelFn(const ConvParams& p) {
  if (p.kernel_h != p.kernel_w || p.stride_h != p.stride_w ||
      p.stride_w > 2) {
    return DepthwiseChannel<0, 0>;
  }
  const bool s1 = p.stride_w == 1;
  switch (p.kernel_w) {
    case 3:
      return s1 ? DepthwiseChannel3S1 : DepthwiseChannel3S2;
    case 5:
      return s1 ? DepthwiseChannelS1<5> : DepthwiseChannel<5, 2>;
    case 7:
      return s1 ? DepthwiseChannelS1<7> : DepthwiseChannel<7, 2>;
    default:
      return DepthwiseChannel<0, 0>;
  }
}

// CopyPaddedPlane (depthwise_plane.h) without library calls and without
// per-row setup: the planes here are small (person_detect's are 3x3 to
// 97x97), where memset's call and the per-row pad logic cost more than the
// bytes. The whole plane is first filled with the zero point a word at a
// time, then the input rows inside it are gathered; the source pointer runs
// on across rows (NHWC rows are contiguous), so a row costs one pointer
// step each side.
void CopyPlane(const ConvParams& p, const Shape3& in, const int8_t* input,
               int32_t c, PlaneGeometry g, int8_t* plane) {
  const uint8_t zp = static_cast<uint8_t>(-p.requant.input_offset);
  int8_t* d = plane;
  int8_t* const end = plane + g.h * g.w;
  for (; d < end && (reinterpret_cast<uintptr_t>(d) & 3) != 0; ++d) {
    *d = static_cast<int8_t>(zp);
  }
  const uint32_t fill = zp * 0x01010101u;
  for (; end - d >= 16; d += 16) {
    uint32_t* w = reinterpret_cast<uint32_t*>(d);
    w[0] = fill;
    w[1] = fill;
    w[2] = fill;
    w[3] = fill;
  }
  for (; d < end; ++d) *d = static_cast<int8_t>(zp);
  // Input rows [y0, y1) and columns [x0, x1) fall inside the plane.
  const int32_t y0 = p.pad_top < 0 ? -p.pad_top : 0;
  const int32_t x0 = p.pad_left < 0 ? -p.pad_left : 0;
  int32_t y1 = g.h - p.pad_top;
  int32_t x1 = g.w - p.pad_left;
  if (y1 > in.h) y1 = in.h;
  if (x1 > in.w) x1 = in.w;
  const int32_t n = x1 - x0;
  if (y1 <= y0 || n <= 0) return;
  const int32_t step = in.c;
  const int8_t* src = input + (y0 * in.w + x0) * step + c;
  const int32_t src_skip = (in.w - n) * step;
  d = plane + (y0 + p.pad_top) * g.w + x0 + p.pad_left;
  const int32_t d_skip = g.w - n;
  for (int32_t y = y0; y < y1; ++y, src += src_skip, d += d_skip) {
    int32_t q = n;
    for (; q >= 4; q -= 4, d += 4, src += 4 * step) {
      d[0] = src[0];
      d[1] = src[step];
      d[2] = src[2 * step];
      d[3] = src[3 * step];
    }
    for (; q > 0; --q, src += step) *d++ = *src;
  }
}

// The padded-plane scheme (depthwise_plane.h) with doubled taps, so that the
// channel functions hand FastRequant 2 * acc at no cost.
void Depthwise(const ConvParams& params, const Shape3& in, const int8_t* input,
               const int8_t* weights, const int32_t* bias, const Shape3& out,
               int8_t* output, int8_t* scratch) {
  const RequantParams& rq = params.requant;
  const int32_t taps_n = params.kernel_h * params.kernel_w;
  if (!PlaneDepthwiseApplies(params, in, out) ||
      !FastRequantApplies(rq, bias, out.c, taps_n)) {
    reference::Depthwise(params, in, input, weights, bias, out, output,
                         scratch);
    return;
  }
  const ChannelFn fn = PickChannelFn(params);
  const PlaneGeometry g = PaddedPlane(params, out);
  const int32_t out_c = out.c;
  int16_t taps[kMaxPlaneKernel * kMaxPlaneKernel];
  for (int32_t c = 0; c < in.c; ++c) {
    CopyPlane(params, in, input, c, g, scratch);
    for (int32_t m = 0; m < params.depth_multiplier; ++m) {
      const int32_t oc = c * params.depth_multiplier + m;
      // acc0 = bias + input_offset * sum(taps): a padded tap holds the zero
      // point, so it adds (zp + input_offset) * w = 0, as reference skips it.
      int32_t sum = 0;
      const int8_t* w = weights + oc;
      for (int32_t k = 0; k < taps_n; ++k, w += out_c) {
        sum += *w;
        taps[k] = static_cast<int16_t>(2 * *w);
      }
      const int32_t acc0 =
          (bias != nullptr ? bias[oc] : 0) + rq.input_offset * sum;
      const DwChannel ch = {taps, 2 * acc0, MakeFastChannel(rq, nullptr, oc),
                            rq.act_min, rq.act_max};
      fn(scratch, g, ch, output + oc, params, out);
    }
  }
}

constexpr KernelSet kArmDspSet = {
    "cortex-m-dsp",       Conv,               Depthwise,
    reference::Add,       reference::AveragePool, FullyConnected,
    reference::Softmax,   reference::Mean,    reference::Requantize,
    reference::Transpose, reference::Pad};

}  // namespace

const KernelSet& ArmDspKernels() { return kArmDspSet; }

}  // namespace mcunas::engine::optimized

#endif  // defined(__ARM_FEATURE_DSP)
