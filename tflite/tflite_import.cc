// ImportTflite: verify, find edge ops and foldable PADs, convert every op
// (collecting every failure), then write the engine blob.
#include "mcunas/tflite/tflite_import.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mcunas/common/status_macros.h"
#include "tflite/tflite_importer.h"
#include "tflite/tflite_reader.h"

namespace mcunas::tflite {

using fb::BuiltinOperator;

std::string OpLabel(const ModelReader& reader, int32_t i) {
  std::string label = absl::StrCat("op ", i, " ", reader.OpName(i));
  const absl::StatusOr<std::vector<int32_t>> outputs = reader.OpOutputs(i);
  if (outputs.ok() && !outputs->empty()) {
    const std::string name = reader.TensorName((*outputs)[0]);
    if (!name.empty()) absl::StrAppend(&label, " '", name, "'");
  }
  return label;
}

absl::Status Importer::FindEdgeOps() {
  const int32_t n_ops = reader_.op_count();
  const int32_t n_tensors = reader_.tensor_count();
  engine_tensor_.assign(n_tensors, -1);
  readers_.assign(n_tensors, 0);
  graph_output_.assign(n_tensors, false);
  written_.assign(n_tensors, false);
  fold_.assign(n_ops, PadFold{});
  folded_into_.assign(n_ops, -1);
  dropped_.assign(n_ops, false);
  MCUNAS_ASSIGN_OR_RETURN(inputs_, reader_.GraphInputs());
  MCUNAS_ASSIGN_OR_RETURN(outputs_, reader_.GraphOutputs());
  for (int32_t i = 0; i < n_ops; ++i) {
    // A bad op is reported when it is converted; here it just adds nothing.
    const absl::StatusOr<std::vector<int32_t>> in = reader_.OpInputs(i);
    if (!in.ok()) continue;
    for (int32_t t : *in) {
      if (t >= 0) ++readers_[t];
    }
  }
  for (int32_t t : outputs_) graph_output_[t] = true;

  const auto type_of = [&](int32_t t) {
    const absl::StatusOr<TensorInfo> info = reader_.Tensor(t);
    return info.ok() ? info->type : fb::TensorType::STRING;
  };
  for (int32_t i = 0; i < n_ops; ++i) {
    const absl::StatusOr<BuiltinOperator> code = reader_.OpCode(i);
    const absl::StatusOr<std::vector<int32_t>> in = reader_.OpInputs(i);
    const absl::StatusOr<std::vector<int32_t>> out = reader_.OpOutputs(i);
    if (!code.ok() || !in.ok() || !out.ok() || in->size() != 1 ||
        out->size() != 1 || (*in)[0] < 0) {
      continue;
    }
    const int32_t x = (*in)[0];
    const int32_t y = (*out)[0];
    // A float model input quantised once: the engine's input is the int8
    // tensor (the caller quantises with its scale and zero point).
    if (*code == BuiltinOperator::QUANTIZE &&
        type_of(x) == fb::TensorType::FLOAT32 &&
        type_of(y) == fb::TensorType::INT8 && readers_[x] == 1 &&
        std::count(inputs_.begin(), inputs_.end(), x) == 1) {
      dropped_[i] = true;
      std::replace(inputs_.begin(), inputs_.end(), x, y);
    }
    // A float model output dequantised from int8: the engine's output is
    // the int8 tensor.
    if (*code == BuiltinOperator::DEQUANTIZE &&
        type_of(x) == fb::TensorType::INT8 &&
        type_of(y) == fb::TensorType::FLOAT32 && readers_[y] == 0 &&
        std::count(outputs_.begin(), outputs_.end(), y) == 1) {
      dropped_[i] = true;
      std::replace(outputs_.begin(), outputs_.end(), y, x);
    }
  }
  for (int32_t t : inputs_) written_[t] = true;
  return absl::OkStatus();
}

void Importer::FindPadFolds() {
  const int32_t n_ops = reader_.op_count();
  std::vector<int32_t> producer(reader_.tensor_count(), -1);
  for (int32_t i = 0; i < n_ops; ++i) {
    const absl::StatusOr<std::vector<int32_t>> out = reader_.OpOutputs(i);
    if (!out.ok()) continue;
    for (int32_t t : *out) producer[t] = i;
  }
  for (int32_t c = 0; c < n_ops; ++c) {
    const absl::StatusOr<BuiltinOperator> code = reader_.OpCode(c);
    const absl::StatusOr<std::vector<int32_t>> in = reader_.OpInputs(c);
    if (!code.ok() || !in.ok() || in->empty() || (*in)[0] < 0 ||
        (*code != BuiltinOperator::CONV_2D &&
         *code != BuiltinOperator::DEPTHWISE_CONV_2D)) {
      continue;
    }
    const int32_t padded = (*in)[0];
    const int32_t p = producer[padded];
    if (p < 0 || p >= c || readers_[padded] != 1 || graph_output_[padded]) {
      continue;
    }
    const absl::StatusOr<BuiltinOperator> pad_code = reader_.OpCode(p);
    if (!pad_code.ok() || (*pad_code != BuiltinOperator::PAD &&
                           *pad_code != BuiltinOperator::PADV2)) {
      continue;
    }
    PadFold fold;
    if (PadFoldFor(p, c, &fold)) {
      fold_[c] = fold;
      folded_into_[p] = c;
    }
  }
}

absl::Status Importer::CheckWritten(const std::vector<int32_t>& inputs) {
  for (int32_t t : inputs) {
    if (t < 0 || written_[t]) continue;
    MCUNAS_ASSIGN_OR_RETURN(const TensorInfo info, reader_.Tensor(t));
    if (!info.constant()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reads tensor ", t, " '", info.name,
                       "' before any op writes it"));
    }
  }
  return absl::OkStatus();
}

absl::Status Importer::ConvertOp(int32_t i, int32_t code) {
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<int32_t> inputs,
                          reader_.OpInputs(i));
  MCUNAS_RETURN_IF_ERROR(CheckWritten(inputs));
  switch (static_cast<BuiltinOperator>(code)) {
    case BuiltinOperator::CONV_2D:
      return ConvertConv(i, /*depthwise=*/false);
    case BuiltinOperator::DEPTHWISE_CONV_2D:
      return ConvertConv(i, /*depthwise=*/true);
    case BuiltinOperator::AVERAGE_POOL_2D:
      return ConvertPool(i);
    case BuiltinOperator::FULLY_CONNECTED:
      return ConvertFullyConnected(i);
    case BuiltinOperator::ADD:
      return ConvertAdd(i);
    case BuiltinOperator::RESHAPE:
    case BuiltinOperator::SQUEEZE:
    case BuiltinOperator::EXPAND_DIMS:
      return ConvertReshape(i);
    case BuiltinOperator::SOFTMAX:
      return ConvertSoftmax(i);
    case BuiltinOperator::MEAN:
      return ConvertMean(i);
    case BuiltinOperator::TRANSPOSE:
      return ConvertTranspose(i);
    case BuiltinOperator::PAD:
    case BuiltinOperator::PADV2:
      return ConvertPad(i);
    case BuiltinOperator::QUANTIZE:
      return ConvertQuantize(i);
    case BuiltinOperator::DEQUANTIZE:
      return absl::UnimplementedError(
          "DEQUANTIZE is supported only from int8 to a float model output");
    default:
      return absl::UnimplementedError("");
  }
}

absl::Status Importer::Run() {
  MCUNAS_RETURN_IF_ERROR(FindEdgeOps());
  FindPadFolds();
  std::vector<std::string> unsupported, invalid;
  const auto fail = [&](int32_t i, const absl::Status& s) {
    const std::string label = OpLabel(reader_, i);
    if (s.code() == absl::StatusCode::kUnimplemented) {
      unsupported.push_back(s.message().empty()
                                ? label
                                : absl::StrCat(label, " (", s.message(), ")"));
    } else {
      invalid.push_back(absl::StrCat(label, ": ", s.message()));
    }
  };
  for (int32_t i = 0; i < reader_.op_count(); ++i) {
    ImportedOp record;
    record.tflite_op = i;
    record.name = reader_.OpName(i);
    ops_.push_back(record);
    absl::Status s;
    const absl::StatusOr<BuiltinOperator> code = reader_.OpCode(i);
    const absl::StatusOr<std::vector<int32_t>> in = reader_.OpInputs(i);
    const absl::StatusOr<std::vector<int32_t>> out = reader_.OpOutputs(i);
    if (!code.ok()) {
      s = code.status();
    } else if (!out.ok()) {
      s = out.status();
    } else if (dropped_[i]) {
      ImportedOp& r = ops_.back();
      r.fate = OpFate::kDropped;
      const bool at_input = *code == BuiltinOperator::QUANTIZE;
      const int32_t int8_tensor = at_input ? (*out)[0] : (*in)[0];
      const absl::StatusOr<int32_t> t = Activation(int8_tensor);
      if (t.ok()) {
        const engine::QuantTensor& q = tensor(*t);
        if (at_input) r.output_tensor = *t;
        r.note = absl::StrCat(
            at_input ? "dropped: the model input is the int8 tensor '"
                     : "dropped: the model output is the int8 tensor '",
            q.name, "' (scale ", q.scale, ", zero point ", q.zero_point,
            at_input ? "); quantise float inputs with these"
                     : "); dequantise outputs with these");
      } else {
        s = t.status();
      }
    } else if (folded_into_[i] >= 0) {
      ops_.back().fate = OpFate::kFolded;
      ops_.back().note = absl::StrCat("folded into the padding of op ",
                                      folded_into_[i], " ",
                                      reader_.OpName(folded_into_[i]));
    } else {
      s = ConvertOp(i, static_cast<int32_t>(*code));
    }
    // Outputs count as written even when the op failed, so that its readers
    // report their own problems, not this one again.
    if (out.ok()) {
      for (int32_t t : *out) written_[t] = true;
    }
    if (!s.ok()) fail(i, s);
  }
  if (invalid.empty() && unsupported.empty()) {
    const auto map_io = [&](const std::vector<int32_t>& list, const char* what,
                            std::vector<int32_t>* engine) -> absl::Status {
      if (list.empty() || list.size() > engine::kMaxModelIo) {
        return absl::UnimplementedError(absl::StrCat(
            list.size(), " model ", what, "s (the engine takes 1 to ",
            engine::kMaxModelIo, ")"));
      }
      for (int32_t t : list) {
        if (!written_[t]) {
          return absl::InvalidArgumentError(absl::StrCat(
              "model ", what, " tensor ", t, " '", reader_.TensorName(t),
              "' is never written by an op"));
        }
        const absl::StatusOr<int32_t> e = Activation(t);
        if (!e.ok()) {
          return absl::Status(e.status().code(),
                              absl::StrCat("model ", what, ": ",
                                           e.status().message()));
        }
        engine->push_back(*e);
      }
      return absl::OkStatus();
    };
    MCUNAS_RETURN_IF_ERROR(map_io(inputs_, "input", &graph_.inputs));
    MCUNAS_RETURN_IF_ERROR(map_io(outputs_, "output", &graph_.outputs));
    if (graph_.ops.empty()) {
      return absl::UnimplementedError("no op is left to run after import");
    }
    return absl::OkStatus();
  }
  if (!invalid.empty()) {
    std::string message =
        absl::StrCat("malformed TFLite model: ", absl::StrJoin(invalid, "; "));
    if (!unsupported.empty()) {
      absl::StrAppend(&message, "; unsupported: ",
                      absl::StrJoin(unsupported, ", "));
    }
    return absl::InvalidArgumentError(message);
  }
  return absl::UnimplementedError(
      absl::StrCat("unsupported: ", absl::StrJoin(unsupported, ", ")));
}

namespace {

// WriteModel names engine ops ("op 5 (type 1): ..."); add the TFLite op.
absl::Status WriterError(const absl::Status& status,
                         const std::vector<ImportedOp>& ops) {
  std::string message(status.message());
  int32_t engine_op = -1;
  if (message.rfind("op ", 0) == 0) {
    engine_op = 0;
    for (size_t k = 3; k < message.size() && message[k] >= '0' &&
                       message[k] <= '9' && engine_op < (1 << 20);
         ++k) {
      engine_op = engine_op * 10 + (message[k] - '0');
    }
  }
  for (const ImportedOp& op : ops) {
    if (engine_op >= 0 && op.engine_op == engine_op) {
      absl::StrAppend(&message, " (engine op ", engine_op, " is TFLite op ",
                      op.tflite_op, " ", op.name, ")");
      break;
    }
  }
  return absl::Status(status.code(),
                      absl::StrCat("cannot write the engine model: ", message));
}

}  // namespace

bool HasTfliteIdentifier(const uint8_t* data, size_t size) {
  return size >= 8 && std::memcmp(data + 4, fb::ModelIdentifier(), 4) == 0;
}

absl::StatusOr<ImportedModel> ImportTflite(const uint8_t* data, size_t size,
                                           const engine::WriteOptions& write) {
  // The flatbuffer is read in place: give it 16-byte alignment, as TFLite's
  // own loaders assume.
  std::unique_ptr<uint8_t[]> storage(new uint8_t[size + 16]);
  const uintptr_t base = reinterpret_cast<uintptr_t>(storage.get());
  uint8_t* aligned = storage.get() + (16 - base % 16) % 16;
  if (size > 0) std::memcpy(aligned, data, size);
  MCUNAS_ASSIGN_OR_RETURN(const ModelReader reader,
                          ModelReader::Open(aligned, size));
  Importer importer(reader);
  MCUNAS_RETURN_IF_ERROR(importer.Run());
  ImportedModel model;
  model.graph = std::move(importer.graph());
  model.ops = std::move(importer.ops());
  model.description = reader.description();
  absl::StatusOr<std::vector<uint8_t>> blob = WriteModel(model.graph, write);
  if (!blob.ok()) return WriterError(blob.status(), model.ops);
  model.blob = std::move(*blob);
  return model;
}

absl::StatusOr<ImportedModel> ImportTfliteFile(
    const std::string& path, const engine::WriteOptions& write) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                   std::istreambuf_iterator<char>());
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  absl::StatusOr<ImportedModel> model =
      ImportTflite(bytes.data(), bytes.size(), write);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat(path, ": ", model.status().message()));
  }
  return model;
}

}  // namespace mcunas::tflite
