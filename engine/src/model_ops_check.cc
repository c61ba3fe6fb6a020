// The loader's checks for the ops added for TFLite interop (reshape,
// softmax, mean, quantize, transpose, pad) and the accumulator bound of
// conv-like ops; see model_validator.h.
#include <stdint.h>

#include "model_validator.h"

namespace mcunas::engine::internal {

Status Validator::CheckFixedParams(uint16_t index, const OpRecord& op,
                                   uint32_t bytes,
                                   const uint8_t** params) const {
  if (op.params_bytes != bytes || op.params_offset % 4 != 0 ||
      !InRange(op.params_offset, op.params_bytes, header_.data_bytes)) {
    return Fail(Status::kBadOffset, "op params", index, op.params_offset,
                header_.data_bytes);
  }
  *params = data_ + op.params_offset;
  return Status::kOk;
}

Status Validator::CheckLayoutOp(uint16_t index, const OpRecord& op) const {
  Status s = CheckActivationInput(index, op, 0);
  if (s != Status::kOk) return s;
  const TensorRecord& in = tensors_[op.inputs[0]];
  const TensorRecord& out = tensors_[op.output];
  const OpType type = static_cast<OpType>(op.type);
  if (op.activation != static_cast<uint8_t>(Activation::kNone)) {
    return Fail(Status::kBadEnum, "op has no fused activation", index,
                op.activation);
  }
  bool same_dims = in.rank == out.rank;
  for (uint32_t d = 0; d < kMaxRank; ++d) {
    same_dims = same_dims && in.dims[d] == out.dims[d];
  }
  const uint8_t* params = nullptr;
  switch (type) {
    case OpType::kReshape:
      if (in.bytes != out.bytes) {
        return Fail(Status::kBadShape, "reshape changes the size", index,
                    out.bytes, in.bytes);
      }
      s = CheckFixedParams(index, op, 0, &params);
      break;
    case OpType::kSoftmax: {
      const uint32_t depth = in.dims[in.rank - 1];
      if (!same_dims || depth > 4096) {
        return Fail(Status::kBadShape, "softmax shapes (depth <= 4096)",
                    index, depth, 4096);
      }
      if (out.zero_point != -128) {
        return Fail(Status::kBadQuantization,
                    "softmax output zero point must be -128", index);
      }
      s = CheckFixedParams(index, op, sizeof(SoftmaxParams), &params);
      if (s != Status::kOk) return s;
      const SoftmaxParams& p = *reinterpret_cast<const SoftmaxParams*>(params);
      // No difference that reaches the fixed-point exp may overflow when
      // shifted left.
      const uint64_t reach =
          static_cast<uint64_t>(p.diff_min < -255 ? 255 : -int64_t{p.diff_min});
      if (p.input_multiplier < 0 || p.input_left_shift < 0 ||
          p.input_left_shift > 30 || p.diff_min > 0 ||
          (reach << p.input_left_shift) > INT32_MAX) {
        return Fail(Status::kBadQuantization, "softmax params", index);
      }
      break;
    }
    case OpType::kMean: {
      const bool out_ok = out.bytes == in.dims[3] &&
                          (out.rank == 2 || (out.rank == 4 && out.dims[1] == 1 &&
                                             out.dims[2] == 1));
      if (in.rank != 4 || !out_ok) {
        return Fail(Status::kBadShape, "mean {1,H,W,C} -> C values", index);
      }
      s = CheckFixedParams(index, op, sizeof(MeanParams), &params);
      if (s != Status::kOk) return s;
      const MeanParams& p = *reinterpret_cast<const MeanParams*>(params);
      const uint64_t count = uint64_t{in.dims[1]} * in.dims[2];
      const bool ok =
          p.mode == kMeanTruncate
              ? count * 128 <= INT32_MAX
              : p.mode == kMeanRequantize && p.multiplier >= 0 &&
                    p.shift >= -31 && p.shift <= 30 &&
                    ((count * 255) << (p.shift > 0 ? p.shift : 0)) <=
                        INT32_MAX;
      if (!ok) return Fail(Status::kBadQuantization, "mean params", index);
      break;
    }
    case OpType::kQuantize: {
      if (!same_dims) return Fail(Status::kBadShape, "quantize shapes", index);
      s = CheckFixedParams(index, op, sizeof(RequantizeParams), &params);
      if (s != Status::kOk) return s;
      const RequantizeParams& p =
          *reinterpret_cast<const RequantizeParams*>(params);
      if (p.multiplier < 0 || p.shift < -31 || p.shift > 22) {
        return Fail(Status::kBadQuantization, "requantize params", index);
      }
      break;
    }
    case OpType::kTranspose: {
      if (in.rank != 4 || out.rank != 4) {
        return Fail(Status::kBadShape, "transpose tensors must be rank 4",
                    index);
      }
      s = CheckFixedParams(index, op, sizeof(TransposeParams), &params);
      if (s != Status::kOk) return s;
      const TransposeParams& p =
          *reinterpret_cast<const TransposeParams*>(params);
      uint32_t seen = 0;
      for (uint32_t d = 0; d < 4; ++d) {
        if (p.perm[d] < 0 || p.perm[d] > 3 ||
            out.dims[d] != in.dims[p.perm[d]]) {
          return Fail(Status::kBadShape, "transpose permutation", index, d);
        }
        seen |= 1u << p.perm[d];
      }
      if (seen != 0xF) {
        return Fail(Status::kBadShape, "transpose permutation", index, seen);
      }
      break;
    }
    case OpType::kPad:
      if (in.rank != 4 || out.rank != 4 || in.dims[3] != out.dims[3] ||
          out.dims[1] != uint32_t{in.dims[1]} + op.pad_top + op.pad_bottom ||
          out.dims[2] != uint32_t{in.dims[2]} + op.pad_left + op.pad_right) {
        return Fail(Status::kBadShape, "pad output size", index);
      }
      s = CheckFixedParams(index, op, 0, &params);
      break;
    default:
      return Fail(Status::kBadEnum, "op type", index, op.type);
  }
  if (s != Status::kOk) return s;
  // Only a reshape may alias its input (and then it is all of it).
  if ((op.flags & kOpFlagInPlace) != 0) {
    if (type != OpType::kReshape || out.offset != in.offset) {
      return Fail(Status::kBadShape, "invalid in-place op", index);
    }
  } else if (Overlap(in, out)) {
    return Fail(Status::kBadOffset, "output overlaps input", index);
  }
  return CheckScratch(index, op, 0);
}

Status Validator::CheckAccumulator(uint16_t index, const OpRecord& op,
                                   uint64_t taps) const {
  // Each product is int8 weight times (int8 input - zero point): at most
  // 128 * 255 in magnitude.
  uint64_t worst = taps * 128u * 255u;
  if (op.inputs[2] != kNoTensor) {
    const TensorRecord& b = tensors_[op.inputs[2]];
    const int32_t* bias = reinterpret_cast<const int32_t*>(data_ + b.offset);
    uint64_t largest = 0;
    for (uint32_t c = 0; c < b.bytes / 4; ++c) {
      const uint64_t magnitude =
          bias[c] < 0 ? uint64_t{0} - static_cast<uint64_t>(int64_t{bias[c]})
                      : static_cast<uint64_t>(bias[c]);
      if (magnitude > largest) largest = magnitude;
    }
    worst += largest;
  }
  if (worst > static_cast<uint64_t>(INT32_MAX)) {
    return Fail(Status::kUnsupported, "int32 accumulator could overflow",
                index,
                static_cast<uint32_t>(worst > UINT32_MAX ? UINT32_MAX : worst),
                static_cast<uint32_t>(INT32_MAX));
  }
  return Status::kOk;
}

}  // namespace mcunas::engine::internal
