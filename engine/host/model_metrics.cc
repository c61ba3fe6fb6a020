#include "mcunas/engine/host/model_metrics.h"

#include <algorithm>
#include <map>
#include <vector>

#include "lifetimes.h"

namespace mcunas::engine {
namespace {

uint32_t AlignArena(uint32_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

uint64_t ConstantElements(const Model& model, uint16_t tensor) {
  if (tensor == kNoTensor) return 0;
  return ElementCount(model.tensor(tensor));
}

uint32_t LiveBytesAt(const Model& model, const std::vector<Lifetime>& lifetimes,
                     uint16_t index) {
  // Tensors sharing an offset while both live are in-place aliases of one
  // buffer: count that buffer once, at its larger size.
  std::map<uint32_t, uint32_t> buffers;
  for (uint16_t t = 0; t < model.tensor_count(); ++t) {
    if (!lifetimes[t].LiveAt(index)) continue;
    const TensorRecord& r = model.tensor(t);
    uint32_t& bytes = buffers[r.offset];
    bytes = std::max(bytes, AlignArena(r.bytes));
  }
  uint32_t live = AlignArena(model.op(index).scratch_bytes);
  for (const auto& [offset, bytes] : buffers) live += bytes;
  return live;
}

OpCost CostOf(const Model& model, const std::vector<Lifetime>& lifetimes,
              uint16_t index) {
  const OpRecord& op = model.op(index);
  const TensorRecord& out = model.tensor(op.output);
  OpCost cost;
  switch (static_cast<OpType>(op.type)) {
    case OpType::kConv2D: {
      const TensorRecord& in = model.tensor(op.inputs[0]);
      cost.macs = uint64_t{out.dims[1]} * out.dims[2] * out.dims[3] *
                  op.kernel_h * op.kernel_w * in.dims[3];
      break;
    }
    case OpType::kDepthwiseConv2D:
      cost.macs = uint64_t{out.dims[1]} * out.dims[2] * out.dims[3] *
                  op.kernel_h * op.kernel_w;
      break;
    case OpType::kFullyConnected:
      cost.macs = uint64_t{model.tensor(op.inputs[0]).bytes} * out.bytes;
      break;
    case OpType::kAdd:
    case OpType::kAveragePool2D:
    case OpType::kReshape:
    case OpType::kSoftmax:
    case OpType::kMean:
    case OpType::kQuantize:
    case OpType::kTranspose:
    case OpType::kPad:
      break;  // no weights; by convention not counted as MACs
  }
  if (op.type == static_cast<uint8_t>(OpType::kConv2D) ||
      op.type == static_cast<uint8_t>(OpType::kDepthwiseConv2D) ||
      op.type == static_cast<uint8_t>(OpType::kFullyConnected)) {
    cost.params = ConstantElements(model, op.inputs[1]) +
                  ConstantElements(model, op.inputs[2]);
  }
  cost.live_bytes = LiveBytesAt(model, lifetimes, index);
  return cost;
}

}  // namespace

OpCost ComputeOpCost(const Model& model, uint16_t index) {
  return CostOf(model, ArenaLifetimes(model), index);
}

EngineMetrics ComputeMetrics(const Model& model) {
  EngineMetrics m;
  const std::vector<Lifetime> lifetimes = ArenaLifetimes(model);
  for (uint16_t i = 0; i < model.op_count(); ++i) {
    const OpCost cost = CostOf(model, lifetimes, i);
    m.macs += cost.macs;
    m.params += cost.params;
    m.sram_lower_bound = std::max(m.sram_lower_bound, cost.live_bytes);
    m.op_data_bytes += model.op(i).params_bytes;
  }
  for (uint16_t t = 0; t < model.tensor_count(); ++t) {
    const TensorRecord& r = model.tensor(t);
    if (r.storage == static_cast<uint8_t>(TensorStorage::kConstant)) {
      m.weight_bytes += r.bytes;
    }
  }
  m.peak_sram_bytes = model.arena_bytes();
  m.flash_bytes = model.header().total_bytes;
  return m;
}

}  // namespace mcunas::engine
