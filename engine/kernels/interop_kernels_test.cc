// Tests of the reference kernels added for TFLite interop (softmax, mean,
// requantize, transpose, pad): hand-computed values and the float math each
// approximates. Bit-exactness with TFLite Micro itself is checked end to end
// on person_detect (tflite/person_detect_test.cc); every kernel set uses
// these reference kernels, so there is no optimised variant to compare.
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine {
namespace {

SoftmaxQuantParams SoftmaxFor(float beta, float scale) {
  const absl::StatusOr<SoftmaxParams> p = SoftmaxParamsFor(beta, scale);
  EXPECT_TRUE(p.ok()) << p.status();
  SoftmaxQuantParams q;
  if (!p.ok()) return q;
  q.input_multiplier = p->input_multiplier;
  q.input_left_shift = p->input_left_shift;
  q.diff_min = p->diff_min;
  return q;
}

std::vector<int8_t> Softmax(float beta, float scale,
                            const std::vector<int8_t>& row) {
  std::vector<int8_t> out(row.size());
  ReferenceKernels().softmax(SoftmaxFor(beta, scale), 1,
                             static_cast<int32_t>(row.size()), row.data(),
                             out.data());
  return out;
}

TEST(InteropKernelsTest, SoftmaxParamsFollowTfliteMicro) {
  // person_detect's softmax input: scale 0.0125187514 (beta 1).
  const absl::StatusOr<SoftmaxParams> p = SoftmaxParamsFor(1.0f, 0.0125187514f);
  ASSERT_TRUE(p.ok());
  // 0.0125187514 * 2^26 = 840118.6 -> Q31 0.801 * 2^20.
  EXPECT_EQ(p->input_left_shift, 20);
  EXPECT_EQ(p->diff_min, -31 * 64);
  EXPECT_NEAR(std::ldexp(p->input_multiplier, p->input_left_shift - 31),
              static_cast<double>(0.0125187514f) * 67108864.0, 1e-3);
  EXPECT_FALSE(SoftmaxParamsFor(1.0f, 1e-9f).ok());
}

TEST(InteropKernelsTest, SoftmaxByHand) {
  // One value: probability 1 is 256/256, which saturates at 127.
  EXPECT_EQ(Softmax(1.0f, 0.1f, {5}), (std::vector<int8_t>{127}));
  // Equal values share the mass: 1/4 = 64/256 -> -64.
  EXPECT_EQ(Softmax(1.0f, 0.1f, {3, 3, 3, 3}),
            (std::vector<int8_t>{-64, -64, -64, -64}));
  // A difference beyond diff_min gives exactly zero probability (-128).
  const std::vector<int8_t> far = Softmax(1.0f, 1.0f, {127, -128});
  EXPECT_EQ(far[1], -128);
  EXPECT_EQ(far[0], 127);
}

TEST(InteropKernelsTest, SoftmaxIsWithinOneStepOfFloat) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int32_t depth = 1 + static_cast<int32_t>(rng() % 40);
    const float scale = std::uniform_real_distribution<float>(0.01f, 0.3f)(rng);
    const float beta = std::uniform_real_distribution<float>(0.5f, 2.0f)(rng);
    std::vector<int8_t> row(depth);
    for (int8_t& v : row) v = static_cast<int8_t>(rng() & 0xFF);
    const std::vector<int8_t> got = Softmax(beta, scale, row);
    const int8_t max_in = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (int8_t v : row) sum += std::exp(beta * scale * (v - max_in));
    for (int32_t c = 0; c < depth; ++c) {
      const double p = std::exp(beta * scale * (row[c] - max_in)) / sum;
      const double want = std::min(127.0, std::round(p * 256) - 128);
      EXPECT_NEAR(got[c], want, 1.0) << "trial " << trial << " c " << c;
    }
  }
}

TEST(InteropKernelsTest, SoftmaxOfManyEqualMaximaStaysDefined) {
  // 4096 equal values: the sum of exps is 2^31 and the final shift exceeds
  // 31; each probability rounds to 0 (-128), as the exact math says.
  const std::vector<int8_t> row(4096, 9);
  const std::vector<int8_t> got = Softmax(1.0f, 0.05f, row);
  for (int8_t v : got) EXPECT_EQ(v, -128);
}

TEST(InteropKernelsTest, MeanTruncatesWithSameQuantisationAndRounds) {
  // 2x2x2: channel 0 sums to -7 (mean -1.75 -> -1), channel 1 to 10 (2.5).
  const int8_t in[8] = {-4, 5, 1, 2, -2, 1, -2, 2};
  int8_t out[2];
  MeanQuantParams same;
  ReferenceKernels().mean(same, Shape3{2, 2, 2}, in, out);
  EXPECT_EQ(out[0], -1);
  EXPECT_EQ(out[1], 2);
  // Requantised: scale 0.1 -> 0.05 (x2), zero points 1 -> -3.
  const absl::StatusOr<MeanParams> p = MeanParamsFor(0.1f, 1, 0.05f, -3, 4);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->mode, kMeanRequantize);
  MeanQuantParams rq;
  rq.requantize = true;
  rq.input_offset = -1;
  rq.output_offset = -3;
  rq.multiplier = p->multiplier;
  rq.shift = p->shift;
  ReferenceKernels().mean(rq, Shape3{2, 2, 2}, in, out);
  // (sum - 4) * 2 / 4 - 3: channel 0 -> -5.5 -> -9 (half away from zero
  // after the rounding shift), channel 1 -> 3 - 3 = 0.
  EXPECT_NEAR(out[0], -8.5, 0.5);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(MeanParamsFor(0.1f, 1, 0.1f, 1, 4)->mode, kMeanTruncate);
}

TEST(InteropKernelsTest, RequantizeIsWithinOneStepOfFloat) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const float in_scale = std::uniform_real_distribution<float>(0.01f, 1)(rng);
    const float out_scale = std::uniform_real_distribution<float>(0.01f, 1)(rng);
    const int32_t in_zp = static_cast<int32_t>(rng() % 256) - 128;
    const int32_t out_zp = static_cast<int32_t>(rng() % 256) - 128;
    const absl::StatusOr<RequantizeParams> p =
        RequantizeParamsFor(in_scale, out_scale);
    ASSERT_TRUE(p.ok());
    RequantizeQuantParams q;
    q.input_offset = -in_zp;
    q.output_offset = out_zp;
    q.multiplier = p->multiplier;
    q.shift = p->shift;
    int8_t in[256], out[256];
    for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
    ReferenceKernels().requantize(q, 256, in, out);
    for (int i = 0; i < 256; ++i) {
      const double want = std::clamp(
          std::round((in[i] - in_zp) * static_cast<double>(in_scale) /
                     out_scale) +
              out_zp,
          -128.0, 127.0);
      EXPECT_NEAR(out[i], want, 1.0);
    }
  }
}

TEST(InteropKernelsTest, TransposeMovesEveryElementWhereThePermutationSays) {
  const int32_t dims[4] = {1, 2, 3, 4};
  std::vector<int8_t> in(24);
  for (int i = 0; i < 24; ++i) in[i] = static_cast<int8_t>(i);
  int32_t perm[4] = {0, 1, 2, 3};
  do {
    std::vector<int8_t> out(24, -1);
    ReferenceKernels().transpose(dims, perm, in.data(), out.data());
    int32_t od[4];
    for (int d = 0; d < 4; ++d) od[d] = dims[perm[d]];
    int32_t idx[4];
    for (idx[0] = 0; idx[0] < od[0]; ++idx[0]) {
      for (idx[1] = 0; idx[1] < od[1]; ++idx[1]) {
        for (idx[2] = 0; idx[2] < od[2]; ++idx[2]) {
          for (idx[3] = 0; idx[3] < od[3]; ++idx[3]) {
            int32_t src[4];
            for (int d = 0; d < 4; ++d) src[perm[d]] = idx[d];
            const int32_t from =
                ((src[0] * 2 + src[1]) * 3 + src[2]) * 4 + src[3];
            const int32_t to = ((idx[0] * od[1] + idx[1]) * od[2] + idx[2]) *
                                   od[3] +
                               idx[3];
            ASSERT_EQ(out[to], in[from]);
          }
        }
      }
    }
  } while (std::next_permutation(perm, perm + 4));
}

TEST(InteropKernelsTest, PadFillsTheBorderWithTheValue) {
  const int8_t in[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  int8_t out[4 * 3 * 3];
  PadQuantParams p;
  p.pad_top = 1;
  p.pad_left = 1;
  p.value = -7;
  ReferenceKernels().pad(p, Shape3{2, 2, 3}, in, Shape3{4, 3, 3}, out);
  for (int32_t y = 0; y < 4; ++y) {
    for (int32_t x = 0; x < 3; ++x) {
      for (int32_t c = 0; c < 3; ++c) {
        const bool inside = y >= 1 && y <= 2 && x >= 1;
        const int8_t want =
            inside ? in[((y - 1) * 2 + (x - 1)) * 3 + c] : int8_t{-7};
        EXPECT_EQ(out[(y * 3 + x) * 3 + c], want) << y << "," << x << "," << c;
      }
    }
  }
}

TEST(InteropKernelsTest, EveryKernelSetHasTheInteropKernels) {
  for (const KernelSet* set : {&ReferenceKernels(), &OptimizedKernels()}) {
    EXPECT_NE(set->softmax, nullptr) << set->name;
    EXPECT_NE(set->mean, nullptr) << set->name;
    EXPECT_NE(set->requantize, nullptr) << set->name;
    EXPECT_NE(set->transpose, nullptr) << set->name;
    EXPECT_NE(set->pad, nullptr) << set->name;
  }
}

}  // namespace
}  // namespace mcunas::engine
