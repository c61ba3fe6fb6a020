// ExportTflite: QuantGraph -> .tflite flatbuffer. One TFLite tensor per
// engine tensor (same index), then the small constants TFLite ops take as
// inputs (shapes, axes, permutations, paddings) and any PAD outputs.
#include "mcunas/tflite/tflite_export.h"

#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/graph_from_model.h"
#include "mcunas/engine/host/model_writer.h"
#include "tflite/schema/tflite_subset_generated.h"

namespace mcunas::tflite {
namespace {

using engine::OpType;
using engine::QuantGraph;
using engine::QuantOp;
using engine::QuantTensor;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

fb::ActivationFunctionType Fused(engine::Activation a) {
  switch (a) {
    case engine::Activation::kRelu:
      return fb::ActivationFunctionType::RELU;
    case engine::Activation::kRelu6:
      return fb::ActivationFunctionType::RELU6;
    case engine::Activation::kNone:
      break;
  }
  return fb::ActivationFunctionType::NONE;
}

class Exporter {
 public:
  Exporter(const QuantGraph& graph, const ExportOptions& options)
      : graph_(graph), options_(options) {}

  absl::StatusOr<std::vector<uint8_t>> Run();

 private:
  // One TFLite tensor, before it is serialised.
  struct Tensor {
    std::string name;
    fb::TensorType type = fb::TensorType::INT8;
    std::vector<int32_t> shape;
    std::vector<float> scales;  // empty: no quantisation
    std::vector<int64_t> zero_points;
    int32_t quantized_dimension = 0;
    std::vector<uint8_t> data;  // constant bytes; empty for activations
  };
  struct Op {
    fb::BuiltinOperator code;
    int32_t version;
    std::vector<int32_t> inputs, outputs;
    fb::BuiltinOptions options_type = fb::BuiltinOptions::NONE;
    Offset<void> options;
  };

  absl::Status AddTensors();
  absl::Status AddOp(const QuantOp& op);
  // SAME, VALID, or an explicit PAD in front of a VALID window (`*input`
  // then names the PAD's output).
  absl::StatusOr<fb::Padding> Padding(const QuantOp& op, int32_t* input,
                                      bool may_pad);
  int32_t IntConstant(const std::string& name, std::vector<int32_t> shape,
                      const std::vector<int32_t>& values);
  void Push(fb::BuiltinOperator code, int32_t version,
            std::vector<int32_t> inputs, int32_t output,
            fb::BuiltinOptions type, Offset<void> options);
  std::vector<uint8_t> Finish();

  const QuantGraph& graph_;
  const ExportOptions& options_;
  FlatBufferBuilder fbb_;
  std::vector<Tensor> tensors_;
  std::vector<Op> ops_;
};

absl::Status Exporter::AddTensors() {
  // Weights are quantised along TFLite's channel dimension for their op:
  // 0 for conv and fully connected ([out, ...]), 3 for depthwise.
  std::map<int32_t, int32_t> weight_dim;
  std::map<int32_t, std::vector<float>> bias_scales;
  for (const QuantOp& op : graph_.ops) {
    if (op.type != OpType::kConv2D && op.type != OpType::kDepthwiseConv2D &&
        op.type != OpType::kFullyConnected) {
      continue;
    }
    weight_dim[op.inputs[1]] = op.type == OpType::kDepthwiseConv2D ? 3 : 0;
    if (op.inputs[2] >= 0) {
      // TFLite's convention for int32 bias: scale = input * weight scale.
      const QuantTensor& w = graph_.tensors[op.inputs[1]];
      const float in_scale = graph_.tensors[op.inputs[0]].scale;
      std::vector<float>& s = bias_scales[op.inputs[2]];
      s.clear();
      for (float ws : w.channel_scales) s.push_back(in_scale * ws);
    }
  }
  for (size_t i = 0; i < graph_.tensors.size(); ++i) {
    const QuantTensor& q = graph_.tensors[i];
    Tensor t;
    t.name = q.name.empty() ? absl::StrCat("t", i) : q.name;
    t.shape = q.shape;
    if (!q.constant) {
      t.scales = {q.scale};
      t.zero_points = {q.zero_point};
    } else if (q.type == engine::TensorType::kInt8) {
      t.scales = q.channel_scales;
      t.zero_points.assign(t.scales.size(), 0);
      const auto dim = weight_dim.find(static_cast<int32_t>(i));
      t.quantized_dimension = dim == weight_dim.end() ? 0 : dim->second;
      t.data.resize(q.int8_data.size());
      std::memcpy(t.data.data(), q.int8_data.data(), q.int8_data.size());
    } else {
      t.type = fb::TensorType::INT32;
      const auto s = bias_scales.find(static_cast<int32_t>(i));
      if (s != bias_scales.end()) {
        t.scales = s->second;
        t.zero_points.assign(t.scales.size(), 0);
      }
      t.data.resize(q.int32_data.size() * 4);
      std::memcpy(t.data.data(), q.int32_data.data(), t.data.size());
    }
    tensors_.push_back(std::move(t));
  }
  return absl::OkStatus();
}

int32_t Exporter::IntConstant(const std::string& name,
                              std::vector<int32_t> shape,
                              const std::vector<int32_t>& values) {
  Tensor t;
  t.name = name;
  t.type = fb::TensorType::INT32;
  t.shape = std::move(shape);
  t.data.resize(values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  tensors_.push_back(std::move(t));
  return static_cast<int32_t>(tensors_.size() - 1);
}

void Exporter::Push(fb::BuiltinOperator code, int32_t version,
                    std::vector<int32_t> inputs, int32_t output,
                    fb::BuiltinOptions type, Offset<void> options) {
  Op op;
  op.code = code;
  op.version = version;
  op.inputs = std::move(inputs);
  op.outputs = {output};
  op.options_type = type;
  op.options = options;
  ops_.push_back(std::move(op));
}

absl::StatusOr<fb::Padding> Exporter::Padding(const QuantOp& op,
                                              int32_t* input, bool may_pad) {
  const std::vector<int32_t>& in = graph_.tensors[*input].shape;
  const std::vector<int32_t>& out = graph_.tensors[op.output].shape;
  const engine::SamePadding h =
      engine::ComputeSamePadding(in[1], op.kernel_h, op.stride_h);
  const engine::SamePadding w =
      engine::ComputeSamePadding(in[2], op.kernel_w, op.stride_w);
  if (op.pad_top == h.before && op.pad_bottom == h.after &&
      op.pad_left == w.before && op.pad_right == w.after && out[1] == h.out &&
      out[2] == w.out) {
    return fb::Padding::SAME;
  }
  if (op.pad_top == 0 && op.pad_bottom == 0 && op.pad_left == 0 &&
      op.pad_right == 0) {
    return fb::Padding::VALID;
  }
  if (!may_pad) {
    return absl::UnimplementedError(absl::StrCat(
        "padding ", op.pad_top, "/", op.pad_bottom, "/", op.pad_left, "/",
        op.pad_right, " is neither SAME nor VALID"));
  }
  // The engine's implicit padding reads as the input zero point, which is
  // what TFLite's PAD fills in.
  const QuantTensor& x = graph_.tensors[*input];
  Tensor padded;
  padded.name = absl::StrCat(x.name.empty() ? "t" : x.name, "/pad");
  padded.shape = {1, in[1] + op.pad_top + op.pad_bottom,
                  in[2] + op.pad_left + op.pad_right, in[3]};
  padded.scales = {x.scale};
  padded.zero_points = {x.zero_point};
  tensors_.push_back(std::move(padded));
  const int32_t padded_index = static_cast<int32_t>(tensors_.size() - 1);
  const int32_t paddings = IntConstant(
      absl::StrCat(tensors_[padded_index].name, "/paddings"), {4, 2},
      {0, 0, op.pad_top, op.pad_bottom, op.pad_left, op.pad_right, 0, 0});
  Push(fb::BuiltinOperator::PAD, 2, {*input, paddings}, padded_index,
       fb::BuiltinOptions::PadOptions, fb::CreatePadOptions(fbb_).Union());
  *input = padded_index;
  return fb::Padding::VALID;
}

absl::Status Exporter::AddOp(const QuantOp& op) {
  int32_t x = op.inputs[0];
  const int32_t y = op.output;
  const fb::ActivationFunctionType act = Fused(op.activation);
  const std::vector<int32_t>& out_shape = graph_.tensors[y].shape;
  switch (op.type) {
    case OpType::kConv2D: {
      MCUNAS_ASSIGN_OR_RETURN(const fb::Padding p, Padding(op, &x, true));
      Push(fb::BuiltinOperator::CONV_2D, 3, {x, op.inputs[1], op.inputs[2]},
           y, fb::BuiltinOptions::Conv2DOptions,
           fb::CreateConv2DOptions(fbb_, p, op.stride_w, op.stride_h, act)
               .Union());
      return absl::OkStatus();
    }
    case OpType::kDepthwiseConv2D: {
      MCUNAS_ASSIGN_OR_RETURN(const fb::Padding p, Padding(op, &x, true));
      Push(fb::BuiltinOperator::DEPTHWISE_CONV_2D, 3,
           {x, op.inputs[1], op.inputs[2]}, y,
           fb::BuiltinOptions::DepthwiseConv2DOptions,
           fb::CreateDepthwiseConv2DOptions(fbb_, p, op.stride_w, op.stride_h,
                                            op.depth_multiplier, act)
               .Union());
      return absl::OkStatus();
    }
    case OpType::kAveragePool2D: {
      // A PAD would count in the average; TFLite's pool skips padding.
      MCUNAS_ASSIGN_OR_RETURN(const fb::Padding p, Padding(op, &x, false));
      Push(fb::BuiltinOperator::AVERAGE_POOL_2D, 2, {x}, y,
           fb::BuiltinOptions::Pool2DOptions,
           fb::CreatePool2DOptions(fbb_, p, op.stride_w, op.stride_h,
                                   op.kernel_w, op.kernel_h, act)
               .Union());
      return absl::OkStatus();
    }
    case OpType::kFullyConnected: {
      const std::vector<int32_t>& in_shape = graph_.tensors[x].shape;
      // keep_num_dims: TFLite's output is then the input shape with the
      // last dimension replaced.
      const bool keep = out_shape.size() == 4;
      if (keep && (in_shape.size() != 4 || in_shape[1] != out_shape[1] ||
                   in_shape[2] != out_shape[2])) {
        return absl::UnimplementedError(
            "fully connected with a 4D output that is not the input's "
            "shape with a new last dimension");
      }
      const bool has_bias = op.inputs[2] >= 0;
      Push(fb::BuiltinOperator::FULLY_CONNECTED,
           !has_bias ? 6 : keep ? 5 : 4,
           has_bias ? std::vector<int32_t>{x, op.inputs[1], op.inputs[2]}
                    : std::vector<int32_t>{x, op.inputs[1]},
           y, fb::BuiltinOptions::FullyConnectedOptions,
           fb::CreateFullyConnectedOptions(
               fbb_, act, fb::FullyConnectedOptionsWeightsFormat::DEFAULT, keep)
               .Union());
      return absl::OkStatus();
    }
    case OpType::kAdd:
      Push(fb::BuiltinOperator::ADD, 2, {x, op.inputs[1]}, y,
           fb::BuiltinOptions::AddOptions,
           fb::CreateAddOptions(fbb_, act).Union());
      return absl::OkStatus();
    case OpType::kReshape: {
      const int32_t shape = IntConstant(
          absl::StrCat(tensors_[y].name, "/shape"),
          {static_cast<int32_t>(out_shape.size())}, out_shape);
      Push(fb::BuiltinOperator::RESHAPE, 1, {x, shape}, y,
           fb::BuiltinOptions::ReshapeOptions,
           fb::CreateReshapeOptions(fbb_, fbb_.CreateVector(out_shape))
               .Union());
      return absl::OkStatus();
    }
    case OpType::kSoftmax:
      Push(fb::BuiltinOperator::SOFTMAX, 2, {x}, y,
           fb::BuiltinOptions::SoftmaxOptions,
           fb::CreateSoftmaxOptions(fbb_, op.beta).Union());
      return absl::OkStatus();
    case OpType::kMean: {
      const int32_t axes =
          IntConstant(absl::StrCat(tensors_[y].name, "/axes"), {2}, {1, 2});
      Push(fb::BuiltinOperator::MEAN, 2, {x, axes}, y,
           fb::BuiltinOptions::ReducerOptions,
           fb::CreateReducerOptions(fbb_, out_shape.size() == 4).Union());
      return absl::OkStatus();
    }
    case OpType::kQuantize:
      Push(fb::BuiltinOperator::QUANTIZE, 1, {x}, y,
           fb::BuiltinOptions::QuantizeOptions,
           fb::CreateQuantizeOptions(fbb_).Union());
      return absl::OkStatus();
    case OpType::kTranspose: {
      const int32_t perm =
          IntConstant(absl::StrCat(tensors_[y].name, "/perm"), {4}, op.perm);
      Push(fb::BuiltinOperator::TRANSPOSE, 2, {x, perm}, y,
           fb::BuiltinOptions::TransposeOptions,
           fb::CreateTransposeOptions(fbb_).Union());
      return absl::OkStatus();
    }
    case OpType::kPad: {
      const int32_t paddings = IntConstant(
          absl::StrCat(tensors_[y].name, "/paddings"), {4, 2},
          {0, 0, op.pad_top, op.pad_bottom, op.pad_left, op.pad_right, 0, 0});
      Push(fb::BuiltinOperator::PAD, 2, {x, paddings}, y,
           fb::BuiltinOptions::PadOptions, fb::CreatePadOptions(fbb_).Union());
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("unknown op type");
}

std::vector<uint8_t> Exporter::Finish() {
  // Buffer 0 is the empty sentinel every activation points at.
  std::vector<Offset<fb::Buffer>> buffers = {fb::CreateBuffer(fbb_)};
  std::vector<Offset<fb::Tensor>> tensors;
  for (const Tensor& t : tensors_) {
    uint32_t buffer = 0;
    if (!t.data.empty()) {
      buffer = static_cast<uint32_t>(buffers.size());
      buffers.push_back(fb::CreateBufferDirect(fbb_, &t.data));
    }
    Offset<fb::QuantizationParameters> quant = 0;
    if (!t.scales.empty()) {
      quant = fb::CreateQuantizationParametersDirect(
          fbb_, nullptr, nullptr, &t.scales, &t.zero_points,
          fb::QuantizationDetails::NONE, 0, t.quantized_dimension);
    }
    tensors.push_back(fb::CreateTensorDirect(fbb_, &t.shape, t.type, buffer,
                                             t.name.c_str(), quant));
  }
  // Operator codes, one per (code, version), in order of first use.
  std::vector<Offset<fb::OperatorCode>> codes;
  std::map<std::pair<int32_t, int32_t>, uint32_t> code_index;
  std::vector<Offset<fb::Operator>> operators;
  for (const Op& op : ops_) {
    const auto key = std::make_pair(static_cast<int32_t>(op.code), op.version);
    auto it = code_index.find(key);
    if (it == code_index.end()) {
      it = code_index.emplace(key, static_cast<uint32_t>(codes.size())).first;
      // Old readers look only at the deprecated byte (codes < 127 fit).
      const int32_t code = static_cast<int32_t>(op.code);
      codes.push_back(fb::CreateOperatorCode(
          fbb_, static_cast<int8_t>(code < 127 ? code : 127), 0, op.version,
          op.code));
    }
    operators.push_back(fb::CreateOperatorDirect(fbb_, it->second, &op.inputs,
                                                 &op.outputs, op.options_type,
                                                 op.options));
  }
  const auto subgraph = fb::CreateSubGraphDirect(
      fbb_, &tensors, &graph_.inputs, &graph_.outputs, &operators, "main");
  const std::vector<Offset<fb::SubGraph>> subgraphs = {subgraph};
  const auto model = fb::CreateModelDirect(fbb_, 3, &codes, &subgraphs,
                                           options_.description.c_str(),
                                           &buffers);
  fb::FinishModelBuffer(fbb_, model);
  return std::vector<uint8_t>(fbb_.GetBufferPointer(),
                              fbb_.GetBufferPointer() + fbb_.GetSize());
}

absl::StatusOr<std::vector<uint8_t>> Exporter::Run() {
  // The writer's checks are the definition of a valid graph.
  MCUNAS_RETURN_IF_ERROR(engine::WriteModel(graph_).status());
  MCUNAS_RETURN_IF_ERROR(AddTensors());
  for (size_t i = 0; i < graph_.ops.size(); ++i) {
    const absl::Status s = AddOp(graph_.ops[i]);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("op ", i, ": ", s.message()));
    }
  }
  return Finish();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> ExportTflite(
    const QuantGraph& graph, const ExportOptions& options) {
  return Exporter(graph, options).Run();
}

absl::StatusOr<std::vector<uint8_t>> ExportTflite(
    const engine::Model& model, const ExportOptions& options) {
  MCUNAS_ASSIGN_OR_RETURN(const QuantGraph graph,
                          engine::GraphFromModel(model));
  return ExportTflite(graph, options);
}

}  // namespace mcunas::tflite
