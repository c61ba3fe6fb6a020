// The Cortex-M DSP pointwise (1x1) convolution. Private to
// engine/kernels/optimized/; ARM-only. Thread-compatible.
#ifndef MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_POINTWISE_H_
#define MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_POINTWISE_H_

#include <stdint.h>

#include "mcunas/engine/kernels.h"

namespace mcunas::engine::optimized {

// A 1x1 convolution without padding (output pixel (y, x) reads input pixel
// (y * stride_h, x * stride_w)), byte-identical with reference::Conv.
// Returns false, having written nothing, when it does not apply: the fused
// clamp is not the whole int8 range, an odd number of output channels, more
// than 712 input channels, or FastRequantApplies() does not hold; the caller
// then falls back. Uses ~7.2 KB of stack, no scratch.
bool ArmPointwise(const ConvParams& params, const Shape3& in,
                  const int8_t* input, const int8_t* weights,
                  const int32_t* bias, const Shape3& out, int8_t* output);

}  // namespace mcunas::engine::optimized

#endif  // MCUNAS_ENGINE_KERNELS_OPTIMIZED_ARM_DSP_POINTWISE_H_
