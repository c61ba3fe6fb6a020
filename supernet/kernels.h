// Private. The hot element-wise, depthwise and pointwise loops of supernet
// training, as one table of function pointers. The same source
// (kernels_impl.inc) is compiled twice: generic x86-64 (SSE2) and
// AVX2+FMA; Kernels() picks the best the CPU supports once. Everything else
// (OpenBLAS GEMMs, threading) lives in ops.cc.
//
// All functions work on raw NHWC buffers of one thread's chunk and never
// allocate; the caller splits work across threads. Stateless; thread-safe.
#ifndef MCUNAS_SUPERNET_KERNELS_H_
#define MCUNAS_SUPERNET_KERNELS_H_

#include <cstdint>

namespace mcunas::supernet::internal {

// A depthwise convolution (depth multiplier 1) with TFLite SAME padding.
struct DepthwiseGeometry {
  int32_t h = 0, w = 0, c = 0;  // input
  int32_t kh = 1, kw = 1;       // kernel
  int32_t sh = 1, sw = 1;       // stride
  int32_t oh = 0, ow = 0;       // output
  int32_t pad_top = 0, pad_left = 0;
};

struct KernelTable {
  const char* name;
  // y[n] = depthwise(x[n], w) for images [n0, n1). w is [kh][kw][c].
  void (*depthwise_forward)(const DepthwiseGeometry& g, const float* x,
                            const float* w, float* y, int64_t n0, int64_t n1);
  // dx[n] = d loss / d x[n] for images [n0, n1) (overwritten).
  void (*depthwise_backward_input)(const DepthwiseGeometry& g, const float* w,
                                   const float* dy, float* dx, int64_t n0,
                                   int64_t n1);
  // dw += sum over images [n0, n1) of d loss / d w.
  void (*depthwise_backward_weights)(const DepthwiseGeometry& g, const float* x,
                                     const float* dy, float* dw, int64_t n0,
                                     int64_t n1);
  // sum[c] += sum_r y[r][c], sumsq[c] += sum_r y[r][c]^2 over `rows` rows.
  void (*channel_sums)(const float* y, int64_t rows, int32_t c, double* sum,
                       double* sumsq);
  // z = y * scale[c] + shift[c], then clamped to [0, 6] when relu6.
  // z may alias y.
  void (*scale_shift_act)(const float* y, int64_t rows, int32_t c,
                          const float* scale, const float* shift, bool relu6,
                          float* z);
  // With g = dz * (relu6 ? (0 < y * scale[c] + shift[c] < 6) : 1), the
  // ReLU6 mask of the forward's z, recomputed from y as scale_shift_act
  // computed z (so z need not be read):
  // sum_g[c] += sum_r g, sum_gy[c] += sum_r g * (y - center[c]).
  void (*bn_backward_sums)(const float* y, const float* dz, int64_t rows,
                           int32_t c, const float* center, const float* scale,
                           const float* shift, bool relu6, double* sum_g,
                           double* sum_gy);
  // dy = a[c] * g + k[c] * y + b[c] (g as above). dy may alias y.
  void (*bn_backward_input)(const float* y, const float* dz, int64_t rows,
                            int32_t c, const float* scale, const float* shift,
                            const float* a, const float* k, const float* b,
                            bool relu6, float* dy);
  // dst[i] += src[i].
  void (*accumulate)(const float* src, float* dst, int64_t count);
  // y = x * b, all row-major: x is rows x k, b is k x n, y is rows x n
  // (overwritten).
  void (*matmul)(const float* x, int64_t rows, int32_t k, const float* b,
                 int32_t n, float* y);
};

const KernelTable& GenericKernels();
// nullptr when not compiled for this architecture.
const KernelTable* Avx2Kernels();
// Avx2Kernels() when the CPU has AVX2 and FMA, else GenericKernels().
const KernelTable& Kernels();

}  // namespace mcunas::supernet::internal

#endif  // MCUNAS_SUPERNET_KERNELS_H_
