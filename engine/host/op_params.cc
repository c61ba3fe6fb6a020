// Parameters and checks for the one-input ops added for TFLite interop
// (reshape, softmax, mean, quantize, transpose, pad), as TFLite Micro's
// Prepare derives them. The conv-like ops and add stay in model_writer.cc.
#include "op_params.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_writer.h"

namespace mcunas::engine {
namespace {

// TFLite's kScaledDiffIntegerBits for int8 softmax.
constexpr int kSoftmaxIntegerBits = 5;

int FloorLog2(uint64_t n) {
  int r = 0;
  while (n > 1) {
    n >>= 1;
    ++r;
  }
  return r;
}

uint64_t Elements(const QuantTensor& t) {
  uint64_t n = 1;
  for (int32_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

template <typename T>
void Append(const T& value, std::vector<uint8_t>* out) {
  const size_t at = out->size();
  out->resize(at + sizeof(T));
  std::memcpy(out->data() + at, &value, sizeof(T));
}

}  // namespace

absl::StatusOr<SoftmaxParams> SoftmaxParamsFor(float beta, float input_scale) {
  // PreprocessSoftmaxScaling (without TFLITE_SINGLE_ROUNDING, as TFLite
  // Micro builds it): beta * scale in Q(5).(26), capped below 2^31.
  const double max_real_multiplier = (1LL << 31) - 1.0;
  const double real = std::min<double>(
      static_cast<double>(beta) * static_cast<double>(input_scale) *
          (1 << (31 - kSoftmaxIntegerBits)),
      max_real_multiplier);
  if (!(real > 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "softmax beta ", beta, " times input scale ", input_scale,
        " is too small for TFLite's fixed-point softmax"));
  }
  int32_t multiplier = 0, shift = 0;
  QuantizeMultiplier(real, &multiplier, &shift);
  if (shift < 0 || shift > 30) {
    return absl::InvalidArgumentError(
        absl::StrCat("softmax input scale ", input_scale, " out of range"));
  }
  // CalculateInputRadius(5, shift, 31): differences below -radius give
  // exp() == 0.
  const double max_input_rescaled =
      1.0 * ((1 << kSoftmaxIntegerBits) - 1) *
      static_cast<double>(1LL << (31 - kSoftmaxIntegerBits)) /
      static_cast<double>(1LL << shift);
  SoftmaxParams p{};
  p.input_multiplier = multiplier;
  p.input_left_shift = shift;
  p.diff_min = -static_cast<int32_t>(std::floor(max_input_rescaled));
  p.beta = beta;
  return p;
}

absl::StatusOr<MeanParams> MeanParamsFor(float input_scale,
                                         int32_t input_zero_point,
                                         float output_scale,
                                         int32_t output_zero_point,
                                         int32_t count) {
  MeanParams p{};
  if (count < 1 || uint64_t{static_cast<uint32_t>(count)} * 255 >
                       static_cast<uint64_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat("mean over ", count, " values per channel"));
  }
  // TFLite Micro's EvalIntegerMean: identical quantisation takes the plain
  // integer mean (truncating), anything else requantises.
  if (input_scale == output_scale && input_zero_point == output_zero_point) {
    p.mode = kMeanTruncate;
    return p;
  }
  p.mode = kMeanRequantize;
  QuantizeMultiplier(static_cast<double>(input_scale) /
                         static_cast<double>(output_scale),
                     &p.multiplier, &p.shift);
  // QuantizedMeanOrSum folds 1/count into the multiplier, keeping the shift
  // within what MultiplyByQuantizedMultiplier accepts.
  int fold = std::min(FloorLog2(static_cast<uint64_t>(count)), 32);
  fold = std::min(fold, 31 + p.shift);
  p.multiplier = static_cast<int32_t>(
      (static_cast<int64_t>(p.multiplier) << fold) / count);
  p.shift -= fold;
  const uint64_t reach = uint64_t{255} * static_cast<uint32_t>(count);
  if (p.shift < -31 || p.shift > 30 ||
      (p.shift > 0 && (reach << p.shift) > static_cast<uint64_t>(INT32_MAX))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mean scale ratio ", input_scale / output_scale,
        " cannot be represented"));
  }
  return p;
}

absl::StatusOr<RequantizeParams> RequantizeParamsFor(float input_scale,
                                                     float output_scale) {
  RequantizeParams p{};
  QuantizeMultiplier(static_cast<double>(input_scale) /
                         static_cast<double>(output_scale),
                     &p.multiplier, &p.shift);
  if (p.shift < -31 || p.shift > 22) {
    return absl::InvalidArgumentError(absl::StrCat(
        "requantisation scale ratio ", input_scale / output_scale,
        " out of range"));
  }
  return p;
}

absl::Status PlanInteropOp(const QuantGraph& graph, const QuantOp& op,
                           std::vector<uint8_t>* params) {
  const QuantTensor& in = graph.tensors[op.inputs[0]];
  const QuantTensor& out = graph.tensors[op.output];
  if (op.activation != Activation::kNone) {
    return absl::InvalidArgumentError("this op has no fused activation");
  }
  const bool same_shape = in.shape == out.shape;
  switch (op.type) {
    case OpType::kReshape:
      if (Elements(in) != Elements(out)) {
        return absl::InvalidArgumentError("reshape changes the element count");
      }
      return absl::OkStatus();
    case OpType::kSoftmax: {
      // TFLite Micro's CalculateSoftmaxParams insists on this output.
      if (!same_shape || out.zero_point != -128 ||
          std::fabs(out.scale - 1.0f / 256) > 0.001f / 256) {
        return absl::InvalidArgumentError(
            "softmax output must have the input's shape, scale 1/256 and "
            "zero point -128");
      }
      if (in.shape.back() > 4096) {
        return absl::InvalidArgumentError("softmax over more than 4096 values");
      }
      MCUNAS_ASSIGN_OR_RETURN(const SoftmaxParams p,
                              SoftmaxParamsFor(op.beta, in.scale));
      Append(p, params);
      return absl::OkStatus();
    }
    case OpType::kMean: {
      const bool out_ok =
          Elements(out) == static_cast<uint64_t>(in.shape.back()) &&
          (out.shape.size() == 2 ||
           (out.shape.size() == 4 && out.shape[1] == 1 && out.shape[2] == 1));
      if (in.shape.size() != 4 || !out_ok) {
        return absl::InvalidArgumentError(
            "mean takes {1,H,W,C} to {1,1,1,C} or {1,C}");
      }
      MCUNAS_ASSIGN_OR_RETURN(
          const MeanParams p,
          MeanParamsFor(in.scale, in.zero_point, out.scale, out.zero_point,
                        in.shape[1] * in.shape[2]));
      Append(p, params);
      return absl::OkStatus();
    }
    case OpType::kQuantize: {
      if (!same_shape) {
        return absl::InvalidArgumentError("quantize changes the shape");
      }
      MCUNAS_ASSIGN_OR_RETURN(const RequantizeParams p,
                              RequantizeParamsFor(in.scale, out.scale));
      Append(p, params);
      return absl::OkStatus();
    }
    case OpType::kTranspose: {
      if (in.shape.size() != 4 || out.shape.size() != 4 ||
          op.perm.size() != 4) {
        return absl::InvalidArgumentError(
            "transpose takes 4D tensors and a 4-entry permutation");
      }
      TransposeParams p{};
      uint32_t seen = 0;
      for (int d = 0; d < 4; ++d) {
        const int32_t from = op.perm[d];
        if (from < 0 || from > 3 || out.shape[d] != in.shape[from]) {
          return absl::InvalidArgumentError(
              "transpose permutation does not give the output shape");
        }
        seen |= 1u << from;
        p.perm[d] = from;
      }
      if (seen != 0xF) {
        return absl::InvalidArgumentError("transpose permutation repeats");
      }
      Append(p, params);
      return absl::OkStatus();
    }
    case OpType::kPad:
      if (in.shape.size() != 4 || out.shape.size() != 4 ||
          out.shape[3] != in.shape[3] ||
          out.shape[1] != in.shape[1] + op.pad_top + op.pad_bottom ||
          out.shape[2] != in.shape[2] + op.pad_left + op.pad_right) {
        return absl::InvalidArgumentError(
            "pad output is not the input plus its padding");
      }
      return absl::OkStatus();
    default:
      return absl::InternalError("not an interop op");
  }
}

}  // namespace mcunas::engine
