// Private. The layers of an Mbnet (mbnet.h), shared by mbnet.cc (training)
// and mbnet_export.cc (FloatGraph export). Not thread-safe.
#ifndef MCUNAS_SUPERNET_MBNET_INTERNAL_H_
#define MCUNAS_SUPERNET_MBNET_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/ops.h"

namespace mcunas::supernet::internal {

// Conv (dense or depthwise, no bias) + batch norm + optional ReLU6.
struct MbnetLayer {
  std::string name;
  bool depthwise = false;
  ConvShape shape;
  bool relu6 = true;
  Parameter weight, gamma, beta;
  RunningStats stats;

  // Forward state. `input` is the tensor of the last Forward (owned by the
  // previous layer or the caller). After Backward, `y` holds d loss / d y
  // (the batch norm's input gradient, computed in place).
  const Tensor* input = nullptr;
  Tensor y;  // conv output
  ChannelStats y_sums;  // y's channel sums, from the conv for the batch norm
  Tensor z;  // output; a residual block's project layer adds its input here
  BatchNormCache cache;
  Tensor grad_input;

  void Forward(ThreadPool& pool, const Tensor& x, ForwardMode mode,
               const MbnetConfig& config, int64_t recalibration_batches);
  // From d loss / d z; fills the parameter gradients and, when
  // `input_gradient`, grad_input.
  void Backward(ThreadPool& pool, const Tensor& dz, bool input_gradient);
};

// An inverted-residual block: expand (absent for ratio 1), depthwise,
// project, and the residual add.
struct MbnetBlock {
  std::unique_ptr<MbnetLayer> expand;
  std::unique_ptr<MbnetLayer> depthwise;
  std::unique_ptr<MbnetLayer> project;
  bool residual = false;

  const Tensor& output() const { return project->z; }
  const Tensor& Forward(ThreadPool& pool, const Tensor& x, ForwardMode mode,
                        const MbnetConfig& config,
                        int64_t recalibration_batches);
  // Returns d loss / d block input (owned by one of the block's layers).
  Tensor* Backward(ThreadPool& pool, const Tensor& dout);
};

// A layer with He-normal (fan-out) weights drawn from `rng`, BN gamma 1,
// beta 0, running mean 0 and variance 1.
std::unique_ptr<MbnetLayer> MakeMbnetLayer(std::string name, bool depthwise,
                                           int32_t in_channels,
                                           int32_t out_channels, int32_t kernel,
                                           int32_t stride, bool relu6,
                                           std::mt19937_64* rng);

}  // namespace mcunas::supernet::internal

#endif  // MCUNAS_SUPERNET_MBNET_INTERNAL_H_
