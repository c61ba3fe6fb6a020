// Host only. What a model costs: parameters, MACs, peak SRAM and its lower
// bound, flash. Every figure comes from the blob and its stored plan, i.e.
// from the engine that runs the model, not from formulas. Thread-safe.
#ifndef MCUNAS_ENGINE_HOST_MODEL_METRICS_H_
#define MCUNAS_ENGINE_HOST_MODEL_METRICS_H_

#include <cstdint>

#include "mcunas/engine/model.h"

namespace mcunas::engine {

struct OpCost {
  uint64_t macs = 0;
  uint64_t params = 0;       // weights + bias elements
  uint32_t live_bytes = 0;   // arena bytes live while this op runs
};

struct EngineMetrics {
  uint64_t params = 0;            // weight and bias elements
  uint64_t macs = 0;              // multiply-accumulates per inference
  uint32_t peak_sram_bytes = 0;   // planned arena: activations, scratch, I/O
  uint32_t sram_lower_bound = 0;  // largest set of bytes live at one op
  uint32_t flash_bytes = 0;       // the whole blob (weights + per-op data +
                                  // tables); engine code is counted apart
  uint32_t weight_bytes = 0;      // constant tensors
  uint32_t op_data_bytes = 0;     // requantisation params
};

EngineMetrics ComputeMetrics(const Model& model);
OpCost ComputeOpCost(const Model& model, uint16_t op);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_MODEL_METRICS_H_
