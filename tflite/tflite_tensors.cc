// The importer's tensor mapping (see tflite_importer.h): TFLite tensors
// become engine tensors on first use, checked for what the engine can hold.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mcunas/common/status_macros.h"
#include "tflite/tflite_importer.h"

namespace mcunas::tflite {
namespace {

using engine::QuantOp;
using engine::QuantTensor;

// Engine tensor records hold 16-bit dimensions.
constexpr int32_t kMaxEngineDim = 0xFFFF;

}  // namespace

std::string ShapeString(const std::vector<int32_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

absl::StatusOr<int32_t> Importer::Activation(int32_t t) {
  if (t < 0 || t >= reader_.tensor_count()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t, " missing"));
  }
  if (engine_tensor_[t] >= 0) return engine_tensor_[t];
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo info, reader_.Tensor(t));
  const std::string where = absl::StrCat("tensor ", t, " '", info.name, "'");
  if (info.constant()) {
    return absl::UnimplementedError(
        absl::StrCat(where, " is a constant where the engine needs an "
                            "activation"));
  }
  if (info.type != fb::TensorType::INT8) {
    return absl::UnimplementedError(
        absl::StrCat(where, " is ", TypeName(info.type),
                     " (activations must be int8)"));
  }
  if (info.scales.size() != 1) {
    return absl::UnimplementedError(absl::StrCat(
        where, info.scales.empty() ? " has no quantisation"
                                   : " is quantised per channel",
        " (activations need one scale and zero point)"));
  }
  if (!(info.scales[0] > 0.0f) || info.zero_points[0] < -128 ||
      info.zero_points[0] > 127) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": scale ", info.scales[0], ", zero point ",
                     info.zero_points[0]));
  }
  QuantTensor q;
  q.name = info.name;
  q.type = engine::TensorType::kInt8;
  q.scale = info.scales[0];
  q.zero_point = static_cast<int32_t>(info.zero_points[0]);
  // Engine activations are {1,H,W,C} or {1,C}: leading ones pad lower ranks.
  const std::vector<int32_t>& s = info.shape;
  if (s.size() > 4 || (s.size() >= 2 && s[0] != 1)) {
    return absl::UnimplementedError(absl::StrCat(
        where, " has shape ", ShapeString(s),
        " (the engine runs batch 1, rank <= 4)"));
  }
  switch (s.size()) {
    case 0:
      q.shape = {1, 1};
      break;
    case 1:
      q.shape = {1, s[0]};
      break;
    case 3:
      q.shape = {1, 1, s[1], s[2]};
      break;
    default:
      q.shape = s;
  }
  for (int32_t d : q.shape) {
    if (d > kMaxEngineDim) {
      return absl::UnimplementedError(
          absl::StrCat(where, " has dimension ", d, " (at most 65535)"));
    }
  }
  return AddTensor(t, std::move(q));
}

absl::StatusOr<int32_t> Importer::Weights(int32_t t,
                                          int32_t quantized_dimension,
                                          int32_t channels) {
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo info, reader_.Tensor(t));
  const std::string where = absl::StrCat("weights '", info.name, "'");
  if (!info.constant() || info.type != fb::TensorType::INT8) {
    return absl::UnimplementedError(absl::StrCat(
        where, " are ", info.constant() ? "" : "not constant ",
        TypeName(info.type), " (int8 constants only)"));
  }
  if (info.scales.size() != 1 &&
      (static_cast<int64_t>(info.scales.size()) != channels ||
       info.quantized_dimension != quantized_dimension)) {
    return absl::UnimplementedError(absl::StrCat(
        where, " have ", info.scales.size(), " scales along dimension ",
        info.quantized_dimension, " (wants 1, or ", channels,
        " along dimension ", quantized_dimension, ")"));
  }
  for (int64_t zp : info.zero_points) {
    if (zp != 0) {
      return absl::UnimplementedError(
          absl::StrCat(where, " have zero point ", zp,
                       " (int8 weights must be symmetric)"));
    }
  }
  for (int32_t d : info.shape) {
    if (d > kMaxEngineDim) {
      return absl::UnimplementedError(
          absl::StrCat(where, " have dimension ", d, " (at most 65535)"));
    }
  }
  if (engine_tensor_[t] >= 0) return engine_tensor_[t];
  QuantTensor q;
  q.name = info.name;
  q.type = engine::TensorType::kInt8;
  q.shape = info.shape;
  q.constant = true;
  q.channel_scales = info.scales;
  q.int8_data.resize(info.elements);
  std::memcpy(q.int8_data.data(), info.data, info.elements);
  return AddTensor(t, std::move(q));
}

absl::StatusOr<int32_t> Importer::Bias(int32_t t, int32_t channels) {
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo info, reader_.Tensor(t));
  if (!info.constant() || info.type != fb::TensorType::INT32 ||
      info.elements != static_cast<uint64_t>(channels)) {
    return absl::UnimplementedError(absl::StrCat(
        "bias '", info.name, "' is ", info.constant() ? "" : "not constant ",
        TypeName(info.type), " with ", info.elements,
        " values (wants a constant INT32 with ", channels, ")"));
  }
  if (engine_tensor_[t] >= 0) return engine_tensor_[t];
  QuantTensor q;
  q.name = info.name;
  q.type = engine::TensorType::kInt32;
  q.shape = {channels};
  q.constant = true;
  q.int32_data.resize(info.elements);
  std::memcpy(q.int32_data.data(), info.data, info.elements * 4);
  return AddTensor(t, std::move(q));
}

absl::StatusOr<std::vector<int64_t>> Importer::IntValues(int32_t t) const {
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo info, reader_.Tensor(t));
  if (!info.constant() || (info.type != fb::TensorType::INT32 &&
                           info.type != fb::TensorType::INT64)) {
    return absl::UnimplementedError(absl::StrCat(
        "tensor '", info.name, "' must be a constant INT32 or INT64"));
  }
  std::vector<int64_t> values(info.elements);
  for (uint64_t k = 0; k < info.elements; ++k) {
    if (info.type == fb::TensorType::INT32) {
      int32_t v;
      std::memcpy(&v, info.data + k * 4, 4);
      values[k] = v;
    } else {
      std::memcpy(&values[k], info.data + k * 8, 8);
    }
  }
  return values;
}

int32_t Importer::AddTensor(int32_t t, QuantTensor q) {
  const int32_t index = static_cast<int32_t>(graph_.tensors.size());
  graph_.tensors.push_back(std::move(q));
  engine_tensor_[t] = index;
  return index;
}

absl::Status Importer::AddOp(int32_t i, QuantOp op, std::vector<int32_t> inputs,
                             int32_t output) {
  op.inputs = std::move(inputs);
  op.output = output;
  ops_[i].engine_op = static_cast<int32_t>(graph_.ops.size());
  ops_[i].output_tensor = op.output;
  graph_.ops.push_back(std::move(op));
  return absl::OkStatus();
}

}  // namespace mcunas::tflite
