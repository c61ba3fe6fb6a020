#include "mcunas/engine/host/model_layout.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/memory_planner.h"

namespace mcunas::engine {
namespace {

constexpr uint64_t Align(uint64_t value, uint32_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

absl::Status OpError(size_t index, const LayoutOp& op,
                     const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(
      "op ", index, " (type ", static_cast<int>(op.type), "): ", message));
}

// The arena buffers of a graph: one per activation (in-place depthwise
// outputs and reshape outputs share their input's) and one per op scratch.
// A buffer shared by several tensors (an alias group) lives from its first
// member's first use to its last member's last.
struct Buffers {
  std::vector<uint32_t> bytes;
  std::vector<uint16_t> first;
  std::vector<uint16_t> last;
  std::vector<bool> holds_io;       // a model input or output is in it
  std::vector<int32_t> of_tensor;   // buffer index per tensor; -1 = none
  std::vector<int32_t> of_scratch;  // buffer index per op; -1 = none

  void Clear() {
    bytes.clear();
    first.clear();
    last.clear();
    holds_io.clear();
  }
  int32_t Add(uint32_t size, int32_t from, int32_t to, bool io = false) {
    bytes.push_back(static_cast<uint32_t>(Align(size, kArenaAlignment)));
    first.push_back(static_cast<uint16_t>(from));
    last.push_back(static_cast<uint16_t>(to));
    holds_io.push_back(io);
    return static_cast<int32_t>(bytes.size() - 1);
  }
};

// The working memory of PlanModelLayout. One per thread, kept between calls:
// a search plans tens of thousands of graphs, and allocating it afresh each
// time was a measurable share of a constraint check.
struct Workspace {
  Buffers buffers;
  std::vector<int32_t> first, last;  // lifetimes per tensor; -1 = not live
  std::vector<uint32_t> offsets;     // per buffer
  std::vector<uint32_t> scratch;     // the planner's
};

Workspace& ThreadWorkspace() {
  thread_local Workspace workspace;
  return workspace;
}

absl::Status MakeBuffers(const LayoutGraph& graph, const WriteOptions& options,
                         Workspace* work, std::vector<bool>* in_place) {
  Buffers* buffers = &work->buffers;
  buffers->Clear();
  const size_t n_tensors = graph.tensors.size();
  const int32_t last_op = static_cast<int32_t>(graph.ops.size()) - 1;
  const auto is_activation = [&](int32_t t) {
    return t >= 0 && !graph.tensors[t].constant;
  };
  std::vector<int32_t>& first = work->first;
  std::vector<int32_t>& last = work->last;
  first.assign(n_tensors, -1);
  last.assign(n_tensors, -1);
  for (int32_t t : graph.inputs) first[t] = 0;
  for (int32_t i = 0; i <= last_op; ++i) {
    const LayoutOp& op = graph.ops[i];
    if (first[op.output] < 0) first[op.output] = i;
    last[op.output] = std::max(last[op.output], i);
    for (int32_t t : op.inputs) {
      if (is_activation(t)) last[t] = std::max(last[t], i);
    }
  }
  for (int32_t t : graph.outputs) last[t] = last_op;

  const auto is_io = [&](int32_t t) {
    return std::count(graph.inputs.begin(), graph.inputs.end(), t) > 0 ||
           std::count(graph.outputs.begin(), graph.outputs.end(), t) > 0;
  };
  buffers->of_tensor.assign(n_tensors, -1);
  buffers->of_scratch.assign(graph.ops.size(), -1);
  in_place->assign(graph.ops.size(), false);
  std::vector<int32_t>& buffer_of = buffers->of_tensor;
  for (int32_t t : graph.inputs) {
    if (buffer_of[t] < 0) {
      buffer_of[t] = buffers->Add(graph.tensors[t].bytes, first[t],
                                  std::max(last[t], 0), /*io=*/true);
    }
  }
  for (int32_t i = 0; i <= last_op; ++i) {
    const LayoutOp& op = graph.ops[i];
    for (int32_t t : op.inputs) {
      if (is_activation(t) && buffer_of[t] < 0) {
        return OpError(i, op, absl::StrCat("reads tensor ", t,
                                           " before any op writes it"));
      }
    }
    const int32_t out = op.output;
    const int32_t in = op.inputs[0];
    if (buffer_of[out] >= 0) {
      return OpError(i, op, "writes a tensor that already has a value");
    }
    const int32_t in_buffer = is_activation(in) ? buffer_of[in] : -1;
    // A reshape is the same bytes under a new shape: always an alias.
    const bool reshape = op.type == OpType::kReshape && in_buffer >= 0 &&
                         graph.tensors[out].bytes == graph.tensors[in].bytes;
    // An in-place depthwise overwrites its input's buffer, so every tensor
    // in it (the input and its reshape aliases) must die here, and none may
    // be a model input (the caller wrote it) or output.
    const bool depthwise =
        options.in_place_depthwise && op.type == OpType::kDepthwiseConv2D &&
        op.depth_multiplier == 1 && in_buffer >= 0 &&
        !buffers->holds_io[in_buffer] && buffers->last[in_buffer] == i &&
        graph.tensors[out].bytes <= graph.tensors[in].bytes;
    if (reshape || depthwise) {
      buffer_of[out] = in_buffer;
      buffers->last[in_buffer] = static_cast<uint16_t>(
          std::max<int32_t>(buffers->last[in_buffer], last[out]));
      if (is_io(out)) buffers->holds_io[in_buffer] = true;
      (*in_place)[i] = true;
    } else {
      buffer_of[out] = buffers->Add(graph.tensors[out].bytes, first[out],
                                    last[out], is_io(out));
    }
    if (op.scratch_bytes > 0) {
      buffers->of_scratch[i] = buffers->Add(op.scratch_bytes, i, i);
    }
  }
  return absl::OkStatus();
}

// Places `buffers` with `planner`; fills offsets and the peak.
absl::Status RunPlanner(MemoryPlanner& planner, const Buffers& buffers,
                        std::vector<uint32_t>* offsets, uint32_t* peak) {
  const uint16_t count = static_cast<uint16_t>(buffers.bytes.size());
  for (uint16_t b = 0; b < count; ++b) {
    if (planner.AddBuffer(buffers.bytes[b], buffers.first[b],
                          buffers.last[b]) != Status::kOk) {
      return absl::InternalError("memory planner rejected a buffer");
    }
  }
  if (planner.Plan() != Status::kOk) {
    return absl::ResourceExhaustedError("memory planner failed");
  }
  offsets->resize(count);
  for (uint16_t b = 0; b < count; ++b) (*offsets)[b] = planner.OffsetOf(b);
  *peak = planner.PeakBytes();
  return absl::OkStatus();
}

}  // namespace

absl::Status PlanModelLayout(const LayoutGraph& graph,
                             const WriteOptions& options, ModelLayout* out) {
  if (graph.ops.empty()) return absl::InvalidArgumentError("graph has no ops");
  ModelLayout& layout = *out;
  Workspace& work = ThreadWorkspace();
  const Buffers& buffers = work.buffers;
  MCUNAS_RETURN_IF_ERROR(MakeBuffers(graph, options, &work, &layout.in_place));
  if (buffers.bytes.size() > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError("too many arena buffers");
  }
  const uint16_t count = static_cast<uint16_t>(buffers.bytes.size());
  std::vector<uint32_t>& offsets = work.offsets;
  uint32_t peak = 0;
  std::vector<uint32_t>& scratch = work.scratch;
  if (options.planner == PlannerKind::kGreedy) {
    scratch.resize(GreedyPlanner::ScratchBytesFor(count) / 4 + 1);
    GreedyPlanner planner(scratch.data(), scratch.size() * 4);
    MCUNAS_RETURN_IF_ERROR(RunPlanner(planner, buffers, &offsets, &peak));
    layout.arena_lower_bound = planner.LowerBoundBytes();
  } else {
    scratch.resize(LinearPlanner::ScratchBytesFor(count) / 4 + 1);
    LinearPlanner planner(scratch.data(), scratch.size() * 4);
    MCUNAS_RETURN_IF_ERROR(RunPlanner(planner, buffers, &offsets, &peak));
    layout.arena_lower_bound = LiveBytesLowerBound(
        buffers.bytes.data(), buffers.first.data(), buffers.last.data(), count);
  }
  layout.arena_bytes = static_cast<uint32_t>(Align(peak, kArenaAlignment));

  // Data section: constants in tensor order, then op params in op order,
  // each 16-byte aligned.
  const size_t n_tensors = graph.tensors.size();
  layout.tensor_offsets.assign(n_tensors, 0);
  uint64_t data = 0;
  for (size_t t = 0; t < n_tensors; ++t) {
    if (graph.tensors[t].constant) {
      layout.tensor_offsets[t] = static_cast<uint32_t>(data);
      data = Align(data + graph.tensors[t].bytes, kBlobAlignment);
    } else if (buffers.of_tensor[t] >= 0) {
      layout.tensor_offsets[t] = offsets[buffers.of_tensor[t]];
    }
  }
  layout.scratch_offsets.assign(graph.ops.size(), 0);
  layout.params_offsets.assign(graph.ops.size(), 0);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (buffers.of_scratch[i] >= 0) {
      layout.scratch_offsets[i] = offsets[buffers.of_scratch[i]];
    }
    if (graph.ops[i].params_bytes > 0) {
      layout.params_offsets[i] = static_cast<uint32_t>(data);
      data = Align(data + graph.ops[i].params_bytes, kBlobAlignment);
    }
  }
  if (data > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("model larger than 4 GiB");
  }
  layout.data_bytes = static_cast<uint32_t>(data);
  layout.tensor_table_offset = sizeof(ModelHeader);
  layout.op_table_offset = static_cast<uint32_t>(
      Align(layout.tensor_table_offset +
                uint64_t{n_tensors} * sizeof(TensorRecord),
            kBlobAlignment));
  const uint64_t data_offset = Align(
      layout.op_table_offset + uint64_t{graph.ops.size()} * sizeof(OpRecord),
      kBlobAlignment);
  layout.data_offset = static_cast<uint32_t>(data_offset);
  layout.total_bytes = data_offset + data;
  return absl::OkStatus();
}

absl::StatusOr<ModelLayout> PlanModelLayout(const LayoutGraph& graph,
                                            const WriteOptions& options) {
  ModelLayout layout;
  MCUNAS_RETURN_IF_ERROR(PlanModelLayout(graph, options, &layout));
  return layout;
}

uint32_t OpScratchBytes(OpType type, const ConvParams& params,
                        const Shape3& in, const Shape3& out) {
  switch (type) {
    case OpType::kConv2D:
      return ConvScratchBytes(params, in, out);
    case OpType::kDepthwiseConv2D:
      return DepthwiseScratchBytes(params, in, out);
    default:
      return 0;
  }
}

std::optional<uint32_t> OpParamsBytes(OpType type, int32_t output_channels) {
  switch (type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kFullyConnected:
      return 2 * sizeof(int32_t) * static_cast<uint32_t>(output_channels);
    case OpType::kAdd:
      return sizeof(AddParams);
    case OpType::kAveragePool2D:
      return 0;
    default:
      return std::nullopt;
  }
}

}  // namespace mcunas::engine
