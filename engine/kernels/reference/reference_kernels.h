// The reference kernels as individual functions, for the optimised sets to
// fall back to. Private to engine/kernels/; everyone else uses
// ReferenceKernels() from mcunas/engine/kernels.h. Same contracts as the
// function pointer types there; thread-compatible, no allocation.
#ifndef MCUNAS_ENGINE_KERNELS_REFERENCE_REFERENCE_KERNELS_H_
#define MCUNAS_ENGINE_KERNELS_REFERENCE_REFERENCE_KERNELS_H_

#include <stdint.h>

#include "mcunas/engine/kernels.h"
#include "mcunas/engine/quant_math.h"

namespace mcunas::engine::reference {

void Conv(const ConvParams& params, const Shape3& in_shape, const int8_t* input,
          const int8_t* weights, const int32_t* bias, const Shape3& out_shape,
          int8_t* output, int8_t* scratch);

void Depthwise(const ConvParams& params, const Shape3& in_shape,
               const int8_t* input, const int8_t* weights, const int32_t* bias,
               const Shape3& out_shape, int8_t* output, int8_t* scratch);

void Add(const AddQuantParams& params, int32_t elements, const int8_t* input1,
         const int8_t* input2, int8_t* output);

void AveragePool(const PoolParams& params, const Shape3& in_shape,
                 const int8_t* input, const Shape3& out_shape, int8_t* output);

void FullyConnected(const RequantParams& requant, int32_t in_elements,
                    const int8_t* input, const int8_t* weights,
                    const int32_t* bias, int32_t out_elements, int8_t* output);

// softmax.cc: gemmlowp fixed point, as TFLite's reference_ops::Softmax.
void Softmax(const SoftmaxQuantParams& params, int32_t rows, int32_t depth,
             const int8_t* input, int8_t* output);

void Mean(const MeanQuantParams& params, const Shape3& in_shape,
          const int8_t* input, int8_t* output);

void Requantize(const RequantizeQuantParams& params, int32_t elements,
                const int8_t* input, int8_t* output);

void Transpose(const int32_t in_dims[4], const int32_t perm[4],
               const int8_t* input, int8_t* output);

void Pad(const PadQuantParams& params, const Shape3& in_shape,
         const int8_t* input, const Shape3& out_shape, int8_t* output);

// The requantisation tail every conv-like kernel shares, for one output
// channel: scale the int32 accumulator to int8, add the output zero point and
// clamp (max then min, as TFLite). Optimised kernels use it too, which is what
// keeps their outputs identical to reference once the accumulators agree. A
// by-value copy so that hot loops keep the parameters in registers.
struct ChannelRequant {
  int32_t multiplier;
  int32_t shift;
  int32_t output_offset;
  int32_t act_min;
  int32_t act_max;

  int8_t Apply(int32_t acc) const {
    int32_t v = MultiplyByQuantizedMultiplier(acc, multiplier, shift);
    v += output_offset;
    if (v < act_min) v = act_min;
    if (v > act_max) v = act_max;
    return static_cast<int8_t>(v);
  }
};

inline ChannelRequant ForChannel(const RequantParams& rq, int32_t channel) {
  return {rq.multiplier[channel], rq.shift[channel], rq.output_offset,
          rq.act_min, rq.act_max};
}

inline int8_t Requantize(const RequantParams& rq, int32_t channel,
                         int32_t acc) {
  return ForChannel(rq, channel).Apply(acc);
}

}  // namespace mcunas::engine::reference

#endif  // MCUNAS_ENGINE_KERNELS_REFERENCE_REFERENCE_KERNELS_H_
