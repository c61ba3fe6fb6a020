// The 3x3 depthwise row kernels in assembly for Cortex-M cores with the DSP
// extension: they sum one channel's padded plane (depthwise_plane.h) into
// int32 accumulators, two outputs per step; the caller adds the
// accumulator start and requantises. Private to engine/kernels/optimized/;
// ARM-only. Pure functions over caller buffers; thread-safe.
#ifndef MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_DW3X3_H_
#define MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_DW3X3_H_

#include <stdint.h>

// acc[2i], acc[2i + 1] = the 3x3 window sums at r + 2i and r + 2i + 1 (rows
// gw bytes apart) for i < pairs, without the accumulator start. w holds
// (w0, w2), (w3, w5), (w6, w8), (w1, w4), (w7, 0) of the (doubled) taps.
// One pair reads r[2i .. 2i + 3] of each row: per row one LDR, two SXTB16
// (even and odd bytes), two SMLAD for the lanes that match (w0, w2) and two
// SMLAxy for the middle tap. REQUIRES: pairs >= 1.
extern "C" void McunasArmDw3x3S1Pairs(const int8_t* r, int32_t gw,
                                      int32_t* acc, int32_t pairs,
                                      const int32_t* w);

// acc[2i], acc[2i + 1] = the stride-2 3x3 window sums at r + 4i and
// r + 4i + 2 (rows gw bytes apart) for i < pairs, without the accumulator
// start. w holds (w0, w2), (w3, w5), (w6, w8), (w1, w4), (w7, 0) of the
// (doubled) taps. One pair reads r[4i .. 4i + 4] of each row: per row one
// LDR and one LDRSB, two SXTB16, one SMLAD (r0 w0 + r2 w2) and four
// SMLAxy. REQUIRES: pairs >= 1.
extern "C" void McunasArmDw3x3S2Pairs(const int8_t* r, int32_t gw,
                                      int32_t* acc, int32_t pairs,
                                      const int32_t* w);

#endif  // MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_DW3X3_H_
