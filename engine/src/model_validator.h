// Private to engine/src: the blob validator behind Model::Load, shared by
// model.cc (header, tensors, MBNet ops) and model_ops_check.cc (the ops added
// for TFLite interop, accumulator bounds). Reads only bytes the earlier checks
// proved inside the blob; no heap; not thread-safe (it records where the
// next failure is).
#ifndef MCUNAS_ENGINE_SRC_MODEL_VALIDATOR_H_
#define MCUNAS_ENGINE_SRC_MODEL_VALIDATOR_H_

#include <stdint.h>

#include "mcunas/engine/model.h"

namespace mcunas::engine::internal {

// Records the failure in `diagnostic` (when not null) and returns `status`.
Status Fail(Diagnostic* diagnostic, Status status, const char* what,
            int32_t index = -1, uint32_t value = 0, uint32_t limit = 0,
            const char* scope = "model");

// offset + bytes <= limit, without wrapping.
inline bool InRange(uint64_t offset, uint64_t bytes, uint64_t limit) {
  return offset <= limit && bytes <= limit - offset;
}

inline uint32_t ElementBytes(uint8_t type) {
  return type == static_cast<uint8_t>(TensorType::kInt32) ? 4 : 1;
}

// Everything the op checks need, gathered once.
class Validator {
 public:
  Validator(const ModelHeader& header, const TensorRecord* tensors,
            const OpRecord* ops, const uint8_t* data, Diagnostic* diagnostic)
      : header_(header),
        tensors_(tensors),
        ops_(ops),
        data_(data),
        diagnostic_(diagnostic) {}

  Status CheckTensors() const;
  Status CheckIo() const;
  Status CheckOps() const;

 private:
  Status CheckOp(uint16_t index) const;
  Status CheckConvLike(uint16_t index, const OpRecord& op) const;
  Status CheckAdd(uint16_t index, const OpRecord& op) const;
  Status CheckAveragePool(uint16_t index, const OpRecord& op) const;
  Status CheckFullyConnected(uint16_t index, const OpRecord& op) const;
  // model_ops_check.cc: the one-input ops added for TFLite interop
  // (reshape ... pad), and the accumulator bound of conv-like ops.
  Status CheckLayoutOp(uint16_t index, const OpRecord& op) const;
  // No int32 accumulator of a conv, depthwise or fully connected op can
  // overflow: `taps` products of at most 128 * 255 plus the largest |bias|
  // fit in 31 bits (TFLite's kernels would overflow too; a model that could
  // is rejected instead).
  Status CheckAccumulator(uint16_t index, const OpRecord& op,
                          uint64_t taps) const;
  // Op params of exactly `bytes` bytes, 4-byte aligned, inside the data
  // section; on success `*params` points at them.
  Status CheckFixedParams(uint16_t index, const OpRecord& op, uint32_t bytes,
                          const uint8_t** params) const;
  Status CheckPerChannelParams(uint16_t index, const OpRecord& op,
                               uint32_t channels) const;
  Status CheckScratch(uint16_t index, const OpRecord& op,
                      uint32_t required) const;
  // Input slot `slot` of op `index` must name an arena int8 tensor that is a
  // model input or the output of an earlier op.
  Status CheckActivationInput(uint16_t index, const OpRecord& op,
                              int slot) const;
  Status CheckConstant(uint16_t index, uint16_t tensor, TensorType type,
                       const char* what) const;
  Status CheckOutput(uint16_t index, const OpRecord& op) const;
  bool IsModelInput(uint16_t tensor) const;
  bool Overlap(const TensorRecord& a, const TensorRecord& b) const;
  Status Fail(Status status, const char* what, int32_t index,
              uint32_t value = 0, uint32_t limit = 0) const {
    return internal::Fail(diagnostic_, status, what, index, value, limit,
                          scope_);
  }

  const ModelHeader& header_;
  const TensorRecord* tensors_;
  const OpRecord* ops_;
  const uint8_t* data_;
  Diagnostic* diagnostic_;
  // Which kind of record `index` counts in the next failure.
  mutable const char* scope_ = "model";
};

}  // namespace mcunas::engine::internal

#endif  // MCUNAS_ENGINE_SRC_MODEL_VALIDATOR_H_
