#include "tflite/tflite_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace mcunas::tflite {
namespace {

// Verifier limits: generous for real models (person_detect has ~400
// tables), small enough that a hostile file cannot make verification slow.
constexpr uint32_t kMaxDepth = 64;
constexpr uint32_t kMaxTables = 1u << 20;

// Bytes per element, or 0 for types whose constants we never read.
uint32_t ElementBytes(fb::TensorType type) {
  switch (type) {
    case fb::TensorType::INT8:
    case fb::TensorType::UINT8:
    case fb::TensorType::BOOL:
      return 1;
    case fb::TensorType::INT16:
    case fb::TensorType::UINT16:
    case fb::TensorType::FLOAT16:
      return 2;
    case fb::TensorType::INT32:
    case fb::TensorType::UINT32:
    case fb::TensorType::FLOAT32:
      return 4;
    case fb::TensorType::INT64:
    case fb::TensorType::UINT64:
    case fb::TensorType::FLOAT64:
    case fb::TensorType::COMPLEX64:
      return 8;
    default:
      return 0;
  }
}

}  // namespace

std::string TypeName(fb::TensorType type) {
  const char* name = fb::EnumNameTensorType(type);
  if (name != nullptr && name[0] != '\0') return name;
  return absl::StrCat("type ", static_cast<int>(type));
}

absl::StatusOr<ModelReader> ModelReader::Open(const uint8_t* data,
                                              size_t size) {
  if (size < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a TFLite model: ", size, " bytes"));
  }
  if (!fb::ModelBufferHasIdentifier(data)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a TFLite model: file identifier '",
        std::string(reinterpret_cast<const char*>(data) + 4, 4),
        "', expected 'TFL3'"));
  }
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return absl::InvalidArgumentError("TFLite model larger than 2 GiB");
  }
  flatbuffers::Verifier verifier(data, size, kMaxDepth, kMaxTables);
  if (!fb::VerifyModelBuffer(verifier)) {
    return absl::InvalidArgumentError(
        "malformed TFLite model: the flatbuffer does not verify (truncated, "
        "or an offset or length points outside the file)");
  }
  ModelReader reader;
  reader.model_ = fb::GetModel(data);
  if (reader.model_->version() != 3) {
    return absl::UnimplementedError(absl::StrCat(
        "TFLite schema version ", reader.model_->version(), " (expected 3)"));
  }
  const auto* subgraphs = reader.model_->subgraphs();
  if (subgraphs == nullptr || subgraphs->size() == 0) {
    return absl::InvalidArgumentError("TFLite model has no subgraph");
  }
  reader.subgraph_ = subgraphs->Get(0);
  if (reader.subgraph_->tensors() == nullptr ||
      reader.subgraph_->operators() == nullptr ||
      reader.subgraph_->operators()->size() == 0) {
    return absl::InvalidArgumentError("TFLite subgraph 0 has no tensors or ops");
  }
  if (reader.model_->buffers() == nullptr) {
    return absl::InvalidArgumentError("TFLite model has no buffer table");
  }
  if (reader.subgraph_->tensors()->size() >
          static_cast<uint32_t>(std::numeric_limits<int32_t>::max()) ||
      reader.subgraph_->operators()->size() >
          static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError("TFLite subgraph too large");
  }
  reader.tensor_count_ =
      static_cast<int32_t>(reader.subgraph_->tensors()->size());
  reader.op_count_ = static_cast<int32_t>(reader.subgraph_->operators()->size());
  return reader;
}

std::string ModelReader::description() const {
  return model_->description() != nullptr ? model_->description()->str() : "";
}

absl::StatusOr<fb::BuiltinOperator> ModelReader::OpCode(int32_t i) const {
  const auto* codes = model_->operator_codes();
  const uint32_t index = op(i).opcode_index();
  if (codes == nullptr || index >= codes->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "opcode index ", index, " out of range (",
        codes == nullptr ? 0 : codes->size(), " operator codes)"));
  }
  const fb::OperatorCode* code = codes->Get(index);
  const int32_t deprecated = code->deprecated_builtin_code();
  const int32_t builtin = static_cast<int32_t>(code->builtin_code());
  return static_cast<fb::BuiltinOperator>(std::max(deprecated, builtin));
}

std::string ModelReader::OpName(int32_t i) const {
  const absl::StatusOr<fb::BuiltinOperator> code = OpCode(i);
  if (!code.ok()) return "?";
  if (*code == fb::BuiltinOperator::CUSTOM) {
    const fb::OperatorCode* c =
        model_->operator_codes()->Get(op(i).opcode_index());
    return absl::StrCat("CUSTOM '",
                        c->custom_code() != nullptr ? c->custom_code()->str()
                                                    : "",
                        "'");
  }
  const char* name = fb::EnumNameBuiltinOperator(*code);
  if (name != nullptr && name[0] != '\0') return name;
  return absl::StrCat("BUILTIN_OP_", static_cast<int32_t>(*code));
}

absl::StatusOr<std::vector<int32_t>> ModelReader::CheckedIndices(
    const flatbuffers::Vector<int32_t>* list, const std::string& what,
    bool optional_allowed) const {
  std::vector<int32_t> out;
  if (list == nullptr) return out;
  for (uint32_t k = 0; k < list->size(); ++k) {
    const int32_t t = list->Get(k);
    if (t == -1 && optional_allowed) {
      out.push_back(t);
      continue;
    }
    if (t < 0 || t >= tensor_count_) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " ", k, " is tensor ", t, ", outside 0..",
                       tensor_count_ - 1));
    }
    out.push_back(t);
  }
  return out;
}

absl::StatusOr<std::vector<int32_t>> ModelReader::OpInputs(int32_t i) const {
  return CheckedIndices(op(i).inputs(), "input", true);
}

absl::StatusOr<std::vector<int32_t>> ModelReader::OpOutputs(int32_t i) const {
  return CheckedIndices(op(i).outputs(), "output", false);
}

absl::StatusOr<std::vector<int32_t>> ModelReader::GraphInputs() const {
  return CheckedIndices(subgraph_->inputs(), "model input", false);
}

absl::StatusOr<std::vector<int32_t>> ModelReader::GraphOutputs() const {
  return CheckedIndices(subgraph_->outputs(), "model output", false);
}

std::string ModelReader::TensorName(int32_t index) const {
  if (index < 0 || index >= tensor_count_) return "";
  const fb::Tensor* t = subgraph_->tensors()->Get(index);
  return t->name() != nullptr ? t->name()->str() : "";
}

absl::StatusOr<TensorInfo> ModelReader::Tensor(int32_t index) const {
  if (index < 0 || index >= tensor_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", index, " out of range (", tensor_count_,
                     " tensors)"));
  }
  const fb::Tensor& t = *subgraph_->tensors()->Get(index);
  TensorInfo info;
  info.index = index;
  info.name = t.name() != nullptr ? t.name()->str() : "";
  const std::string where = absl::StrCat("tensor ", index, " '", info.name, "'");
  info.type = t.type();
  if (static_cast<int>(info.type) < 0 ||
      info.type > fb::TensorType::MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unknown type ", static_cast<int>(info.type)));
  }
  if (t.is_variable()) {
    return absl::UnimplementedError(
        absl::StrCat(where, ": variable tensors are not supported"));
  }
  if (t.sparsity() != nullptr) {
    return absl::UnimplementedError(
        absl::StrCat(where, ": sparse tensors are not supported"));
  }
  if (t.shape() != nullptr) {
    if (t.shape()->size() > static_cast<uint32_t>(kMaxTfliteRank)) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": rank ", t.shape()->size(), " (at most ", kMaxTfliteRank,
          ")"));
    }
    for (uint32_t d = 0; d < t.shape()->size(); ++d) {
      const int32_t dim = t.shape()->Get(d);
      if (dim < 1 || dim > kMaxTfliteDim) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": dimension ", d, " is ", dim,
            dim < 1 ? " (empty or dynamic shapes are not supported)"
                    : " (too large)"));
      }
      info.shape.push_back(dim);
      info.elements *= static_cast<uint64_t>(dim);
      if (info.elements > kMaxTfliteElements) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": more than ", kMaxTfliteElements,
                         " elements"));
      }
    }
  }
  if (const fb::QuantizationParameters* q = t.quantization()) {
    if (q->details_type() != fb::QuantizationDetails::NONE) {
      return absl::UnimplementedError(
          absl::StrCat(where, ": custom quantisation is not supported"));
    }
    if (q->scale() != nullptr) {
      for (uint32_t k = 0; k < q->scale()->size(); ++k) {
        info.scales.push_back(q->scale()->Get(k));
      }
    }
    if (q->zero_point() != nullptr) {
      // The verifier aligns a vector's length (4 bytes), not its 8-byte
      // elements: copy them out rather than read them in place.
      const uint8_t* bytes = q->zero_point()->Data();
      for (uint32_t k = 0; k < q->zero_point()->size(); ++k) {
        int64_t zero_point;
        std::memcpy(&zero_point, bytes + 8 * k, sizeof(zero_point));
        info.zero_points.push_back(zero_point);
      }
    }
    if (!info.scales.empty()) {
      if (info.zero_points.size() != info.scales.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": ", info.scales.size(), " scales but ",
            info.zero_points.size(), " zero points"));
      }
      // Converters copy a weight's quantized dimension onto its 1-D bias,
      // where it points past the shape: only a dimension that exists has to
      // agree (users of per-channel scales check the dimension they need).
      info.quantized_dimension = q->quantized_dimension();
      if (info.scales.size() > 1 && info.quantized_dimension >= 0 &&
          info.quantized_dimension < static_cast<int32_t>(info.shape.size()) &&
          static_cast<size_t>(info.shape[info.quantized_dimension]) !=
              info.scales.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": ", info.scales.size(),
            " scales do not match quantized dimension ",
            info.quantized_dimension));
      }
      for (float s : info.scales) {
        if (!std::isfinite(s) || s < 0.0f) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": quantisation scale ", s));
        }
      }
    } else {
      info.zero_points.clear();
    }
  }
  const auto* buffers = model_->buffers();
  if (t.buffer() >= buffers->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": buffer ", t.buffer(), " out of range (", buffers->size(),
        " buffers)"));
  }
  const fb::Buffer& buffer = *buffers->Get(t.buffer());
  if (buffer.offset() > 1 || buffer.size() > 0) {
    return absl::UnimplementedError(absl::StrCat(
        where, ": data stored outside the flatbuffer (models over 2 GB) is "
               "not supported"));
  }
  if (buffer.data() != nullptr && buffer.data()->size() > 0) {
    const uint32_t element_bytes = ElementBytes(info.type);
    if (element_bytes == 0) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": constant of type ", TypeName(info.type)));
    }
    const uint64_t want = info.elements * element_bytes;
    if (buffer.data()->size() != want) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": buffer ", t.buffer(), " holds ", buffer.data()->size(),
          " bytes, shape needs ", want));
    }
    info.data = buffer.data()->data();
  }
  return info;
}

}  // namespace mcunas::tflite
