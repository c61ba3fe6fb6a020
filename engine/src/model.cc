// Model::Load: validates a blob before anything reads through it.
//
// Order matters: the header is checked before the tables it locates, the
// tables before the records in them, tensors before the ops that name them, so
// every read is of bytes already proven to be inside the blob. Sizes are added
// in 64 bits so that no field can wrap a bound check.
#include "mcunas/engine/model.h"

#include <stddef.h>
#include <stdint.h>

#include "model_validator.h"

namespace mcunas::engine {
namespace internal {

Status Fail(Diagnostic* diagnostic, Status status, const char* what,
            int32_t index, uint32_t value, uint32_t limit, const char* scope) {
  if (diagnostic != nullptr) {
    diagnostic->status = status;
    diagnostic->what = what;
    diagnostic->scope = scope;
    diagnostic->index = index;
    diagnostic->value = value;
    diagnostic->limit = limit;
  }
  return status;
}

Status Validator::CheckTensors() const {
  scope_ = "tensor";
  for (uint16_t i = 0; i < header_.tensor_count; ++i) {
    const TensorRecord& t = tensors_[i];
    if (t.type != static_cast<uint8_t>(TensorType::kInt8) &&
        t.type != static_cast<uint8_t>(TensorType::kInt32)) {
      return Fail(Status::kBadEnum, "tensor type", i, t.type);
    }
    if (t.storage != static_cast<uint8_t>(TensorStorage::kArena) &&
        t.storage != static_cast<uint8_t>(TensorStorage::kConstant)) {
      return Fail(Status::kBadEnum, "tensor storage", i, t.storage);
    }
    if (t.rank < 1 || t.rank > kMaxRank) {
      return Fail(Status::kBadShape, "tensor rank", i, t.rank, kMaxRank);
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < kMaxRank; ++d) {
      if (d < t.rank && t.dims[d] == 0) {
        return Fail(Status::kBadShape, "tensor dimension is zero", i, d);
      }
      if (d >= t.rank && t.dims[d] != 1) {
        return Fail(Status::kBadShape, "tensor dimension beyond rank", i,
                    t.dims[d], 1);
      }
      elements *= t.dims[d];
    }
    const uint64_t bytes = elements * ElementBytes(t.type);
    if (bytes != t.bytes) {
      return Fail(Status::kBadShape, "tensor bytes do not match its shape", i,
                  t.bytes, static_cast<uint32_t>(bytes > UINT32_MAX
                                                     ? UINT32_MAX
                                                     : bytes));
    }
    if (t.offset % kArenaAlignment != 0) {
      return Fail(Status::kBadAlignment, "tensor offset", i, t.offset,
                  kArenaAlignment);
    }
    if (t.storage == static_cast<uint8_t>(TensorStorage::kConstant)) {
      if (!InRange(t.offset, t.bytes, header_.data_bytes)) {
        return Fail(Status::kBadOffset, "constant tensor outside data section",
                    i, t.offset, header_.data_bytes);
      }
    } else {
      if (t.type != static_cast<uint8_t>(TensorType::kInt8)) {
        return Fail(Status::kUnsupported, "activation tensor must be int8", i,
                    t.type);
      }
      if (t.zero_point < -128 || t.zero_point > 127) {
        return Fail(Status::kBadQuantization, "activation zero point", i,
                    static_cast<uint32_t>(t.zero_point), 127);
      }
      if (t.rank != 4 && t.rank != 2) {
        return Fail(Status::kBadShape, "activation rank must be 2 or 4", i,
                    t.rank);
      }
      if (t.dims[0] != 1) {
        return Fail(Status::kBadShape, "activation batch must be 1", i,
                    t.dims[0], 1);
      }
      if (!InRange(t.offset, t.bytes, header_.arena_bytes)) {
        return Fail(Status::kBadOffset, "activation outside arena", i,
                    t.offset, header_.arena_bytes);
      }
    }
  }
  return Status::kOk;
}

Status Validator::CheckIo() const {
  if (header_.input_count < 1 || header_.input_count > kMaxModelIo) {
    return Fail(Status::kBadShape, "input count", -1, header_.input_count,
                kMaxModelIo);
  }
  if (header_.output_count < 1 || header_.output_count > kMaxModelIo) {
    return Fail(Status::kBadShape, "output count", -1, header_.output_count,
                kMaxModelIo);
  }
  scope_ = "model";
  const uint16_t* lists[2] = {header_.inputs, header_.outputs};
  const uint16_t counts[2] = {header_.input_count, header_.output_count};
  for (int list = 0; list < 2; ++list) {
    scope_ = list == 0 ? "input" : "output";
    for (uint16_t i = 0; i < counts[list]; ++i) {
      const uint16_t t = lists[list][i];
      if (t >= header_.tensor_count) {
        return Fail(Status::kBadTensorRef,
                    list == 0 ? "model input" : "model output", i, t,
                    header_.tensor_count);
      }
      if (tensors_[t].storage != static_cast<uint8_t>(TensorStorage::kArena)) {
        return Fail(Status::kBadTensorRef,
                    list == 0 ? "model input is not an activation"
                              : "model output is not an activation",
                    i, t);
      }
    }
  }
  return Status::kOk;
}

bool Validator::IsModelInput(uint16_t tensor) const {
  for (uint16_t i = 0; i < header_.input_count; ++i) {
    if (header_.inputs[i] == tensor) return true;
  }
  return false;
}

bool Validator::Overlap(const TensorRecord& a, const TensorRecord& b) const {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

Status Validator::CheckActivationInput(uint16_t index, const OpRecord& op,
                                       int slot) const {
  const uint16_t t = op.inputs[slot];
  if (t >= header_.tensor_count) {
    return Fail(Status::kBadTensorRef, "op input tensor index", index, t,
                header_.tensor_count);
  }
  if (tensors_[t].storage != static_cast<uint8_t>(TensorStorage::kArena)) {
    return Fail(Status::kBadTensorRef, "op input must be an activation", index,
                t);
  }
  if (IsModelInput(t)) return Status::kOk;
  for (uint16_t j = 0; j < index; ++j) {
    if (ops_[j].output == t) return Status::kOk;
  }
  return Fail(Status::kBadTensorRef,
              "op input is neither a model input nor an earlier op's output",
              index, t);
}

Status Validator::CheckConstant(uint16_t index, uint16_t tensor,
                                TensorType type, const char* what) const {
  if (tensor >= header_.tensor_count) {
    return Fail(Status::kBadTensorRef, what, index, tensor,
                header_.tensor_count);
  }
  const TensorRecord& t = tensors_[tensor];
  if (t.storage != static_cast<uint8_t>(TensorStorage::kConstant) ||
      t.type != static_cast<uint8_t>(type)) {
    return Fail(Status::kBadTensorRef, what, index, tensor);
  }
  return Status::kOk;
}

Status Validator::CheckOutput(uint16_t index, const OpRecord& op) const {
  const uint16_t t = op.output;
  if (t >= header_.tensor_count) {
    return Fail(Status::kBadTensorRef, "op output tensor index", index, t,
                header_.tensor_count);
  }
  if (tensors_[t].storage != static_cast<uint8_t>(TensorStorage::kArena)) {
    return Fail(Status::kBadTensorRef, "op output must be an activation",
                index, t);
  }
  if (IsModelInput(t)) {
    return Fail(Status::kBadTensorRef, "op output is a model input", index, t);
  }
  for (uint16_t j = 0; j < index; ++j) {
    if (ops_[j].output == t) {
      return Fail(Status::kBadTensorRef, "tensor written by two ops", index,
                  t);
    }
  }
  return Status::kOk;
}

Status Validator::CheckPerChannelParams(uint16_t index, const OpRecord& op,
                                        uint32_t channels) const {
  const uint64_t expected = uint64_t{8} * channels;
  if (op.params_bytes != expected) {
    return Fail(Status::kBadQuantization, "per-channel params size", index,
                op.params_bytes, static_cast<uint32_t>(expected));
  }
  if (op.params_offset % 4 != 0 ||
      !InRange(op.params_offset, op.params_bytes, header_.data_bytes)) {
    return Fail(Status::kBadOffset, "op params outside data section", index,
                op.params_offset, header_.data_bytes);
  }
  const int32_t* multiplier =
      reinterpret_cast<const int32_t*>(data_ + op.params_offset);
  const int32_t* shift = multiplier + channels;
  for (uint32_t c = 0; c < channels; ++c) {
    if (multiplier[c] < 0) {
      return Fail(Status::kBadQuantization, "negative multiplier", index, c);
    }
    if (shift[c] < -31 || shift[c] > 30) {
      return Fail(Status::kBadQuantization, "shift out of [-31, 30]", index,
                  static_cast<uint32_t>(shift[c]), 30);
    }
  }
  return Status::kOk;
}

Status Validator::CheckScratch(uint16_t index, const OpRecord& op,
                               uint32_t required) const {
  if (op.scratch_bytes < required) {
    return Fail(Status::kArenaTooSmall, "op scratch smaller than required",
                index, op.scratch_bytes, required);
  }
  if (op.scratch_bytes == 0) return Status::kOk;
  if (op.scratch_offset % kArenaAlignment != 0) {
    return Fail(Status::kBadAlignment, "op scratch offset", index,
                op.scratch_offset, kArenaAlignment);
  }
  if (!InRange(op.scratch_offset, op.scratch_bytes, header_.arena_bytes)) {
    return Fail(Status::kBadOffset, "op scratch outside arena", index,
                op.scratch_offset, header_.arena_bytes);
  }
  return Status::kOk;
}

Status Validator::CheckConvLike(uint16_t index, const OpRecord& op) const {
  const bool depthwise =
      op.type == static_cast<uint8_t>(OpType::kDepthwiseConv2D);
  Status s = CheckActivationInput(index, op, 0);
  if (s != Status::kOk) return s;
  s = CheckConstant(index, op.inputs[1], TensorType::kInt8, "op weights");
  if (s != Status::kOk) return s;
  if (op.inputs[2] != kNoTensor) {
    s = CheckConstant(index, op.inputs[2], TensorType::kInt32, "op bias");
    if (s != Status::kOk) return s;
  }
  const TensorRecord& in = tensors_[op.inputs[0]];
  const TensorRecord& w = tensors_[op.inputs[1]];
  const TensorRecord& out = tensors_[op.output];
  if (in.rank != 4 || out.rank != 4 || w.rank != 4) {
    return Fail(Status::kBadShape, "conv tensors must be rank 4", index);
  }
  if (op.kernel_h == 0 || op.kernel_w == 0 || op.stride_h == 0 ||
      op.stride_w == 0 || op.depth_multiplier == 0) {
    return Fail(Status::kBadShape, "zero kernel, stride or depth multiplier",
                index);
  }
  if (op.pad_top >= op.kernel_h || op.pad_bottom >= op.kernel_h ||
      op.pad_left >= op.kernel_w || op.pad_right >= op.kernel_w) {
    return Fail(Status::kBadShape, "padding not smaller than the kernel",
                index);
  }
  const uint32_t in_c = in.dims[3];
  const uint32_t out_c = out.dims[3];
  if (depthwise) {
    if (w.dims[0] != 1 || w.dims[1] != op.kernel_h ||
        w.dims[2] != op.kernel_w || w.dims[3] != out_c ||
        out_c != in_c * op.depth_multiplier) {
      return Fail(Status::kBadShape, "depthwise weights [1,kh,kw,C] mismatch",
                  index);
    }
  } else {
    if (op.depth_multiplier != 1 || w.dims[0] != out_c ||
        w.dims[1] != op.kernel_h || w.dims[2] != op.kernel_w ||
        w.dims[3] != in_c) {
      return Fail(Status::kBadShape, "conv weights [Cout,kh,kw,Cin] mismatch",
                  index);
    }
  }
  if (op.inputs[2] != kNoTensor) {
    const TensorRecord& b = tensors_[op.inputs[2]];
    if (b.bytes != out_c * 4) {
      return Fail(Status::kBadShape, "bias size is not Cout", index, b.bytes,
                  out_c * 4);
    }
  }
  const uint32_t padded_h = in.dims[1] + op.pad_top + op.pad_bottom;
  const uint32_t padded_w = in.dims[2] + op.pad_left + op.pad_right;
  if (padded_h < op.kernel_h || padded_w < op.kernel_w ||
      out.dims[1] != (padded_h - op.kernel_h) / op.stride_h + 1 ||
      out.dims[2] != (padded_w - op.kernel_w) / op.stride_w + 1) {
    return Fail(Status::kBadShape,
                "output size does not follow from input, kernel, stride and "
                "padding",
                index);
  }
  s = CheckPerChannelParams(index, op, out_c);
  if (s != Status::kOk) return s;
  s = CheckAccumulator(index, op,
                       uint64_t{op.kernel_h} * op.kernel_w *
                           (depthwise ? 1u : in_c));
  if (s != Status::kOk) return s;
  ConvParams params;
  params.kernel_h = op.kernel_h;
  params.kernel_w = op.kernel_w;
  params.stride_h = op.stride_h;
  params.stride_w = op.stride_w;
  params.pad_top = op.pad_top;
  params.pad_left = op.pad_left;
  params.depth_multiplier = op.depth_multiplier;
  const Shape3 in_shape = ActivationShape(in);
  const Shape3 out_shape = ActivationShape(out);
  const uint32_t required =
      depthwise ? DepthwiseScratchBytes(params, in_shape, out_shape)
                : ConvScratchBytes(params, in_shape, out_shape);
  s = CheckScratch(index, op, required);
  if (s != Status::kOk) return s;
  if ((op.flags & kOpFlagInPlace) != 0) {
    if (!depthwise || op.depth_multiplier != 1 || out.offset != in.offset ||
        out.bytes > in.bytes) {
      return Fail(Status::kBadShape, "invalid in-place op", index);
    }
  } else if (Overlap(in, out)) {
    return Fail(Status::kBadOffset, "output overlaps input", index);
  }
  return Status::kOk;
}

Status Validator::CheckAdd(uint16_t index, const OpRecord& op) const {
  for (int slot = 0; slot < 2; ++slot) {
    const Status s = CheckActivationInput(index, op, slot);
    if (s != Status::kOk) return s;
  }
  const TensorRecord& a = tensors_[op.inputs[0]];
  const TensorRecord& b = tensors_[op.inputs[1]];
  const TensorRecord& out = tensors_[op.output];
  for (uint32_t d = 0; d < kMaxRank; ++d) {
    if (a.dims[d] != out.dims[d] || b.dims[d] != out.dims[d]) {
      return Fail(Status::kBadShape, "add inputs and output differ in shape",
                  index);
    }
  }
  if (op.params_bytes != sizeof(AddParams) || op.params_offset % 4 != 0 ||
      !InRange(op.params_offset, op.params_bytes, header_.data_bytes)) {
    return Fail(Status::kBadOffset, "add params", index, op.params_offset,
                header_.data_bytes);
  }
  const AddParams& p =
      *reinterpret_cast<const AddParams*>(data_ + op.params_offset);
  // Inputs are shifted left by left_shift (TFLite: 20) and then scaled by at
  // most 1/2 each (real multipliers s_i / (2 max s)), so that any two inputs
  // sum without overflow: 255 << 23 still fits, and each input multiplier
  // must be at most 1/2.
  const auto at_most_half = [](int32_t multiplier, int32_t shift) {
    return shift < 0 || multiplier <= (int32_t{1} << 30);
  };
  if (p.left_shift < 0 || p.left_shift > 23 || p.input1_shift > 0 ||
      p.input1_shift < -31 || p.input2_shift > 0 || p.input2_shift < -31 ||
      p.output_shift > 0 || p.output_shift < -31 ||
      p.input1_multiplier < 0 || p.input2_multiplier < 0 ||
      p.output_multiplier < 0 ||
      !at_most_half(p.input1_multiplier, p.input1_shift) ||
      !at_most_half(p.input2_multiplier, p.input2_shift)) {
    return Fail(Status::kBadQuantization, "add multipliers or shifts", index);
  }
  return CheckScratch(index, op, 0);
}

Status Validator::CheckAveragePool(uint16_t index, const OpRecord& op) const {
  const Status s = CheckActivationInput(index, op, 0);
  if (s != Status::kOk) return s;
  const TensorRecord& in = tensors_[op.inputs[0]];
  const TensorRecord& out = tensors_[op.output];
  if (in.rank != 4 || out.rank != 4 || in.dims[3] != out.dims[3]) {
    return Fail(Status::kBadShape, "pool tensors must be rank 4, same C",
                index);
  }
  if (op.kernel_h == 0 || op.kernel_w == 0 || op.stride_h == 0 ||
      op.stride_w == 0 || op.pad_top >= op.kernel_h ||
      op.pad_bottom >= op.kernel_h || op.pad_left >= op.kernel_w ||
      op.pad_right >= op.kernel_w) {
    return Fail(Status::kBadShape, "pool kernel, stride or padding", index);
  }
  const uint32_t padded_h = in.dims[1] + op.pad_top + op.pad_bottom;
  const uint32_t padded_w = in.dims[2] + op.pad_left + op.pad_right;
  if (padded_h < op.kernel_h || padded_w < op.kernel_w ||
      out.dims[1] != (padded_h - op.kernel_h) / op.stride_h + 1 ||
      out.dims[2] != (padded_w - op.kernel_w) / op.stride_w + 1) {
    return Fail(Status::kBadShape, "pool output size", index);
  }
  if (in.zero_point != out.zero_point || in.scale != out.scale) {
    return Fail(Status::kBadQuantization,
                "pool input and output quantisation differ", index);
  }
  if (Overlap(in, out)) {
    return Fail(Status::kBadOffset, "output overlaps input", index);
  }
  return CheckScratch(index, op, 0);
}

Status Validator::CheckFullyConnected(uint16_t index,
                                      const OpRecord& op) const {
  Status s = CheckActivationInput(index, op, 0);
  if (s != Status::kOk) return s;
  s = CheckConstant(index, op.inputs[1], TensorType::kInt8, "op weights");
  if (s != Status::kOk) return s;
  const TensorRecord& in = tensors_[op.inputs[0]];
  const TensorRecord& w = tensors_[op.inputs[1]];
  const TensorRecord& out = tensors_[op.output];
  const uint32_t out_c = out.bytes;
  if (w.rank != 2 || w.dims[0] != out_c || w.dims[1] != in.bytes) {
    return Fail(Status::kBadShape, "fully connected weights [Cout,Cin]",
                index);
  }
  if (op.inputs[2] != kNoTensor) {
    s = CheckConstant(index, op.inputs[2], TensorType::kInt32, "op bias");
    if (s != Status::kOk) return s;
    if (tensors_[op.inputs[2]].bytes != out_c * 4) {
      return Fail(Status::kBadShape, "bias size is not Cout", index);
    }
  }
  if (Overlap(in, out)) {
    return Fail(Status::kBadOffset, "output overlaps input", index);
  }
  s = CheckPerChannelParams(index, op, out_c);
  if (s != Status::kOk) return s;
  s = CheckAccumulator(index, op, in.bytes);
  if (s != Status::kOk) return s;
  return CheckScratch(index, op, 0);
}

Status Validator::CheckOp(uint16_t index) const {
  const OpRecord& op = ops_[index];
  if (op.type == 0 || op.type > kMaxOpType) {
    return Fail(Status::kBadEnum, "op type", index, op.type, kMaxOpType);
  }
  if (op.activation > kMaxActivation) {
    return Fail(Status::kBadEnum, "op activation", index, op.activation,
                kMaxActivation);
  }
  if (op.act_min > op.act_max) {
    return Fail(Status::kBadQuantization, "act_min above act_max", index);
  }
  if ((op.flags & ~kOpFlagInPlace) != 0) {
    return Fail(Status::kBadEnum, "op flags", index, op.flags);
  }
  // Slots an op does not use must say so: tools walk every slot.
  const int used_slots =
      op.type == static_cast<uint8_t>(OpType::kAdd) ? 2
      : op.type == static_cast<uint8_t>(OpType::kConv2D) ||
              op.type == static_cast<uint8_t>(OpType::kDepthwiseConv2D) ||
              op.type == static_cast<uint8_t>(OpType::kFullyConnected)
          ? 3
          : 1;
  for (int slot = used_slots; slot < 3; ++slot) {
    if (op.inputs[slot] != kNoTensor) {
      return Fail(Status::kBadTensorRef, "unused input slot is not empty",
                  index, op.inputs[slot]);
    }
  }
  Status s = CheckOutput(index, op);
  if (s != Status::kOk) return s;
  switch (static_cast<OpType>(op.type)) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
      return CheckConvLike(index, op);
    case OpType::kAdd:
      return CheckAdd(index, op);
    case OpType::kAveragePool2D:
      return CheckAveragePool(index, op);
    case OpType::kFullyConnected:
      return CheckFullyConnected(index, op);
    case OpType::kReshape:
    case OpType::kSoftmax:
    case OpType::kMean:
    case OpType::kQuantize:
    case OpType::kTranspose:
    case OpType::kPad:
      return CheckLayoutOp(index, op);
  }
  return Fail(Status::kBadEnum, "op type", index, op.type);
}

Status Validator::CheckOps() const {
  scope_ = "op";
  for (uint16_t i = 0; i < header_.op_count; ++i) {
    const Status s = CheckOp(i);
    if (s != Status::kOk) return s;
  }
  scope_ = "output";
  for (uint16_t i = 0; i < header_.output_count; ++i) {
    const uint16_t t = header_.outputs[i];
    bool produced = IsModelInput(t);
    for (uint16_t j = 0; j < header_.op_count && !produced; ++j) {
      produced = ops_[j].output == t;
    }
    if (!produced) {
      return Fail(Status::kBadTensorRef, "model output is never written", i,
                  t);
    }
  }
  return Status::kOk;
}

}  // namespace internal

using internal::Fail;
using internal::ElementBytes;
using internal::InRange;

Shape3 ActivationShape(const TensorRecord& tensor) {
  Shape3 shape;
  if (tensor.rank == 4) {
    shape.h = tensor.dims[1];
    shape.w = tensor.dims[2];
    shape.c = tensor.dims[3];
  } else {
    shape.c = static_cast<int32_t>(ElementCount(tensor));
  }
  return shape;
}

uint32_t ElementCount(const TensorRecord& tensor) {
  return tensor.bytes / ElementBytes(tensor.type);
}

uint32_t RequiredScratchBytes(const Model& model, uint16_t index) {
  const OpRecord& op = model.op(index);
  const bool depthwise =
      op.type == static_cast<uint8_t>(OpType::kDepthwiseConv2D);
  if (!depthwise && op.type != static_cast<uint8_t>(OpType::kConv2D)) return 0;
  ConvParams params;
  params.kernel_h = op.kernel_h;
  params.kernel_w = op.kernel_w;
  params.stride_h = op.stride_h;
  params.stride_w = op.stride_w;
  params.pad_top = op.pad_top;
  params.pad_left = op.pad_left;
  params.depth_multiplier = op.depth_multiplier;
  const Shape3 in = ActivationShape(model.tensor(op.inputs[0]));
  const Shape3 out = ActivationShape(model.tensor(op.output));
  return depthwise ? DepthwiseScratchBytes(params, in, out)
                   : ConvScratchBytes(params, in, out);
}

Status Model::Load(const uint8_t* blob, uint32_t size,
                   const LoadOptions& options, Model* model,
                   Diagnostic* diagnostic) {
  if (blob == nullptr || model == nullptr) {
    return Fail(diagnostic, Status::kInvalidArgument, "null blob or model");
  }
  if (reinterpret_cast<uintptr_t>(blob) % kBlobAlignment != 0) {
    return Fail(diagnostic, Status::kBadAlignment, "blob address", -1, 0,
                kBlobAlignment);
  }
  if (size < sizeof(ModelHeader)) {
    return Fail(diagnostic, Status::kTruncated, "header", -1, size,
                sizeof(ModelHeader));
  }
  const ModelHeader& h = *reinterpret_cast<const ModelHeader*>(blob);
  if (h.magic != kModelMagic) {
    return Fail(diagnostic, Status::kBadMagic, "magic", -1, h.magic,
                kModelMagic);
  }
  if (h.version != kModelVersion) {
    return Fail(diagnostic, Status::kBadVersion, "version", -1, h.version,
                kModelVersion);
  }
  if (h.header_bytes != sizeof(ModelHeader) ||
      h.tensor_record_bytes != sizeof(TensorRecord) ||
      h.op_record_bytes != sizeof(OpRecord)) {
    return Fail(diagnostic, Status::kBadVersion, "record sizes");
  }
  if (h.total_bytes < sizeof(ModelHeader) || h.total_bytes > size) {
    return Fail(diagnostic, Status::kTruncated, "total_bytes", -1,
                h.total_bytes, size);
  }
  const uint64_t tensor_table = uint64_t{h.tensor_count} * sizeof(TensorRecord);
  const uint64_t op_table = uint64_t{h.op_count} * sizeof(OpRecord);
  if (h.tensor_table_offset % kBlobAlignment != 0 ||
      h.op_table_offset % kBlobAlignment != 0 ||
      h.data_offset % kBlobAlignment != 0) {
    return Fail(diagnostic, Status::kBadAlignment, "table offset");
  }
  if (h.tensor_table_offset < sizeof(ModelHeader) ||
      !InRange(h.tensor_table_offset, tensor_table, h.total_bytes)) {
    return Fail(diagnostic, Status::kBadOffset, "tensor table", -1,
                h.tensor_table_offset, h.total_bytes);
  }
  if (h.op_table_offset < sizeof(ModelHeader) ||
      !InRange(h.op_table_offset, op_table, h.total_bytes)) {
    return Fail(diagnostic, Status::kBadOffset, "op table", -1,
                h.op_table_offset, h.total_bytes);
  }
  if (h.data_offset < sizeof(ModelHeader) ||
      !InRange(h.data_offset, h.data_bytes, h.total_bytes)) {
    return Fail(diagnostic, Status::kBadOffset, "data section", -1,
                h.data_offset, h.total_bytes);
  }
  if (h.op_count == 0) {
    return Fail(diagnostic, Status::kBadShape, "model has no ops");
  }
  if (options.verify_checksum) {
    const uint32_t crc =
        Crc32(blob + sizeof(ModelHeader), h.total_bytes - sizeof(ModelHeader));
    if (crc != h.crc32) {
      return Fail(diagnostic, Status::kBadChecksum, "crc32", -1, crc, h.crc32);
    }
  }
  const auto* tensors =
      reinterpret_cast<const TensorRecord*>(blob + h.tensor_table_offset);
  const auto* ops = reinterpret_cast<const OpRecord*>(blob + h.op_table_offset);
  const uint8_t* data = blob + h.data_offset;
  const internal::Validator validator(h, tensors, ops, data, diagnostic);
  Status s = validator.CheckTensors();
  if (s != Status::kOk) return s;
  s = validator.CheckIo();
  if (s != Status::kOk) return s;
  s = validator.CheckOps();
  if (s != Status::kOk) return s;

  model->header_ = &h;
  model->tensors_ = tensors;
  model->ops_ = ops;
  model->data_ = data;
  return Status::kOk;
}

}  // namespace mcunas::engine
