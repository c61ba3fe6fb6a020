// Test-only. Runs an engine model blob once with the interpreter, for tests
// that compare what an imported or exported model computes. Failures are
// recorded as gtest failures. Thread-safe (no shared state).
#ifndef MCUNAS_TFLITE_TESTING_RUN_MODEL_H_
#define MCUNAS_TFLITE_TESTING_RUN_MODEL_H_

#include <cstdint>
#include <vector>

#include "mcunas/engine/kernels.h"

namespace mcunas::tflite::testing {

// Loads `blob`, runs it once on `input` (the model's input bytes) with
// `kernels` and returns every output's bytes; empty if the blob does not
// load.
std::vector<std::vector<int8_t>> RunModel(const std::vector<uint8_t>& blob,
                                          const std::vector<int8_t>& input,
                                          const engine::KernelSet& kernels);

}  // namespace mcunas::tflite::testing

#endif  // MCUNAS_TFLITE_TESTING_RUN_MODEL_H_
