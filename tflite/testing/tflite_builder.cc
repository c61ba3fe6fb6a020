#include "tflite/testing/tflite_builder.h"

#include <cstring>
#include <map>
#include <utility>

namespace mcunas::tflite::testing {

using flatbuffers::Offset;

int32_t TfliteBuilder::Raw(std::vector<int32_t> shape, fb::TensorType type,
                           std::vector<uint8_t> data, std::vector<float> scales,
                           std::vector<int64_t> zero_points,
                           int32_t quantized_dimension) {
  Tensor t;
  t.name = "t" + std::to_string(tensors_.size());
  t.type = type;
  t.shape = std::move(shape);
  t.data = std::move(data);
  t.scales = std::move(scales);
  t.zero_points = std::move(zero_points);
  t.quantized_dimension = quantized_dimension;
  tensors_.push_back(std::move(t));
  return static_cast<int32_t>(tensors_.size() - 1);
}

int32_t TfliteBuilder::Activation(std::vector<int32_t> shape, float scale,
                                  int64_t zero_point, const std::string& name) {
  const int32_t t = Raw(std::move(shape), fb::TensorType::INT8, {}, {scale},
                        {zero_point});
  if (!name.empty()) tensors_[t].name = name;
  return t;
}

int32_t TfliteBuilder::Float(std::vector<int32_t> shape,
                             const std::string& name) {
  const int32_t t = Raw(std::move(shape), fb::TensorType::FLOAT32, {}, {}, {});
  if (!name.empty()) tensors_[t].name = name;
  return t;
}

int32_t TfliteBuilder::Weights(std::vector<int32_t> shape,
                               std::vector<int8_t> values,
                               std::vector<float> scales,
                               int32_t quantized_dimension) {
  std::vector<uint8_t> data(values.size());
  std::memcpy(data.data(), values.data(), values.size());
  std::vector<int64_t> zero_points(scales.size(), 0);
  return Raw(std::move(shape), fb::TensorType::INT8, std::move(data),
             std::move(scales), std::move(zero_points), quantized_dimension);
}

int32_t TfliteBuilder::Int32(std::vector<int32_t> shape,
                             std::vector<int32_t> values) {
  std::vector<uint8_t> data(values.size() * 4);
  std::memcpy(data.data(), values.data(), data.size());
  return Raw(std::move(shape), fb::TensorType::INT32, std::move(data), {}, {});
}

void TfliteBuilder::Op(fb::BuiltinOperator code, std::vector<int32_t> inputs,
                       std::vector<int32_t> outputs,
                       fb::BuiltinOptions options_type, Options options) {
  ops_.push_back({code, std::move(inputs), std::move(outputs), options_type,
                  std::move(options)});
}

std::vector<uint8_t> TfliteBuilder::Build(const std::vector<int32_t>& inputs,
                                          const std::vector<int32_t>& outputs) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<Offset<fb::Buffer>> buffers = {fb::CreateBuffer(fbb)};
  std::vector<Offset<fb::Tensor>> tensors;
  for (const Tensor& t : tensors_) {
    uint32_t buffer = 0;
    if (!t.data.empty()) {
      buffer = static_cast<uint32_t>(buffers.size());
      buffers.push_back(fb::CreateBufferDirect(fbb, &t.data));
    }
    Offset<fb::QuantizationParameters> quant = 0;
    if (!t.scales.empty() || !t.zero_points.empty()) {
      quant = fb::CreateQuantizationParametersDirect(
          fbb, nullptr, nullptr, &t.scales, &t.zero_points,
          fb::QuantizationDetails::NONE, 0, t.quantized_dimension);
    }
    tensors.push_back(fb::CreateTensorDirect(fbb, &t.shape, t.type, buffer,
                                             t.name.c_str(), quant));
  }
  std::vector<Offset<fb::OperatorCode>> codes;
  std::map<int32_t, uint32_t> code_index;
  std::vector<Offset<fb::Operator>> operators;
  for (const OpDef& op : ops_) {
    const int32_t code = static_cast<int32_t>(op.code);
    auto it = code_index.find(code);
    if (it == code_index.end()) {
      it = code_index.emplace(code, static_cast<uint32_t>(codes.size())).first;
      codes.push_back(fb::CreateOperatorCode(
          fbb, static_cast<int8_t>(code < 127 ? code : 127), 0, 1, op.code));
    }
    const Offset<void> options = op.options ? op.options(fbb) : 0;
    operators.push_back(fb::CreateOperatorDirect(
        fbb, it->second, &op.inputs, &op.outputs, op.options_type, options));
  }
  const auto subgraph = fb::CreateSubGraphDirect(fbb, &tensors, &inputs,
                                                 &outputs, &operators, "main");
  const std::vector<Offset<fb::SubGraph>> subgraphs = {subgraph};
  fb::FinishModelBuffer(
      fbb, fb::CreateModelDirect(fbb, 3, &codes, &subgraphs, "test", &buffers));
  return std::vector<uint8_t>(fbb.GetBufferPointer(),
                              fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace mcunas::tflite::testing
