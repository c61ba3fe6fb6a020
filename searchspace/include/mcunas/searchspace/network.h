// From an ArchSpec to the engine: the network's ops and shapes (Network),
// an int8 QuantGraph with placeholder weights, a model blob, and the
// model's metrics.
//
// Two paths give the metrics, and they agree exactly (searchspace_test
// checks ≥ 200 random specs against `mcunas-model info` on the written blob):
//   - BuildModelBlob + engine::ComputeMetrics: the real thing (weights made,
//     WriteModel, loaded and validated). Milliseconds per model.
//   - ComputeArchMetrics: the same engine layout code (PlanModelLayout: the
//     writer's in-place rule, greedy planner and blob layout) on shapes
//     alone, no weights. Tens of microseconds; what constraint checks use.
//
// The network: stem conv (k, stride from the space) + ReLU6; per block a 1x1
// expand conv + ReLU6 (unless the ratio is 1), a k x k depthwise conv with
// the stage's stride on its first block + ReLU6, a 1x1 project conv, and a
// residual add when the block keeps its shape; a 1x1 head conv + ReLU6 (if
// the space has one); global average pool; fully connected to the classes.
// Convs use TFLite SAME padding. Stateless functions; thread-safe.
#ifndef MCUNAS_SEARCHSPACE_NETWORK_H_
#define MCUNAS_SEARCHSPACE_NETWORK_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/quant_graph.h"
#include "mcunas/engine/model_format.h"
#include "mcunas/searchspace/arch_spec.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::searchspace {

// An activation: {1, h, w, c}, or {1, c} when `flat` (the classifier).
struct NetTensor {
  int32_t h = 1, w = 1, c = 1;
  bool flat = false;
  int64_t Elements() const { return int64_t{h} * w * c; }
};

// One engine op, shapes only. Weighted ops (conv, depthwise, fully
// connected) own a weights and a bias tensor, which follow the activations
// in the graph's tensor order, op by op.
struct NetOp {
  engine::OpType type = engine::OpType::kConv2D;
  engine::Activation activation = engine::Activation::kNone;
  int32_t kernel = 1;  // square; average pool: the input's h (and w)
  int32_t stride = 1;
  int32_t input = -1;   // activation indices
  int32_t input2 = -1;  // add only
  int32_t output = -1;
  bool weighted() const {
    return type == engine::OpType::kConv2D ||
           type == engine::OpType::kDepthwiseConv2D ||
           type == engine::OpType::kFullyConnected;
  }
};

struct Network {
  std::vector<NetTensor> activations;  // 0 is the input
  std::vector<NetOp> ops;              // in execution order
  int32_t output = -1;
};

// Metrics of one architecture, as engine::ComputeMetrics reports them for
// its blob.
struct ArchMetrics {
  uint64_t params = 0;
  uint64_t macs = 0;
  uint32_t peak_sram_bytes = 0;   // the planned arena
  uint32_t sram_lower_bound = 0;  // largest set of bytes live at one op
  uint32_t flash_bytes = 0;       // the whole blob
  uint32_t weight_bytes = 0;
  uint32_t op_data_bytes = 0;
};

// REQUIRES: `arch` is valid in `space` (Validate); fails otherwise.
absl::StatusOr<Network> BuildNetwork(const SearchSpace& space,
                                     const ArchSpec& arch);

// The network as an int8 graph ready for engine::WriteModel. Weights are a
// deterministic pseudo-random function of `seed`; quantisation parameters
// are fixed placeholders chosen so every requantisation is representable.
// The model runs (for latency measurement) but computes nothing useful; the
// supernet exports trained weights.
absl::StatusOr<engine::QuantGraph> BuildQuantGraph(const SearchSpace& space,
                                                   const ArchSpec& arch,
                                                   uint32_t seed = 1);

// The same for any Network built from NetOps (the latency tables measure
// single blocks this way). REQUIRES: ops in execution order reading only
// earlier activations, activation 0 the only input.
engine::QuantGraph BuildQuantGraph(const Network& net, uint32_t seed = 1);

// BuildQuantGraph + engine::WriteModel.
absl::StatusOr<std::vector<uint8_t>> BuildModelBlob(const SearchSpace& space,
                                                    const ArchSpec& arch,
                                                    uint32_t seed = 1);

// The exact metrics of the blob BuildModelBlob would write, from shapes
// alone. ~10-40 us for the built-in spaces.
absl::StatusOr<ArchMetrics> ComputeArchMetrics(const SearchSpace& space,
                                               const ArchSpec& arch);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_NETWORK_H_
