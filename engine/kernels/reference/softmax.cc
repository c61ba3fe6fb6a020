// TFLite's int8 softmax (reference_ops::Softmax with gemmlowp fixed point),
// bit for bit. Each helper below is the gemmlowp function it is named after,
// specialised to the int32 raw values and the integer-bit counts softmax
// uses: the scaled input differences are Q5.26, exp() returns Q0.31, the sum
// of exps is Q12.19.

#include <stdint.h>

#include "engine/kernels/reference/reference_kernels.h"
#include "mcunas/engine/quant_math.h"

namespace mcunas::engine::reference {
namespace {

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;

int32_t Mul(int32_t a, int32_t b) {
  return SaturatingRoundingDoublingHighMul(a, b);
}

// gemmlowp::SaturatingRoundingMultiplyByPOT<exponent>.
int32_t SaturatingMultiplyByPOT(int32_t x, int exponent) {
  if (exponent < 0) return RoundingDivideByPOT(x, -exponent);
  if (exponent == 0) return x;
  const int32_t threshold = (int32_t{1} << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// x / 2^exponent rounded half away from zero for any exponent in 0..62.
// gemmlowp's RoundingDivideByPOT for exponent <= 31; TFLite calls it with up
// to 34 when a row has more than 512 near-maximal values, where its int32
// shift is undefined: this gives the exact quotient (0) there.
int32_t RoundingDivideByPOTWide(int32_t x, int exponent) {
  if (exponent <= 31) return RoundingDivideByPOT(x, exponent);
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = static_cast<int64_t>(x) & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int32_t>((static_cast<int64_t>(x) >> exponent) +
                              (remainder > threshold ? 1 : 0));
}

// exp(a) for a in [-1/4, 0), a and the result Q0.31.
int32_t ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int32_t a) {
  const int32_t kConstantTerm = 1895147668;    // exp(-1/8)
  const int32_t kConstant1Over3 = 715827883;   // 1/3
  // Taylor expansion around -1/8: x = a + 1/8.
  const int32_t x = a + (int32_t{1} << 28);
  const int32_t x2 = Mul(x, x);
  const int32_t x3 = Mul(x2, x);
  const int32_t x4 = Mul(x2, x2);
  const int32_t x4_over_4 = SaturatingMultiplyByPOT(x4, -2);
  const int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 =
      SaturatingMultiplyByPOT(Mul(x4_over_4 + x3, kConstant1Over3) + x2, -1);
  return kConstantTerm +
         Mul(kConstantTerm, x + x4_over_24_plus_x3_over_6_plus_x2_over_2);
}

// exp(a) for a <= 0; a is Q5.26, the result Q0.31.
int32_t ExpOnNegativeValues(int32_t a) {
  constexpr int kFractionalBits = 31 - kScaledDiffIntegerBits;
  const int32_t kOneQuarter = int32_t{1} << (kFractionalBits - 2);
  const int32_t mask = kOneQuarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - kOneQuarter;
  int32_t result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(
      SaturatingMultiplyByPOT(a_mod_quarter_minus_one_quarter,
                              kScaledDiffIntegerBits));
  const int64_t remainder =
      static_cast<int64_t>(a_mod_quarter_minus_one_quarter) - a;
  // exp(-2^k) for k = -2..4, Q0.31: multiply in each power of two that the
  // remainder (a multiple of 1/4) contains.
  struct Factor {
    int exponent;
    int32_t multiplier;
  };
  constexpr Factor kFactors[] = {{-2, 1672461947}, {-1, 1302514674},
                                 {0, 790015084},   {1, 290630308},
                                 {2, 39332535},    {3, 720401},
                                 {4, 242}};
  for (const Factor& f : kFactors) {
    if (kScaledDiffIntegerBits > f.exponent &&
        (remainder & (int64_t{1} << (kFractionalBits + f.exponent))) != 0) {
      result = Mul(result, f.multiplier);
    }
  }
  return a == 0 ? INT32_MAX : result;
}

// 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson).
int32_t OneOverOnePlusXForXIn01(int32_t a) {
  const int64_t sum = static_cast<int64_t>(a) + INT32_MAX;
  const int32_t half_denominator =
      static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t kConstant48Over17 = 1515870810;      // Q2.29
  const int32_t kConstantNeg32Over17 = -1010580540;  // Q2.29
  int32_t x = kConstant48Over17 + Mul(half_denominator, kConstantNeg32Over17);
  const int32_t kOneQ2 = int32_t{1} << 29;
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = Mul(half_denominator, x);
    const int32_t one_minus_half_denominator_times_x =
        kOneQ2 - half_denominator_times_x;
    x = x + SaturatingMultiplyByPOT(Mul(x, one_minus_half_denominator_times_x),
                                    2);
  }
  return SaturatingMultiplyByPOT(x, 1);
}

// TFLite's GetReciprocal: 1 / x for x a positive Q12.19 sum, as a Q0.31
// scale and the number of bits x has above 1.0. The sum is taken as
// unsigned, which also covers 2^31 (4096 values each exp(0)).
int32_t Reciprocal(uint32_t x, int* num_bits_over_unit) {
  const int headroom_plus_one = __builtin_clz(x);
  *num_bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((x << headroom_plus_one) - (uint32_t{1} << 31));
  return OneOverOnePlusXForXIn01(shifted_sum_minus_one);
}

int32_t ScaledDiff(const SoftmaxQuantParams& params, int32_t diff) {
  return Mul(diff * (int32_t{1} << params.input_left_shift),
             params.input_multiplier);
}

}  // namespace

void Softmax(const SoftmaxQuantParams& params, int32_t rows, int32_t depth,
             const int8_t* input, int8_t* output) {
  for (int32_t r = 0; r < rows; ++r) {
    const int8_t* in = input + r * depth;
    int8_t* out = output + r * depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < depth; ++c) {
      if (in[c] > max_in_row) max_in_row = in[c];
    }
    uint32_t sum_of_exps = 0;
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff >= params.diff_min) {
        sum_of_exps += static_cast<uint32_t>(SaturatingMultiplyByPOT(
            ExpOnNegativeValues(ScaledDiff(params, diff)),
            -kAccumulationIntegerBits));
      }
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = Reciprocal(sum_of_exps, &num_bits_over_unit);
    for (int32_t c = 0; c < depth; ++c) {
      const int32_t diff = in[c] - max_in_row;
      if (diff < params.diff_min) {
        out[c] = -128;
        continue;
      }
      const int32_t exp_in_0 = ExpOnNegativeValues(ScaledDiff(params, diff));
      const int32_t unsat = RoundingDivideByPOTWide(
          Mul(shifted_scale, exp_in_0), num_bits_over_unit + 31 - 8);
      int32_t v = unsat - 128;
      if (v < -128) v = -128;
      if (v > 127) v = 127;
      out[c] = static_cast<int8_t>(v);
    }
  }
}

}  // namespace mcunas::engine::reference
