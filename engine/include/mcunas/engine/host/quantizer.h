// Host only. Post-training int8 quantisation of a FloatGraph into a
// QuantGraph ready for WriteModel, following TFLite's int8 scheme:
//
//   - batch norm folded into the preceding conv's weights and bias;
//   - weights per output channel, symmetric: scale = max|w| / 127, zero 0;
//   - bias int32 with scale input_scale * weight_scale[c], corrected for the
//     mean error that weight rounding causes on the calibration data;
//   - activations per tensor, asymmetric: (scale, zero_point) with the zero
//     point in [-128, 127] and real 0 exactly representable; the range comes
//     from calibration over sample inputs (min/max, or MSE-optimal clipping);
//   - average pool output reuses its input's parameters (the engine's pool
//     does not requantise); fused activations stay on the op
//     (QuantOp::activation) and the writer derives the clamps.
//
//   MCUNAS_ASSIGN_OR_RETURN(QuantGraph q,
//                           QuantizeFloatGraph(graph, calibration_images));
//   MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, WriteModel(q));
//
// Activation tensor i of the QuantGraph is tensor i of the FloatGraph (same
// name and shape); weights and bias are appended after them. Stateless
// functions; thread-safe.
#ifndef MCUNAS_ENGINE_HOST_QUANTIZER_H_
#define MCUNAS_ENGINE_HOST_QUANTIZER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/engine/host/float_graph.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::engine {

enum class CalibrationMethod {
  // The observed range. Never clips; one outlier stretches the step of every
  // other value.
  kMinMax,
  // The clipping range that minimises the expected squared quantisation error
  // (rounding + clipping) of the observed value distribution. See Calibrate.
  kMse,
};

struct QuantizeOptions {
  CalibrationMethod method = CalibrationMethod::kMse;
  // Histogram resolution for kMse: bins over the observed range (~8 bins per
  // int8 step, so rounding error is resolved).
  int32_t histogram_bins = 2048;
  // Bias correction (Nagel et al., "Data-Free Quantization", 2019): rounding
  // the weights of channel o shifts its output on average by
  // sum_i (w_q[o,i] - w[o,i]) * E[x_i]; subtract that from the bias, with
  // E[x] the per-channel input means over the calibration inputs. It matters
  // when inputs have a large mean, as ReLU6 outputs do: there the shift is a
  // good part of a step.
  bool bias_correction = true;
};

// A real-valued range [min, max] of an activation tensor.
struct TensorRange {
  float min = 0.0f;
  float max = 0.0f;
};

// Per-tensor affine int8 parameters: real = scale * (q - zero_point).
struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// The graph with every batch norm folded into its conv:
//   w'[c] = w[c] * g[c],  b'[c] = (b[c] - mean[c]) * g[c] + beta[c],
//   g[c] = gamma[c] / sqrt(var[c] + eps).
// Same tensors, same ops (with batch_norm empty and bias set).
absl::StatusOr<FloatGraph> FoldBatchNorm(const FloatGraph& graph);

// What calibration measured, per tensor (indexed like FloatGraph::tensors).
struct Calibration {
  std::vector<TensorRange> ranges;
  // Mean of each channel (last dimension) over positions and inputs.
  std::vector<std::vector<float>> channel_means;
};

// Runs `graph` on every calibration input and returns every tensor's range
// and channel means. The graph input and output always get their
// min/max: clipping the input only distorts it, and clipping logits would
// merge the top classes. Other tensors use options.method. kMse: a histogram
// of each tensor over its observed range, then a search over shrunken ranges
// (both ends together, then each end alone) for the one whose quantised
// values have the least squared error; O(inputs * graph cost + tensors *
// candidates * bins). Fails when `inputs` is empty or one has the wrong size.
absl::StatusOr<Calibration> Calibrate(
    const FloatGraph& graph, const std::vector<std::vector<float>>& inputs,
    const QuantizeOptions& options = {});

// TFLite's asymmetric int8 parameters for [min, max]: the range is widened to
// contain 0, scale = (max - min) / 255 and the zero point is rounded (and
// clamped to [-128, 127]) so that 0 is exact. An empty range (max == min ==
// 0) gets scale 1.
QuantParams ChooseQuantParams(float min, float max);

// Symmetric per-channel int8 weights. `channels` output channels; the channel
// is the innermost dimension (depthwise [kh][kw][C]) or the outermost (conv
// OHWI, fully connected [C_out][C_in]). REQUIRES: weights.size() is a
// multiple of `channels`.
struct ChannelQuantized {
  std::vector<int8_t> values;  // in [-127, 127]
  std::vector<float> scales;   // one per channel; 1 for an all-zero channel
};
ChannelQuantized QuantizePerChannel(const std::vector<float>& weights,
                                    int32_t channels, bool channel_innermost);

// Quantises a folded graph (no batch norm) with `calibration` (e.g. from
// Calibrate on the folded graph; channel_means are needed only with
// options.bias_correction). Fails with InvalidArgument naming the op or
// tensor when the graph is invalid, still has batch norm, or the calibration
// does not match it.
absl::StatusOr<QuantGraph> QuantizeFolded(const FloatGraph& folded,
                                          const Calibration& calibration,
                                          const QuantizeOptions& options = {});

// The whole pipeline: FoldBatchNorm, Calibrate on the folded graph,
// QuantizeFolded.
absl::StatusOr<QuantGraph> QuantizeFloatGraph(
    const FloatGraph& graph,
    const std::vector<std::vector<float>>& calibration_inputs,
    const QuantizeOptions& options = {});

// The parameters of an int8 activation tensor of a QuantGraph.
inline QuantParams ParamsOf(const QuantTensor& tensor) {
  return {tensor.scale, tensor.zero_point};
}

// round(x / scale) + zero_point, saturated to int8 (TFLite's Quantize).
std::vector<int8_t> QuantizeValues(const QuantParams& params,
                                   const std::vector<float>& values);
// scale * (q - zero_point) for `count` values at `data`.
std::vector<float> DequantizeValues(const QuantParams& params,
                                    const int8_t* data, size_t count);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_QUANTIZER_H_
