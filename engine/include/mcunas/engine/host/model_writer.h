// Host only. Turns a QuantGraph into a model blob: derives fixed-point
// requantisation parameters (as TFLite Micro's Prepare does), decides
// in-place depthwise, plans the arena with the greedy planner and writes the
// CRC. Stateless functions; thread-safe.
#ifndef MCUNAS_ENGINE_HOST_MODEL_WRITER_H_
#define MCUNAS_ENGINE_HOST_MODEL_WRITER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/quant_graph.h"
#include "mcunas/engine/model_format.h"

namespace mcunas::engine {

enum class PlannerKind { kGreedy, kLinear };

struct WriteOptions {
  PlannerKind planner = PlannerKind::kGreedy;
  // Run depthwise convs in place where the input dies at that op.
  bool in_place_depthwise = true;
};

// Fails with InvalidArgument naming the tensor or op when the graph is
// inconsistent (bad indices, shapes, missing scales, out-of-range sizes).
absl::StatusOr<std::vector<uint8_t>> WriteModel(
    const QuantGraph& graph, const WriteOptions& options = {});

// TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31), with
// multiplier in [2^30, 2^31) or 0.
void QuantizeMultiplier(double real, int32_t* multiplier, int32_t* shift);

// TFLite's CalculateActivationRangeQuantized for int8.
void ActivationRange(Activation activation, float scale, int32_t zero_point,
                     int8_t* act_min, int8_t* act_max);

// What TFLite Micro's Prepare derives for the ops added for TFLite interop
// (op_params.cc); WriteModel stores these. Each fails with InvalidArgument
// when TFLite Micro would reject the quantisation or the engine could not
// run it without overflow.
//
// SOFTMAX (int8): PreprocessSoftmaxScaling and CalculateInputRadius with 5
// integer bits.
absl::StatusOr<SoftmaxParams> SoftmaxParamsFor(float beta, float input_scale);
// MEAN (int8) over `count` values per channel: reduce.h's QuantizedMeanOrSum
// with 1/count folded into the multiplier, or, for identical input and
// output quantisation, reduce.h's truncating Mean.
absl::StatusOr<MeanParams> MeanParamsFor(float input_scale,
                                         int32_t input_zero_point,
                                         float output_scale,
                                         int32_t output_zero_point,
                                         int32_t count);
// QUANTIZE from int8 to int8: input_scale / output_scale as a multiplier.
absl::StatusOr<RequantizeParams> RequantizeParamsFor(float input_scale,
                                                     float output_scale);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_MODEL_WRITER_H_
