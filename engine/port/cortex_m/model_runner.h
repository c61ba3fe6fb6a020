// Runs the whole models of the board fixture (board_fixture.h) on the board
// it was built for and compares their outputs and every op's output (by
// CRC-32) with the host engine's, byte for byte, with ReferenceKernels() and
// with OptimizedKernels(). Models run in place from flash; activations live
// in one static arena of kModelArenaBytes. Not reentrant.
#ifndef MCUNAS_ENGINE_PORT_CORTEX_M_MODEL_RUNNER_H_
#define MCUNAS_ENGINE_PORT_CORTEX_M_MODEL_RUNNER_H_

#include <stdint.h>

namespace mcunas::engine::port {

// The firmware's arena. A model that needs more fails with a message naming
// both sizes rather than running in a smaller one.
inline constexpr uint32_t kModelArenaBytes = 64 * 1024;

// Prints "models <cpu_name>: N models, M runs, K mismatches" through
// semihosting, after one line for each model that failed to load or
// initialise and one for the first mismatching run. A run is one input with
// one kernel set; a run that fails to invoke counts as a mismatch. True when
// at least one model ran and nothing mismatched.
bool RunBoardModels(const char* cpu_name);

}  // namespace mcunas::engine::port

#endif  // MCUNAS_ENGINE_PORT_CORTEX_M_MODEL_RUNNER_H_
