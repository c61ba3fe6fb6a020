// Test and benchmark models for the devices: random MBNet (MobileNetV2-style)
// candidates of varied shapes, quantised by the engine's quantiser and
// written as blobs, each with a matching int8 input. Deterministic in the
// seed. Host only; stateless functions, thread-safe.
#ifndef MCUNAS_DEVICES_TESTING_TEST_MODELS_H_
#define MCUNAS_DEVICES_TESTING_TEST_MODELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/random_model.h"

namespace mcunas::devices::testing {

struct TestModel {
  std::string name;           // the seed and shape, for messages
  std::vector<uint8_t> blob;  // the model blob
  std::vector<int8_t> input;  // one input of the model's input size
};

// Candidate `index` of a fixed family: resolution 16..64, width 0.35..1.0,
// 1 or 3 input channels, stem stride 1 or 2, 3-6 stages with random kernels
// (3, 5, 7) and expand ratios (3, 4, 6). Every 8th one is a wide ~200 KB
// model. All fit the emulated boards' budgets (256 KiB SRAM, 512 KiB
// flash).
absl::StatusOr<TestModel> RandomCandidate(uint32_t index);

// A model from explicit options (calibrated on a few samples of its
// synthetic classes; the input is another sample).
absl::StatusOr<TestModel> MakeModel(const std::string& name, uint32_t seed,
                                    const engine::RandomMbv2Options& options);

}  // namespace mcunas::devices::testing

#endif  // MCUNAS_DEVICES_TESTING_TEST_MODELS_H_
