// Private to tflite/. A checked view of a .tflite flatbuffer.
//
// ModelReader::Open runs flatbuffers::Verifier over the whole buffer (every
// offset, vector length and string lies inside it) and then checks the
// top-level structure; after that, everything the importer reads goes
// through accessors that check indices, shapes and buffer sizes themselves,
// because the verifier knows nothing of TFLite's meaning (a tensor index, a
// buffer index or a shape product can still be anything). Errors name the
// op or tensor: Unimplemented for valid TFLite we do not support,
// InvalidArgument for a malformed file.
//
// The reader does not copy: the bytes passed to Open must outlive it and be
// 16-byte aligned (the verifier checks alignment relative to the start).
// Thread-compatible.
#ifndef MCUNAS_TFLITE_TFLITE_READER_H_
#define MCUNAS_TFLITE_TFLITE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tflite/schema/tflite_subset_generated.h"

namespace mcunas::tflite {

// Limits on what we read; a file beyond them gets an error, not a crash.
inline constexpr int32_t kMaxTfliteRank = 8;
inline constexpr int64_t kMaxTfliteDim = int64_t{1} << 24;
inline constexpr uint64_t kMaxTfliteElements = uint64_t{1} << 28;

// One tensor of subgraph 0, validated.
struct TensorInfo {
  int32_t index = -1;
  std::string name;
  fb::TensorType type = fb::TensorType::FLOAT32;
  std::vector<int32_t> shape;  // as in the file; empty for a scalar
  uint64_t elements = 1;
  // Quantisation, empty when the tensor has none. zero_points has as many
  // entries as scales.
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int32_t quantized_dimension = 0;
  // Constant data (exactly elements * element size bytes), or null for a
  // tensor without data (an activation).
  const uint8_t* data = nullptr;
  bool constant() const { return data != nullptr; }
};

// "INT8", or "type 42" for a value the format does not define.
std::string TypeName(fb::TensorType type);

class ModelReader {
 public:
  // REQUIRES: `data` 16-byte aligned and alive as long as the reader.
  static absl::StatusOr<ModelReader> Open(const uint8_t* data, size_t size);

  int32_t tensor_count() const { return tensor_count_; }
  int32_t op_count() const { return op_count_; }
  const fb::Operator& op(int32_t i) const { return *subgraph_->operators()->Get(i); }
  std::string description() const;

  // The builtin code of op `i` (TFLite's GetBuiltinCode: the larger of the
  // two code fields). Fails for an opcode index outside operator_codes.
  absl::StatusOr<fb::BuiltinOperator> OpCode(int32_t i) const;
  // "CONV_2D", "CUSTOM 'name'", or "BUILTIN_OP_200" for codes newer than our
  // schema; "?" when the opcode index is bad.
  std::string OpName(int32_t i) const;

  // The tensor indices of op `i`'s inputs/outputs (-1 = optional, absent),
  // each checked to be -1 or a valid tensor index.
  absl::StatusOr<std::vector<int32_t>> OpInputs(int32_t i) const;
  absl::StatusOr<std::vector<int32_t>> OpOutputs(int32_t i) const;
  // Subgraph 0's inputs/outputs, checked.
  absl::StatusOr<std::vector<int32_t>> GraphInputs() const;
  absl::StatusOr<std::vector<int32_t>> GraphOutputs() const;

  // Tensor `index` with its shape, type, quantisation and data checked.
  absl::StatusOr<TensorInfo> Tensor(int32_t index) const;
  // Only the name, for messages ("" when the index is bad).
  std::string TensorName(int32_t index) const;

 private:
  ModelReader() = default;
  absl::StatusOr<std::vector<int32_t>> CheckedIndices(
      const flatbuffers::Vector<int32_t>* list, const std::string& what,
      bool optional_allowed) const;

  const fb::Model* model_ = nullptr;
  const fb::SubGraph* subgraph_ = nullptr;
  int32_t tensor_count_ = 0;
  int32_t op_count_ = 0;
};

}  // namespace mcunas::tflite

#endif  // MCUNAS_TFLITE_TFLITE_READER_H_
