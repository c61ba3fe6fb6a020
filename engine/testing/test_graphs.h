// Test-only. Small int8 graphs built directly as QuantGraphs (no quantiser),
// and a graph evaluator that runs each op with a KernelSet on its own buffers
// — no blob, no planner, no interpreter — as an oracle for the code that does
// use them. Not thread-safe across calls sharing a graph; fine for tests.
#ifndef MCUNAS_ENGINE_TESTING_TEST_GRAPHS_H_
#define MCUNAS_ENGINE_TESTING_TEST_GRAPHS_H_

#include <cstdint>
#include <vector>

#include "mcunas/engine/host/quant_graph.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine::testing {

// stem conv k3 s2 (ReLU6) -> inverted residual block (1x1 expand ReLU6,
// depthwise k`kernel` s1 ReLU6, 1x1 project, residual add) -> a stride-2
// block without residual -> global average pool -> fully connected.
// Random weights and quantisation parameters from `seed`.
struct TinyGraphOptions {
  int32_t resolution = 12;
  int32_t in_channels = 3;
  int32_t width = 8;
  int32_t expand = 3;
  int32_t kernel = 3;
  int32_t classes = 5;
};
QuantGraph TinyMbv2Graph(uint32_t seed, const TinyGraphOptions& options = {});

// Every op added for TFLite interop on a small random graph: conv -> pad ->
// depthwise -> transpose to NCHW and back -> requantise -> mean (requantised,
// flattened by a reshape) -> fully connected -> softmax, plus a second output
// that is a mean with unchanged quantisation (the truncating form).
QuantGraph InteropGraph(uint32_t seed);

// Random int8 input bytes for tensor `graph.inputs[0]`.
std::vector<int8_t> RandomInput(const QuantGraph& graph, uint32_t seed);

// Runs `graph` op by op with `kernels`, each tensor in its own buffer.
// Returns every tensor's bytes (empty for constants).
std::vector<std::vector<int8_t>> EvaluateGraph(
    const QuantGraph& graph, const KernelSet& kernels,
    const std::vector<int8_t>& input);

}  // namespace mcunas::engine::testing

#endif  // MCUNAS_ENGINE_TESTING_TEST_GRAPHS_H_
