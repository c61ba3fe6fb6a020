// Fixed-point arithmetic of TFLite's int8 reference kernels, bit for bit.
//
// Every kernel (reference and optimised, host and Cortex-M) requantises
// through these functions, so that outputs match TensorFlow Lite (Micro)
// byte for byte. Pure functions; header-only so they inline into kernels.
#ifndef MCUNAS_ENGINE_QUANT_MATH_H_
#define MCUNAS_ENGINE_QUANT_MATH_H_

#include <stdint.h>

namespace mcunas::engine {

// (a * b * 2) >> 32, rounded to nearest; saturates the one overflow case
// (a == b == INT32_MIN). gemmlowp's SaturatingRoundingDoublingHighMul.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  // Division (not a shift) truncates toward zero, as gemmlowp does.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero. 0 <= exponent <= 31.
// gemmlowp's RoundingDivideByPOT.
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + ((x < 0) ? 1 : 0);
  return (x >> exponent) + ((remainder > threshold) ? 1 : 0);
}

// x * multiplier * 2^shift with multiplier a Q31 value in [0.5, 1) (or 0).
// TFLite's MultiplyByQuantizedMultiplier (the non-"double rounding" form
// used by TFLite Micro's int8 kernels).
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                             int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(
          static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift),
          multiplier),
      right_shift);
}

// TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp, used by ADD.
inline int32_t MultiplyByQuantizedMultiplierSmallerThanOneExp(
    int32_t x, int32_t multiplier, int shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier),
                             -shift);
}

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_QUANT_MATH_H_
