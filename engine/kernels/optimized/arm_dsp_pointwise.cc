// Pointwise convolution for Cortex-M cores with the DSP extension: blocks of
// 3 output pixels x 2 output channels whose operands are both int16 before
// the multiply loop, so it issues only loads and SMLADs.
//
// - Weights: a block of channel pairs is widened once per layer pass into a
//   stack tile (doubled for FastRequant) and reused by every pixel.
// - Inputs: three pixels are widened (offset added) once per tile and
//   reused by every channel pair of the tile.
// Per 2 input channels the loop issues 1 LDM of the three pixels' words,
// 1 LDM of the two channels' words and 6 SMLAD: 8 instructions per 12 MACs.
// 6 accumulators + 3 input words + 2 weight words + 3 pointers use all of
// r0-r12 and lr, so the loop is hand-allocated assembly; it also
// requantises (5 instructions per output) while the constants are at hand.

#if !defined(__arm__) && !defined(__thumb__)
#error "ARM-only file; see engine/kernels/CMakeLists.txt"
#endif

#if defined(__ARM_FEATURE_DSP)

#include "engine/kernels/optimized/arm_dsp_pointwise.h"

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels/optimized/arm_dsp_requant.h"

// For each channel pair of the tile [tile, tile_end): starts 6 accumulators
// from the pair's bias block, adds the products of the widened inputs
// x[0 .. x_end) with the pair's widened weights, then writes FastRequant
// of them to out[0], out[d1], out[d2] (channel 0) and out[1], out[d1 + 1],
// out[d2 + 1] (channel 1), and moves out on by 2.
// Tile layout per pair: b0 b1 b0 b1 b0 b1 (2 * bias), then per group of 4
// input channels w0e w1e w0o w1o (e: channels k, k+2 as int16 lanes; o: k+1,
// k+3), then m0 k0 r0 m1 k1 r1 (FastChannel). x per group: p0e p1e p2e p0o
// p1o p2o. REQUIRES: an even, non-zero number of groups; tile_end > tile.
extern "C" void McunasArmPointwise3x2(const int32_t* x, const int32_t* x_end,
                                      const int32_t* tile,
                                      const int32_t* tile_end, int8_t* out,
                                      int32_t d1, int32_t d2);

// r0 x, r1 x_end, r2 the tile, r3-r8 accumulators (c0p0 c1p0 c0p1 c1p1
// c0p2 c1p2), r9-r11 input words, r12/lr weight words. Frame: [sp] out,
// [sp + 4] d1, [sp + 8] d2, [sp + 12] x, [sp + 16] x_end, [sp + 20]
// tile_end. Requantisation reuses r0, r1, r12 for out, d1, d2, r9-r11 for
// the constants and lr for the value.
__asm__(R"(
  .pushsection .text.McunasArmPointwise3x2,"ax",%progbits
  .syntax unified
  .thumb
  .p2align 2
  .global McunasArmPointwise3x2
  .type McunasArmPointwise3x2, %function
  .thumb_func
McunasArmPointwise3x2:
  push {r4-r11, lr}
  ldr r4, [sp, #36]
  ldr r5, [sp, #40]
  ldr r6, [sp, #44]
  push {r0, r1, r3}
  push {r4, r5, r6}
.Lpw3_pair:
  ldm r2!, {r3-r8}
.Lpw3_groups:
  ldm r0!, {r9-r11}
  ldm r2!, {r12, lr}
  smlad r3, r9, r12, r3
  smlad r4, r9, lr, r4
  smlad r5, r10, r12, r5
  smlad r6, r10, lr, r6
  smlad r7, r11, r12, r7
  smlad r8, r11, lr, r8
  ldm r0!, {r9-r11}
  ldm r2!, {r12, lr}
  smlad r3, r9, r12, r3
  smlad r4, r9, lr, r4
  smlad r5, r10, r12, r5
  smlad r6, r10, lr, r6
  smlad r7, r11, r12, r7
  smlad r8, r11, lr, r8
  ldm r0!, {r9-r11}
  ldm r2!, {r12, lr}
  smlad r3, r9, r12, r3
  smlad r4, r9, lr, r4
  smlad r5, r10, r12, r5
  smlad r6, r10, lr, r6
  smlad r7, r11, r12, r7
  smlad r8, r11, lr, r8
  ldm r0!, {r9-r11}
  ldm r2!, {r12, lr}
  smlad r3, r9, r12, r3
  smlad r4, r9, lr, r4
  smlad r5, r10, r12, r5
  smlad r6, r10, lr, r6
  smlad r7, r11, r12, r7
  smlad r8, r11, lr, r8
  cmp r0, r1
  bne .Lpw3_groups
  ldm sp, {r0, r1, r12}
  ldm r2!, {r9-r11}
  add lr, r10, r3, asr #31
  smmlar lr, r3, r9, lr
  asr lr, lr, r11
  ssat lr, #8, lr
  strb lr, [r0]
  add lr, r10, r5, asr #31
  smmlar lr, r5, r9, lr
  asr lr, lr, r11
  ssat lr, #8, lr
  strb lr, [r0, r1]
  add lr, r10, r7, asr #31
  smmlar lr, r7, r9, lr
  asr lr, lr, r11
  ssat lr, #8, lr
  strb lr, [r0, r12]
  adds r0, #1
  ldm r2!, {r9-r11}
  add lr, r10, r4, asr #31
  smmlar lr, r4, r9, lr
  asr lr, lr, r11
  ssat lr, #8, lr
  strb lr, [r0]
  add lr, r10, r6, asr #31
  smmlar lr, r6, r9, lr
  asr lr, lr, r11
  ssat lr, #8, lr
  strb lr, [r0, r1]
  add lr, r10, r8, asr #31
  smmlar lr, r8, r9, lr
  asr lr, lr, r11
  ssat lr, #8, lr
  strb lr, [r0, r12]
  adds r0, #1
  str r0, [sp]
  ldrd r0, r1, [sp, #12]
  ldr r9, [sp, #20]
  cmp r2, r9
  bne .Lpw3_pair
  add sp, sp, #24
  pop {r4-r11, pc}
  .size McunasArmPointwise3x2, .-McunasArmPointwise3x2
  .popsection
)");

// The widening loops, each 13-14 instructions per group (GCC's versions
// store word by word and recompute addresses: ~17 and ~27).
//
// t[4g .. 4g + 3] = 2 w0e, 2 w1e, 2 w0o, 2 w1o of group g of rows w0 and
// w0 + n, for g < groups. REQUIRES: groups >= 1.
extern "C" void McunasArmWidenRowPair(const int8_t* w0, int32_t n,
                                      int32_t groups, int32_t* t);
// x[6g .. 6g + 5] = p0e p1e p2e p0o p1o p2o of group g (lanes x + offset,
// offset2 = offset in both lanes), for g < groups. REQUIRES: groups >= 1.
extern "C" void McunasArmWidenTriple(const int8_t* const* p, int32_t groups,
                                     int32_t offset2, int32_t* x);

__asm__(R"(
  .pushsection .text.McunasArmWidenRowPair,"ax",%progbits
  .syntax unified
  .thumb
  .p2align 2
  .global McunasArmWidenRowPair
  .type McunasArmWidenRowPair, %function
  .thumb_func
McunasArmWidenRowPair:
  push {r4-r9}
  add r1, r0, r1
.Lwrp_group:
  ldr r4, [r0], #4
  ldr r5, [r1], #4
  sxtb16 r6, r4
  sxtab16 r6, r6, r4
  sxtb16 r7, r5
  sxtab16 r7, r7, r5
  sxtb16 r8, r4, ror #8
  sxtab16 r8, r8, r4, ror #8
  sxtb16 r9, r5, ror #8
  sxtab16 r9, r9, r5, ror #8
  stm r3!, {r6-r9}
  subs r2, #1
  bne .Lwrp_group
  pop {r4-r9}
  bx lr
  .size McunasArmWidenRowPair, .-McunasArmWidenRowPair
  .popsection

  .pushsection .text.McunasArmWidenTriple,"ax",%progbits
  .syntax unified
  .thumb
  .p2align 2
  .global McunasArmWidenTriple
  .type McunasArmWidenTriple, %function
  .thumb_func
McunasArmWidenTriple:
  push {r4-r11}
  ldr r4, [r0, #4]
  ldr r5, [r0, #8]
  ldr r0, [r0]
.Lwt_group:
  ldr r6, [r0], #4
  ldr r7, [r4], #4
  ldr r8, [r5], #4
  sxtab16 r9, r2, r6
  sxtab16 r10, r2, r7
  sxtab16 r11, r2, r8
  sxtab16 r6, r2, r6, ror #8
  sxtab16 r7, r2, r7, ror #8
  sxtab16 r8, r2, r8, ror #8
  stm r3!, {r9-r11}
  stm r3!, {r6-r8}
  subs r1, #1
  bne .Lwt_group
  pop {r4-r11}
  bx lr
  .size McunasArmWidenTriple, .-McunasArmWidenTriple
  .popsection
)");

namespace mcunas::engine::optimized {
namespace {

// One stack buffer (7 KB) holds the widened inputs of a pixel triple (6
// words per group of 4 input channels) and, after them, the weight tile:
// n = 128 leaves room for 11 channel pairs, n = 256 for 5, n = 712 for 1.
constexpr int32_t kBufferWords = 1792;

inline uint32_t Load4(const void* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

// Bytes [4g, n) of p as a word, zero past n (the tail group of a row whose
// length is not a multiple of 4; its weights there are zero).
inline uint32_t TailWord(const int8_t* p, int32_t g, int32_t n) {
  uint32_t v = 0;
  for (int32_t k = n - 1; k >= 4 * g; --k) {
    v = (v << 8) | static_cast<uint8_t>(p[k]);
  }
  return v;
}

inline int32_t OddPlus(int32_t a, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}

// x for McunasArmPointwise3x2: `groups` groups of the three pixels, lanes
// x + offset; bytes past the row count as 0 (their weights are zero).
void WidenTriple(const int8_t* const* p, int32_t n, int32_t groups,
                 int32_t offset2, int32_t* x) {
  const int32_t full = n >> 2;
  if (full > 0) McunasArmWidenTriple(p, full, offset2, x);
  x += 6 * full;
  for (int32_t g = full; g < groups; ++g, x += 6) {
    for (int32_t i = 0; i < 3; ++i) {
      const uint32_t a = g * 4 < n ? TailWord(p[i], g, n) : 0;
      x[i] = __sxtab16(offset2, static_cast<int32_t>(a));
      x[i + 3] = OddPlus(offset2, a);
    }
  }
}

// Widens the `pairs` channel pairs from `oc` into the tile (layout at
// McunasArmPointwise3x2). Returns the tile's end.
int32_t* BuildTile(const RequantParams& rq, const int8_t* weights,
                   const int32_t* bias, int32_t n, int32_t groups, int32_t oc,
                   int32_t pairs, int32_t* t) {
  const int32_t full = n >> 2;
  for (int32_t q = 0; q < pairs; ++q, oc += 2) {
    const FastChannel f0 = MakeFastChannel(rq, bias, oc);
    const FastChannel f1 = MakeFastChannel(rq, bias, oc + 1);
    for (int32_t i = 0; i < 6; i += 2) {
      t[i] = f0.bias2;
      t[i + 1] = f1.bias2;
    }
    t += 6;
    const int8_t* w0 = weights + oc * n;
    const int8_t* w1 = w0 + n;
    if (full > 0) McunasArmWidenRowPair(w0, n, full, t);
    t += 4 * full;
    for (int32_t g = full; g < groups; ++g, t += 4) {
      const uint32_t a0 = 4 * g < n ? TailWord(w0, g, n) : 0;
      const uint32_t a1 = 4 * g < n ? TailWord(w1, g, n) : 0;
      // 2 w in each lane: the lane widened and added to itself.
      const int32_t e0 = __sxtb16(static_cast<int32_t>(a0));
      const int32_t e1 = __sxtb16(static_cast<int32_t>(a1));
      t[0] = __sxtab16(e0, static_cast<int32_t>(a0));
      t[1] = __sxtab16(e1, static_cast<int32_t>(a1));
      t[2] = OddPlus(OddPlus(0, a0), a0);
      t[3] = OddPlus(OddPlus(0, a1), a1);
    }
    t[0] = f0.multiplier;
    t[1] = f0.k;
    t[2] = f0.right_shift;
    t[3] = f1.multiplier;
    t[4] = f1.k;
    t[5] = f1.right_shift;
    t += 6;
  }
  return t;
}

}  // namespace

bool ArmPointwise(const ConvParams& params, const Shape3& in,
                  const int8_t* input, const int8_t* weights,
                  const int32_t* bias, const Shape3& out, int8_t* output) {
  const RequantParams& rq = params.requant;
  const int32_t n = in.c;
  // Rounded up to an even count: the loop takes two groups per step.
  const int32_t groups = ((n + 3) / 4 + 1) & ~1;
  const int32_t pair_words = 12 + 4 * groups;
  const int32_t tile_words = kBufferWords - 6 * groups;
  // SSAT is the whole clamp only for the full int8 range; x + input_offset
  // must fit an int16 lane.
  if (rq.act_min != -128 || rq.act_max != 127 || (out.c & 1) != 0 ||
      tile_words < pair_words || rq.input_offset < -32639 ||
      rq.input_offset > 32639 || !FastRequantApplies(rq, bias, out.c, n)) {
    return false;
  }
  const int32_t pixels = out.h * out.w;
  const int32_t offset2 = static_cast<int32_t>(
      (static_cast<uint32_t>(rq.input_offset) & 0xFFFFu) |
      (static_cast<uint32_t>(rq.input_offset) << 16));
  const bool dense = params.stride_h == 1 && params.stride_w == 1 &&
                     in.h == out.h && in.w == out.w;
  const auto in_pixel = [&](int32_t i) {
    if (dense) return input + i * n;
    const int32_t oy = i / out.w;
    const int32_t ox = i - oy * out.w;
    return input + ((oy * params.stride_h) * in.w + ox * params.stride_w) * n;
  };
  const int32_t all_pairs = out.c >> 1;
  const int32_t tile_pairs = tile_words / pair_words;
  int32_t buffer[kBufferWords];
  int32_t* const x = buffer;
  int32_t* const tile = buffer + 6 * groups;
  for (int32_t q0 = 0; q0 < all_pairs; q0 += tile_pairs) {
    const int32_t pairs =
        all_pairs - q0 < tile_pairs ? all_pairs - q0 : tile_pairs;
    const int32_t* tile_end =
        BuildTile(rq, weights, bias, n, groups, 2 * q0, pairs, tile);
    for (int32_t i = 0; i < pixels; i += 3) {
      // Past the last pixel the previous one is computed again and written
      // to the same place.
      const int32_t d1 = i + 1 < pixels ? out.c : 0;
      const int32_t d2 = i + 2 < pixels ? 2 * out.c : d1;
      const int8_t* p[3];
      p[0] = in_pixel(i);
      p[1] = d1 != 0 ? in_pixel(i + 1) : p[0];
      p[2] = d2 != d1 ? in_pixel(i + 2) : p[1];
      WidenTriple(p, n, groups, offset2, x);
      McunasArmPointwise3x2(x, x + 6 * groups, tile, tile_end,
                            output + i * out.c + 2 * q0, d1, d2);
    }
  }
  return true;
}

}  // namespace mcunas::engine::optimized

#endif  // defined(__ARM_FEATURE_DSP)
