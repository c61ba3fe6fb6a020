// Host only. Owns a model blob in aligned memory and the Model view of it;
// adds the checks too costly for a device (no two live buffers overlap in the
// stored plan) and maps engine diagnostics to absl::Status with a message
// naming what was wrong. Immutable after creation; thread-safe to share.
#ifndef MCUNAS_ENGINE_HOST_MODEL_FILE_H_
#define MCUNAS_ENGINE_HOST_MODEL_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/engine/model.h"

namespace mcunas::engine {

class LoadedModel {
 public:
  // Copies `bytes` into 16-byte aligned storage and validates them.
  static absl::StatusOr<std::unique_ptr<LoadedModel>> FromBytes(
      const uint8_t* bytes, size_t size);
  static absl::StatusOr<std::unique_ptr<LoadedModel>> FromBytes(
      const std::vector<uint8_t>& bytes) {
    return FromBytes(bytes.data(), bytes.size());
  }
  // Reads and validates a blob file; the error names the path.
  static absl::StatusOr<std::unique_ptr<LoadedModel>> FromFile(
      const std::string& path);

  const Model& model() const { return model_; }
  const uint8_t* blob() const { return blob_; }
  uint32_t blob_bytes() const { return size_; }

 private:
  LoadedModel() = default;
  std::unique_ptr<uint8_t[]> storage_;
  const uint8_t* blob_ = nullptr;
  uint32_t size_ = 0;
  Model model_;
};

// "op 3 (input 1): bad tensor reference: value 70, limit 12" etc.
absl::Status DiagnosticToStatus(const Diagnostic& diagnostic);

// Checks that no two arena buffers (activations, scratch) that are live at the
// same op overlap, where tensors joined by in-place ops (in-place depthwise,
// reshape aliases) count as one buffer, and that no in-place depthwise
// overwrites a value of its buffer that is read after it. O(buffers^2 * ops);
// host only.
absl::Status ValidatePlan(const Model& model);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_MODEL_FILE_H_
