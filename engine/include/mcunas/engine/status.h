// Engine status codes and load diagnostics.
//
// The engine runtime has no exceptions and no heap, so errors are a one-byte
// enum. A Diagnostic adds where the error was found (which tensor or op, which
// field, the offending value and its limit) so that host tools can print a
// message naming what was wrong. Both are plain values; thread-compatible.
#ifndef MCUNAS_ENGINE_STATUS_H_
#define MCUNAS_ENGINE_STATUS_H_

#include <stdint.h>

namespace mcunas::engine {

enum class [[nodiscard]] Status : uint8_t {
  kOk = 0,
  kTruncated,         // the blob is shorter than a size or offset says
  kBadMagic,          // not an mcunas model
  kBadVersion,        // a format version this engine does not read
  kBadChecksum,       // CRC-32 of the body does not match the header
  kBadAlignment,      // a table, tensor or buffer is not aligned as required
  kBadOffset,         // an offset or size points outside its region
  kBadEnum,           // an enum field holds an unknown value
  kBadShape,          // shapes of an op's tensors do not agree
  kBadTensorRef,      // a tensor index is out of range or of the wrong kind
  kBadQuantization,   // quantisation parameters are invalid for the op
  kArenaTooSmall,     // the caller's arena is smaller than the model needs
  kUnsupported,       // valid format, but an op/parameter this build lacks
  kInvalidArgument,   // a caller passed something invalid
  kPlanFailed,        // the memory planner could not place the buffers
};

// A short constant name for `status`, e.g. "bad offset". Never null.
const char* StatusName(Status status);

// Where a load or validation error was found. `what` names the field (a
// string literal, never owned); `index` is the index of the `scope` record
// (a tensor, op, or model input/output) or -1.
struct Diagnostic {
  Status status = Status::kOk;
  const char* what = "";
  const char* scope = "model";  // "model", "tensor", "op", "input", "output"
  int32_t index = -1;
  uint32_t value = 0;  // the offending value, where one applies
  uint32_t limit = 0;  // the bound it broke, where one applies
};

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_STATUS_H_
