#include "mcunas/supernet/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cblas.h"
#include "kernels.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::supernet {
namespace {

using internal::DepthwiseGeometry;
using internal::Kernels;

struct Padding {
  int32_t top, left;
};

Padding SamePaddingOf(const std::vector<int32_t>& in, const ConvShape& s) {
  return {engine::ComputeSamePadding(in[1], s.kernel_h, s.stride_h).before,
          engine::ComputeSamePadding(in[2], s.kernel_w, s.stride_w).before};
}

DepthwiseGeometry GeometryOf(const std::vector<int32_t>& in,
                             const ConvShape& s) {
  DepthwiseGeometry g;
  g.h = in[1];
  g.w = in[2];
  g.c = in[3];
  g.kh = s.kernel_h;
  g.kw = s.kernel_w;
  g.sh = s.stride_h;
  g.sw = s.stride_w;
  g.oh = engine::ComputeSamePadding(g.h, g.kh, g.sh).out;
  g.ow = engine::ComputeSamePadding(g.w, g.kw, g.sw).out;
  const Padding p = SamePaddingOf(in, s);
  g.pad_top = p.top;
  g.pad_left = p.left;
  return g;
}

int64_t Rows(const Tensor& t) { return t.size() / t.dim(t.rank() - 1); }

bool IsPointwise(const ConvShape& s) {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 &&
         s.stride_w == 1;
}

// cols[p][ky][kx][ci] for the OH*OW output pixels of one image, zero where the
// window leaves the image.
void Im2Col(const float* x, int32_t h, int32_t w, int32_t c, const ConvShape& s,
            const Padding& pad, int32_t oh, int32_t ow, float* cols) {
  const int64_t k = static_cast<int64_t>(s.kernel_h) * s.kernel_w * c;
  for (int32_t oy = 0; oy < oh; ++oy) {
    for (int32_t ox = 0; ox < ow; ++ox) {
      float* row = cols + (static_cast<int64_t>(oy) * ow + ox) * k;
      for (int32_t ky = 0; ky < s.kernel_h; ++ky) {
        const int32_t iy = oy * s.stride_h - pad.top + ky;
        float* dst = row + static_cast<int64_t>(ky) * s.kernel_w * c;
        for (int32_t kx = 0; kx < s.kernel_w; ++kx) {
          const int32_t ix = ox * s.stride_w - pad.left + kx;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
            std::memset(dst + kx * c, 0, sizeof(float) * c);
          } else {
            std::memcpy(dst + kx * c,
                        x + (static_cast<int64_t>(iy) * w + ix) * c,
                        sizeof(float) * c);
          }
        }
      }
    }
  }
}

// The adjoint of Im2Col: adds each column entry back into its input pixel.
void Col2ImAdd(const float* cols, int32_t h, int32_t w, int32_t c,
               const ConvShape& s, const Padding& pad, int32_t oh, int32_t ow,
               float* dx) {
  const int64_t k = static_cast<int64_t>(s.kernel_h) * s.kernel_w * c;
  for (int32_t oy = 0; oy < oh; ++oy) {
    for (int32_t ox = 0; ox < ow; ++ox) {
      const float* row = cols + (static_cast<int64_t>(oy) * ow + ox) * k;
      for (int32_t ky = 0; ky < s.kernel_h; ++ky) {
        const int32_t iy = oy * s.stride_h - pad.top + ky;
        if (iy < 0 || iy >= h) continue;
        for (int32_t kx = 0; kx < s.kernel_w; ++kx) {
          const int32_t ix = ox * s.stride_w - pad.left + kx;
          if (ix < 0 || ix >= w) continue;
          const float* src =
              row + (static_cast<int64_t>(ky) * s.kernel_w + kx) * c;
          float* dst = dx + (static_cast<int64_t>(iy) * w + ix) * c;
          for (int32_t i = 0; i < c; ++i) dst[i] += src[i];
        }
      }
    }
  }
}

// Sums per-chunk partial buffers (chunk order, so deterministic) into out.
void ReducePartials(const std::vector<std::vector<float>>& partials,
                    int64_t count, float* out) {
  std::fill(out, out + count, 0.0f);
  for (const std::vector<float>& p : partials) {
    if (p.empty()) continue;
    for (int64_t i = 0; i < count; ++i) out[i] += p[i];
  }
}

// Channel sums gathered per chunk of a ParallelFor (each chunk adds only
// to its own), then added up in chunk order, so the result does not depend
// on which thread ran which chunk.
class ChunkedChannelSums {
 public:
  ChunkedChannelSums(int chunks, int32_t channels)
      : channels_(channels), sum_(chunks), sumsq_(chunks) {}

  // Adds `rows` rows of y (channels_ wide) to chunk's sums.
  void Add(int chunk, const float* y, int64_t rows) {
    if (sum_[chunk].empty()) {
      sum_[chunk].assign(channels_, 0.0);
      sumsq_[chunk].assign(channels_, 0.0);
    }
    Kernels().channel_sums(y, rows, channels_, sum_[chunk].data(),
                           sumsq_[chunk].data());
  }

  void Total(ChannelStats* out) const {
    out->sum.assign(channels_, 0.0);
    out->sumsq.assign(channels_, 0.0);
    for (size_t t = 0; t < sum_.size(); ++t) {
      if (sum_[t].empty()) continue;
      for (int32_t i = 0; i < channels_; ++i) {
        out->sum[i] += sum_[t][i];
        out->sumsq[i] += sumsq_[t][i];
      }
    }
  }

 private:
  int32_t channels_;
  std::vector<std::vector<double>> sum_, sumsq_;
};

// Rows per matmul call when channel sums are gathered: the block of y just
// written (at most ~200 KiB for a few hundred channels) is summed while it
// is still in L2.
constexpr int64_t kStatsRows = 192;

}  // namespace

std::vector<int32_t> ConvOutputShape(const std::vector<int32_t>& input_shape,
                                     const ConvShape& shape, bool depthwise) {
  return {
      input_shape[0],
      engine::ComputeSamePadding(input_shape[1], shape.kernel_h, shape.stride_h)
          .out,
      engine::ComputeSamePadding(input_shape[2], shape.kernel_w, shape.stride_w)
          .out,
      depthwise ? input_shape[3] : shape.out_channels};
}

void Conv2DForward(ThreadPool& pool, const Tensor& x, const float* w,
                   const ConvShape& shape, Tensor* y, ChannelStats* stats) {
  y->Resize(ConvOutputShape(x.shape(), shape, false));
  const int32_t cin = x.dim(3);
  const int32_t cout = shape.out_channels;
  if (IsPointwise(shape)) {
    // y = x * w^T; the kernel wants w^T ([cin][cout]) row-major.
    std::vector<float> wt(static_cast<size_t>(cin) * cout);
    for (int32_t o = 0; o < cout; ++o) {
      for (int32_t i = 0; i < cin; ++i) {
        wt[static_cast<size_t>(i) * cout + o] =
            w[static_cast<int64_t>(o) * cin + i];
      }
    }
    const float* xp = x.data();
    float* yp = y->data();
    const internal::KernelTable& kt = Kernels();
    ChunkedChannelSums sums(pool.Chunks(Rows(x)), cout);
    pool.ParallelFor(Rows(x), [&](int64_t r0, int64_t r1, int chunk) {
      if (stats == nullptr) {
        kt.matmul(xp + r0 * cin, r1 - r0, cin, wt.data(), cout, yp + r0 * cout);
        return;
      }
      for (int64_t b0 = r0; b0 < r1; b0 += kStatsRows) {
        const int64_t rows = std::min(kStatsRows, r1 - b0);
        kt.matmul(xp + b0 * cin, rows, cin, wt.data(), cout, yp + b0 * cout);
        sums.Add(chunk, yp + b0 * cout, rows);
      }
    });
    if (stats != nullptr) sums.Total(stats);
    return;
  }
  const int32_t h = x.dim(1), wd = x.dim(2), oh = y->dim(1), ow = y->dim(2);
  const int64_t k = static_cast<int64_t>(shape.kernel_h) * shape.kernel_w * cin;
  const int64_t pixels = static_cast<int64_t>(oh) * ow;
  const Padding pad = SamePaddingOf(x.shape(), shape);
  ChunkedChannelSums sums(pool.Chunks(x.dim(0)), cout);
  pool.ParallelFor(x.dim(0), [&](int64_t n0, int64_t n1, int chunk) {
    std::vector<float> cols(pixels * k);
    for (int64_t n = n0; n < n1; ++n) {
      Im2Col(x.data() + n * h * wd * cin, h, wd, cin, shape, pad, oh, ow,
             cols.data());
      float* yn = y->data() + n * pixels * cout;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, pixels, cout, k,
                  1.0f, cols.data(), k, w, k, 0.0f, yn, cout);
      if (stats != nullptr) sums.Add(chunk, yn, pixels);
    }
  });
  if (stats != nullptr) sums.Total(stats);
}

void Conv2DBackward(ThreadPool& pool, const Tensor& x, const float* w,
                    const ConvShape& shape, const Tensor& dy, Tensor* dx,
                    float* dw) {
  const int32_t cin = x.dim(3);
  const int32_t cout = shape.out_channels;
  const int64_t k = static_cast<int64_t>(shape.kernel_h) * shape.kernel_w * cin;
  std::vector<std::vector<float>> partials(
      pool.Chunks(IsPointwise(shape) ? Rows(x) : x.dim(0)));
  if (dx != nullptr) dx->Resize(x.shape());
  if (IsPointwise(shape)) {
    const internal::KernelTable& kt = Kernels();
    pool.ParallelFor(Rows(x), [&](int64_t r0, int64_t r1, int chunk) {
      std::vector<float>& dw_part = partials[chunk];
      dw_part.assign(cout * k, 0.0f);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cout, cin, r1 - r0,
                  1.0f, dy.data() + r0 * cout, cout, x.data() + r0 * cin, cin,
                  0.0f, dw_part.data(), cin);
      if (dx != nullptr) {  // dx = dy * w, w being [cout][cin]
        kt.matmul(dy.data() + r0 * cout, r1 - r0, cout, w, cin,
                  dx->data() + r0 * cin);
      }
    });
    ReducePartials(partials, cout * k, dw);
    return;
  }
  const int32_t h = x.dim(1), wd = x.dim(2), oh = dy.dim(1), ow = dy.dim(2);
  const int64_t pixels = static_cast<int64_t>(oh) * ow;
  const Padding pad = SamePaddingOf(x.shape(), shape);
  pool.ParallelFor(x.dim(0), [&](int64_t n0, int64_t n1, int chunk) {
    std::vector<float>& dw_part = partials[chunk];
    dw_part.assign(cout * k, 0.0f);
    std::vector<float> cols(pixels * k);
    for (int64_t n = n0; n < n1; ++n) {
      const float* dyn = dy.data() + n * pixels * cout;
      Im2Col(x.data() + n * h * wd * cin, h, wd, cin, shape, pad, oh, ow,
             cols.data());
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cout, k, pixels,
                  1.0f, dyn, cout, cols.data(), k, 1.0f, dw_part.data(), k);
      if (dx != nullptr) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, pixels, k, cout,
                    1.0f, dyn, cout, w, k, 0.0f, cols.data(), k);
        float* dxn = dx->data() + n * h * wd * cin;
        std::fill(dxn, dxn + static_cast<int64_t>(h) * wd * cin, 0.0f);
        Col2ImAdd(cols.data(), h, wd, cin, shape, pad, oh, ow, dxn);
      }
    }
  });
  ReducePartials(partials, cout * k, dw);
}

void DepthwiseForward(ThreadPool& pool, const Tensor& x, const float* w,
                      const ConvShape& shape, Tensor* y, ChannelStats* stats) {
  y->Resize(ConvOutputShape(x.shape(), shape, true));
  const DepthwiseGeometry g = GeometryOf(x.shape(), shape);
  const internal::KernelTable& kt = Kernels();
  const int64_t pixels = static_cast<int64_t>(g.oh) * g.ow;
  ChunkedChannelSums sums(pool.Chunks(x.dim(0)), g.c);
  pool.ParallelFor(x.dim(0), [&](int64_t n0, int64_t n1, int chunk) {
    if (stats == nullptr) {
      kt.depthwise_forward(g, x.data(), w, y->data(), n0, n1);
      return;
    }
    for (int64_t n = n0; n < n1; ++n) {  // an image's output fits in L2
      kt.depthwise_forward(g, x.data(), w, y->data(), n, n + 1);
      sums.Add(chunk, y->data() + n * pixels * g.c, pixels);
    }
  });
  if (stats != nullptr) sums.Total(stats);
}

void DepthwiseBackward(ThreadPool& pool, const Tensor& x, const float* w,
                       const ConvShape& shape, const Tensor& dy, Tensor* dx,
                       float* dw) {
  const DepthwiseGeometry g = GeometryOf(x.shape(), shape);
  const int64_t taps = static_cast<int64_t>(g.kh) * g.kw * g.c;
  const internal::KernelTable& kt = Kernels();
  std::vector<std::vector<float>> partials(pool.Chunks(x.dim(0)));
  if (dx != nullptr) dx->Resize(x.shape());
  // With stride 1, d loss / d x is the forward convolution of dy with the
  // kernel turned 180 degrees (padding k - 1 - pad), so it runs on the
  // forward kernel's faster register-blocked loops.
  const bool stride1 = g.sh == 1 && g.sw == 1;
  std::vector<float> flipped;
  DepthwiseGeometry transposed;
  if (stride1 && dx != nullptr) {
    flipped.resize(taps);
    for (int32_t ky = 0; ky < g.kh; ++ky) {
      for (int32_t kx = 0; kx < g.kw; ++kx) {
        std::copy_n(
            w + (static_cast<int64_t>(ky) * g.kw + kx) * g.c, g.c,
            flipped.data() +
                (static_cast<int64_t>(g.kh - 1 - ky) * g.kw + g.kw - 1 - kx) *
                    g.c);
      }
    }
    transposed = g;
    transposed.h = g.oh;
    transposed.w = g.ow;
    transposed.oh = g.h;
    transposed.ow = g.w;
    transposed.pad_top = g.kh - 1 - g.pad_top;
    transposed.pad_left = g.kw - 1 - g.pad_left;
  }
  pool.ParallelFor(x.dim(0), [&](int64_t n0, int64_t n1, int chunk) {
    partials[chunk].assign(taps, 0.0f);
    // One image at a time, so its x and dy stay in cache for both passes.
    for (int64_t n = n0; n < n1; ++n) {
      kt.depthwise_backward_weights(g, x.data(), dy.data(),
                                    partials[chunk].data(), n, n + 1);
      if (dx == nullptr) continue;
      if (stride1) {
        kt.depthwise_forward(transposed, dy.data(), flipped.data(), dx->data(),
                             n, n + 1);
      } else {
        kt.depthwise_backward_input(g, w, dy.data(), dx->data(), n, n + 1);
      }
    }
  });
  ReducePartials(partials, taps, dw);
}

void BatchNormTrainForward(ThreadPool& pool, const Tensor& y,
                           const float* gamma, const float* beta, float eps,
                           bool relu6, BatchNormCache* cache, Tensor* z,
                           const ChannelStats* stats) {
  const int32_t c = y.dim(y.rank() - 1);
  const int64_t rows = Rows(y);
  const internal::KernelTable& kt = Kernels();
  ChannelStats own;
  if (stats == nullptr) {
    ChunkedChannelSums sums(pool.Chunks(rows), c);
    pool.ParallelFor(rows, [&](int64_t r0, int64_t r1, int chunk) {
      sums.Add(chunk, y.data() + r0 * c, r1 - r0);
    });
    sums.Total(&own);
    stats = &own;
  }
  cache->mean.resize(c);
  cache->var.resize(c);
  cache->invstd.resize(c);
  cache->scale.resize(c);
  cache->shift.resize(c);
  std::vector<float>& scale = cache->scale;
  std::vector<float>& shift = cache->shift;
  for (int32_t i = 0; i < c; ++i) {
    const double mean = stats->sum[i] / rows;
    const double var = std::max(0.0, stats->sumsq[i] / rows - mean * mean);
    cache->mean[i] = static_cast<float>(mean);
    cache->var[i] = static_cast<float>(var);
    cache->invstd[i] = static_cast<float>(1.0 / std::sqrt(var + eps));
    scale[i] = gamma[i] * cache->invstd[i];
    shift[i] = beta[i] - cache->mean[i] * scale[i];
  }
  z->Resize(y.shape());
  pool.ParallelFor(rows, [&](int64_t r0, int64_t r1, int) {
    kt.scale_shift_act(y.data() + r0 * c, r1 - r0, c, scale.data(),
                       shift.data(), relu6, z->data() + r0 * c);
  });
}

void BatchNormInferForward(ThreadPool& pool, const Tensor& y,
                           const float* gamma, const float* beta,
                           const float* mean, const float* var, float eps,
                           bool relu6, Tensor* z) {
  const int32_t c = y.dim(y.rank() - 1);
  std::vector<float> scale(c), shift(c);
  for (int32_t i = 0; i < c; ++i) {
    scale[i] = gamma[i] / std::sqrt(var[i] + eps);
    shift[i] = beta[i] - mean[i] * scale[i];
  }
  z->Resize(y.shape());
  const internal::KernelTable& kt = Kernels();
  pool.ParallelFor(Rows(y), [&](int64_t r0, int64_t r1, int) {
    kt.scale_shift_act(y.data() + r0 * c, r1 - r0, c, scale.data(),
                       shift.data(), relu6, z->data() + r0 * c);
  });
}

void BatchNormTrainBackward(ThreadPool& pool, const Tensor& y, const Tensor& dz,
                            const float* gamma, const BatchNormCache& cache,
                            bool relu6, Tensor* dy, float* dgamma,
                            float* dbeta) {
  const int32_t c = y.dim(y.rank() - 1);
  const int64_t rows = Rows(y);
  const internal::KernelTable& kt = Kernels();
  std::vector<std::vector<double>> sum_g(pool.Chunks(rows)),
      sum_gy(pool.Chunks(rows));
  pool.ParallelFor(rows, [&](int64_t r0, int64_t r1, int chunk) {
    sum_g[chunk].assign(c, 0.0);
    sum_gy[chunk].assign(c, 0.0);
    kt.bn_backward_sums(y.data() + r0 * c, dz.data() + r0 * c, r1 - r0, c,
                        cache.mean.data(), cache.scale.data(),
                        cache.shift.data(), relu6, sum_g[chunk].data(),
                        sum_gy[chunk].data());
  });
  std::vector<float> a(c), k(c), b(c);
  for (int32_t i = 0; i < c; ++i) {
    double sg = 0.0, sgy = 0.0;
    for (size_t t = 0; t < sum_g.size(); ++t) {
      if (sum_g[t].empty()) continue;
      sg += sum_g[t][i];
      sgy += sum_gy[t][i];
    }
    const double invstd = cache.invstd[i];
    dbeta[i] = static_cast<float>(sg);
    dgamma[i] = static_cast<float>(sgy * invstd);
    // dy = gamma*invstd * (g - mean(g) - yhat * mean(g * yhat)), written as
    // a * g + k * y + b to take one pass.
    const double ai = gamma[i] * invstd;
    const double ki = -ai * invstd * invstd * sgy / rows;
    a[i] = static_cast<float>(ai);
    k[i] = static_cast<float>(ki);
    b[i] = static_cast<float>(-ai * sg / rows - ki * cache.mean[i]);
  }
  if (dy != &y) dy->Resize(y.shape());
  float* out = dy->data();
  pool.ParallelFor(rows, [&](int64_t r0, int64_t r1, int) {
    kt.bn_backward_input(y.data() + r0 * c, dz.data() + r0 * c, r1 - r0, c,
                         cache.scale.data(), cache.shift.data(), a.data(),
                         k.data(), b.data(), relu6, out + r0 * c);
  });
}

void AccumulateInto(ThreadPool& pool, const Tensor& src, Tensor* dst) {
  const internal::KernelTable& kt = Kernels();
  pool.ParallelFor(src.dim(0), [&](int64_t n0, int64_t n1, int) {
    const int64_t per = src.size() / src.dim(0);
    kt.accumulate(src.data() + n0 * per, dst->data() + n0 * per,
                  (n1 - n0) * per);
  });
}

void GlobalAvgPoolForward(ThreadPool& pool, const Tensor& x, Tensor* y) {
  const int32_t n = x.dim(0), c = x.dim(3);
  const int64_t pixels = static_cast<int64_t>(x.dim(1)) * x.dim(2);
  y->Resize({n, c});
  pool.ParallelFor(n, [&](int64_t n0, int64_t n1, int) {
    std::vector<double> acc(c);
    for (int64_t i = n0; i < n1; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      const float* p = x.data() + i * pixels * c;
      for (int64_t q = 0; q < pixels; ++q) {
        for (int32_t j = 0; j < c; ++j) acc[j] += p[q * c + j];
      }
      for (int32_t j = 0; j < c; ++j) {
        y->data()[i * c + j] = static_cast<float>(acc[j] / pixels);
      }
    }
  });
}

void GlobalAvgPoolBackward(ThreadPool& pool,
                           const std::vector<int32_t>& input_shape,
                           const Tensor& dy, Tensor* dx) {
  dx->Resize(input_shape);
  const int32_t c = input_shape[3];
  const int64_t pixels = static_cast<int64_t>(input_shape[1]) * input_shape[2];
  const float inv = 1.0f / static_cast<float>(pixels);
  pool.ParallelFor(input_shape[0], [&](int64_t n0, int64_t n1, int) {
    for (int64_t i = n0; i < n1; ++i) {
      const float* g = dy.data() + i * c;
      float* p = dx->data() + i * pixels * c;
      for (int64_t q = 0; q < pixels; ++q) {
        for (int32_t j = 0; j < c; ++j) p[q * c + j] = g[j] * inv;
      }
    }
  });
}

void FullyConnectedForward(const Tensor& x, const float* w, const float* b,
                           int32_t out_features, Tensor* y) {
  const int32_t n = x.dim(0);
  const int32_t in = static_cast<int32_t>(x.size() / n);
  y->Resize({n, out_features});
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_features, in,
              1.0f, x.data(), in, w, in, 0.0f, y->data(), out_features);
  for (int32_t i = 0; i < n; ++i) {
    for (int32_t o = 0; o < out_features; ++o) {
      y->data()[static_cast<int64_t>(i) * out_features + o] += b[o];
    }
  }
}

void FullyConnectedBackward(const Tensor& x, const float* w,
                            int32_t out_features, const Tensor& dy, Tensor* dx,
                            float* dw, float* db) {
  const int32_t n = x.dim(0);
  const int32_t in = static_cast<int32_t>(x.size() / n);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_features, in, n,
              1.0f, dy.data(), out_features, x.data(), in, 0.0f, dw, in);
  for (int32_t o = 0; o < out_features; ++o) {
    double s = 0.0;
    for (int32_t i = 0; i < n; ++i) {
      s += dy.data()[static_cast<int64_t>(i) * out_features + o];
    }
    db[o] = static_cast<float>(s);
  }
  if (dx != nullptr) {
    dx->Resize(x.shape());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out_features,
                1.0f, dy.data(), out_features, w, in, 0.0f, dx->data(), in);
  }
}

double SoftmaxCrossEntropy(const Tensor& logits,
                           const std::vector<int32_t>& labels, Tensor* dlogits,
                           int64_t* correct) {
  const int32_t n = logits.dim(0), k = logits.dim(1);
  if (dlogits != nullptr) dlogits->Resize(logits.shape());
  double loss = 0.0;
  int64_t right = 0;
  std::vector<double> p(k);
  for (int32_t i = 0; i < n; ++i) {
    const float* z = logits.data() + static_cast<int64_t>(i) * k;
    const int32_t best = static_cast<int32_t>(std::max_element(z, z + k) - z);
    if (best == labels[i]) ++right;
    double sum = 0.0;
    for (int32_t j = 0; j < k; ++j) {
      p[j] = std::exp(static_cast<double>(z[j]) - z[best]);
      sum += p[j];
    }
    loss += -(static_cast<double>(z[labels[i]]) - z[best] - std::log(sum));
    if (dlogits != nullptr) {
      float* d = dlogits->data() + static_cast<int64_t>(i) * k;
      for (int32_t j = 0; j < k; ++j) {
        d[j] =
            static_cast<float>((p[j] / sum - (j == labels[i] ? 1.0 : 0.0)) / n);
      }
    }
  }
  if (correct != nullptr) *correct = right;
  return loss / n;
}

double DistillationLoss(const Tensor& logits, const Tensor& teacher_logits,
                        float weight, Tensor* dlogits) {
  const int32_t n = logits.dim(0), k = logits.dim(1);
  double loss = 0.0;
  std::vector<double> ps(k), pt(k);
  // Softmax with the row maximum subtracted; returns log of the sum.
  auto softmax = [k](const float* z, std::vector<double>* p) {
    const float top = *std::max_element(z, z + k);
    double sum = 0.0;
    for (int32_t j = 0; j < k; ++j) {
      (*p)[j] = std::exp(static_cast<double>(z[j]) - top);
      sum += (*p)[j];
    }
    for (int32_t j = 0; j < k; ++j) (*p)[j] /= sum;
    return top + std::log(sum);
  };
  for (int32_t i = 0; i < n; ++i) {
    const float* s = logits.data() + static_cast<int64_t>(i) * k;
    const float* t = teacher_logits.data() + static_cast<int64_t>(i) * k;
    const double log_sum = softmax(s, &ps);
    softmax(t, &pt);
    float* d = dlogits->data() + static_cast<int64_t>(i) * k;
    for (int32_t j = 0; j < k; ++j) {
      loss -= pt[j] * (static_cast<double>(s[j]) - log_sum);
      d[j] += static_cast<float>(weight * (ps[j] - pt[j]) / n);
    }
  }
  return weight * loss / n;
}

const char* KernelSetName() { return internal::Kernels().name; }

}  // namespace mcunas::supernet
