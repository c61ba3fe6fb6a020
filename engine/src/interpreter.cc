#include "mcunas/engine/interpreter.h"

#include <stdint.h>
#include <string.h>

namespace mcunas::engine {
namespace {

ConvParams MakeConvParams(const OpRecord& op, const TensorRecord& in,
                          const TensorRecord& out, const uint8_t* params) {
  const auto* multiplier = reinterpret_cast<const int32_t*>(params);
  ConvParams p;
  p.kernel_h = op.kernel_h;
  p.kernel_w = op.kernel_w;
  p.stride_h = op.stride_h;
  p.stride_w = op.stride_w;
  p.pad_top = op.pad_top;
  p.pad_left = op.pad_left;
  p.depth_multiplier = op.depth_multiplier;
  p.requant.input_offset = -in.zero_point;
  p.requant.output_offset = out.zero_point;
  p.requant.act_min = op.act_min;
  p.requant.act_max = op.act_max;
  p.requant.multiplier = multiplier;
  p.requant.shift = multiplier + out.dims[out.rank - 1];
  return p;
}

}  // namespace

Interpreter::Interpreter(const Model& model, const KernelSet& kernels)
    : model_(model), kernels_(kernels) {}

Status Interpreter::Init(uint8_t* arena, uint32_t arena_bytes) {
  if (arena == nullptr ||
      reinterpret_cast<uintptr_t>(arena) % kArenaAlignment != 0) {
    return Status::kBadAlignment;
  }
  if (arena_bytes < model_.arena_bytes()) return Status::kArenaTooSmall;
  arena_ = arena;
  return Status::kOk;
}

int8_t* Interpreter::Input(uint16_t i) {
  return reinterpret_cast<int8_t*>(arena_ +
                                   model_.tensor(model_.input(i)).offset);
}

const int8_t* Interpreter::Output(uint16_t i) const {
  return Activation(model_.output(i));
}

uint32_t Interpreter::InputBytes(uint16_t i) const {
  return model_.tensor(model_.input(i)).bytes;
}

uint32_t Interpreter::OutputBytes(uint16_t i) const {
  return model_.tensor(model_.output(i)).bytes;
}

const int8_t* Interpreter::Activation(uint16_t tensor) const {
  return reinterpret_cast<const int8_t*>(arena_ +
                                         model_.tensor(tensor).offset);
}

Status Interpreter::Invoke() {
  for (uint16_t i = 0; i < model_.op_count(); ++i) {
    const Status s = InvokeOp(i);
    if (s != Status::kOk) return s;
  }
  return Status::kOk;
}

Status Interpreter::InvokeOp(uint16_t index) {
  if (arena_ == nullptr || index >= model_.op_count()) {
    return Status::kInvalidArgument;
  }
  const OpRecord& op = model_.op(index);
  const TensorRecord& in = model_.tensor(op.inputs[0]);
  const TensorRecord& out = model_.tensor(op.output);
  const int8_t* input = reinterpret_cast<const int8_t*>(arena_ + in.offset);
  int8_t* output = reinterpret_cast<int8_t*>(arena_ + out.offset);
  int8_t* scratch = op.scratch_bytes == 0
                        ? nullptr
                        : reinterpret_cast<int8_t*>(arena_ + op.scratch_offset);
  const uint8_t* params = model_.OpParams(index);
  // Weights and bias are read in place from the blob (flash on a board).
  const auto weights = [&]() {
    return reinterpret_cast<const int8_t*>(model_.ConstantData(op.inputs[1]));
  };
  const auto bias = [&]() -> const int32_t* {
    if (op.inputs[2] == kNoTensor) return nullptr;
    return reinterpret_cast<const int32_t*>(model_.ConstantData(op.inputs[2]));
  };

  switch (static_cast<OpType>(op.type)) {
    case OpType::kConv2D:
      kernels_.conv(MakeConvParams(op, in, out, params), ActivationShape(in),
                    input, weights(), bias(), ActivationShape(out), output,
                    scratch);
      break;
    case OpType::kDepthwiseConv2D:
      kernels_.depthwise(MakeConvParams(op, in, out, params),
                         ActivationShape(in), input, weights(), bias(),
                         ActivationShape(out), output, scratch);
      break;
    case OpType::kAdd: {
      const AddParams& a = *reinterpret_cast<const AddParams*>(params);
      const TensorRecord& in2 = model_.tensor(op.inputs[1]);
      AddQuantParams p;
      p.input1_offset = -in.zero_point;
      p.input2_offset = -in2.zero_point;
      p.output_offset = out.zero_point;
      p.left_shift = a.left_shift;
      p.input1_multiplier = a.input1_multiplier;
      p.input1_shift = a.input1_shift;
      p.input2_multiplier = a.input2_multiplier;
      p.input2_shift = a.input2_shift;
      p.output_multiplier = a.output_multiplier;
      p.output_shift = a.output_shift;
      p.act_min = op.act_min;
      p.act_max = op.act_max;
      kernels_.add(p, static_cast<int32_t>(out.bytes), input,
                   reinterpret_cast<const int8_t*>(arena_ + in2.offset),
                   output);
      break;
    }
    case OpType::kAveragePool2D: {
      PoolParams p;
      p.kernel_h = op.kernel_h;
      p.kernel_w = op.kernel_w;
      p.stride_h = op.stride_h;
      p.stride_w = op.stride_w;
      p.pad_top = op.pad_top;
      p.pad_left = op.pad_left;
      p.act_min = op.act_min;
      p.act_max = op.act_max;
      kernels_.average_pool(p, ActivationShape(in), input,
                            ActivationShape(out), output);
      break;
    }
    case OpType::kFullyConnected: {
      const auto* multiplier = reinterpret_cast<const int32_t*>(params);
      const int32_t out_c = static_cast<int32_t>(out.bytes);
      RequantParams r;
      r.input_offset = -in.zero_point;
      r.output_offset = out.zero_point;
      r.act_min = op.act_min;
      r.act_max = op.act_max;
      r.multiplier = multiplier;
      r.shift = multiplier + out_c;
      kernels_.fully_connected(r, static_cast<int32_t>(in.bytes), input,
                               weights(), bias(), out_c, output);
      break;
    }
    case OpType::kReshape:
      // In place it is an alias and costs nothing; otherwise the loader
      // proved the two ranges disjoint.
      if (output != input) memcpy(output, input, out.bytes);
      break;
    case OpType::kSoftmax: {
      const SoftmaxParams& sp = *reinterpret_cast<const SoftmaxParams*>(params);
      SoftmaxQuantParams p;
      p.input_multiplier = sp.input_multiplier;
      p.input_left_shift = sp.input_left_shift;
      p.diff_min = sp.diff_min;
      const int32_t depth = in.dims[in.rank - 1];
      kernels_.softmax(p, static_cast<int32_t>(in.bytes) / depth, depth, input,
                       output);
      break;
    }
    case OpType::kMean: {
      const MeanParams& mp = *reinterpret_cast<const MeanParams*>(params);
      MeanQuantParams p;
      p.requantize = mp.mode == kMeanRequantize;
      p.input_offset = -in.zero_point;
      p.output_offset = out.zero_point;
      p.multiplier = mp.multiplier;
      p.shift = mp.shift;
      kernels_.mean(p, ActivationShape(in), input, output);
      break;
    }
    case OpType::kQuantize: {
      const RequantizeParams& rp =
          *reinterpret_cast<const RequantizeParams*>(params);
      RequantizeQuantParams p;
      p.input_offset = -in.zero_point;
      p.output_offset = out.zero_point;
      p.multiplier = rp.multiplier;
      p.shift = rp.shift;
      kernels_.requantize(p, static_cast<int32_t>(out.bytes), input, output);
      break;
    }
    case OpType::kTranspose: {
      const TransposeParams& tp =
          *reinterpret_cast<const TransposeParams*>(params);
      const int32_t in_dims[4] = {in.dims[0], in.dims[1], in.dims[2],
                                  in.dims[3]};
      kernels_.transpose(in_dims, tp.perm, input, output);
      break;
    }
    case OpType::kPad: {
      PadQuantParams p;
      p.pad_top = op.pad_top;
      p.pad_left = op.pad_left;
      p.value = static_cast<int8_t>(out.zero_point);
      kernels_.pad(p, ActivationShape(in), input, ActivationShape(out),
                   output);
      break;
    }
  }
  if (observer_ != nullptr) observer_(observer_context_, index);
  return Status::kOk;
}

}  // namespace mcunas::engine
