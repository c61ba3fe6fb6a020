// Host only. The part of writing a model that depends only on shapes: which
// depthwise convs run in place, the arena plan and its lower bound, and where
// every table, constant and parameter block lands in the blob. WriteModel lays
// out every blob with PlanModelLayout; the search space calls it directly to
// get a candidate's exact peak SRAM and flash without making any weights, so
// both figures come from one implementation.
//
//   LayoutGraph g;  // tensor sizes, op kinds, scratch and params sizes
//   MCUNAS_ASSIGN_OR_RETURN(ModelLayout layout, PlanModelLayout(g));
//   // layout.arena_bytes == the blob's arena_bytes,
//   // layout.total_bytes == the blob's size.
//
// Thread-safe; each thread keeps its working memory between calls.
#ifndef MCUNAS_ENGINE_HOST_MODEL_LAYOUT_H_
#define MCUNAS_ENGINE_HOST_MODEL_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/engine/model_format.h"

namespace mcunas::engine {

struct LayoutTensor {
  uint32_t bytes = 0;      // elements times element size
  bool constant = false;   // weights or bias in the blob; else an activation
};

struct LayoutOp {
  OpType type = OpType::kConv2D;
  int32_t depth_multiplier = 1;
  // Tensor indices, activations and constants alike; -1 = none.
  int32_t inputs[3] = {-1, -1, -1};
  int32_t output = -1;
  uint32_t scratch_bytes = 0;  // OpScratchBytes
  uint32_t params_bytes = 0;   // requantisation data (OpParamsBytes)
};

struct LayoutGraph {
  std::vector<LayoutTensor> tensors;
  std::vector<LayoutOp> ops;  // in execution order
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

struct ModelLayout {
  // Per tensor: the arena offset of an activation (aliases share one), or
  // the data-section offset of a constant.
  std::vector<uint32_t> tensor_offsets;
  std::vector<uint32_t> scratch_offsets;  // per op; 0 when it has none
  std::vector<uint32_t> params_offsets;   // per op, data section; 0 if none
  std::vector<bool> in_place;             // per op: output aliases input 0
  uint32_t arena_bytes = 0;        // the greedy (or linear) plan's peak
  uint32_t arena_lower_bound = 0;  // LiveBytesLowerBound of the same buffers
  uint32_t tensor_table_offset = 0;
  uint32_t op_table_offset = 0;
  uint32_t data_offset = 0;
  uint32_t data_bytes = 0;
  uint64_t total_bytes = 0;  // the blob's size; WriteModel rejects > 4 GiB
};

// Plans `graph` as WriteModel would. Every activation is one buffer, live
// from the op that writes it (op 0 for model inputs) to its last reader (the
// last op for model outputs); a reshape's output shares its input's buffer,
// and a depthwise conv (depth multiplier 1) writes in place when every
// tensor in its input's buffer dies at it and none is a model input or
// output (a shared buffer lives as long as its longest-lived tensor); each
// op's scratch is a buffer live only at that op. Constants and
// then op params fill the data section in order, each 16-byte aligned.
// REQUIRES: indices in range and inputs/outputs non-empty (WriteModel checks
// these first). Fails with InvalidArgument when an op reads an activation no
// earlier op wrote or writes one twice, ResourceExhausted when the plan does
// not fit in 32 bits. O(buffers^2).
absl::StatusOr<ModelLayout> PlanModelLayout(const LayoutGraph& graph,
                                            const WriteOptions& options = {});
// The same into `*layout`, reusing its vectors' storage, for callers that
// plan many graphs. `*layout` is unspecified on failure.
absl::Status PlanModelLayout(const LayoutGraph& graph,
                             const WriteOptions& options, ModelLayout* layout);

// The arena scratch an op needs: kernels.h's ConvScratchBytes or
// DepthwiseScratchBytes for conv and depthwise, 0 for the others.
uint32_t OpScratchBytes(OpType type, const ConvParams& params,
                        const Shape3& in, const Shape3& out);

// The requantisation data WriteModel stores for an MBNet op: a multiplier
// and a shift per output channel (conv, depthwise, fully connected),
// AddParams (add), nothing (average pool). nullopt for the other op types,
// whose params only the writer sizes.
std::optional<uint32_t> OpParamsBytes(OpType type, int32_t output_channels);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_MODEL_LAYOUT_H_
