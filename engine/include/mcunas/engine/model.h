// A validated, read-only view of a model blob (model_format.h).
//
// Model::Load checks every offset, size, enum, shape and tensor reference
// against the blob before anything reads through them, so a corrupt or
// truncated blob gets a Diagnostic, never an out-of-bounds read. The blob is
// not copied: it must stay alive and unchanged while the Model is used (on a
// board it lives in flash and runs in place). Thread-compatible.
#ifndef MCUNAS_ENGINE_MODEL_H_
#define MCUNAS_ENGINE_MODEL_H_

#include <stdint.h>

#include "mcunas/engine/kernels.h"
#include "mcunas/engine/model_format.h"
#include "mcunas/engine/status.h"

namespace mcunas::engine {

struct LoadOptions {
  // CRC-32 over the whole body: ~4 instructions a byte on a Cortex-M, so a
  // board that reloads the same blob may skip it.
  bool verify_checksum = true;
};

class Model {
 public:
  Model() = default;

  // Validates `blob` (of `size` readable bytes; the model may be shorter) and
  // makes `*model` a view of it. REQUIRES: blob 16-byte aligned. On failure
  // `*model` is unchanged and `*diagnostic` (if not null) says what was wrong.
  static Status Load(const uint8_t* blob, uint32_t size,
                     const LoadOptions& options, Model* model,
                     Diagnostic* diagnostic);

  bool loaded() const { return header_ != nullptr; }
  const ModelHeader& header() const { return *header_; }
  uint16_t tensor_count() const { return header_->tensor_count; }
  uint16_t op_count() const { return header_->op_count; }
  const TensorRecord& tensor(uint16_t index) const { return tensors_[index]; }
  const OpRecord& op(uint16_t index) const { return ops_[index]; }
  uint32_t arena_bytes() const { return header_->arena_bytes; }
  uint16_t input_count() const { return header_->input_count; }
  uint16_t output_count() const { return header_->output_count; }
  uint16_t input(uint16_t i) const { return header_->inputs[i]; }
  uint16_t output(uint16_t i) const { return header_->outputs[i]; }

  // Bytes of a constant tensor, or of an op's params. REQUIRES: valid index.
  const uint8_t* ConstantData(uint16_t tensor) const {
    return data_ + tensors_[tensor].offset;
  }
  const uint8_t* OpParams(uint16_t op) const {
    return data_ + ops_[op].params_offset;
  }

 private:
  const ModelHeader* header_ = nullptr;
  const TensorRecord* tensors_ = nullptr;
  const OpRecord* ops_ = nullptr;
  const uint8_t* data_ = nullptr;
};

// Shape helpers over tensor records (dims are NHWC; rank-2 [1, C] tensors map
// to h = w = 1).
Shape3 ActivationShape(const TensorRecord& tensor);
uint32_t ElementCount(const TensorRecord& tensor);

// Scratch bytes op `op` of `model` needs with any kernel set (0 for most).
uint32_t RequiredScratchBytes(const Model& model, uint16_t op);

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32). Bitwise; no tables, so it
// costs no flash.
uint32_t Crc32(const uint8_t* data, uint32_t size);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_MODEL_H_
