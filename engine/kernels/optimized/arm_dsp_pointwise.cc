// Pointwise convolution for Cortex-M cores with the DSP extension, in the
// shape of CMSIS-NN's arm_nn_mat_mult_kernel_s8_s16: two output pixels at a
// time, their inputs widened to int16 once (offset added, doubled for
// FastRequant) and reused by every output channel; weights read straight
// from the model as int8 words and split by SXTB16 into the lanes SMLAD
// pairs with the widened inputs.
//
// The multiply loop is hand-allocated assembly: 2 pixels x 2 output channels
// need 4 accumulators, 2 input words, the raw word of each weight row plus
// one extracted word, and 4 pointers/limits, which is all of r0-r12; GCC
// spills at that pressure. Per 4 input channels it issues 2 LDM, 2 LDR,
// 4 SXTB16 and 8 SMLAD (16 MACs).

#if !defined(__arm__) && !defined(__thumb__)
#error "ARM-only file; see engine/kernels/CMakeLists.txt"
#endif

#if defined(__ARM_FEATURE_DSP)

#include "engine/kernels/optimized/arm_dsp_pointwise.h"

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels/optimized/arm_dsp_requant.h"

// acc[4j + 2o + p] += sum over the widened groups of pixel p's inputs times
// weight row (2j + o), for `pairs` pairs j of rows starting at `w`, rows `n`
// bytes apart. x holds groups of 4 words [p0 even, p1 even, p0 odd, p1 odd]
// (even: channels k, k+2 as int16 lanes; odd: k+1, k+3) up to x_end.
// REQUIRES: x_end > x, pairs >= 1.
extern "C" void McunasArmPointwiseDot2x2(const int32_t* x,
                                         const int32_t* x_end,
                                         const int8_t* w, int32_t n,
                                         int32_t* acc, int32_t pairs);

// r0 x, r1 x_end, r2 row 0 (row 1 at r2 + r3), r4-r7 accumulators,
// r8/r9 input words, r10/r11 raw weight words, r12 extracted weights,
// lr the accumulator array. Two groups per iteration; an odd count enters
// at the second. Stack: [sp] x, [sp + 4] the row-0 step to the next pair,
// [sp + 8] pairs left.
__asm__(R"(
  .pushsection .text.McunasArmPointwiseDot2x2,"ax",%progbits
  .syntax unified
  .thumb
  .p2align 2
  .global McunasArmPointwiseDot2x2
  .type McunasArmPointwiseDot2x2, %function
  .thumb_func
McunasArmPointwiseDot2x2:
  push {r4-r11, lr}
  ldr lr, [sp, #36]
  ldr r12, [sp, #40]
  sub r4, r1, r0
  lsl r5, r3, #1
  sub r5, r5, r4, lsr #2
  push {r0, r5, r12}
.Lpw_pair:
  ldm lr, {r4-r7}
  ldr r0, [sp]
  sub r8, r1, r0
  tst r8, #16
  bne .Lpw_odd
.Lpw_group:
  ldm r0!, {r8, r9}
  ldr r11, [r2, r3]
  ldr r10, [r2], #4
  sxtb16 r12, r10
  smlad r4, r8, r12, r4
  smlad r5, r9, r12, r5
  sxtb16 r12, r11
  smlad r6, r8, r12, r6
  smlad r7, r9, r12, r7
  ldm r0!, {r8, r9}
  sxtb16 r12, r10, ror #8
  smlad r4, r8, r12, r4
  smlad r5, r9, r12, r5
  sxtb16 r12, r11, ror #8
  smlad r6, r8, r12, r6
  smlad r7, r9, r12, r7
.Lpw_odd:
  ldm r0!, {r8, r9}
  ldr r11, [r2, r3]
  ldr r10, [r2], #4
  sxtb16 r12, r10
  smlad r4, r8, r12, r4
  smlad r5, r9, r12, r5
  sxtb16 r12, r11
  smlad r6, r8, r12, r6
  smlad r7, r9, r12, r7
  ldm r0!, {r8, r9}
  sxtb16 r12, r10, ror #8
  smlad r4, r8, r12, r4
  smlad r5, r9, r12, r5
  sxtb16 r12, r11, ror #8
  smlad r6, r8, r12, r6
  smlad r7, r9, r12, r7
  cmp r0, r1
  bne .Lpw_group
  stm lr!, {r4-r7}
  ldr r8, [sp, #4]
  add r2, r2, r8
  ldr r8, [sp, #8]
  subs r8, r8, #1
  str r8, [sp, #8]
  bne .Lpw_pair
  add sp, sp, #12
  pop {r4-r11, pc}
  .size McunasArmPointwiseDot2x2, .-McunasArmPointwiseDot2x2
  .popsection
)");

namespace mcunas::engine::optimized {
namespace {

// Input channels widened per pass (the buffer holds two pixels' worth) and
// output channels whose constants are kept per pass: 1 KB and 1 KB of stack.
constexpr int32_t kChunkChannels = 256;
constexpr int32_t kChannelBlock = 64;

inline uint32_t Load4(const void* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

inline uint32_t Ror8(uint32_t x) { return (x >> 8) | (x << 24); }

// Widens `groups` groups of 4 channels of two pixels into the layout
// McunasArmPointwiseDot2x2 reads, each lane 2 * (x + offset): SXTAB16 adds
// the bytes to offset2 = (2 offset, 2 offset), a second SXTAB16 adds them
// again.
void WidenPair(const int8_t* p0, const int8_t* p1, int32_t groups,
               int32_t offset2, int32_t* x) {
  for (int32_t g = 0; g < groups; ++g, x += 4) {
    const int32_t w0 = static_cast<int32_t>(Load4(p0 + 4 * g));
    const int32_t w1 = static_cast<int32_t>(Load4(p1 + 4 * g));
    const int32_t r0 = static_cast<int32_t>(Ror8(static_cast<uint32_t>(w0)));
    const int32_t r1 = static_cast<int32_t>(Ror8(static_cast<uint32_t>(w1)));
    x[0] = __sxtab16(__sxtab16(offset2, w0), w0);
    x[1] = __sxtab16(__sxtab16(offset2, w1), w1);
    x[2] = __sxtab16(__sxtab16(offset2, r0), r0);
    x[3] = __sxtab16(__sxtab16(offset2, r1), r1);
  }
}

}  // namespace

bool ArmPointwise(const ConvParams& params, const Shape3& in,
                  const int8_t* input, const int8_t* weights,
                  const int32_t* bias, const Shape3& out, int8_t* output) {
  const RequantParams& rq = params.requant;
  const int32_t n = in.c;
  // 2 * (x + input_offset) must fit an int16 lane.
  if (rq.input_offset < -16000 || rq.input_offset > 16000 ||
      !FastRequantApplies(rq, bias, out.c, n)) {
    return false;
  }
  const int32_t pixels = out.h * out.w;
  const int32_t offset = rq.input_offset;
  const int32_t offset2 = static_cast<int32_t>(
      (static_cast<uint32_t>(2 * offset) & 0xFFFFu) |
      (static_cast<uint32_t>(2 * offset) << 16));
  const bool dense = params.stride_h == 1 && params.stride_w == 1 &&
                     in.h == out.h && in.w == out.w;
  const auto in_pixel = [&](int32_t i) {
    if (dense) return input + i * n;
    const int32_t oy = i / out.w;
    const int32_t ox = i - oy * out.w;
    return input + ((oy * params.stride_h) * in.w + ox * params.stride_w) * n;
  };
  const bool full_range = rq.act_min == -128 && rq.act_max == 127;
  int32_t x[kChunkChannels];  // two pixels of int16 lanes
  // [channel][pixel]; one spare channel for the odd-count call below.
  int32_t acc[2 * (kChannelBlock + 1)];
  FastChannel ch[kChannelBlock];
  for (int32_t oc0 = 0; oc0 < out.c; oc0 += kChannelBlock) {
    const int32_t cn =
        out.c - oc0 < kChannelBlock ? out.c - oc0 : kChannelBlock;
    for (int32_t c = 0; c < cn; ++c) ch[c] = MakeFastChannel(rq, bias, oc0 + c);
    const int8_t* w_block = weights + oc0 * n;
    for (int32_t i = 0; i < pixels; i += 2) {
      // An odd last pixel is computed twice and written to one place.
      const bool pair = i + 1 < pixels;
      const int8_t* p0 = in_pixel(i);
      const int8_t* p1 = pair ? in_pixel(i + 1) : p0;
      int8_t* o0 = output + i * out.c + oc0;
      int8_t* o1 = pair ? o0 + out.c : o0;
      for (int32_t c = 0; c < cn; ++c) {
        acc[2 * c] = ch[c].bias2;
        acc[2 * c + 1] = ch[c].bias2;
      }
      for (int32_t k0 = 0; k0 < n; k0 += kChunkChannels) {
        const int32_t len = n - k0 < kChunkChannels ? n - k0 : kChunkChannels;
        const int32_t groups = len >> 2;
        if (groups > 0) {
          WidenPair(p0 + k0, p1 + k0, groups, offset2, x);
          const int8_t* w = w_block + k0;
          if (cn >= 2) {
            McunasArmPointwiseDot2x2(x, x + 4 * groups, w, n, acc, cn >> 1);
          }
          if (cn & 1) {
            McunasArmPointwiseDot2x2(x, x + 4 * groups, w + (cn - 1) * n, 0,
                                     acc + 2 * (cn - 1), 1);
          }
        }
        for (int32_t k = k0 + 4 * groups; k < k0 + len; ++k) {
          const int32_t x0 = 2 * (p0[k] + offset);
          const int32_t x1 = 2 * (p1[k] + offset);
          for (int32_t c = 0; c < cn; ++c) {
            const int32_t wv = w_block[c * n + k];
            acc[2 * c] += x0 * wv;
            acc[2 * c + 1] += x1 * wv;
          }
        }
      }
      if (full_range) {  // SSAT is the whole clamp
        for (int32_t c = 0; c < cn; ++c) {
          const FastChannel& f = ch[c];
          o0[c] = static_cast<int8_t>(
              FastRequant(acc[2 * c], f.multiplier, f.k, f.right_shift));
          o1[c] = static_cast<int8_t>(
              FastRequant(acc[2 * c + 1], f.multiplier, f.k, f.right_shift));
        }
      } else {
        for (int32_t c = 0; c < cn; ++c) {
          const FastChannel& f = ch[c];
          o0[c] = Clamp(
              FastRequant(acc[2 * c], f.multiplier, f.k, f.right_shift),
              rq.act_min, rq.act_max);
          o1[c] = Clamp(
              FastRequant(acc[2 * c + 1], f.multiplier, f.k, f.right_shift),
              rq.act_min, rq.act_max);
        }
      }
    }
  }
  return true;
}

}  // namespace mcunas::engine::optimized

#endif  // defined(__ARM_FEATURE_DSP)
