// Host only. Reads a model blob back into the QuantGraph it was written
// from: the inverse of WriteModel, for exporting models (to .tflite) and
// for checking the writer.
//
// The blob stores weights' fixed-point multipliers, not their float
// per-channel scales, so those are recovered: for each output channel, the
// float whose TFLite-Micro derivation (QuantizeMultiplier of
// input * weight / output scale, as WriteModel computes it) gives exactly
// the stored multiplier and shift. For a blob WriteModel wrote that float
// exists (it is the original); then WriteModel(GraphFromModel(blob)) derives
// the same parameters, and with the same WriteOptions gives the same blob.
// Tensor names are not stored; tensors are named "t<index>".
//
// Stateless; thread-safe.
#ifndef MCUNAS_ENGINE_HOST_GRAPH_FROM_MODEL_H_
#define MCUNAS_ENGINE_HOST_GRAPH_FROM_MODEL_H_

#include "absl/status/statusor.h"
#include "mcunas/engine/host/quant_graph.h"
#include "mcunas/engine/model.h"

namespace mcunas::engine {

// REQUIRES: model.loaded(). Fails with InvalidArgument naming the op and
// channel when no float scale reproduces a stored multiplier (a blob not
// written by WriteModel), or when a weights tensor shared by two ops would
// need two different scales.
absl::StatusOr<QuantGraph> GraphFromModel(const Model& model);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_GRAPH_FROM_MODEL_H_
