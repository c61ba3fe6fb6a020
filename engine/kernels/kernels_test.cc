// Tests of the kernels: optimised == reference over the conformance table,
// reference against hand-computed values and an independent formulation, and
// in-place depthwise against out-of-place.

#include "mcunas/engine/kernels.h"

#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/conformance.h"
#include "gtest/gtest.h"
#include "mcunas/engine/quant_math.h"

#if defined(MCUNAS_KERNELS_X86)
#include "engine/kernels/optimized/platform_kernels.h"
#endif

namespace mcunas::engine {
namespace {

constexpr ConformanceOp kOps[] = {
    ConformanceOp::kConv, ConformanceOp::kDepthwise, ConformanceOp::kAdd,
    ConformanceOp::kAveragePool, ConformanceOp::kFullyConnected};

void ExpectConformant(const KernelSet& set) {
  std::vector<uint8_t> work(kConformanceWorkBytes);
  uint32_t total = 0;
  for (ConformanceOp op : kOps) {
    const ConformanceResult r =
        RunKernelConformanceForOp(op, set, work.data(), work.size());
    EXPECT_GE(r.cases, 50u) << set.name << " op " << static_cast<int>(op);
    EXPECT_EQ(r.mismatches, 0u) << set.name << ": " << r.first_failure;
    total += r.cases;
  }
  const ConformanceResult all =
      RunKernelConformance(set, work.data(), work.size());
  EXPECT_EQ(all.cases, total);
  EXPECT_EQ(all.mismatches, 0u) << all.first_failure;
  EXPECT_STREQ(all.first_failure, "");
}

TEST(KernelConformanceTest, OptimizedMatchesReference) {
  ExpectConformant(OptimizedKernels());
}

TEST(KernelConformanceTest, ReferenceMatchesItself) {
  ExpectConformant(ReferenceKernels());
}

#if defined(MCUNAS_KERNELS_X86)
TEST(KernelConformanceTest, EveryX86VariantMatchesReference) {
  ExpectConformant(optimized::X86Sse2Kernels());
  if (optimized::X86Avx2Kernels() != nullptr) {
    ExpectConformant(*optimized::X86Avx2Kernels());
  } else {
    GTEST_LOG_(INFO) << "no AVX2 on this CPU; AVX2 kernels not tested";
  }
}
#endif

// A kernel set with one wrong byte must be caught, with a useful message.
void OffByOneConv(const ConvParams& params, const Shape3& in,
                  const int8_t* input, const int8_t* weights,
                  const int32_t* bias, const Shape3& out, int8_t* output,
                  int8_t* scratch) {
  ReferenceKernels().conv(params, in, input, weights, bias, out, output,
                          scratch);
  output[out.Elements() - 1] ^= 1;
}

void OverrunningPool(const PoolParams& params, const Shape3& in,
                     const int8_t* input, const Shape3& out, int8_t* output) {
  ReferenceKernels().average_pool(params, in, input, out, output);
  output[out.Elements()] = 0;
}

TEST(KernelConformanceTest, DetectsWrongBytesAndOverruns) {
  KernelSet broken = ReferenceKernels();
  broken.conv = OffByOneConv;
  broken.average_pool = OverrunningPool;
  std::vector<uint8_t> work(kConformanceWorkBytes);
  const ConformanceResult conv = RunKernelConformanceForOp(
      ConformanceOp::kConv, broken, work.data(), work.size());
  EXPECT_EQ(conv.mismatches, conv.cases);
  EXPECT_NE(std::string(conv.first_failure).find("conv #0"), std::string::npos)
      << conv.first_failure;
  const ConformanceResult pool = RunKernelConformanceForOp(
      ConformanceOp::kAveragePool, broken, work.data(), work.size());
  EXPECT_EQ(pool.mismatches, pool.cases);
  EXPECT_NE(std::string(pool.first_failure).find("wrote past"),
            std::string::npos)
      << pool.first_failure;
}

TEST(KernelConformanceTest, TooSmallWorkBufferFails) {
  std::vector<uint8_t> work(64);
  const ConformanceResult r =
      RunKernelConformance(OptimizedKernels(), work.data(), work.size());
  EXPECT_GT(r.mismatches, 0u);
  EXPECT_NE(std::string(r.first_failure).find("too small"), std::string::npos);
}

// multiplier 2^30 with shift 1 is an exact scale of 1.
constexpr int32_t kUnitMultiplier = 1 << 30;
constexpr int32_t kUnitShift = 1;

RequantParams UnitRequant(const int32_t* multiplier, const int32_t* shift) {
  RequantParams rq;
  rq.multiplier = multiplier;
  rq.shift = shift;
  return rq;
}

TEST(ReferenceKernelsTest, ConvByHand) {
  // 2x2x2 input, 1x1 conv to one channel, input zero point 3, output zero
  // point -5, scale 1/2.
  const int8_t input[] = {1, 2, 3, 4, 5, 6, 7, 8};
  const int8_t weights[] = {2, -1};
  const int32_t bias[] = {10};
  const int32_t multiplier[] = {kUnitMultiplier};
  const int32_t shift[] = {0};  // scale 1/2
  ConvParams p;
  p.requant = UnitRequant(multiplier, shift);
  p.requant.input_offset = -3;
  p.requant.output_offset = -5;
  int8_t out[4];
  ReferenceKernels().conv(p, {2, 2, 2}, input, weights, bias, {2, 2, 1}, out,
                          nullptr);
  // acc = 2(x0-3) - (x1-3) + 10: 7, 9, 11, 13; /2 rounds half away: 4,5,6,7.
  const int8_t want[] = {4 - 5, 5 - 5, 6 - 5, 7 - 5};
  EXPECT_EQ(0, memcmp(out, want, sizeof(want)));
}

TEST(ReferenceKernelsTest, DepthwisePaddingUsesOnlyValidTaps) {
  // 3x3x1 input, 3x3 all-ones kernel, SAME padding, zero point 1: the corner
  // output sums 4 valid taps, the centre 9.
  const int8_t input[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int8_t weights[9];
  memset(weights, 1, sizeof(weights));
  const int32_t multiplier[] = {kUnitMultiplier};
  const int32_t shift[] = {kUnitShift};
  ConvParams p;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = 1;
  p.requant = UnitRequant(multiplier, shift);
  p.requant.input_offset = -1;
  p.requant.act_min = -128;
  p.requant.act_max = 30;
  int8_t out[9];
  const Shape3 shape = {3, 3, 1};
  std::vector<int8_t> scratch(DepthwiseScratchBytes(p, shape, shape));
  ReferenceKernels().depthwise(p, shape, input, weights, nullptr, shape, out,
                               scratch.data());
  // Corner: (1+2+4+5) - 4 = 8. Centre: 45 - 9 = 36, clamped to 30.
  EXPECT_EQ(out[0], 8);
  EXPECT_EQ(out[4], 30);
  EXPECT_EQ(out[8], (5 + 6 + 8 + 9) - 4);
}

TEST(ReferenceKernelsTest, AddByHand) {
  // Input scales 1/4 each after left shift 20, output 2^-18: the exact sum.
  AddQuantParams p;
  p.input1_offset = 1;
  p.input2_offset = -2;
  p.output_offset = 3;
  p.input1_multiplier = p.input2_multiplier = kUnitMultiplier;
  p.input1_shift = p.input2_shift = -1;
  p.output_multiplier = kUnitMultiplier;
  p.output_shift = -17;
  const int8_t a[] = {10, -100, 120};
  const int8_t b[] = {-3, -100, 127};
  int8_t out[3];
  ReferenceKernels().add(p, 3, a, b, out);
  EXPECT_EQ(out[0], (10 + 1) + (-3 - 2) + 3);
  EXPECT_EQ(out[1], -128);  // -198 clamps
  EXPECT_EQ(out[2], 127);   // 249 clamps
}

TEST(ReferenceKernelsTest, AveragePoolRoundsHalfAwayFromZero) {
  // 1x2x3: channel means 1.5 -> 2, -1.5 -> -2, 0.5 -> 1.
  const int8_t input[] = {1, -1, 0, 2, -2, 1};
  PoolParams p;
  p.kernel_h = 1;
  p.kernel_w = 2;
  int8_t out[3];
  ReferenceKernels().average_pool(p, {1, 2, 3}, input, {1, 1, 3}, out);
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], -2);
  EXPECT_EQ(out[2], 1);
}

TEST(ReferenceKernelsTest, FullyConnectedByHand) {
  const int8_t input[] = {5, -7, 9};
  const int8_t weights[] = {1, 2, 3, -4, 0, 4};
  const int32_t bias[] = {-1, 2};
  const int32_t multiplier[] = {kUnitMultiplier, kUnitMultiplier};
  const int32_t shift[] = {kUnitShift, 0};
  RequantParams rq = UnitRequant(multiplier, shift);
  rq.input_offset = 2;
  int8_t out[2];
  ReferenceKernels().fully_connected(rq, 3, input, weights, bias, 2, out);
  EXPECT_EQ(out[0], 7 - 10 + 33 - 1);
  // (-28 + 0 + 44 + 2) / 2 = 9
  EXPECT_EQ(out[1], 9);
}

struct ConvShape {
  int32_t in_h, in_w, in_c, out_c, k, stride, pad;
};

// Conv computed another way: the input is first padded explicitly with its
// zero point, so no tap needs a bounds check, and requantisation is spelled
// out with quant_math calls.
std::vector<int8_t> IndependentConv(const ConvParams& p, const Shape3& in,
                                    const std::vector<int8_t>& input,
                                    const std::vector<int8_t>& weights,
                                    const std::vector<int32_t>& bias,
                                    const Shape3& out) {
  const int32_t zp = -p.requant.input_offset;
  const int32_t ph = in.h + 2 * p.kernel_h;
  const int32_t pw = in.w + 2 * p.kernel_w;
  std::vector<int32_t> padded(ph * pw * in.c, zp);
  for (int32_t y = 0; y < in.h; ++y) {
    for (int32_t x = 0; x < in.w; ++x) {
      for (int32_t c = 0; c < in.c; ++c) {
        padded[((y + p.kernel_h) * pw + x + p.kernel_w) * in.c + c] =
            input[(y * in.w + x) * in.c + c];
      }
    }
  }
  std::vector<int8_t> result(out.Elements());
  for (int32_t oc = 0; oc < out.c; ++oc) {
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        int64_t acc = bias[oc];
        for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
          for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
            const int32_t y = oy * p.stride_h - p.pad_top + ky + p.kernel_h;
            const int32_t x = ox * p.stride_w - p.pad_left + kx + p.kernel_w;
            for (int32_t c = 0; c < in.c; ++c) {
              acc +=
                  int64_t{weights[((oc * p.kernel_h + ky) * p.kernel_w + kx) *
                                      in.c +
                                  c]} *
                  (padded[(y * pw + x) * in.c + c] - zp);
            }
          }
        }
        int32_t v = MultiplyByQuantizedMultiplier(static_cast<int32_t>(acc),
                                                  p.requant.multiplier[oc],
                                                  p.requant.shift[oc]);
        v = std::min(std::max(v + p.requant.output_offset, p.requant.act_min),
                     p.requant.act_max);
        result[(oy * out.w + ox) * out.c + oc] = static_cast<int8_t>(v);
      }
    }
  }
  return result;
}

TEST(ReferenceKernelsTest, ConvMatchesIndependentComputation) {
  const ConvShape shapes[] = {{9, 9, 1, 8, 3, 2, 1}, {12, 11, 3, 5, 3, 2, 0},
                              {7, 6, 5, 7, 5, 1, 2}, {6, 7, 9, 3, 1, 1, 0},
                              {8, 8, 2, 4, 7, 2, 3}, {5, 5, 16, 17, 1, 2, 0}};
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (const ConvShape& s : shapes) {
    ConvParams p;
    p.kernel_h = p.kernel_w = s.k;
    p.stride_h = p.stride_w = s.stride;
    p.pad_top = p.pad_left = s.pad;
    const Shape3 in = {s.in_h, s.in_w, s.in_c};
    const Shape3 out = {(s.in_h + 2 * s.pad - s.k) / s.stride + 1,
                        (s.in_w + 2 * s.pad - s.k) / s.stride + 1, s.out_c};
    std::vector<int8_t> input(in.Elements()),
        weights(s.out_c * s.k * s.k * s.in_c);
    for (auto& v : input) v = static_cast<int8_t>(byte(rng));
    for (auto& v : weights) v = static_cast<int8_t>(byte(rng));
    std::vector<int32_t> bias(s.out_c), multiplier(s.out_c), shift(s.out_c);
    for (int32_t o = 0; o < s.out_c; ++o) {
      bias[o] = byte(rng) * 37;
      multiplier[o] = (1 << 30) + byte(rng) * 4000000;
      shift[o] = -8 - o % 3;
    }
    p.requant = UnitRequant(multiplier.data(), shift.data());
    p.requant.input_offset = -byte(rng);
    p.requant.output_offset = byte(rng);
    std::vector<int8_t> scratch(ConvScratchBytes(p, in, out) + 1);
    std::vector<int8_t> got(out.Elements());
    ReferenceKernels().conv(p, in, input.data(), weights.data(), bias.data(),
                            out, got.data(), scratch.data());
    EXPECT_EQ(got, IndependentConv(p, in, input, weights, bias, out))
        << "k" << s.k << " s" << s.stride << " cin " << s.in_c;
  }
}

TEST(ReferenceKernelsTest, DepthwiseEqualsConvPerChannel) {
  // A depthwise conv with depth multiplier m is, per input channel, a
  // one-input-channel conv with m outputs.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(-128, 127);
  ConvParams p;
  p.kernel_h = p.kernel_w = 5;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = 2;
  p.depth_multiplier = 2;
  const Shape3 in = {11, 9, 3};
  const Shape3 out = {6, 5, 6};
  std::vector<int8_t> input(in.Elements()), weights(25 * out.c);
  for (auto& v : input) v = static_cast<int8_t>(byte(rng));
  for (auto& v : weights) v = static_cast<int8_t>(byte(rng));
  std::vector<int32_t> bias(out.c), multiplier(out.c), shift(out.c);
  for (int32_t o = 0; o < out.c; ++o) {
    bias[o] = byte(rng) * 11;
    multiplier[o] = (1 << 30) + byte(rng) * 3000000;
    shift[o] = -7;
  }
  p.requant = UnitRequant(multiplier.data(), shift.data());
  p.requant.input_offset = 17;
  p.requant.output_offset = -9;
  std::vector<int8_t> scratch(DepthwiseScratchBytes(p, in, out));
  std::vector<int8_t> got(out.Elements());
  ReferenceKernels().depthwise(p, in, input.data(), weights.data(), bias.data(),
                               out, got.data(), scratch.data());
  for (int32_t c = 0; c < in.c; ++c) {
    std::vector<int8_t> plane(in.h * in.w), w(2 * 25);
    for (int32_t i = 0; i < in.h * in.w; ++i) plane[i] = input[i * in.c + c];
    for (int32_t m = 0; m < 2; ++m) {
      for (int32_t t = 0; t < 25; ++t)
        w[m * 25 + t] = weights[t * 6 + c * 2 + m];
    }
    ConvParams cp = p;
    cp.depth_multiplier = 1;
    cp.requant.multiplier = multiplier.data() + c * 2;
    cp.requant.shift = shift.data() + c * 2;
    const std::vector<int32_t> b = {bias[c * 2], bias[c * 2 + 1]};
    const std::vector<int8_t> want =
        IndependentConv(cp, {in.h, in.w, 1}, plane, w, b, {out.h, out.w, 2});
    for (int32_t i = 0; i < out.h * out.w; ++i) {
      for (int32_t m = 0; m < 2; ++m) {
        ASSERT_EQ(got[i * 6 + c * 2 + m], want[i * 2 + m])
            << "pixel " << i << " channel " << c * 2 + m;
      }
    }
  }
}

TEST(ScratchBytesTest, SizesFollowTheContract) {
  ConvParams p;
  EXPECT_EQ(ConvScratchBytes(p, {8, 8, 16}, {8, 8, 32}), 0u);
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  EXPECT_EQ(ConvScratchBytes(p, {96, 96, 3}, {48, 48, 8}), 2u * 27u * 2u);
  // Padded plane ((7-1)*2+5) x ((7-1)*2+5) = 17 x 17 > 14 x 14.
  p.kernel_h = p.kernel_w = 5;
  EXPECT_EQ(DepthwiseScratchBytes(p, {14, 14, 96}, {7, 7, 96}), 289u);
  // VALID 3x3 s1: padded plane 14 x 14 == input plane.
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 1;
  EXPECT_EQ(DepthwiseScratchBytes(p, {14, 14, 8}, {12, 12, 8}), 196u);
}

// In place and out of place give the same bytes, for both kernel sets.
TEST(DepthwiseInPlaceTest, InPlaceEqualsOutOfPlace) {
  struct Case {
    Shape3 in;
    int32_t k, stride, pad;
  };
  const Case cases[] = {{{14, 14, 96}, 3, 1, 1}, {{14, 13, 17}, 5, 1, 2},
                        {{15, 15, 7}, 7, 2, 3},  {{9, 20, 5}, 3, 2, 1},
                        {{10, 10, 3}, 5, 1, 0},  {{3, 30, 11}, 3, 1, 1}};
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (const KernelSet* set : {&ReferenceKernels(), &OptimizedKernels()}) {
    for (const Case& c : cases) {
      ConvParams p;
      p.kernel_h = p.kernel_w = c.k;
      p.stride_h = p.stride_w = c.stride;
      p.pad_top = p.pad_left = c.pad;
      const Shape3 out = {(c.in.h + 2 * c.pad - c.k) / c.stride + 1,
                          (c.in.w + 2 * c.pad - c.k) / c.stride + 1, c.in.c};
      std::vector<int8_t> input(c.in.Elements()), weights(c.k * c.k * c.in.c);
      for (auto& v : input) v = static_cast<int8_t>(byte(rng));
      for (auto& v : weights) v = static_cast<int8_t>(byte(rng));
      std::vector<int32_t> bias(c.in.c), multiplier(c.in.c), shift(c.in.c);
      for (int32_t o = 0; o < c.in.c; ++o) {
        bias[o] = byte(rng) * 13;
        multiplier[o] = (1 << 30) + byte(rng) * 3000000;
        shift[o] = -6 - o % 3;
      }
      p.requant = UnitRequant(multiplier.data(), shift.data());
      p.requant.input_offset = -byte(rng);
      p.requant.output_offset = byte(rng);
      std::vector<int8_t> scratch(DepthwiseScratchBytes(p, c.in, out));
      std::vector<int8_t> separate(out.Elements());
      set->depthwise(p, c.in, input.data(), weights.data(), bias.data(), out,
                     separate.data(), scratch.data());
      std::vector<int8_t> shared = input;
      set->depthwise(p, c.in, shared.data(), weights.data(), bias.data(), out,
                     shared.data(), scratch.data());
      shared.resize(out.Elements());
      EXPECT_EQ(shared, separate)
          << set->name << " k" << c.k << " s" << c.stride;
    }
  }
}

// Runs `set` and reference on one conv/depthwise shape with every buffer its
// own exactly sized heap block, so that under ASan (MCUNAS_SANITIZE=ON) any
// access outside a buffer fails; in every build the bytes must match.
void CheckExactBuffers(const KernelSet& set, bool depthwise, ConvParams p,
                       Shape3 in, int32_t out_c, int32_t pad_after,
                       bool in_place, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(-128, 127);
  const Shape3 out = {
      (in.h + p.pad_top + pad_after - p.kernel_h) / p.stride_h + 1,
      (in.w + p.pad_left + pad_after - p.kernel_w) / p.stride_w + 1, out_c};
  const int32_t taps = p.kernel_h * p.kernel_w;
  std::vector<int8_t> input(in.Elements());
  std::vector<int8_t> weights(depthwise ? taps * out_c : out_c * taps * in.c);
  for (auto& v : input) v = static_cast<int8_t>(byte(rng));
  for (auto& v : weights) v = static_cast<int8_t>(byte(rng) / 16);
  std::vector<int32_t> bias(out_c), multiplier(out_c), shift(out_c);
  for (int32_t o = 0; o < out_c; ++o) {
    bias[o] = byte(rng);
    multiplier[o] = (1 << 30) + byte(rng) * 4000000;
    shift[o] = -3;
  }
  p.requant = UnitRequant(multiplier.data(), shift.data());
  p.requant.input_offset = -byte(rng);
  p.requant.output_offset = byte(rng);
  const uint32_t scratch_bytes = depthwise ? DepthwiseScratchBytes(p, in, out)
                                           : ConvScratchBytes(p, in, out);
  std::vector<int8_t> ref_scratch(scratch_bytes), scratch(scratch_bytes);
  int8_t* scratch_or_null = scratch_bytes != 0 ? scratch.data() : nullptr;
  std::vector<int8_t> want(out.Elements());
  const KernelSet& ref = ReferenceKernels();
  (depthwise ? ref.depthwise : ref.conv)(
      p, in, input.data(), weights.data(), bias.data(), out, want.data(),
      scratch_bytes != 0 ? ref_scratch.data() : nullptr);
  std::vector<int8_t> got;
  if (in_place) {
    got = input;
    set.depthwise(p, in, got.data(), weights.data(), bias.data(), out,
                  got.data(), scratch_or_null);
    got.resize(out.Elements());
  } else {
    got.resize(out.Elements());
    (depthwise ? set.depthwise : set.conv)(p, in, input.data(), weights.data(),
                                           bias.data(), out, got.data(),
                                           scratch_or_null);
  }
  EXPECT_EQ(got, want) << set.name << (depthwise ? " depthwise" : " conv")
                       << " k" << p.kernel_h << " s" << p.stride_h << " "
                       << in.h << "x" << in.w << "x" << in.c << " -> " << out.c;
}

TEST(OptimizedKernelsTest, StayInsideExactBuffers) {
  std::mt19937 rng(5);
  const KernelSet& set = OptimizedKernels();
  for (int32_t cin : {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33}) {
    for (int32_t cout : {1, 3, 4, 5}) {
      for (Shape3 hw : {Shape3{1, 1, 1}, Shape3{1, 3, 1}, Shape3{3, 3, 1}}) {
        ConvParams p;
        CheckExactBuffers(set, false, p, {hw.h, hw.w, cin}, cout, 0, false,
                          rng);
      }
    }
  }
  for (int32_t k : {2, 3, 5, 7}) {
    for (int32_t cin : {1, 2, 3, 4}) {
      for (int32_t cout : {1, 4, 5}) {
        ConvParams p;
        p.kernel_h = p.kernel_w = k;
        p.stride_h = p.stride_w = 2;
        p.pad_top = p.pad_left = k / 2;
        CheckExactBuffers(set, false, p, {k + 4, k + 3, cin}, cout, k / 2,
                          false, rng);
      }
    }
  }
  for (int32_t k : {3, 5, 7}) {
    for (int32_t s : {1, 2}) {
      for (int32_t out_w : {1, 7, 8, 9, 15, 16, 17}) {
        for (int32_t c : {1, 3}) {
          ConvParams p;
          p.kernel_h = p.kernel_w = k;
          p.stride_h = p.stride_w = s;
          p.pad_top = p.pad_left = (k - 1) / 2;
          const int32_t pad_after = k - 1 - p.pad_top;
          // VALID-free widths: pick the input that gives out_w with SAME.
          const Shape3 in = {3, (out_w - 1) * s + 1, c};
          CheckExactBuffers(set, true, p, in, c, pad_after, false, rng);
          CheckExactBuffers(set, true, p, in, c, pad_after, true, rng);
          p.depth_multiplier = 2;
          CheckExactBuffers(set, true, p, in, 2 * c, pad_after, false, rng);
        }
      }
    }
  }
  for (int32_t in_n : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40}) {
    for (int32_t out_n : {1, 3, 4, 5}) {
      std::vector<int8_t> input(in_n), weights(in_n * out_n), want(out_n),
          got(out_n);
      for (auto& v : input) v = static_cast<int8_t>(rng());
      for (auto& v : weights) v = static_cast<int8_t>(rng());
      std::vector<int32_t> multiplier(out_n, 1 << 30), shift(out_n, -4);
      RequantParams rq = UnitRequant(multiplier.data(), shift.data());
      rq.input_offset = 9;
      ReferenceKernels().fully_connected(rq, in_n, input.data(), weights.data(),
                                         nullptr, out_n, want.data());
      set.fully_connected(rq, in_n, input.data(), weights.data(), nullptr,
                          out_n, got.data());
      EXPECT_EQ(got, want) << "fc " << in_n << " -> " << out_n;
    }
  }
}

}  // namespace
}  // namespace mcunas::engine
