// Host only. Runs a FloatGraph in float: the ground truth the quantised model
// is compared against, and the source of activation statistics for
// calibration. Plain loops that follow the definitions in float_graph.h
// (accumulation in double; TFLite SAME padding as ComputeSamePadding), written
// to be obviously right, not fast. Stateless functions; thread-safe.
#ifndef MCUNAS_ENGINE_HOST_FLOAT_REFERENCE_H_
#define MCUNAS_ENGINE_HOST_FLOAT_REFERENCE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/engine/host/float_graph.h"

namespace mcunas::engine {

// Every tensor's values (NHWC, flattened), indexed like FloatGraph::tensors.
using FloatTensorValues = std::vector<std::vector<float>>;

// Validates `graph`, then runs it on `input` (the graph input's elements,
// NHWC). Returns the values of every tensor. Fails with InvalidArgument when
// the graph is invalid or `input` has the wrong size.
absl::StatusOr<FloatTensorValues> RunFloatGraph(
    const FloatGraph& graph, const std::vector<float>& input);

// As RunFloatGraph, but returns only the graph output.
absl::StatusOr<std::vector<float>> RunFloatGraphOutput(
    const FloatGraph& graph, const std::vector<float>& input);

// Computes one op: reads (*values)[op.inputs[i]], writes (*values)[op.output].
// `op` need not be in graph.ops (builders evaluate variants of an op), but its
// tensor indices refer to graph.tensors. For building graphs incrementally.
// REQUIRES: values->size() == graph.tensors.size(). Fails when InferOutputShape
// rejects `op`, when its output shape differs from the output tensor's or
// when an input has not been computed (wrong size).
absl::Status RunFloatOp(const FloatGraph& graph, const FloatOp& op,
                        FloatTensorValues* values);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_FLOAT_REFERENCE_H_
