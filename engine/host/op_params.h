// Host only, private to engine/host: the writer's checks and parameters for
// the one-input ops added for TFLite interop (reshape, softmax, mean,
// quantize, transpose, pad). The public derivations (SoftmaxParamsFor etc.)
// are in model_writer.h. Stateless; thread-safe.
#ifndef MCUNAS_ENGINE_HOST_OP_PARAMS_H_
#define MCUNAS_ENGINE_HOST_OP_PARAMS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::engine {

// Checks `op` against its tensors and appends its op params (model_format.h)
// to `params`. REQUIRES: op.type is one of the interop ops, its input and
// output indices are valid activations (WriteModel checked them). The error
// message does not name the op; the caller adds that.
absl::Status PlanInteropOp(const QuantGraph& graph, const QuantOp& op,
                           std::vector<uint8_t>* params);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_OP_PARAMS_H_
