// The 3x3 depthwise row kernels (arm_dsp_dw3x3.h). Hand-allocated: the taps,
// both sums, the row word's even and odd bytes and the pointers fill r0-r12
// and lr, where GCC spills (its stride-2 loop ran ~55 instructions per pair
// against 33 here).

#if !defined(__arm__) && !defined(__thumb__)
#error "ARM-only file; see engine/kernels/CMakeLists.txt"
#endif

#if defined(__ARM_FEATURE_DSP)

#include "engine/kernels/optimized/arm_dsp_dw3x3.h"

// r0 the window's top row, r1 gw, lr 2 gw, r2 acc, r3 acc end, r4-r8 taps,
// r9/r10 even/odd bytes, r11/r12 the two sums.
__asm__(R"(
  .pushsection .text.McunasArmDw3x3S1Pairs,"ax",%progbits
  .syntax unified
  .thumb
  .p2align 2
  .global McunasArmDw3x3S1Pairs
  .type McunasArmDw3x3S1Pairs, %function
  .thumb_func
McunasArmDw3x3S1Pairs:
  push {r4-r11, lr}
  ldr r4, [sp, #36]
  ldm r4, {r4-r8}
  add r3, r2, r3, lsl #3
  lsl lr, r1, #1
.Ldw3_pair:
  ldr r9, [r0]
  sxtb16 r10, r9, ror #8
  sxtb16 r9, r9
  smuad r11, r9, r4
  smuad r12, r10, r4
  smlabb r11, r10, r7, r11
  smlatb r12, r9, r7, r12
  ldr r9, [r0, r1]
  sxtb16 r10, r9, ror #8
  sxtb16 r9, r9
  smlad r11, r9, r5, r11
  smlad r12, r10, r5, r12
  smlabt r11, r10, r7, r11
  smlatt r12, r9, r7, r12
  ldr r9, [r0, lr]
  sxtb16 r10, r9, ror #8
  sxtb16 r9, r9
  smlad r11, r9, r6, r11
  smlad r12, r10, r6, r12
  smlabb r11, r10, r8, r11
  smlatb r12, r9, r8, r12
  stm r2!, {r11, r12}
  adds r0, #2
  cmp r2, r3
  bne .Ldw3_pair
  pop {r4-r11, pc}
  .size McunasArmDw3x3S1Pairs, .-McunasArmDw3x3S1Pairs
  .popsection
)");

// r0 the window's top row, r1 gw, r2 acc, r3 acc end, r4-r8 taps, r9 the
// row word then its even bytes, r10 its odd bytes, r11 the fifth byte (and
// the row address), r12/lr the two sums.
__asm__(R"(
  .pushsection .text.McunasArmDw3x3S2Pairs,"ax",%progbits
  .syntax unified
  .thumb
  .p2align 2
  .global McunasArmDw3x3S2Pairs
  .type McunasArmDw3x3S2Pairs, %function
  .thumb_func
McunasArmDw3x3S2Pairs:
  push {r4-r11, lr}
  ldr r4, [sp, #36]
  ldm r4, {r4-r8}
  add r3, r2, r3, lsl #3
.Ldw3s2_pair:
  ldr r9, [r0]
  ldrsb r11, [r0, #4]
  sxtb16 r10, r9, ror #8
  sxtb16 r9, r9
  smuad r12, r9, r4
  smultb lr, r9, r4
  smlabb r12, r10, r7, r12
  smlatb lr, r10, r7, lr
  smlabt lr, r11, r4, lr
  add r11, r0, r1
  ldr r9, [r11]
  ldrsb r11, [r11, #4]
  sxtb16 r10, r9, ror #8
  sxtb16 r9, r9
  smlad r12, r9, r5, r12
  smlatb lr, r9, r5, lr
  smlabt r12, r10, r7, r12
  smlatt lr, r10, r7, lr
  smlabt lr, r11, r5, lr
  add r11, r0, r1, lsl #1
  ldr r9, [r11]
  ldrsb r11, [r11, #4]
  sxtb16 r10, r9, ror #8
  sxtb16 r9, r9
  smlad r12, r9, r6, r12
  smlatb lr, r9, r6, lr
  smlabb r12, r10, r8, r12
  smlatb lr, r10, r8, lr
  smlabt lr, r11, r6, lr
  stm r2!, {r12, lr}
  adds r0, #4
  cmp r2, r3
  bne .Ldw3s2_pair
  pop {r4-r11, pc}
  .size McunasArmDw3x3S2Pairs, .-McunasArmDw3x3S2Pairs
  .popsection
)");

#endif  // defined(__ARM_FEATURE_DSP)
