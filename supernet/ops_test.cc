// Every backward of ops.h against central finite differences of the loss
// L = sum(output * R) for a fixed random R, and every forward against plain
// loops. Float math, so the checks use a few random coordinates per tensor,
// steps where the op is (piecewise) smooth, and relative tolerances of ~1%.
#include "mcunas/supernet/ops.h"

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::supernet {
namespace {

std::vector<float> RandomValues(std::mt19937* rng, int64_t n, float lo = -1.0f,
                                float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(*rng);
  return v;
}

Tensor RandomTensor(std::mt19937* rng, std::vector<int32_t> shape) {
  Tensor t(std::move(shape));
  t.values() = RandomValues(rng, t.size());
  return t;
}

double Dot(const Tensor& a, const std::vector<float>& r) {
  double s = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) s += double{a.data()[i]} * r[i];
  return s;
}

// Compares analytic[i] with (L(v[i] + eps) - L(v[i] - eps)) / 2 eps at
// `samples` random coordinates of *values (restored afterwards).
void CheckGradient(const char* what, std::vector<float>* values,
                   const std::vector<float>& analytic,
                   const std::function<double()>& loss, float eps,
                   std::mt19937* rng, int samples = 40, double rtol = 1e-2,
                   double atol = 1e-3,
                   const std::function<bool(size_t)>& skip = nullptr) {
  ASSERT_EQ(values->size(), analytic.size()) << what;
  std::uniform_int_distribution<size_t> pick(0, values->size() - 1);
  for (int s = 0; s < samples; ++s) {
    const size_t i = pick(*rng);
    if (skip && skip(i)) continue;
    const float saved = (*values)[i];
    (*values)[i] = saved + eps;
    const double up = loss();
    (*values)[i] = saved - eps;
    const double down = loss();
    (*values)[i] = saved;
    const double numeric = (up - down) / (2.0 * eps);
    EXPECT_NEAR(analytic[i], numeric,
                atol + rtol * std::max(std::abs(numeric),
                                       std::abs(double{analytic[i]})))
        << what << " at " << i;
  }
}

// Plain-loop dense conv with SAME padding, for checking forwards.
std::vector<float> NaiveConv(const Tensor& x, const std::vector<float>& w,
                             const ConvShape& s, bool depthwise) {
  const int32_t n = x.dim(0), h = x.dim(1), wd = x.dim(2), c = x.dim(3);
  const auto ph = engine::ComputeSamePadding(h, s.kernel_h, s.stride_h);
  const auto pw = engine::ComputeSamePadding(wd, s.kernel_w, s.stride_w);
  const int32_t co = depthwise ? c : s.out_channels;
  std::vector<float> y(static_cast<size_t>(n) * ph.out * pw.out * co);
  for (int32_t b = 0; b < n; ++b)
    for (int32_t oy = 0; oy < ph.out; ++oy)
      for (int32_t ox = 0; ox < pw.out; ++ox)
        for (int32_t o = 0; o < co; ++o) {
          double acc = 0.0;
          for (int32_t ky = 0; ky < s.kernel_h; ++ky)
            for (int32_t kx = 0; kx < s.kernel_w; ++kx) {
              const int32_t iy = oy * s.stride_h - ph.before + ky;
              const int32_t ix = ox * s.stride_w - pw.before + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              const float* px =
                  x.data() + ((static_cast<int64_t>(b) * h + iy) * wd + ix) * c;
              if (depthwise) {
                acc += px[o] * w[(ky * s.kernel_w + kx) * c + o];
              } else {
                for (int32_t i = 0; i < c; ++i) {
                  acc += px[i] *
                         w[((o * s.kernel_h + ky) * s.kernel_w + kx) * c + i];
                }
              }
            }
          y[((static_cast<size_t>(b) * ph.out + oy) * pw.out + ox) * co + o] =
              static_cast<float>(acc);
        }
  return y;
}

struct ConvCase {
  std::vector<int32_t> input;  // NHWC
  ConvShape shape;
  bool depthwise;
};

class ConvGradientTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradientTest, ForwardMatchesLoopsAndBackwardMatchesDifferences) {
  const ConvCase& p = GetParam();
  ThreadPool pool(2);
  std::mt19937 rng(7);
  Tensor x = RandomTensor(&rng, p.input);
  const int64_t wsize =
      p.depthwise ? int64_t{p.shape.kernel_h} * p.shape.kernel_w * p.input[3]
                  : int64_t{p.shape.out_channels} * p.shape.kernel_h *
                        p.shape.kernel_w * p.input[3];
  std::vector<float> w = RandomValues(&rng, wsize);
  auto forward = [&](Tensor* y) {
    if (p.depthwise) {
      DepthwiseForward(pool, x, w.data(), p.shape, y);
    } else {
      Conv2DForward(pool, x, w.data(), p.shape, y);
    }
  };
  Tensor y;
  forward(&y);
  const std::vector<float> expected = NaiveConv(x, w, p.shape, p.depthwise);
  ASSERT_EQ(y.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < y.size(); ++i) {
    ASSERT_NEAR(y.data()[i], expected[i], 1e-4) << i;
  }
  // The channel sums gathered during the forward are y's.
  ChannelStats stats;
  Tensor y_again;
  if (p.depthwise) {
    DepthwiseForward(pool, x, w.data(), p.shape, &y_again, &stats);
  } else {
    Conv2DForward(pool, x, w.data(), p.shape, &y_again, &stats);
  }
  EXPECT_EQ(y_again.values(), y.values());
  const int32_t channels = y.dim(3);
  ASSERT_EQ(stats.sum.size(), static_cast<size_t>(channels));
  for (int32_t ch = 0; ch < channels; ++ch) {
    double sum = 0.0, sumsq = 0.0;
    for (int64_t i = ch; i < y.size(); i += channels) {
      sum += y.data()[i];
      sumsq += static_cast<double>(y.data()[i]) * y.data()[i];
    }
    EXPECT_NEAR(stats.sum[ch], sum, 1e-4 * (1.0 + std::abs(sum))) << ch;
    EXPECT_NEAR(stats.sumsq[ch], sumsq, 1e-4 * (1.0 + sumsq)) << ch;
  }
  const std::vector<float> r = RandomValues(&rng, y.size());
  Tensor dy(y.shape());
  dy.values() = r;
  Tensor dx;
  std::vector<float> dw(wsize);
  if (p.depthwise) {
    DepthwiseBackward(pool, x, w.data(), p.shape, dy, &dx, dw.data());
  } else {
    Conv2DBackward(pool, x, w.data(), p.shape, dy, &dx, dw.data());
  }
  auto loss = [&] {
    Tensor out;
    forward(&out);
    return Dot(out, r);
  };
  // The loss is linear in x and in w, so a large step has no truncation
  // error and keeps float rounding small.
  CheckGradient("dx", &x.values(), dx.values(), loss, 0.5f, &rng);
  CheckGradient("dw", &w, dw, loss, 0.5f, &rng);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvGradientTest,
    ::testing::Values(
        // Stem: 3x3, one input channel, stride 1 and 2 (even and odd sizes).
        ConvCase{{2, 8, 8, 1}, {3, 3, 1, 1, 5}, false},
        ConvCase{{2, 8, 8, 3}, {3, 3, 2, 2, 4}, false},
        ConvCase{{3, 7, 7, 2}, {3, 3, 2, 2, 4}, false},
        // Pointwise (one GEMM) and 1x1 stride 2 (im2col path).
        ConvCase{{3, 5, 5, 6}, {1, 1, 1, 1, 7}, false},
        // Pointwise with 16-, 8- and 4-wide column tiles, a scalar column
        // and a row count that leaves a partial row tile.
        ConvCase{{1, 7, 5, 36}, {1, 1, 1, 1, 45}, false},
        ConvCase{{2, 4, 4, 45}, {1, 1, 1, 1, 36}, false},
        // Enough rows that a chunk's channel sums span two matmul blocks.
        ConvCase{{2, 28, 28, 4}, {1, 1, 1, 1, 12}, false},
        ConvCase{{2, 6, 6, 4}, {1, 1, 2, 2, 3}, false},
        // Depthwise: channel counts that cover 32/16/8-wide blocks and the
        // scalar tail; kernels 3/5/7; stride 1 and 2.
        ConvCase{{2, 7, 7, 13}, {3, 3, 1, 1, 0}, true},
        ConvCase{{2, 8, 8, 60}, {5, 5, 2, 2, 0}, true},
        ConvCase{{3, 9, 9, 8}, {7, 7, 1, 1, 0}, true},
        ConvCase{{2, 6, 6, 4}, {7, 7, 2, 2, 0}, true},
        ConvCase{{2, 5, 5, 44}, {3, 3, 2, 2, 0}, true},
        // Stride 1, wide enough for the 8-output forward blocks and the
        // weight gradient's straight-line row ends: kernels 3/5/7 at
        // widths from the kernel's own (no interior) to 27, with vector
        // blocks and a channel tail.
        ConvCase{{2, 27, 27, 20}, {7, 7, 1, 1, 0}, true},
        ConvCase{{2, 7, 7, 12}, {7, 7, 1, 1, 0}, true},
        ConvCase{{2, 17, 13, 40}, {5, 5, 1, 1, 0}, true},
        ConvCase{{3, 12, 12, 9}, {3, 3, 1, 1, 0}, true},
        ConvCase{{2, 4, 4, 8}, {7, 7, 1, 1, 0}, true}));

struct BnCase {
  std::vector<int32_t> shape;
  bool relu6;
};

class BatchNormGradientTest : public ::testing::TestWithParam<BnCase> {};

TEST_P(BatchNormGradientTest, BackwardMatchesDifferences) {
  const BnCase& p = GetParam();
  ThreadPool pool(2);
  std::mt19937 rng(11);
  Tensor y = RandomTensor(&rng, p.shape);
  for (float& v : y.values()) v = 3.0f * v + 0.5f;
  const int32_t c = p.shape.back();
  std::vector<float> gamma = RandomValues(&rng, c, 0.5f, 3.0f);
  std::vector<float> beta = RandomValues(&rng, c, 0.0f, 3.0f);
  BatchNormCache cache;
  Tensor z;
  BatchNormTrainForward(pool, y, gamma.data(), beta.data(), 1e-5f, p.relu6,
                        &cache, &z);
  // Sums passed in (as a conv gathers them) give the same output.
  ChannelStats stats;
  stats.sum.assign(c, 0.0);
  stats.sumsq.assign(c, 0.0);
  for (int64_t i = 0; i < y.size(); ++i) {
    stats.sum[i % c] += y.data()[i];
    stats.sumsq[i % c] += static_cast<double>(y.data()[i]) * y.data()[i];
  }
  BatchNormCache cache_given;
  Tensor z_given;
  BatchNormTrainForward(pool, y, gamma.data(), beta.data(), 1e-5f, p.relu6,
                        &cache_given, &z_given, &stats);
  for (int64_t i = 0; i < z.size(); ++i) {
    ASSERT_NEAR(z_given.data()[i], z.data()[i], 1e-5) << i;
  }
  // Forward: per channel, mean 0 and variance 1 before gamma/beta.
  const int64_t rows = y.size() / c;
  for (int32_t ch = 0; ch < c && !p.relu6; ++ch) {
    double s = 0.0, ss = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const double v = (z.data()[r * c + ch] - beta[ch]) / gamma[ch];
      s += v;
      ss += v * v;
    }
    EXPECT_NEAR(s / rows, 0.0, 1e-4);
    EXPECT_NEAR(ss / rows, 1.0, 1e-3);
  }
  const std::vector<float> r = RandomValues(&rng, z.size());
  Tensor dz(z.shape());
  dz.values() = r;
  Tensor y_copy = y;
  Tensor dy;
  std::vector<float> dgamma(c), dbeta(c);
  BatchNormTrainBackward(pool, y_copy, dz, gamma.data(), cache, p.relu6, &dy,
                         dgamma.data(), dbeta.data());
  auto loss = [&] {
    BatchNormCache c2;
    Tensor out;
    BatchNormTrainForward(pool, y, gamma.data(), beta.data(), 1e-5f, p.relu6,
                          &c2, &out);
    return Dot(out, r);
  };
  // A step that moves z[i] across a ReLU6 corner averages two slopes: those
  // coordinates are left out.
  auto near_corner = [&](size_t i) {
    const float v = z.data()[i];
    return p.relu6 && (std::abs(v) < 0.05f || std::abs(v - 6.0f) < 0.05f);
  };
  CheckGradient("dy", &y.values(), dy.values(), loss, 2e-3f, &rng, 60, 2e-2,
                2e-3, near_corner);
  CheckGradient("dgamma", &gamma, dgamma, loss, 2e-3f, &rng, 10, 2e-2, 2e-3);
  CheckGradient("dbeta", &beta, dbeta, loss, 2e-3f, &rng, 10, 2e-2, 2e-3);

  // In place (dy aliasing y) gives the same result.
  Tensor y_inplace = y;
  std::vector<float> dg2(c), db2(c);
  BatchNormTrainBackward(pool, y_inplace, dz, gamma.data(), cache, p.relu6,
                         &y_inplace, dg2.data(), db2.data());
  for (int64_t i = 0; i < dy.size(); ++i) {
    ASSERT_FLOAT_EQ(y_inplace.data()[i], dy.data()[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormGradientTest,
                         ::testing::Values(BnCase{{4, 3, 3, 5}, false},
                                           BnCase{{4, 3, 3, 5}, true},
                                           BnCase{{2, 4, 4, 70}, true},
                                           BnCase{{6, 12}, false}));

TEST(BatchNormTest, InferenceUsesGivenStatistics) {
  ThreadPool pool(1);
  Tensor y({1, 1, 2, 2});
  y.values() = {1.0f, 10.0f, 3.0f, -10.0f};
  const std::vector<float> gamma = {2.0f, 1.0f}, beta = {0.5f, 0.0f};
  const std::vector<float> mean = {1.0f, 0.0f}, var = {4.0f, 1.0f};
  Tensor z;
  BatchNormInferForward(pool, y, gamma.data(), beta.data(), mean.data(),
                        var.data(), 0.0f, true, &z);
  EXPECT_FLOAT_EQ(z.data()[0], 0.5f);  // 2 * 0 / 2 + 0.5
  EXPECT_FLOAT_EQ(z.data()[1], 6.0f);  // 10 clamped
  EXPECT_FLOAT_EQ(z.data()[2], 2.5f);  // 2 * 2 / 2 + 0.5
  EXPECT_FLOAT_EQ(z.data()[3], 0.0f);  // -10 clamped
}

TEST(PoolTest, GlobalAveragePoolBackwardMatchesDifferences) {
  ThreadPool pool(2);
  std::mt19937 rng(3);
  Tensor x = RandomTensor(&rng, {3, 4, 5, 6});
  Tensor y;
  GlobalAvgPoolForward(pool, x, &y);
  ASSERT_EQ(y.shape(), (std::vector<int32_t>{3, 6}));
  double s = 0.0;
  for (int q = 0; q < 20; ++q) s += x.data()[q * 6 + 2];
  EXPECT_NEAR(y.data()[2], s / 20, 1e-6);
  const std::vector<float> r = RandomValues(&rng, y.size());
  Tensor dy(y.shape());
  dy.values() = r;
  Tensor dx;
  GlobalAvgPoolBackward(pool, x.shape(), dy, &dx);
  auto loss = [&] {
    Tensor out;
    GlobalAvgPoolForward(pool, x, &out);
    return Dot(out, r);
  };
  CheckGradient("dx", &x.values(), dx.values(), loss, 0.5f, &rng);
}

TEST(FullyConnectedTest, BackwardMatchesDifferences) {
  std::mt19937 rng(5);
  Tensor x = RandomTensor(&rng, {4, 9});
  std::vector<float> w = RandomValues(&rng, 3 * 9);
  std::vector<float> b = RandomValues(&rng, 3);
  Tensor y;
  FullyConnectedForward(x, w.data(), b.data(), 3, &y);
  double y12 = b[2];
  for (int i = 0; i < 9; ++i) y12 += double{x.data()[9 + i]} * w[2 * 9 + i];
  EXPECT_NEAR(y.data()[1 * 3 + 2], y12, 1e-5);
  const std::vector<float> r = RandomValues(&rng, y.size());
  Tensor dy(y.shape());
  dy.values() = r;
  Tensor dx;
  std::vector<float> dw(w.size()), db(3);
  FullyConnectedBackward(x, w.data(), 3, dy, &dx, dw.data(), db.data());
  auto loss = [&] {
    Tensor out;
    FullyConnectedForward(x, w.data(), b.data(), 3, &out);
    return Dot(out, r);
  };
  CheckGradient("dx", &x.values(), dx.values(), loss, 0.5f, &rng);
  CheckGradient("dw", &w, dw, loss, 0.5f, &rng);
  CheckGradient("db", &b, db, loss, 0.5f, &rng, 3);
}

TEST(SoftmaxCrossEntropyTest, GradientMatchesDifferencesAndCountsCorrect) {
  std::mt19937 rng(9);
  Tensor logits = RandomTensor(&rng, {5, 4});
  for (float& v : logits.values()) v *= 3.0f;
  const std::vector<int32_t> labels = {0, 3, 2, 1, 3};
  Tensor d;
  int64_t correct = -1;
  const double loss0 = SoftmaxCrossEntropy(logits, labels, &d, &correct);
  EXPECT_GT(loss0, 0.0);
  int64_t expected_correct = 0;
  for (int i = 0; i < 5; ++i) {
    const float* z = logits.data() + i * 4;
    if (std::max_element(z, z + 4) - z == labels[i]) ++expected_correct;
  }
  EXPECT_EQ(correct, expected_correct);
  auto loss = [&] {
    return SoftmaxCrossEntropy(logits, labels, nullptr, nullptr);
  };
  CheckGradient("dlogits", &logits.values(), d.values(), loss, 1e-2f, &rng, 20,
                1e-2, 1e-4);
}

TEST(AccumulateTest, AddsElementwise) {
  ThreadPool pool(2);
  Tensor a({3, 2}), b({3, 2});
  a.values() = {1, 2, 3, 4, 5, 6};
  b.values() = {10, 20, 30, 40, 50, 60};
  AccumulateInto(pool, a, &b);
  EXPECT_EQ(b.values(), (std::vector<float>{11, 22, 33, 44, 55, 66}));
}

// The AVX2 kernels compute what the generic ones do (up to FMA rounding),
// for a stride-2 geometry and a stride-1 one wide enough for the
// register-blocked stride-1 loops.
internal::DepthwiseGeometry SquareGeometry(int32_t size, int32_t c,
                                           int32_t kernel, int32_t stride) {
  internal::DepthwiseGeometry g;
  g.h = g.w = size;
  g.c = c;
  g.kh = g.kw = kernel;
  g.sh = g.sw = stride;
  const engine::SamePadding pad =
      engine::ComputeSamePadding(size, kernel, stride);
  g.oh = g.ow = pad.out;
  g.pad_top = g.pad_left = pad.before;
  return g;
}

TEST(KernelSetTest, Avx2MatchesGeneric) {
  const internal::KernelTable* avx2 = internal::Avx2Kernels();
  if (avx2 == nullptr) GTEST_SKIP() << "no AVX2+FMA on this CPU";
  const internal::KernelTable& generic = internal::GenericKernels();
  std::mt19937 rng(13);
  auto expect_near = [](const std::vector<float>& a,
                        const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << i;
  };
  for (const internal::DepthwiseGeometry& g :
       {SquareGeometry(9, 44, 5, 2), SquareGeometry(21, 28, 7, 1)}) {
    SCOPED_TRACE(testing::Message() << "size " << g.h << " kernel " << g.kh);
    const int64_t n = 2;  // images
    const std::vector<float> x = RandomValues(&rng, n * g.h * g.w * g.c);
    const std::vector<float> w = RandomValues(&rng, g.kh * g.kw * g.c);
    const std::vector<float> dy = RandomValues(&rng, n * g.oh * g.ow * g.c);
    std::vector<float> y1(dy.size()), y2(dy.size());
    generic.depthwise_forward(g, x.data(), w.data(), y1.data(), 0, n);
    avx2->depthwise_forward(g, x.data(), w.data(), y2.data(), 0, n);
    expect_near(y1, y2);
    std::vector<float> dx1(x.size()), dx2(x.size());
    generic.depthwise_backward_input(g, w.data(), dy.data(), dx1.data(), 0, n);
    avx2->depthwise_backward_input(g, w.data(), dy.data(), dx2.data(), 0, n);
    expect_near(dx1, dx2);
    std::vector<float> dw1(w.size()), dw2(w.size());
    generic.depthwise_backward_weights(g, x.data(), dy.data(), dw1.data(), 0,
                                       n);
    avx2->depthwise_backward_weights(g, x.data(), dy.data(), dw2.data(), 0, n);
    expect_near(dw1, dw2);
  }
  // Matmul: 23 rows (full and partial row tiles), k 37, n 45 (16-, 8-,
  // 4-wide and scalar columns).
  const std::vector<float> a = RandomValues(&rng, 23 * 37);
  const std::vector<float> b = RandomValues(&rng, 37 * 45);
  std::vector<float> c1(23 * 45), c2(23 * 45);
  generic.matmul(a.data(), 23, 37, b.data(), 45, c1.data());
  avx2->matmul(a.data(), 23, 37, b.data(), 45, c2.data());
  expect_near(c1, c2);
}

}  // namespace
}  // namespace mcunas::supernet
