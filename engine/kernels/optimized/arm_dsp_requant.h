// A four-instruction int8 requantiser for the Cortex-M DSP kernels, exact
// with reference::ChannelRequant::Apply (quant_math.h) on the layers it
// accepts. Private to engine/kernels/optimized/; ARM-only (SMMLAR, SSAT).
// Pure functions; thread-safe.
//
// TFLite computes, for an accumulator a and a channel's multiplier m and
// shift -r (r >= 1, so no left shift):
//   high = SaturatingRoundingDoublingHighMul(a, m) = floor((a m + 2^30) / 2^31)
//   v    = RoundingDivideByPOT(high, r) + output_offset
// (the first is floor-based as shown for m >= 0; see ArmRequant in
// optimized_arm_dsp.cc). RoundingDivideByPOT rounds half away from zero:
// with high = q 2^r + rem, it adds 1 when rem >= 2^(r-1) + [high < 0], so
//   v = floor((high + 2^(r-1) - [high < 0] + output_offset 2^r) / 2^r).
// Let K = 2^(r-1) + output_offset 2^r. Given a2 = 2a (kernels accumulate
// doubled values for free: doubled inputs or taps), SMMLAR gives
//   floor((a2 m + 2^31) / 2^32) + Ra = high + Ra,
// so with Ra = K - [a < 0] one SMMLAR and one arithmetic shift give v.
// [a < 0] may stand for [high < 0]: they differ only when -2^30 <= a m < 0,
// where high = 0, and 2^(r-1) - 1 and 2^(r-1) both lie in [0, 2^r) for
// r >= 1, so v = output_offset either way.
// FastRequantApplies() checks what this needs: r in [1, 31], m >= 0,
// |2a| < 2^31 for every reachable accumulator, and no int32 overflow in
// high + Ra.
#ifndef MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_REQUANT_H_
#define MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_REQUANT_H_

#include <arm_acle.h>
#include <stdint.h>

#include "mcunas/engine/kernels.h"

namespace mcunas::engine::optimized {

// One output channel's requantisation constants (see the file comment).
struct FastChannel {
  int32_t bias2;       // 2 * bias (0 without bias)
  int32_t multiplier;  // m
  int32_t k;           // 2^(r-1) + output_offset * 2^r
  int32_t right_shift; // r
};

// Whether FastRequant is exact for every channel of a layer whose
// accumulators are bias + sum of `taps` products (x + input_offset) * w with
// int8 x and w. O(channels).
inline bool FastRequantApplies(const RequantParams& rq, const int32_t* bias,
                               int32_t channels, int32_t taps) {
  int64_t max_bias = 0;
  for (int32_t c = 0; bias != nullptr && c < channels; ++c) {
    const int64_t b = bias[c] < 0 ? -int64_t{bias[c]} : bias[c];
    if (b > max_bias) max_bias = b;
  }
  const int64_t off = rq.input_offset < 0 ? -int64_t{rq.input_offset}
                                          : rq.input_offset;
  // |x + input_offset| <= 128 + |input_offset|, |w| <= 128.
  const int64_t bound = int64_t{taps} * (128 + off) * 128 + max_bias;
  if (bound >= (int64_t{1} << 30)) return false;
  const int64_t out_off = rq.output_offset < 0 ? -int64_t{rq.output_offset}
                                               : rq.output_offset;
  for (int32_t c = 0; c < channels; ++c) {
    const int32_t r = -rq.shift[c];
    if (r < 1 || r > 31 || rq.multiplier[c] < 0) return false;
    // |high| <= bound + 1, |K| <= 2^(r-1) + |out_off| 2^r.
    const int64_t k = (int64_t{1} << (r - 1)) + (out_off << r);
    if (bound + k + 2 >= (int64_t{1} << 31)) return false;
  }
  return true;
}

inline FastChannel MakeFastChannel(const RequantParams& rq,
                                   const int32_t* bias, int32_t c) {
  const int32_t r = -rq.shift[c];
  FastChannel ch;
  ch.bias2 = bias != nullptr ? 2 * bias[c] : 0;
  ch.multiplier = rq.multiplier[c];
  ch.k = static_cast<int32_t>((uint32_t{1} << (r - 1)) +
                              (static_cast<uint32_t>(rq.output_offset) << r));
  ch.right_shift = r;
  return ch;
}

// The requantised value of the doubled accumulator a2, saturated to int8
// (before the fused clamp). REQUIRES: FastRequantApplies() for the layer.
inline int32_t FastRequant(int32_t a2, int32_t multiplier, int32_t k,
                           int32_t right_shift) {
  int32_t t = k + (a2 >> 31);
  __asm__("smmlar %0, %1, %2, %0" : "+r"(t) : "r"(a2), "r"(multiplier));
  return __ssat(t >> right_shift, 8);
}

// The fused activation clamp (int8 domain).
inline int8_t Clamp(int32_t v, int32_t act_min, int32_t act_max) {
  v = v < act_min ? act_min : v;
  return static_cast<int8_t>(v > act_max ? act_max : v);
}

}  // namespace mcunas::engine::optimized

#endif  // MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_REQUANT_H_
