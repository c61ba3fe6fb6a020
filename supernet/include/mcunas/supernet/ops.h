// Forward and backward passes of the float ops supernet training needs, on
// NHWC batches (tensor.h): convolution (dense via im2col + BLAS sgemm,
// pointwise as one sgemm, depthwise direct), batch norm with a fused ReLU6,
// residual add, global average pool, fully connected and softmax
// cross-entropy.
//
// Conventions match the engine's FloatGraph (float_graph.h) so a trained net
// exports unchanged: TFLite SAME padding (for stride 2 on an even size the
// extra pad is after), weights OHWI / [kh][kw][C] / [out][in].
//
// Every op splits its batch (or its N*H*W rows) across `pool`; each call
// returns when the work is done. Gradients of weights are overwritten, not
// accumulated. Outputs are resized by the op. Stateless functions; the pool
// serialises calls.
#ifndef MCUNAS_SUPERNET_OPS_H_
#define MCUNAS_SUPERNET_OPS_H_

#include <cstdint>
#include <vector>

#include "mcunas/supernet/tensor.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

struct ConvShape {
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t out_channels = 0;  // dense conv only; depthwise keeps C
};

// Output {N, OH, OW, Cout} of a conv on `input_shape` {N, H, W, C}.
std::vector<int32_t> ConvOutputShape(const std::vector<int32_t>& input_shape,
                                     const ConvShape& shape, bool depthwise);

// Per-channel sums of a conv's output over all its rows, for the batch norm
// that follows: the pointwise and depthwise forwards gather them while each
// block of output is still in cache, which spares the batch norm a pass
// over the whole tensor.
struct ChannelStats {
  std::vector<double> sum, sumsq;  // per channel
};

// Dense conv, no bias. w: [Cout][kh][kw][Cin]. 1x1 stride-1 convs are one
// matmul over the N*H*W rows; others go through im2col per image. With
// `stats`, also fills it with y's channel sums.
void Conv2DForward(ThreadPool& pool, const Tensor& x, const float* w,
                   const ConvShape& shape, Tensor* y,
                   ChannelStats* stats = nullptr);
// dw (Cout*kh*kw*Cin values) is overwritten; dx is skipped when null.
void Conv2DBackward(ThreadPool& pool, const Tensor& x, const float* w,
                    const ConvShape& shape, const Tensor& dy, Tensor* dx,
                    float* dw);

// Depthwise conv (multiplier 1), no bias. w: [kh][kw][C]. With `stats`,
// also fills it with y's channel sums.
void DepthwiseForward(ThreadPool& pool, const Tensor& x, const float* w,
                      const ConvShape& shape, Tensor* y,
                      ChannelStats* stats = nullptr);
void DepthwiseBackward(ThreadPool& pool, const Tensor& x, const float* w,
                       const ConvShape& shape, const Tensor& dy, Tensor* dx,
                       float* dw);

// What a training-mode batch norm forward keeps for its backward.
struct BatchNormCache {
  std::vector<float> mean;    // batch mean per channel
  std::vector<float> invstd;  // 1 / sqrt(batch var + eps)
  std::vector<float> var;     // biased batch variance
  // z before the clamp = y * scale + shift: the backward recomputes the
  // ReLU6 mask from y with these instead of reading z.
  std::vector<float> scale, shift;
};

// Training mode: normalises y (last dim = channels) with the batch's mean and
// biased variance, then z = gamma * yhat + beta, clamped to [0, 6] when
// relu6. Fills `cache`. z may alias y only if the backward is not needed.
// `stats`: y's channel sums when the conv before gathered them (else they
// are computed here).
void BatchNormTrainForward(ThreadPool& pool, const Tensor& y,
                           const float* gamma, const float* beta, float eps,
                           bool relu6, BatchNormCache* cache, Tensor* z,
                           const ChannelStats* stats = nullptr);
// Inference mode with given statistics (running mean and variance).
void BatchNormInferForward(ThreadPool& pool, const Tensor& y,
                           const float* gamma, const float* beta,
                           const float* mean, const float* var, float eps,
                           bool relu6, Tensor* z);
// Backward of BatchNormTrainForward (+ ReLU6): from dz computes dy and
// d gamma, d beta (overwritten). dy may be `y` itself (y is dead after).
// Needs y and the cache, not z (which may since have been overwritten).
void BatchNormTrainBackward(ThreadPool& pool, const Tensor& y, const Tensor& dz,
                            const float* gamma, const BatchNormCache& cache,
                            bool relu6, Tensor* dy, float* dgamma,
                            float* dbeta);

// dst += src (same shape): the residual add forward and the gradient merge
// of its backward (an add passes its output gradient to both inputs).
void AccumulateInto(ThreadPool& pool, const Tensor& src, Tensor* dst);

// {N, H, W, C} -> {N, C} mean over H x W.
void GlobalAvgPoolForward(ThreadPool& pool, const Tensor& x, Tensor* y);
// dx {N, H, W, C} = dy[n][c] / (H * W) everywhere; `input_shape` is x's.
void GlobalAvgPoolBackward(ThreadPool& pool,
                           const std::vector<int32_t>& input_shape,
                           const Tensor& dy, Tensor* dx);

// x {N, In} (or any {N, ...} flattened), w [Out][In], b [Out] -> y {N, Out}.
void FullyConnectedForward(const Tensor& x, const float* w, const float* b,
                           int32_t out_features, Tensor* y);
// dw, db overwritten; dx skipped when null.
void FullyConnectedBackward(const Tensor& x, const float* w,
                            int32_t out_features, const Tensor& dy, Tensor* dx,
                            float* dw, float* db);

// Mean softmax cross-entropy of logits {N, K} against labels (each in
// [0, K)). Writes d loss / d logits into `dlogits` when not null and the
// number of rows whose arg max is the label into `correct` when not null.
double SoftmaxCrossEntropy(const Tensor& logits,
                           const std::vector<int32_t>& labels, Tensor* dlogits,
                           int64_t* correct);

// Knowledge distillation with soft targets (Once-for-All's, temperature 1):
// `weight` times the mean over rows of the cross-entropy between the
// teacher's softmax and the student's, -sum_j softmax(t)_j log softmax(s)_j.
// Returns that weighted loss and ADDS its gradient,
// weight * (softmax(s) - softmax(t)) / N, into `dlogits` (same shape as
// `logits`; e.g. the hard-label gradient already there).
double DistillationLoss(const Tensor& logits, const Tensor& teacher_logits,
                        float weight, Tensor* dlogits);

// The name of the kernel set in use ("avx2" or "generic").
const char* KernelSetName();

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_OPS_H_
